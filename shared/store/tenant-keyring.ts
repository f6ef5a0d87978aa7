/**
 * Tenant data keys for sealing (ENC-3): the tenant registry says which version is current
 * and holds every version wrapped (tenants.ts); the `KeyService` unwraps them.
 * Unwrapped keys stay in memory for minutes in a bounded LRU cache, so the hot path is one
 * map lookup; records are cached as long, so a data key rotated elsewhere is picked up
 * within that time (older versions keep opening older items).
 */
import { createSecretKey } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KeyService } from '#shared/crypto/key-service';
import { TenantKeyUnavailableError } from '#shared/crypto/key-service';
import type { DataKey } from '#shared/crypto/seal';
import { type TenantRecord, TenantRecordConflictError, type TenantRegistry } from './tenants';

/** The tenant has no registry record: it was never onboarded (or its record was lost). */
export class TenantNotProvisionedError extends Error {
  readonly code = 'tenant-not-provisioned';
  readonly tenantId: string;

  constructor(tenantId: string) {
    super(`tenant ${tenantId} has no keys in the registry: onboard it first`);
    this.name = 'TenantNotProvisionedError';
    this.tenantId = tenantId;
  }
}

export interface TenantKeyringOptions {
  /** How long unwrapped keys and registry records stay cached. @default 5 minutes */
  readonly ttlMilliseconds?: number;
  /** Most unwrapped keys kept at once; the least recently used go first. @default 1000 */
  readonly maxKeys?: number;
  /** The clock. @default Date.now */
  readonly now?: () => number;
  /**
   * Whether a tenant without a registry record gets its keys on first use. The local
   * runtime does (its seeded and test tenants are never onboarded through the API); in AWS
   * only onboarding creates keys (request handlers may not create KMS keys), and a tenant
   * without a record cannot seal. A terminated or purged tenant never gets new keys.
   * @default false
   */
  readonly provisionMissing?: boolean;
}

interface Cached<T> {
  readonly value: Promise<T>;
  readonly expiresAt: number;
}

