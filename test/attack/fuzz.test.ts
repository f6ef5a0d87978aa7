/**
 * [API-1][API-2][API-5][AUD-1] Fuzzing every route of the route table through the local
 * gateway (test/attack/scenarios/fuzz.ts), bounded; `npm run attack` runs it at full size.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '#test/integration/support/local-stack';
import { fuzzScenario } from './scenarios/fuzz';
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

describe('[API-1][API-2][API-5][AUD-1] fuzzing every route', () => {
  it('answers hostile requests with a correct 2xx or a 4xx problem, never a 5xx, and a refusal changes nothing', async () => {
    const report = await fuzzScenario(env, attackSize());
    console.info(report.notes.join('\n'));
    expect(report.findings).toEqual([]);
    expect(violations(report)).toBe(0);
    expect(report.requests).toBeGreaterThanOrEqual(attackSize() === 'full' ? 100_000 : 1_500);
  }, 600_000);
});
