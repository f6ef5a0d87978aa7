/**
 * `npm run attack`: every attack scenario at full size against its own local runtime
 * (DynamoDB Local and cognito-local on free loopback ports, a fresh temporary data folder,
 * the local gateway with the same authorizer and handlers as `npm start`), then a table of
 * the figures. Exit code 1 unless every figure that counts a broken invariant is zero.
 *
 *   npm run attack                          # all scenarios, full size
 *   npm run attack -- fuzz tokens           # some of them
 *   STRONGROOM_ATTACK_SIZE=bounded npm run attack
 *   STRONGROOM_ATTACK_FUZZ_REQUESTS=20000 npm run attack -- fuzz
 */
// First: the environment that the modules below read when they load.
import './run-env';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startLocalStack } from '#infra/local/stack';
import { localStackInfo } from '#test/integration/support/local-stack-info';
import { abruptStopScenario } from './scenarios/abrupt-stop';
import { concurrencyScenario } from './scenarios/concurrency';
import { crossTenantScenario } from './scenarios/cross-tenant';
import { faultScenario } from './scenarios/faults';
import { fuzzScenario } from './scenarios/fuzz';
import { tamperScenario } from './scenarios/tampering';
import { tokenScenario } from './scenarios/tokens';
import { type AttackEnv, startAttackEnv } from './support/env';
import { renderReportTable, type ScenarioReport, violations } from './support/report';
import { type AttackSize, attackSize } from './support/size';

type Scenario = (env: AttackEnv, size: AttackSize) => Promise<ScenarioReport>;

/** In this order: the token scenario moves the authorizer's clock a day ahead, so it runs late. */
const scenarios: readonly (readonly [string, Scenario])[] = [
  ['fuzz', fuzzScenario],
  ['cross-tenant', crossTenantScenario],
  ['faults', faultScenario],
  ['concurrency', concurrencyScenario],
  ['tampering', tamperScenario],
  ['tokens', tokenScenario],
  ['abrupt-stop', (_env, size) => abruptStopScenario(size)],
];

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(): Promise<number> {
  const size = attackSize();
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !scenarios.some(([known]) => known === name));
  if (unknown.length > 0) {
    log(`unknown scenario ${unknown.join(', ')}; known: ${scenarios.map(([name]) => name).join(', ')}`);
    return 2;
  }
  const chosen = scenarios.filter(([name]) => wanted.length === 0 || wanted.includes(name));
  const started = performance.now();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-attack-'));
  log(`starting DynamoDB Local and cognito-local (data in ${dataDir})...`);
  const stack = await startLocalStack({ dataDir, dynamodbPort: 0, cognitoPort: 0 });
  const info = localStackInfo(stack);
  const reports: ScenarioReport[] = [];
  let env: AttackEnv | undefined;
  try {
    env = await startAttackEnv(info);
    for (const [name, scenario] of chosen) {
      log(`\n== ${name} (${size})`);
      const scenarioStarted = performance.now();
      try {
        const report = await scenario(env, size);
        reports.push(report);
        for (const note of report.notes) log(`   ${note}`);
        for (const finding of report.findings) log(`   ! ${finding}`);
      } catch (error) {
        // A scenario that breaks is a finding too, never a silent gap in the table.
        reports.push({
          scenario: name,
          requests: 0,
          serverErrors: 0,
          crossTenantLeaks: 0,
          partialWrites: 0,
          duplicates: 0,
          undetectedTampering: 0,
          otherViolations: 1,
          findings: [
            `the scenario failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
          ],
          seconds: (performance.now() - scenarioStarted) / 1000,
          notes: [],
        });
        log(
          `   ! the scenario failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      }
    }
  } finally {
    await env?.close();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`\n${renderReportTable(reports)}\n\n`);
  const total = reports.reduce((sum, report) => sum + violations(report), 0);
  process.stdout.write(
    `${size} run in ${seconds.toFixed(0)} s (${(seconds / 60).toFixed(1)} min): ${total === 0 ? 'all zeros' : `${total} broken invariants`}\n`,
  );
  return total === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`npm run attack failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