/** A small LRU map with expiry: a Map keeps insertion order, so the first key is the oldest use. */
class ExpiringLru<T> {
  readonly #entries = new Map<string, Cached<T>>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get(key: string, now: number): Promise<T> | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: Promise<T>, expiresAt: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    // A failed load is not remembered: the next caller tries again.
    value.catch(() => {
      if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
    });
  }

  deleteWhere(predicate: (key: string) => boolean): void {
    for (const key of [...this.#entries.keys()]) if (predicate(key)) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}

export class TenantKeyring {
  readonly #keys: KeyService;
  readonly #registry: TenantRegistry;
  readonly #client: () => DynamoDBDocumentClient;
  readonly #ttl: number;
  readonly #now: () => number;
  readonly #provisionMissing: boolean;
  readonly #dataKeys: ExpiringLru<DataKey>;
  readonly #records: ExpiringLru<TenantRecord>;

  /** `client` reads and writes the registry (a platform client: tenant sessions cannot write it). */
  constructor(
    keys: KeyService,
    registry: TenantRegistry,
    client: () => DynamoDBDocumentClient,
    options: TenantKeyringOptions = {},
  ) {
    this.#keys = keys;
    this.#registry = registry;
    this.#client = client;
    this.#ttl = options.ttlMilliseconds ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
    this.#provisionMissing = options.provisionMissing ?? false;
    this.#dataKeys = new ExpiringLru(options.maxKeys ?? 1000);
    this.#records = new ExpiringLru(options.maxKeys ?? 1000);
  }

  get keyService(): KeyService {
    return this.#keys;
  }

  get registry(): TenantRegistry {
    return this.#registry;
  }

  /** Unwrapped keys currently cached (for tests of the bound). */
  get cachedKeys(): number {
    return this.#dataKeys.size;
  }

  /** The tenant's registry record, cached. */
  record(tenantId: string): Promise<TenantRecord> {
    const now = this.#now();
    const cached = this.#records.get(tenantId, now);
    if (cached) return cached;
    const loading = this.#registry.get(this.#client(), tenantId).then((record) => {
      if (record) return record;
      if (this.#provisionMissing) return this.provision(tenantId);
      throw new TenantNotProvisionedError(tenantId);
    });
    this.#records.set(tenantId, loading, now + this.#ttl);
    return loading;
  }

  /** The key new items of the tenant are sealed under. */
  async currentKey(tenantId: string): Promise<DataKey> {
    const record = await this.record(tenantId);
    return this.#dataKey(record, record.currentKeyVersion);
  }

  /** The key of one version, to open items sealed under it. */
  async keyVersion(tenantId: string, version: number): Promise<DataKey> {
    const now = this.#now();
    const cached = this.#dataKeys.get(`${tenantId}:${version}`, now);
    if (cached) return cached;
    let record = await this.record(tenantId);
    // A version newer than the cached record: another process rotated; read the record again.
    if (!record.dataKeys.has(version) && version > record.currentKeyVersion) {
      this.#records.deleteWhere((key) => key === tenantId);
      record = await this.record(tenantId);
    }
    return this.#dataKey(record, version);
  }

  #dataKey(record: TenantRecord, version: number): Promise<DataKey> {
    const { tenantId } = record;
    const cacheKey = `${tenantId}:${version}`;
    const now = this.#now();
    const cached = this.#dataKeys.get(cacheKey, now);
    if (cached) return cached;
    const loading = (async (): Promise<DataKey> => {
      if (record.status === 'purged') {
        throw new TenantKeyUnavailableError(tenantId, `tenant ${tenantId} is purged: its keys are gone`);
      }
      const wrapped = record.dataKeys.get(version);
      if (!wrapped) {
        throw new TenantKeyUnavailableError(
          tenantId,
          `tenant ${tenantId} has no data key version ${version}`,
        );
      }
      const plaintext = await this.#keys.unwrapDataKey(tenantId, record.keyRef, version, wrapped);
      const key = createSecretKey(plaintext);
      plaintext.fill(0);
      return { version, key };
    })();
    this.#dataKeys.set(cacheKey, loading, now + this.#ttl);
    return loading;
  }

  /**
   * Onboarding: creates the tenant key, the first data key and the registry record.
   * Idempotent: a tenant that has a record keeps it (a purged one is never revived).
   */
  async provision(tenantId: string, now: Date = new Date(this.#now())): Promise<TenantRecord> {
    const client = this.#client();
    const existing = await this.#registry.get(client, tenantId);
    if (existing) return existing;
    const keyRef = await this.#keys.createTenantKey(tenantId);
    const first = await this.#keys.generateDataKey(tenantId, keyRef, 1);
    first.plaintext.fill(0);
    const record: TenantRecord = {
      tenantId,
      status: 'active',
      keyRef,
      currentKeyVersion: 1,
      dataKeys: new Map([[1, first.wrapped]]),
      createdAt: now.toISOString(),
      version: 1,
    };
    if (await this.#registry.create(client, record)) {
      this.forget(tenantId);
      return record;
    }
    // Another onboarding of the same tenant won; its record and key stand.
    const winner = await this.#registry.get(client, tenantId);
    if (!winner) throw new Error(`the registry record of ${tenantId} vanished during onboarding`);
    if (winner.keyRef.keyId !== keyRef.keyId) {
      // The key this call created is nobody's: it goes (after the waiting period in AWS).
      await this.#keys.scheduleTenantKeyDeletion(tenantId, keyRef);
    }
    return winner;
  }

  /** A new data key version; new items are sealed under it, old ones keep opening. */
  async rotate(tenantId: string): Promise<TenantRecord> {
    const client = this.#client();
    const record = await this.#registry.get(client, tenantId);
    if (!record) throw new TenantNotProvisionedError(tenantId);
    if (record.status !== 'active')
      throw new TenantRecordConflictError(`tenant ${tenantId} is ${record.status}`);
    const version = record.currentKeyVersion + 1;
    const next = await this.#keys.generateDataKey(tenantId, record.keyRef, version);
    next.plaintext.fill(0);
    const rotated: TenantRecord = {
      ...record,
      currentKeyVersion: version,
      dataKeys: new Map([...record.dataKeys, [version, next.wrapped]]),
      version: record.version + 1,
    };
    await this.#registry.replace(client, rotated, record.version);
    this.forget(tenantId);
    return rotated;
  }

  /** Drops everything cached for the tenant (after termination, purge or rotation). */
  forget(tenantId: string): void {
    this.#records.deleteWhere((key) => key === tenantId);
    this.#dataKeys.deleteWhere((key) => key.startsWith(`${tenantId}:`));
  }
}

/**
 * The onboarding seam (shared/services/onboarding.ts, `TenantKeyProvisioner`): gives a new
 * tenant its keys and registry record before the onboarding transaction, and reports where
 * the key is (no key material) for the onboarding record.
 */
export function tenantKeyProvisioner(keyring: TenantKeyring): {
  provision(tenantId: string): Promise<Readonly<Record<string, string>>>;
} {
  return {
    async provision(tenantId) {
      const record = await keyring.provision(tenantId);
      return {
        status: 'provisioned',
        keyId: record.keyRef.keyId,
        ...(record.keyRef.replicaRegion ? { replicaRegion: record.keyRef.replicaRegion } : {}),
        dataKeyVersion: String(record.currentKeyVersion),
      };
    },
  };
}
