/**
 * [API-3][AZ-2][AUD-1][AUD-3] Races (test/attack/scenarios/concurrency.ts): lost updates with
 * one ETag on every updatable item, racing transitions, payments past the total, one
 * Idempotency-Key on two routes, many writers on one audit log. Single races of each kind
 * are in test/integration/invoice-lifecycle.test.ts and invoices.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '#test/integration/support/local-stack';
import { concurrencyScenario } from './scenarios/concurrency';
import { type AttackEnv, startAttackEnv } from './support/env';
import { violations } from './support/report';
import { attackSize } from './support/size';

let env: AttackEnv;

beforeAll(async () => {
  env = await startAttackEnv(localStack());
});

afterAll(async () => {
  await env?.close();
});

describe('[API-3][AZ-2][AUD-1][AUD-3] concurrent writers', () => {
  it('lose no update, let one racer win, never overpay, act once per key, and keep one gap-free verifiable log', async () => {
    const report = await concurrencyScenario(env, attackSize());
    console.info(report.notes.join('\n'));
    expect(report.findings).toEqual([]);
    expect(violations(report)).toBe(0);
  }, 900_000);
});
