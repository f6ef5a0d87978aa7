/**
 * The attack scenarios of issue 9, bounded, against one local gateway whose handlers reach
 * DynamoDB Local through the fault proxy (test/attack/support/env.ts). `npm run attack`
 * runs the same scenarios at full size (test/attack/run.ts) and prints their figures; the
 * abrupt stop of `npm start` is in abrupt-stop.test.ts. Each scenario's file says what it
 * attacks and which invariants it checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '#test/integration/support/local-stack';
import { concurrencyScenario } from './scenarios/concurrency';
import { crossTenantScenario } from './scenarios/cross-tenant';
import { faultScenario } from './scenarios/faults';
import { fuzzScenario } from './scenarios/fuzz';
import { tamperScenario } from './scenarios/tampering';
import { tokenScenario } from './scenarios/tokens';
import { type AttackEnv, startAttackEnv } from './support/env';
import { type ScenarioReport, violations } from './support/report';
import { attackSize } from './support/size';

let env: AttackEnv;

beforeAll(async () => {
  env = await startAttackEnv(localStack());
});

afterAll(async () => {
  await env?.close();
});

/** All zeros, with the findings in the failure message when not. */
function expectClean(report: ScenarioReport): void {
  expect(report.findings).toEqual([]);
  expect(violations(report)).toBe(0);
  expect(report.requests).toBeGreaterThan(0);
}

const timeout = 900_000;

describe('[API-1][API-2][API-5][AUD-1] fuzzing every route', () => {
  it(
    'answers hostile requests with a correct 2xx or a 4xx problem, never a 5xx, and a refusal changes nothing',
    async () => {
      expectClean(await fuzzScenario(env, attackSize()));
    },
    timeout,
  );
});

describe('[AZ-3] tenant A with valid credentials against everything of tenant B', () => {
  it(
    "reads, writes and confirms nothing of B: B's ids, cursors, keys and tenant id are answered like never-existing ones",
    async () => {
      expectClean(await crossTenantScenario(env, attackSize()));
    },
    timeout,
  );
});

describe('[AUD-1][AUD-3][API-3] a store that fails at any step of a write', () => {
  it(
    'leaves no half-written change, a log that verifies, and a retry with the same key that completes exactly once',
    async () => {
      expectClean(await faultScenario(env, attackSize()));
    },
    timeout,
  );
});

describe('[API-3][AZ-2][AUD-1][AUD-3] concurrent writers', () => {
  it(
    'lose no update, let one racer win, never overpay, act once per key, and keep one gap-free verifiable log',
    async () => {
      expectClean(await concurrencyScenario(env, attackSize()));
    },
    timeout,
  );
});

describe('[AUD-2][AUD-3][BAK-3] a changed log, bundle or item', () => {
  it(
    'is caught by the verifier, the export or the item digests, every time',
    async () => {
      expectClean(await tamperScenario(env, attackSize()));
    },
    timeout,
  );
});

// Last: it moves the authorizer's clock a day ahead (cache lifetimes, key expiry).
describe('[AUTH-2][AUTH-5][AUTH-6] hostile credentials against every route', () => {
  it(
    'refuses every forged, expired, foreign, revoked or guessed credential with a problem, and the real integration keeps working',
    async () => {
      expectClean(await tokenScenario(env, attackSize()));
    },
    timeout,
  );
});
