import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  apiKeyHash,
  apiKeyPattern,
  formatApiKey,
  hashMatches,
  newApiKeySecret,
  parseApiKey,
  sourceIdOf,
} from '#shared/auth/api-key-format';
import { isAuditedCount } from '#shared/auth/failed-attempts';
import {
  LocalPepperSource,
  localPepperFile,
  parsePepperSet,
  SecretsManagerPepperSource,
} from '#shared/crypto/pepper';
import { newId } from '#shared/domain/ids';

describe('[AUTH-5] the API key format', () => {
  it('has a fixed prefix, the key id and 256 random bits in 43 base62 digits', () => {
    const keyId = newId('key');
    const secrets = new Set<string>();
    for (let index = 0; index < 200; index++) {
      const secret = newApiKeySecret();
      expect(secret).toMatch(/^[0-9A-Za-z]{43}$/);
      secrets.add(secret);
      const key = formatApiKey('live', keyId, secret);
      expect(key).toMatch(apiKeyPattern);
      expect(parseApiKey(key)).toEqual({ environment: 'live', keyId, secret });
    }
    expect(secrets.size).toBe(200);
  });

  it('parses nothing that is not exactly a key', () => {
    const key = formatApiKey('test', newId('key'), newApiKeySecret());
    for (const text of [
      key.slice(1),
      `${key} `,
      ` ${key}`,
      key.replace('srk_test', 'srk_prod'),
      key.toLowerCase(),
    ]) {
      expect(parseApiKey(text), text).toBeUndefined();
    }
  });

  it('stores an HMAC under the pepper, compared in constant time, bound to the key id', () => {
    const pepper = Buffer.alloc(48, 7);
    const keyId = newId('key');
    const secret = newApiKeySecret();
    const stored = apiKeyHash(pepper, keyId, secret).toString('base64');
    expect(hashMatches(apiKeyHash(pepper, keyId, secret), stored)).toBe(true);
    expect(hashMatches(apiKeyHash(Buffer.alloc(48, 8), keyId, secret), stored)).toBe(false);
    expect(hashMatches(apiKeyHash(pepper, newId('key'), secret), stored)).toBe(false);
    expect(hashMatches(apiKeyHash(pepper, keyId, secret), 'c2hvcnQ=')).toBe(false);
    expect(stored).not.toContain(secret);
  });

  it('names sources by a keyed pseudonym, never the address', () => {
    const id = sourceIdOf(Buffer.alloc(48, 1), '203.0.113.9');
    expect(id).toMatch(/^src_[A-Za-z0-9_-]{16}$/);
    expect(sourceIdOf(Buffer.alloc(48, 2), '203.0.113.9')).not.toBe(id);
  });
});

describe('[AUTH-2][AUD-1] counted windows of failed attempts', () => {
  it('audits the first failure, the limit and each tenfold of it', () => {
    const audited = Array.from({ length: 2000 }, (_, index) => index + 1).filter((count) =>
      isAuditedCount(count, 10),
    );
    expect(audited).toEqual([1, 10, 100, 1000]);
  });
});

describe('[AUTH-5][SEC-1] the versioned pepper', () => {
  it('parses versions and the current one, and refuses short or unnamed peppers without echoing them', () => {
    const set = parsePepperSet(JSON.stringify({ current: 'v2', v1: 'a'.repeat(40), v2: 'b'.repeat(40) }));
    expect(set.current).toBe('v2');
    expect([...set.peppers.keys()]).toEqual(['v1', 'v2']);
    for (const text of [
      'not json',
      JSON.stringify({ current: 'v3', v1: 'a'.repeat(40) }),
      JSON.stringify({ current: 'v1', v1: 'short-secret' }),
      JSON.stringify({ current: 'v1', v1: 'a'.repeat(40), other: 'x'.repeat(40) }),
    ]) {
      let message = '';
      try {
        parsePepperSet(text);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain('short-secret');
      expect(message).not.toContain('x'.repeat(40));
    }
  });

  describe('locally, a file under the data folder', () => {
    let dir: string | undefined;
    afterEach(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('is created at first use with mode 0600 and then read, never replaced', async () => {
      dir = await mkdtemp(join(tmpdir(), 'strongroom-pepper-'));
      const first = await new LocalPepperSource(dir).get();
      const file = localPepperFile(dir);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(join(file, '..'))).mode & 0o777).toBe(0o700);
      const again = await new LocalPepperSource(dir).get();
      expect(again.peppers.get('v1')).toEqual(first.peppers.get('v1'));
      expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ current: 'v1' });
    });
  });

  describe('in AWS, Secrets Manager (AWS SDK mocked: an AWS-only path)', () => {
    const secretsManager = mockClient(SecretsManagerClient);
    afterEach(() => secretsManager.reset());

    it('reads the secret once, caches it, and re-reads at once for a version it does not know', async () => {
      let clock = 0;
      const values = [
        JSON.stringify({ current: 'v1', v1: 'a'.repeat(40) }),
        JSON.stringify({ current: 'v2', v1: 'a'.repeat(40), v2: 'b'.repeat(40) }),
      ];
      let reads = 0;
      secretsManager.on(GetSecretValueCommand, { SecretId: 'arn:pepper' }).callsFake(() => ({
        SecretString: values[Math.min(reads++, values.length - 1)],
      }));
      const source = new SecretsManagerPepperSource(
        new SecretsManagerClient({}),
        'arn:pepper',
        300_000,
        () => clock,
      );
      expect((await source.get()).current).toBe('v1');
      expect((await source.get('v1')).current).toBe('v1');
      expect(reads).toBe(1);
      // A hash made after rotation names v2: read again at once.
      expect((await source.get('v2')).current).toBe('v2');
      expect(reads).toBe(2);
      clock += 300_001;
      await source.get();
      expect(reads).toBe(3);
    });

    it('does not cache a failed read', async () => {
      secretsManager
        .on(GetSecretValueCommand)
        .rejectsOnce(new Error('throttled'))
        .resolves({
          SecretString: JSON.stringify({ current: 'v1', v1: 'a'.repeat(40) }),
        });
      const source = new SecretsManagerPepperSource(new SecretsManagerClient({}), 'arn:pepper');
      await expect(source.get()).rejects.toThrow('throttled');
      expect((await source.get()).current).toBe('v1');
    });

    it('refuses to run without a configured secret', async () => {
      const source = new SecretsManagerPepperSource(new SecretsManagerClient({}), '');
      await expect(source.get()).rejects.toThrow('no Secrets Manager secret');
    });
  });
});
