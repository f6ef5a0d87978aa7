/**
 * Fixed settings of the local runtime (npm start): stage, region, default ports and the
 * layout of the git-ignored data folder. Everything listens on loopback only.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuntimeConfig } from '#shared/config/runtime';

export const localStage = 'local';
export const localRegion = 'eu-central-1';

/** The only interface any local component listens on. */
export const loopbackHost = '127.0.0.1';

export const defaultPorts = { api: 3000, dynamodb: 8000, cognito: 9229 } as const;

/** How often the local audit poller reads the stream and signs checkpoints (the signer runs every 5 minutes in AWS). */
export const defaultAuditIntervals = { streamMs: 2000, checkpointMs: 30_000 } as const;

/** The origin of a local web front end (Vite's default), allowed by CORS (API-4). */
export const defaultAllowedOrigins = ['http://localhost:5173'];

/** The project root: the folder with package.json. */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The git-ignored folder that holds all local data, keys and secrets. */
export const defaultDataDir = path.join(projectRoot, '.strongroom');

/**
 * The runtime configuration of a local store on its own (no user pool, no web origins): for
 * the tools and tests that only read and write the tables of a data folder.
 */
export function localStoreConfig(dynamoEndpoint: string, dataDir: string): RuntimeConfig {
  return {
    mode: 'local',
    stage: localStage,
    region: localRegion,
    dynamoEndpoint,
    userPoolId: '',
    userPoolClientId: '',
    localDataDir: dataDir,
    securityTxtExpires: '',
    allowedOrigins: [],
  };
}

/** Where each component keeps its files inside the data folder. */
export function dataLayout(dataDir: string) {
  return {
    root: dataDir,
    dynamodb: path.join(dataDir, 'dynamodb'),
    cognito: path.join(dataDir, 'cognito'),
    /** The folder's data format (data-format.ts); `npm start` refuses another one. */
    format: path.join(dataDir, 'format.json'),
    /** Demo users with their generated passwords (mode 0600, never logged). */
    demoUsers: path.join(dataDir, 'demo-users.json'),
    /** Endpoints and ids of the running stack, for `npm run token` (nothing secret). */
    runtimeState: path.join(dataDir, 'runtime.json'),
    /** The audit archive: read-only files, written once (AUD-2). */
    archive: path.join(dataDir, 'archive'),
    /** Where the audit stream poller resumes after a restart. */
    auditStreamState: path.join(dataDir, 'audit-stream.json'),
    /** Audit stream records set aside after their attempts (the local dead-letter queue). */
    auditStreamDeadLetters: path.join(dataDir, 'audit-stream-dead-letters'),
  } as const;
}

/** What `npm run token` needs to find the running stack (nothing secret). */
export interface RuntimeState {
  readonly apiUrl: string;
  readonly cognitoEndpoint: string;
  readonly dynamoEndpoint: string;
  readonly region: string;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly pid: number;
}

/** The issuer Cognito puts in its tokens, which CognitoJwtVerifier expects (AUTH-6). */
export function cognitoIssuer(region: string, userPoolId: string): string {
  return `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
}

/** Hosts a local server may bind to: loopback only, never a public interface. */
export function assertLoopback(host: string): void {
  if (host !== '127.0.0.1' && host !== '::1' && host !== 'localhost') {
    throw new Error(`the local runtime listens on loopback only, not on ${JSON.stringify(host)}`);
  }
}
