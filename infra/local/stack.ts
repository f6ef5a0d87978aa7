/**
 * The local stack without its gateway: DynamoDB Local and cognito-local on loopback,
 * tables from `tables.ts`, the local app client and the demo tenants. `npm start` and the
 * integration tests' global setup both start it; it runs the same way in both.
 */
import * as path from 'node:path';
import type { RuntimeConfig } from '#shared/config/runtime';
import { DataClients } from '#shared/store/dynamo';
import { MemberStore } from '#shared/store/members';
import { type AuditPoller, startAuditPoller } from './audit-poller';
import { ensureTables } from './bootstrap-tables';
import { cognitoLocalClient, ensureAppClient } from './cognito-app-client';
import type { CognitoLocal } from './cognito-local';
import { checkLocalDataFormat } from './data-format';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local';
import { findFreePort } from './ports';
import { ensurePrivateDir } from './private-files';
import { type SeededDemoUser, seedDemoTenants } from './seed';
import {
  dataLayout,
  defaultAllowedOrigins,
  defaultAuditIntervals,
  localRegion,
  localStage,
  loopbackHost,
} from './settings';

/** How the local audit poller runs (stream consumer and checkpoint signer, AUD-2, AUD-3). */
export interface LocalAuditPollerSettings {
  /**
   * Milliseconds between stream polls; 0 polls only on demand.
   * @default 2000
   */
  readonly streamIntervalMs?: number;
  /**
   * Milliseconds between checkpoint runs; 0 runs only on demand.
   * @default 30000
   */
  readonly checkpointIntervalMs?: number;
}

export interface LocalStackOptions {
  /** The data folder (created with mode 0700); absolute. */
  readonly dataDir: string;
  /** DynamoDB Local's port; 0 picks a free one. */
  readonly dynamodbPort: number;
  /** cognito-local's port; 0 picks a free one. */
  readonly cognitoPort: number;
  /** @default ['http://localhost:5173'] */
  readonly allowedOrigins?: readonly string[];
  /** Progress and warnings. @default nothing */
  readonly log?: (message: string) => void;
  /**
   * Starts the audit poller (stream consumer and checkpoint signer) with these settings.
   * @default - not started: tests drive their own poller with `drain()`
   */
  readonly auditPoller?: LocalAuditPollerSettings;
}

export interface LocalStack {
  readonly dataDir: string;
  readonly region: string;
  readonly stage: string;
  readonly dynamoEndpoint: string;
  readonly cognitoEndpoint: string;
  readonly userPoolId: string;
  readonly clientId: string;
  /** Exactly the `iss` claim of the local pool's tokens. */
  readonly issuer: string;
  readonly allowedOrigins: readonly string[];
  readonly demoUsers: readonly SeededDemoUser[];
  /** The 0600 file with the demo users' passwords. */
  readonly passwordsFile: string;
  /** Process group id of DynamoDB Local's JVM. */
  readonly dynamodbPid: number;
  /** The folder of the audit archive's read-only files. */
  readonly archiveDir: string;
  /** The audit poller, when `auditPoller` settings were given. */
  readonly auditPoller: AuditPoller | undefined;
  /** Stops the audit poller, cognito-local and DynamoDB Local (its whole process group). */
  stop(): Promise<void>;
}

