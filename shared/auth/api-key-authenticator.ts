/**
 * The authorizer's API-key path (AUTH-5, AUTH-2): a presented `srk_…` key becomes the
 * principal of its tenant, or nothing.
 *
 * Order: a throttled (key id, source) pair is refused before anything else; the key is
 * looked up by id across tenants (platform read, cached at most 60 s like members); the
 * secret's HMAC under the pepper version the key names is compared in constant time with
 * the stored hash (and, during a rotation's overlap, the previous one); then status and
 * expiry. Every refusal of a key that exists counts as a failed attempt for the pair. A
 * refusal after a cache hit is checked once more against a fresh read, so a rotation or
 * a new key never fails for up to a minute.
 */
import type { Principal } from '#shared/auth/principal';
import type { PepperSource } from '#shared/crypto/pepper';
import { logger } from '#shared/observability/logger';
import { agentScopes, apiKeyScopes } from '#shared/rbac/permissions';
import type { ApiKeyRecord, ApiKeyStore } from '#shared/store/api-keys';
import type { DataClients } from '#shared/store/dynamo';
import {
  type ApiKeyEnvironment,
  apiKeyHash,
  hashMatches,
  type PresentedApiKey,
  sourceIdOf,
} from './api-key-format';
import type { FailedAttempts } from './failed-attempts';
import { TtlCache } from './ttl-cache';

export interface ApiKeyAuthenticatorDependencies {
  readonly keys: Pick<ApiKeyStore, 'findById' | 'touch'>;
  readonly clients: Pick<DataClients, 'platform' | 'forTenant'>;
  readonly pepper: PepperSource;
  readonly failures: FailedAttempts;
  /** Keys of the other environment are refused (a live key never works locally, and back). */
  readonly environment: ApiKeyEnvironment;
  readonly now: () => number;
  /** @default 60 s (AUTH-6) */
  readonly cacheTtlMs?: number;
  /** How often last-used time is written per key. @default 60 s */
  readonly touchIntervalMs?: number;
}

export class ApiKeyAuthenticator {
  readonly #deps: ApiKeyAuthenticatorDependencies;
  readonly #cache: TtlCache<{ record: ApiKeyRecord | undefined }>;
  readonly #touchIntervalMs: number;
  readonly #touched = new Map<string, number>();

  constructor(deps: ApiKeyAuthenticatorDependencies) {
    this.#deps = deps;
    this.#cache = new TtlCache(deps.cacheTtlMs ?? 60_000, deps.now);
    this.#touchIntervalMs = deps.touchIntervalMs ?? 60_000;
  }

  /** The key's principal, or undefined: the caller answers 401 either way. */
  async authenticate(
    presented: PresentedApiKey,
    sourceAddress: string,
    requestId: string,
  ): Promise<Principal | undefined> {
    const { keyId } = presented;
    const peppers = await this.#deps.pepper.get();
    const current = peppers.peppers.get(peppers.current) as Buffer;
    const sourceId = sourceIdOf(current, sourceAddress);
    const refuse = async (reason: string, tenantId: string | undefined): Promise<undefined> => {
      const failures = await this.#deps.failures.record(tenantId, keyId, sourceId, requestId);
      // Key ids are public; the secret never reaches a log.
      logger.info('api key refused', { reason, keyId, source: sourceId, failures });
      return undefined;
    };

    if (this.#deps.failures.isThrottled(keyId, sourceId)) {
      const cached = this.#cache.get(keyId)?.record;
      return refuse('throttled', cached?.tenantId);
    }
    if (presented.environment !== this.#deps.environment) return refuse('other environment', undefined);

    let cached = true;
    let record = this.#cache.get(keyId)?.record;
    if (record === undefined) {
      cached = false;
      record = await this.#lookup(keyId);
    }
    if (record === undefined) return refuse('unknown key', undefined);
    let matched = await this.#matches(record, presented.secret);
    if (!matched && cached) {
      record = await this.#lookup(keyId);
      if (record === undefined) return refuse('unknown key', undefined);
      matched = await this.#matches(record, presented.secret);
    }
    if (!matched) return refuse('wrong secret', record.tenantId);
    if (record.status !== 'active') return refuse('revoked', record.tenantId);
    if (!(Date.parse(record.expiresAt) > this.#deps.now())) return refuse('expired', record.tenantId);

    await this.#touch(record);
    // Only the scopes a key of its kind may have, whatever the stored item says (defence in depth).
    const allowed: readonly string[] = record.kind === 'agent' ? agentScopes : apiKeyScopes;
    return {
      kind: record.kind,
      actorId: record.keyId,
      tenantId: record.tenantId,
      roles: record.roles.filter((role) => allowed.includes(role)),
    };
  }

  async #lookup(keyId: string): Promise<ApiKeyRecord | undefined> {
    const record = await this.#deps.keys.findById(this.#deps.clients.platform(), keyId);
    this.#cache.set(keyId, { record });
    return record;
  }

  async #matches(record: ApiKeyRecord, secret: string): Promise<boolean> {
    const candidates = [
      record,
      ...(record.previous !== undefined && Date.parse(record.previous.validUntil) > this.#deps.now()
        ? [record.previous]
        : []),
    ];
    let matched = false;
    for (const candidate of candidates) {
      const peppers = await this.#deps.pepper.get(candidate.pepperVersion);
      const pepper = peppers.peppers.get(candidate.pepperVersion);
      if (pepper === undefined) continue;
      // No early exit: both candidates cost the same whichever matches.
      if (hashMatches(apiKeyHash(pepper, record.keyId, secret), candidate.secretHash)) matched = true;
    }
    return matched;
  }

  async #touch(record: ApiKeyRecord): Promise<void> {
    const now = this.#deps.now();
    const last = Math.max(
      record.lastUsedAt === undefined ? 0 : Date.parse(record.lastUsedAt),
      this.#touched.get(record.keyId) ?? 0,
    );
    if (now - last < this.#touchIntervalMs) return;
    // Remembered apart from the cache, so a busy key's cached record still expires on time.
    this.#touched.delete(record.keyId);
    if (this.#touched.size >= 10_000) this.#touched.delete(this.#touched.keys().next().value ?? '');
    this.#touched.set(record.keyId, now);
    try {
      await this.#deps.keys.touch(
        this.#deps.clients.forTenant(record.tenantId),
        record,
        new Date(now),
        this.#touchIntervalMs,
      );
    } catch (error) {
      // Last-used time is information, not a control: a failed write never refuses a valid key.
      logger.warn('api key last-used time not recorded', { keyId: record.keyId, error });
    }
  }
}
