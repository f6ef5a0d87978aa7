/**
 * [AZ-3] Cross-tenant attack through the local gateway (test/attack/scenarios/cross-tenant.ts),
 * bounded; `npm run attack` runs it at full size (at least 10,000 attempts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '#test/integration/support/local-stack';
import { crossTenantScenario } from './scenarios/cross-tenant';
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

describe('[AZ-3] tenant A with valid credentials against everything of tenant B', () => {
  it("reads, writes and confirms nothing of B: B's ids, cursors, keys and tenant id are answered like never-existing ones", async () => {
    const report = await crossTenantScenario(env, attackSize());
    console.info(report.notes.join('\n'));
    expect(report.findings).toEqual([]);
    expect(violations(report)).toBe(0);
    expect(report.requests).toBeGreaterThanOrEqual(2 * (attackSize() === 'full' ? 10_000 : 500));
  }, 900_000);
});