/** The runtime configuration the handlers get in this stack, for code that runs outside them. */
export function localRuntimeConfig(stack: LocalStack): RuntimeConfig {
  return {
    mode: 'local',
    stage: stack.stage,
    region: stack.region,
    dynamoEndpoint: stack.dynamoEndpoint,
    userPoolId: stack.userPoolId,
    userPoolClientId: stack.clientId,
    localDataDir: stack.dataDir,
    securityTxtExpires: '',
    allowedOrigins: stack.allowedOrigins,
  };
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  if (!path.isAbsolute(options.dataDir)) throw new Error('dataDir must be absolute');
  const log = options.log ?? (() => undefined);
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  const layout = dataLayout(options.dataDir);
  const allowedOrigins = options.allowedOrigins ?? defaultAllowedOrigins;
  await ensurePrivateDir(layout.root);
  await checkLocalDataFormat(layout);
  await Promise.all([ensurePrivateDir(layout.dynamodb), ensurePrivateDir(layout.cognito)]);

  const dynamodbPort = options.dynamodbPort === 0 ? await findFreePort(loopbackHost) : options.dynamodbPort;
  // The JVM boots for seconds; cognito-local's modules load meanwhile (they block the event loop).
  let jvmSpawned: () => void = () => undefined;
  const spawned = new Promise<void>((resolve) => {
    jvmSpawned = resolve;
  });
  const startingDynamodb = startDynamoDbLocal({
    dbPath: layout.dynamodb,
    port: dynamodbPort,
    warn: log,
    onSpawned: jvmSpawned,
  });
  // Also settles `spawned` when DynamoDB Local fails before its JVM runs.
  startingDynamodb.then(jvmSpawned, jvmSpawned);
  const [dynamodb, cognito] = await startBoth(
    startingDynamodb,
    spawned.then(async () => {
      const { startCognitoLocal } = await import('./cognito-local');
      return startCognitoLocal({
        dataDir: layout.cognito,
        port: options.cognitoPort,
        region: localRegion,
        allowedOrigins,
      });
    }),
  );
  log(`DynamoDB Local and cognito-local ready after ${elapsed()}`);
  let auditPoller: AuditPoller | undefined;
  const stopServices = async () => {
    // The poller first: its cycle in flight still talks to DynamoDB Local.
    await auditPoller
      ?.stop()
      .catch((error: unknown) => log(`audit poller did not stop cleanly: ${String(error)}`));
    await Promise.allSettled([cognito.stop(), dynamodb.stop()]);
  };

  try {
    const cognitoClient = cognitoLocalClient(cognito.endpoint, localRegion);
    const clientId = await ensureAppClient(cognitoClient, cognito.userPoolId);
    const config: RuntimeConfig = {
      mode: 'local',
      stage: localStage,
      region: localRegion,
      dynamoEndpoint: dynamodb.endpoint,
      userPoolId: cognito.userPoolId,
      userPoolClientId: clientId,
      localDataDir: options.dataDir,
      securityTxtExpires: '',
      allowedOrigins,
    };
    const tableClient = DataClients.rawClient(config);
    const tables = await ensureTables(tableClient, localStage);
    tableClient.destroy();
    log(`tables ready after ${elapsed()}: ${tables.join(', ')}`);

    const clients = new DataClients(config);
    const demoUsers = await seedDemoTenants({
      cognito: cognitoClient,
      userPoolId: cognito.userPoolId,
      issuer: cognito.issuer,
      clients,
      members: new MemberStore(localStage),
      passwordsFile: layout.demoUsers,
      log,
    });
    clients.platform().destroy();
    cognitoClient.destroy();
    log(`demo tenants seeded after ${elapsed()}`);

    if (options.auditPoller) {
      auditPoller = await startAuditPoller({
        config,
        archiveDir: layout.archive,
        stateFile: layout.auditStreamState,
        deadLetterDir: layout.auditStreamDeadLetters,
        streamIntervalMs: options.auditPoller.streamIntervalMs ?? defaultAuditIntervals.streamMs,
        checkpointIntervalMs: options.auditPoller.checkpointIntervalMs ?? defaultAuditIntervals.checkpointMs,
        log,
      });
      log(`audit poller running after ${elapsed()}`);
    }

    return {
      dataDir: options.dataDir,
      region: localRegion,
      stage: localStage,
      dynamoEndpoint: dynamodb.endpoint,
      cognitoEndpoint: cognito.endpoint,
      userPoolId: cognito.userPoolId,
      clientId,
      issuer: cognito.issuer,
      allowedOrigins,
      demoUsers,
      passwordsFile: layout.demoUsers,
      dynamodbPid: dynamodb.pid,
      archiveDir: layout.archive,
      auditPoller,
      stop: stopServices,
    };
  } catch (error) {
    await stopServices();
    throw error;
  }
}

/** Starts both services at once; if one fails, the other is stopped before the error surfaces. */
async function startBoth(
  startingDynamodb: Promise<DynamoDbLocal>,
  startingCognito: Promise<CognitoLocal>,
): Promise<[DynamoDbLocal, CognitoLocal]> {
  const [dynamodb, cognito] = await Promise.allSettled([startingDynamodb, startingCognito]);
  if (dynamodb.status === 'fulfilled' && cognito.status === 'fulfilled')
    return [dynamodb.value, cognito.value];
  if (dynamodb.status === 'fulfilled') await dynamodb.value.stop();
  if (cognito.status === 'fulfilled') await cognito.value.stop();
  throw dynamodb.status === 'rejected' ? dynamodb.reason : (cognito as PromiseRejectedResult).reason;
}
