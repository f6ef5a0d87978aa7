/**
 * `npm start`: the whole API on 127.0.0.1, offline. Starts DynamoDB Local, cognito-local,
 * the tables and demo tenants, then the local gateway; prints how to get a token and call
 * the API; Ctrl-C or SIGTERM stops everything, the JVM's process group included.
 */
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { securityTxtExpiry } from '#shared/config/product';
import { type Gateway, startGateway } from './gateway';
import { readJsonFile, writePrivateFile } from './private-files';
import { processRuns } from './process-state';
import {
  dataLayout,
  defaultAuditIntervals,
  defaultDataDir,
  defaultPorts,
  projectRoot,
  type RuntimeState,
} from './settings';
import { type LocalStack, startLocalStack } from './stack';

/** Seconds from the environment, as milliseconds; 0 means on demand only. */
function secondsFromEnv(name: string, fallbackMs: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallbackMs;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 86_400) {
    throw new Error(`${name} must be a number of seconds from 0 to 86400, got ${JSON.stringify(value)}`);
  }
  return Math.round(seconds * 1000);
}

function portFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`${name} must be a port number`);
  return port;
}

/** A path as the user can type it from the project root. */
function shown(file: string): string {
  const relative = path.relative(projectRoot, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

function auditSeconds(stack: LocalStack): string {
  const interval = secondsFromEnv(
    'STRONGROOM_CHECKPOINT_INTERVAL_SECONDS',
    defaultAuditIntervals.checkpointMs,
  );
  return stack.auditPoller && interval > 0
    ? `${interval / 1000} s`
    : 'never: set STRONGROOM_CHECKPOINT_INTERVAL_SECONDS';
}

function banner(stack: LocalStack, gateway: Gateway, seconds: number): string {
  const layout = dataLayout(stack.dataDir);
  const example = stack.demoUsers.find((user) => user.role === 'accountant' && user.tenantId === 'demo');
  const email = example?.email ?? stack.demoUsers[0]?.email ?? '';
  const passwords = shown(stack.passwordsFile);
  // require() needs ./ in front of a relative path.
  const passwordsModule = path.isAbsolute(passwords) ? passwords : `./${passwords}`;
  const width = Math.max(...stack.demoUsers.map((user) => user.email.length));
  const initiateAuth = JSON.stringify({
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: stack.clientId,
    AuthParameters: { USERNAME: email, PASSWORD: '$PASSWORD' },
  }).replaceAll('"', '\\"');
  return [
    '',
    `Strongroom runs locally (stage ${stack.stage}, region ${stack.region}); started in ${seconds.toFixed(1)} s.`,
    '',
    `  API              ${gateway.url}`,
    `  DynamoDB Local   ${stack.dynamoEndpoint}   data in ${shown(layout.dynamodb)}/`,
    `  cognito-local    ${stack.cognitoEndpoint}   data in ${shown(layout.cognito)}/`,
    `  Audit archive    ${shown(stack.archiveDir)}/   read-only files, written once (checkpoints signed every ${auditSeconds(stack)})`,
    `  User pool id     ${stack.userPoolId}`,
    `  App client id    ${stack.clientId}`,
    `  Token issuer     ${stack.issuer}`,
    '',
    `Demo users (passwords in ${passwords}, readable only by you):`,
    ...stack.demoUsers.map(
      (user) => `  ${user.email.padEnd(width)}  tenant ${user.tenantId.padEnd(9)} role ${user.role}`,
    ),
    '',
    'Get an access token (60 minutes) with Cognito InitiateAuth (USER_PASSWORD_AUTH):',
    `  TOKEN=$(npm run -s token -- ${email})`,
    '',
    'or the same call with curl:',
    `  PASSWORD=$(node -p 'require("${passwordsModule}")["${email}"].password')`,
    `  TOKEN=$(curl -s ${stack.cognitoEndpoint}/ \\`,
    `    -H 'Content-Type: application/x-amz-json-1.1' \\`,
    `    -H 'X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth' \\`,
    `    -d "${initiateAuth}" \\`,
    `    | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).AuthenticationResult.AccessToken')`,
    '',
    'Call the API:',
    `  curl -H "Authorization: Bearer $TOKEN" ${gateway.url}/invoices`,
    '',
    `Ctrl-C stops everything. Data stays in ${shown(stack.dataDir)}/; delete that folder to reset.`,
    '',
  ].join('\n');
}

/** Two stacks on one data folder would share DynamoDB Local's database file and cognito-local's stores. */
async function refuseSecondInstance(runtimeStateFile: string): Promise<void> {
  const state = (await readJsonFile(runtimeStateFile)) as Partial<RuntimeState> | undefined;
  if (typeof state?.pid !== 'number' || state.pid === process.pid) return;
  // No such process (or only a killed one not yet reaped): the file was left behind by a
  // stack that did not stop cleanly.
  if (!(await processRuns(state.pid))) return;
  throw new Error(
    `npm start already runs on this data folder (pid ${state.pid}, ${state.apiUrl ?? ''}); ` +
      `if it does not, delete ${runtimeStateFile}`,
  );
}

/** Set once everything runs; until then a signal exits at once and the exit hook kills the JVM. */
let stopGracefully: ((signal: NodeJS.Signals) => void) | undefined;

function onSignal(signal: NodeJS.Signals): void {
  if (stopGracefully) stopGracefully(signal);
  else process.exit(130);
}

async function main(): Promise<void> {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Everything this process and DynamoDB Local create is private to the user (SEC-1).
  process.umask(0o077);
  const started = performance.now();
  const dataDir = path.resolve(process.env.STRONGROOM_DATA_DIR ?? defaultDataDir);
  const layout = dataLayout(dataDir);
  const log = (message: string) => process.stderr.write(`${message}\n`);
  await refuseSecondInstance(layout.runtimeState);

  const stack = await startLocalStack({
    dataDir,
    dynamodbPort: portFromEnv('DYNAMODB_PORT', defaultPorts.dynamodb),
    cognitoPort: portFromEnv('COGNITO_PORT', defaultPorts.cognito),
    log,
    // The stream consumer and checkpoint signer of AWS, on timers (AUD-2, AUD-3).
    auditPoller: {
      streamIntervalMs: secondsFromEnv(
        'STRONGROOM_AUDIT_STREAM_INTERVAL_SECONDS',
        defaultAuditIntervals.streamMs,
      ),
      checkpointIntervalMs: secondsFromEnv(
        'STRONGROOM_CHECKPOINT_INTERVAL_SECONDS',
        defaultAuditIntervals.checkpointMs,
      ),
    },
  });
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      port: portFromEnv('PORT', defaultPorts.api),
      warn: log,
      environment: {
        dynamoEndpoint: stack.dynamoEndpoint,
        userPoolId: stack.userPoolId,
        clientId: stack.clientId,
        cognitoEndpoint: stack.cognitoEndpoint,
        dataDir,
        allowedOrigins: stack.allowedOrigins,
        securityTxtExpires: securityTxtExpiry(new Date()),
      },
    });
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const state: RuntimeState = {
    apiUrl: gateway.url,
    cognitoEndpoint: stack.cognitoEndpoint,
    dynamoEndpoint: stack.dynamoEndpoint,
    region: stack.region,
    userPoolId: stack.userPoolId,
    clientId: stack.clientId,
    pid: process.pid,
  };
  await writePrivateFile(layout.runtimeState, `${JSON.stringify(state, null, 2)}\n`);
  log(`gateway listening after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  process.stdout.write(banner(stack, gateway, (performance.now() - started) / 1000));

  let stopping = false;
  stopGracefully = (signal: NodeJS.Signals) => {
    // npm and tsx may pass the same Ctrl-C on once more; the watchdog bounds a stuck stop.
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping the gateway, the audit poller, cognito-local and DynamoDB Local...`);
    const watchdog = setTimeout(() => {
      log('stopping took too long; exiting');
      process.exit(1);
    }, 20_000);
    watchdog.unref();
    Promise.allSettled([gateway.close(), stack.stop(), rm(layout.runtimeState, { force: true })]).then(
      (results) => {
        const failed = results.filter((result) => result.status === 'rejected');
        for (const failure of failed)
          log(`while stopping: ${String((failure as PromiseRejectedResult).reason)}`);
        log('stopped.');
        process.exit(failed.length === 0 ? 0 : 1);
      },
    );
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`npm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
