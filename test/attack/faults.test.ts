/**
 * [AUD-1][AUD-3][API-3] Fault injection on every write path (test/attack/scenarios/faults.ts):
 * the N-th DynamoDB operation fails (throttling, 500, timeout, lost answer, failed
 * condition) through a proxy in front of DynamoDB Local; bounded here, every N and every
 * kind in `npm run attack`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '#test/integration/support/local-stack';
import { faultScenario } from './scenarios/faults';
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

describe('[AUD-1][AUD-3][API-3] a store that fails at any step of a write', () => {
  it('leaves no half-written change, a log that verifies, and a retry with the same key that completes exactly once', async () => {
    const report = await faultScenario(env, attackSize());
    console.info(report.notes.join('\n'));
    expect(report.findings).toEqual([]);
    expect(violations(report)).toBe(0);
  }, 900_000);
});
