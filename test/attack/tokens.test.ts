/**
 * [AUTH-2][AUTH-5][AUTH-6] Token attacks against every route (test/attack/scenarios/tokens.ts),
 * bounded; `npm run attack` runs them at full size. Single checks live in
 * test/integration/token-checks.test.ts, local-runtime.test.ts, members.test.ts and api-keys.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '#test/integration/support/local-stack';
import { tokenScenario } from './scenarios/tokens';
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

describe('[AUTH-2][AUTH-5][AUTH-6] hostile credentials against every route', () => {
  it('refuses every forged, expired, foreign, revoked or guessed credential with a problem, and the real integration keeps working', async () => {
    const report = await tokenScenario(env, attackSize());
    console.info(report.notes.join('\n'));
    expect(report.findings).toEqual([]);
    expect(violations(report)).toBe(0);
  }, 900_000);
});
