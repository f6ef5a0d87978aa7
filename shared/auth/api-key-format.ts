/**
 * API keys (AUTH-5): the format clients hold and the hash Strongroom stores.
 *
 * A key reads `srk_<env>_<id>_<secret>`: the fixed `srk_` prefix and the environment
 * (`live` for deployed stages, `test` for the local runtime) let secret scanners find
 * leaked keys (pattern `srk_(live|test)_[0-9A-HJKMNP-TV-Z]{26}_[0-9A-Za-z]{43}`); the id is
 * the key's public, time-ordered id; the secret is 256 random bits in 43 base62 digits.
 *
 * Strongroom keeps only HMAC-SHA-256 over the id and the secret under a versioned pepper
 * (shared/crypto/pepper.ts), and compares hashes in constant time.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type ApiKeyEnvironment = 'live' | 'test';

/** The whole key, as secret scanners should match it. */
export const apiKeyPattern = /^srk_(live|test)_([0-9A-HJKMNP-TV-Z]{26})_([0-9A-Za-z]{43})$/;

/** Key ids as the API shows them: `key_` and the 26 characters inside the key. */
export const apiKeyIdPattern = /^key_[0-9A-HJKMNP-TV-Z]{26}$/;

const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const secretDigits = 43;

/** 256 random bits as exactly 43 base62 digits (62^43 > 2^256, so every value fits). */
export function newApiKeySecret(): string {
  let value = BigInt(`0x${randomBytes(32).toString('hex')}`);
  let digits = '';
  for (let index = 0; index < secretDigits; index++) {
    digits = base62[Number(value % 62n)] + digits;
    value /= 62n;
  }
  return digits;
}

export function formatApiKey(environment: ApiKeyEnvironment, keyId: string, secret: string): string {
  if (!apiKeyIdPattern.test(keyId)) throw new Error('not an API key id');
  const key = `srk_${environment}_${keyId.slice(4)}_${secret}`;
  if (!apiKeyPattern.test(key)) throw new Error('not an API key secret');
  return key;
}

export interface PresentedApiKey {
  readonly environment: ApiKeyEnvironment;
  readonly keyId: string;
  readonly secret: string;
}

/** The parts of a presented key, or undefined when it is not one. */
export function parseApiKey(text: string): PresentedApiKey | undefined {
  const match = apiKeyPattern.exec(text);
  if (!match) return undefined;
  return {
    environment: match[1] as ApiKeyEnvironment,
    keyId: `key_${match[2]}`,
    secret: match[3] as string,
  };
}

/** The stored form of a secret: HMAC-SHA-256 under the pepper, over the key id and the secret. */
export function apiKeyHash(pepper: Buffer, keyId: string, secret: string): Buffer {
  return createHmac('sha256', pepper).update(`strongroom api key v1\n${keyId}\n${secret}`).digest();
}

/** Constant-time comparison of a computed hash with a stored one (base64). */
export function hashMatches(computed: Buffer, stored: string): boolean {
  const expected = Buffer.from(stored, 'base64');
  return expected.length === computed.length && timingSafeEqual(computed, expected);
}

/**
 * A pseudonymous id for a source address (DAT-3): keyed with the pepper, so the audit
 * log can count attempts per address without holding the address.
 */
export function sourceIdOf(pepper: Buffer, address: string): string {
  return `src_${createHmac('sha256', pepper).update(`strongroom source v1\n${address}`).digest('base64url').slice(0, 16)}`;
}
