/**
 * Secret key material (SEC-1): in AWS from Secrets Manager, read once and cached for
 * minutes; locally from files under the git-ignored data folder, generated at first use
 * with mode 0600. Never from environment variables in plain text, never logged.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { RuntimeConfig } from '#shared/config/runtime';

/** Names of the secrets Strongroom uses; each maps to one Secrets Manager secret in AWS. */
export type SecretName = 'cursor-key';

export interface SecretSource {
  /** The secret's bytes (at least 32 random bytes). */
  get(name: SecretName): Promise<Buffer>;
}

const cacheMilliseconds = 5 * 60 * 1000;

export class LocalSecretSource implements SecretSource {
  readonly #dir: string;
  readonly #cache = new Map<SecretName, Promise<Buffer>>();

  constructor(dataDir: string) {
    this.#dir = join(dataDir, 'secrets');
  }

  get(name: SecretName): Promise<Buffer> {
    let secret = this.#cache.get(name);
    if (!secret) {
      secret = this.#load(name);
      this.#cache.set(name, secret);
    }
    return secret;
  }

  async #load(name: SecretName): Promise<Buffer> {
    const file = join(this.#dir, name);
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    // 'wx' never replaces a secret another process created meanwhile; then everyone reads the file.
    await writeFile(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      },
    );
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  }
}

export class SecretsManagerSource implements SecretSource {
  readonly #client: SecretsManagerClient;
  readonly #arns: Readonly<Record<string, string>>;
  readonly #cache = new Map<SecretName, { value: Promise<Buffer>; expiresAt: number }>();

  constructor(client: SecretsManagerClient, arns: Readonly<Record<string, string>>) {
    this.#client = client;
    this.#arns = arns;
  }

  get(name: SecretName): Promise<Buffer> {
    const cached = this.#cache.get(name);
    if (cached && cached.expiresAt > Date.now()) return cached.value;
    const arn = this.#arns[name];
    if (!arn) return Promise.reject(new Error(`no secret is configured for ${name}`));
    const value = this.#client.send(new GetSecretValueCommand({ SecretId: arn })).then((result) => {
      if (!result.SecretString) throw new Error(`secret ${name} has no string value`);
      return Buffer.from(result.SecretString, 'base64');
    });
    // A failed read is not cached, so the next request tries again.
    value.catch(() => this.#cache.delete(name));
    this.#cache.set(name, { value, expiresAt: Date.now() + cacheMilliseconds });
    return value;
  }
}

export function createSecretSource(config: RuntimeConfig): SecretSource {
  if (config.mode === 'local') {
    if (!config.localDataDir) throw new Error('the local runtime needs a data folder for its secrets');
    return new LocalSecretSource(config.localDataDir);
  }
  return new SecretsManagerSource(
    new SecretsManagerClient({ region: config.region }),
    config.secretArns ?? {},
  );
}
