/**
 * The API-key pepper (AUTH-5, SEC-1): the HMAC key under which API-key secrets are
 * stored. It is versioned so it can rotate: every stored hash names the version it was
 * made with, new hashes use the current one.
 *
 * In AWS it lives in Secrets Manager (one secret, a JSON object: `{"current":"v2",
 * "v1":"…","v2":"…"}`) and is read through `SecretsManagerPepperSource`, cached for
 * minutes and re-read at once when a hash names a version it does not know yet. Locally
 * it is `<data folder>/secrets/api-key-pepper.json` in the same format, created at first
 * use with mode 0600. Never an environment variable, never logged.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Every known pepper by version, and the version new hashes use. */
export interface PepperSet {
  readonly current: string;
  readonly peppers: ReadonlyMap<string, Buffer>;
}

export interface PepperSource {
  /** The pepper set, possibly cached; `needVersion` forces a fresh read if it is unknown. */
  get(needVersion?: string): Promise<PepperSet>;
}

const versionPattern = /^v[1-9][0-9]{0,5}$/;
/** A pepper shorter than this is refused: it must be a key, not a password. */
const minimumPepperBytes = 32;

/** Parses the secret's JSON; throws an error that never contains the secret's text. */
export function parsePepperSet(text: string): PepperSet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('the API-key pepper secret is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('the API-key pepper secret must be a JSON object');
  }
  const record = value as Record<string, unknown>;
  const current = record.current;
  const peppers = new Map<string, Buffer>();
  for (const [name, pepper] of Object.entries(record)) {
    if (name === 'current') continue;
    if (!versionPattern.test(name) || typeof pepper !== 'string') {
      throw new Error(
        `the API-key pepper secret has an entry that is not a version: ${JSON.stringify(name)}`,
      );
    }
    const bytes = Buffer.from(pepper, 'utf8');
    if (bytes.length < minimumPepperBytes) {
      throw new Error(`API-key pepper ${name} is shorter than ${minimumPepperBytes} bytes`);
    }
    peppers.set(name, bytes);
  }
  if (typeof current !== 'string' || !peppers.has(current)) {
    throw new Error('the API-key pepper secret names no current version it holds');
  }
  return { current, peppers };
}

/** Reads the pepper from Secrets Manager, caching it for `ttlMs` (default 5 minutes). */
export class SecretsManagerPepperSource implements PepperSource {
  readonly #client: SecretsManagerClient;
  readonly #secretId: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #cached: { set: Promise<PepperSet>; expiresAt: number } | undefined;

  constructor(client: SecretsManagerClient, secretId: string, ttlMs = 300_000, now: () => number = Date.now) {
    this.#client = client;
    this.#secretId = secretId;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  async get(needVersion?: string): Promise<PepperSet> {
    const cached = this.#cached;
    if (cached && cached.expiresAt > this.#now()) {
      const set = await cached.set.catch(() => undefined);
      if (set && (needVersion === undefined || set.peppers.has(needVersion))) return set;
    }
    const set = this.#read();
    this.#cached = { set, expiresAt: this.#now() + this.#ttlMs };
    try {
      return await set;
    } catch (error) {
      this.#cached = undefined;
      throw error;
    }
  }

  async #read(): Promise<PepperSet> {
    if (this.#secretId === '')
      throw new Error('no Secrets Manager secret is configured for the API-key pepper');
    const result = await this.#client.send(new GetSecretValueCommand({ SecretId: this.#secretId }));
    if (result.SecretString === undefined) throw new Error('the API-key pepper secret has no string value');
    return parsePepperSet(result.SecretString);
  }
}

/** The local pepper file: created at first use (0600, in a 0700 folder), never overwritten. */
export class LocalPepperSource implements PepperSource {
  readonly #file: string;
  #set: Promise<PepperSet> | undefined;

  constructor(dataDir: string) {
    this.#file = localPepperFile(dataDir);
  }

  async get(needVersion?: string): Promise<PepperSet> {
    if (this.#set === undefined) this.#set = this.#load();
    let set = await this.#set;
    if (needVersion !== undefined && !set.peppers.has(needVersion)) {
      // Someone rotated the file: read it again.
      this.#set = this.#load();
      set = await this.#set;
    }
    return set;
  }

  async #load(): Promise<PepperSet> {
    try {
      return parsePepperSet(await readFile(this.#file, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await mkdir(join(this.#file, '..'), { recursive: true, mode: 0o700 });
    const initial = { current: 'v1', v1: randomBytes(48).toString('base64url') };
    // 'wx' never replaces a pepper another process wrote meanwhile; then read the winner.
    await writeFile(this.#file, `${JSON.stringify(initial)}\n`, { mode: 0o600, flag: 'wx' }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      },
    );
    return parsePepperSet(await readFile(this.#file, 'utf8'));
  }
}

/** Where the local runtime keeps the pepper. */
export function localPepperFile(dataDir: string): string {
  return join(dataDir, 'secrets', 'api-key-pepper.json');
}

/** The pepper source of this runtime: the local file, or the Secrets Manager secret named in the configuration. */
export function createPepperSource(config: {
  readonly mode: 'aws' | 'local';
  readonly region: string;
  readonly localDataDir: string | undefined;
  /** ARN of the pepper's secret (AWS mode). */
  readonly secretArn: string | undefined;
}): PepperSource {
  if (config.mode === 'local') {
    if (!config.localDataDir) throw new Error('the local runtime needs a data folder for the API-key pepper');
    return new LocalPepperSource(config.localDataDir);
  }
  // Nothing is read until the first API key arrives.
  return new SecretsManagerPepperSource(
    new SecretsManagerClient({ region: config.region }),
    config.secretArn ?? '',
  );
}
