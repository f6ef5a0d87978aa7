/**
 * The `KeyService` (ENC-2, ENC-4, DAT-2): tenant keys and the data keys they wrap, plus the
 * checkpoint signer (kept in signing.ts). In AWS each tenant has its own multi-Region KMS
 * key, tagged with the tenant, replicated to the DR region; data keys come from
 * GenerateDataKey and are unwrapped with Decrypt, both under the encryption context
 * {tenantId, purpose, keyVersion}; termination schedules the key (primary and replica)
 * for deletion after the waiting period. Locally each tenant key is 32 random bytes in
 * `<dataDir>/keys/tenants/<tenantId>.key` (mode 0600) that wraps data keys with
 * AES-256-GCM (associated data: tenant and key version), and the file is deleted at purge.
 *
 * Callers get one or the other from `createKeyService(config)` and never ask which.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type KeyringNode,
  KmsKeyringNode,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node';
import {
  CreateKeyCommand,
  DecryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  KMSClient,
  PutKeyPolicyCommand,
  ReplicateKeyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import canonicalize from 'canonicalize';
import type { RuntimeConfig } from '#shared/config/runtime';
import { isTenantId } from '#shared/tenancy/tenant-id';
import { type CheckpointSigner, createCheckpointSigner } from './signing';

/** Where a tenant's key lives; stored in the tenant registry. */
export interface TenantKeyRef {
  /** KMS key ARN (primary), or `local:<tenantId>` for a local key file. */
  readonly keyId: string;
  /** Region of the replica, when the key is multi-Region. */
  readonly replicaRegion?: string;
}

export interface GeneratedDataKey {
  readonly version: number;
  /** The plaintext AES-256 key: keep in memory only. */
  readonly plaintext: Buffer;
  /** The key wrapped by the tenant key: the only form that is stored. */
  readonly wrapped: Buffer;
}

export interface ScheduledKeyDeletion {
  /** When the key is gone for good (AWS), or undefined when it is deleted already (local). */
  readonly deletionDate: Date | undefined;
}

/** The tenant key is gone (deleted, pending deletion or disabled): nothing it wrapped opens any more. */
export class TenantKeyUnavailableError extends Error {
  readonly code = 'tenant-key-unavailable';
  readonly tenantId: string;

  constructor(tenantId: string, message: string) {
    super(message);
    this.name = 'TenantKeyUnavailableError';
    this.tenantId = tenantId;
  }
}

/** A wrapped data key does not unwrap for this tenant and version (altered, or another tenant's). */
export class DataKeyUnwrapError extends Error {
  readonly code = 'data-key-unwrap-failed';
  readonly tenantId: string;

  constructor(tenantId: string, message: string) {
    super(message);
    this.name = 'DataKeyUnwrapError';
    this.tenantId = tenantId;
  }
}

export interface KeyService {
  /** Creates the tenant's key (idempotent locally: an existing key file is kept). */
  createTenantKey(tenantId: string): Promise<TenantKeyRef>;
  /** Schedules the tenant key for deletion (locally: deletes it now). */
  scheduleTenantKeyDeletion(tenantId: string, ref: TenantKeyRef): Promise<ScheduledKeyDeletion>;
  /** A fresh data key for `version`, in plaintext and wrapped by the tenant key. */
  generateDataKey(tenantId: string, ref: TenantKeyRef, version: number): Promise<GeneratedDataKey>;
  /** Unwraps a data key the tenant key wrapped for `version`. */
  unwrapDataKey(tenantId: string, ref: TenantKeyRef, version: number, wrapped: Uint8Array): Promise<Buffer>;
  /**
   * The Encryption SDK keyring of the tenant's exports (DAT-1): in AWS a KMS keyring on the
   * tenant key, locally a raw AES keyring with the tenant key file's material.
   */
  exportKeyring(tenantId: string, ref: TenantKeyRef): Promise<KeyringNode>;
  /** The audit checkpoint signer of this runtime (signing.ts). */
  checkpointSigner(): CheckpointSigner;
}

/** The encryption-context purpose of export data keys; the tenant key's policy allows it besides data keys. */
export const exportKeyPurpose = 'strongroom-tenant-export';

/** The raw AES keyring's namespace of local export keys. */
export const localExportKeyNamespace = 'strongroom-local-tenant-key';

/** The encryption context of every data-key operation: what KMS logs and what key policies can test. */
export function dataKeyContext(tenantId: string, version: number): Record<string, string> {
  return { tenantId, purpose: 'tenant-data-key', keyVersion: String(version) };
}

function checkTenant(tenantId: string): void {
  if (!isTenantId(tenantId)) throw new Error(`invalid tenant id ${JSON.stringify(tenantId)}`);
}

function checkVersion(version: number): void {
  if (!Number.isInteger(version) || version < 1)
    throw new RangeError('data key versions are integers from 1');
}

// ---------------------------------------------------------------------------------------
// Local: key files under the data folder

const wrapIvLength = 12;
const wrapTagLength = 16;

export class LocalKeyService implements KeyService {
  readonly #dir: string;
  readonly #signer: () => CheckpointSigner;

  constructor(dataDir: string, signer: () => CheckpointSigner) {
    this.#dir = join(dataDir, 'keys', 'tenants');
    this.#signer = signer;
  }

  keyFile(tenantId: string): string {
    checkTenant(tenantId);
    return join(this.#dir, `${tenantId}.key`);
  }

  async createTenantKey(tenantId: string): Promise<TenantKeyRef> {
    const file = this.keyFile(tenantId);
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    // 'wx' never replaces a key another process created meanwhile.
    await writeFile(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      },
    );
    return { keyId: `local:${tenantId}` };
  }

  async scheduleTenantKeyDeletion(tenantId: string): Promise<ScheduledKeyDeletion> {
    await unlink(this.keyFile(tenantId)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    return { deletionDate: undefined };
  }

  async generateDataKey(tenantId: string, _ref: TenantKeyRef, version: number): Promise<GeneratedDataKey> {
    checkVersion(version);
    const tenantKey = await this.#tenantKey(tenantId);
    const plaintext = randomBytes(32);
    const iv = randomBytes(wrapIvLength);
    const cipher = createCipheriv('aes-256-gcm', tenantKey, iv);
    cipher.setAAD(wrapAad(tenantId, version));
    const wrapped = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { version, plaintext, wrapped };
  }

  async unwrapDataKey(
    tenantId: string,
    _ref: TenantKeyRef,
    version: number,
    wrapped: Uint8Array,
  ): Promise<Buffer> {
    checkVersion(version);
    const tenantKey = await this.#tenantKey(tenantId);
    const bytes = Buffer.from(wrapped);
    if (bytes.length !== wrapIvLength + 32 + wrapTagLength) {
      throw new DataKeyUnwrapError(tenantId, `data key ${version} of ${tenantId} is not a wrapped key`);
    }
    const decipher = createDecipheriv('aes-256-gcm', tenantKey, bytes.subarray(0, wrapIvLength), {
      authTagLength: wrapTagLength,
    });
    decipher.setAAD(wrapAad(tenantId, version));
    decipher.setAuthTag(bytes.subarray(bytes.length - wrapTagLength));
    try {
      return Buffer.concat([
        decipher.update(bytes.subarray(wrapIvLength, bytes.length - wrapTagLength)),
        decipher.final(),
      ]);
    } catch {
      throw new DataKeyUnwrapError(
        tenantId,
        `data key ${version} of ${tenantId} does not unwrap with the tenant's key`,
      );
    }
  }

  async exportKeyring(tenantId: string): Promise<KeyringNode> {
    return new RawAesKeyringNode({
      keyNamespace: localExportKeyNamespace,
      keyName: tenantId,
      unencryptedMasterKey: new Uint8Array(await this.#tenantKey(tenantId)),
      wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    });
  }

  checkpointSigner(): CheckpointSigner {
    return this.#signer();
  }

  async #tenantKey(tenantId: string): Promise<Buffer> {
    try {
      const key = Buffer.from((await readFile(this.keyFile(tenantId), 'utf8')).trim(), 'base64');
      if (key.length !== 32)
        throw new TenantKeyUnavailableError(tenantId, `the key file of ${tenantId} is damaged`);
      return key;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new TenantKeyUnavailableError(
          tenantId,
          `tenant ${tenantId} has no key (deleted at purge, or never created)`,
        );
      }
      throw error;
    }
  }
}

function wrapAad(tenantId: string, version: number): Buffer {
  return Buffer.from(`strongroom-data-key/1\0${tenantId}\0${version}`, 'utf8');
}

// ---------------------------------------------------------------------------------------
// AWS: one multi-Region KMS key per tenant

/** Settings of tenant keys in AWS, from the stack (never secret). */
export interface TenantKeySettings {
  /** The account that owns the keys (key policy principal). */
  readonly account: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** The DR region that holds each key's replica. */
  readonly replicaRegion: string;
  /** KMS waiting period before a scheduled deletion completes, 7 to 30 days. @default 30 */
  readonly deletionWindowDays?: number;
  /** Tag key carrying the tenant id; IAM for creation and deletion is conditioned on it. @default 'strongroom:tenant' */
  readonly tenantTagKey?: string;
}

export const tenantTagKey = 'strongroom:tenant';

/** Administration without use, as for the stack's keys (ENC-4). */
const tenantKeyAdministrationActions = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:UpdateKeyDescription',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:EnableKeyRotation',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ReplicateKey',
  'kms:UpdatePrimaryRegion',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

/**
 * The tenant key's policy: account principals may administer it (through IAM, by tag) but
 * not use it, and may use it (through IAM) only for this tenant's data keys: the
 * encryption context must name the tenant.
 */
export function tenantKeyPolicy(settings: TenantKeySettings, tenantId: string, stage: string): string {
  const root = `arn:${settings.partition ?? 'aws'}:iam::${settings.account}:root`;
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'KeyAdministrationWithoutUse',
        Effect: 'Allow',
        Principal: { AWS: root },
        Action: tenantKeyAdministrationActions,
        Resource: '*',
      },
      {
        Sid: 'DataKeysOfThisTenantOnly',
        Effect: 'Allow',
        Principal: { AWS: root },
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: '*',
        Condition: {
          StringEquals: {
            'kms:CallerAccount': settings.account,
            'kms:EncryptionContext:tenantId': tenantId,
            'kms:EncryptionContext:purpose': ['tenant-data-key', exportKeyPurpose],
            'aws:ResourceTag/strongroom:stage': stage,
          },
        },
      },
    ],
  });
}

export class KmsKeyService implements KeyService {
  readonly #primary: KMSClient;
  readonly #replica: (region: string) => KMSClient;
  readonly #settings: TenantKeySettings | undefined;
  readonly #stage: string;
  readonly #signer: () => CheckpointSigner;

  /**
   * `settings` are needed only to create and delete tenant keys (onboarding, purge);
   * request handlers only generate and unwrap data keys, which need the key ARN alone.
   */
  constructor(options: {
    primary: KMSClient;
    replica: (region: string) => KMSClient;
    settings: TenantKeySettings | undefined;
    stage: string;
    signer: () => CheckpointSigner;
  }) {
    this.#primary = options.primary;
    this.#replica = options.replica;
    this.#settings = options.settings;
    this.#stage = options.stage;
    this.#signer = options.signer;
    const days = options.settings?.deletionWindowDays ?? 30;
    if (!Number.isInteger(days) || days < 7 || days > 30) {
      throw new RangeError('the tenant key deletion window is 7 to 30 days');
    }
  }

  #required(): TenantKeySettings {
    if (!this.#settings) {
      throw new Error(
        'TENANT_KEYS is not configured: creating or deleting tenant keys needs the account and DR region',
      );
    }
    return this.#settings;
  }

  #tags(tenantId: string) {
    return [
      { TagKey: this.#settings?.tenantTagKey ?? tenantTagKey, TagValue: tenantId },
      { TagKey: 'strongroom:stage', TagValue: this.#stage },
    ];
  }

  async createTenantKey(tenantId: string): Promise<TenantKeyRef> {
    checkTenant(tenantId);
    const settings = this.#required();
    const policy = tenantKeyPolicy(settings, tenantId, this.#stage);
    const created = await this.#primary.send(
      new CreateKeyCommand({
        Description: `Strongroom ${this.#stage}: data keys of tenant ${tenantId}`,
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        MultiRegion: true,
        Policy: policy,
        Tags: this.#tags(tenantId),
      }),
    );
    const keyArn = created.KeyMetadata?.Arn;
    if (!keyArn) throw new Error(`KMS returned no key ARN for tenant ${tenantId}`);
    // The DR region holds the replica, so backups copied there stay readable (and die with it).
    await this.#primary.send(
      new ReplicateKeyCommand({
        KeyId: keyArn,
        ReplicaRegion: settings.replicaRegion,
        Policy: policy,
        Tags: this.#tags(tenantId),
        Description: `Strongroom ${this.#stage}: data keys of tenant ${tenantId} (replica)`,
      }),
    );
    return { keyId: keyArn, replicaRegion: settings.replicaRegion };
  }

  /**
   * Brings a tenant key's policy, in both regions (a multi-Region key's replica has a policy
   * of its own), to what `tenantKeyPolicy` gives today, for keys created under an earlier
   * policy (keys made before exports lacked the export purpose). Writes only a policy that
   * differs; `apply: false` only reports.
   */
  async applyTenantKeyPolicy(
    tenantId: string,
    ref: TenantKeyRef,
    apply: boolean,
  ): Promise<{ region: string; keyId: string; outcome: 'current' | 'updated' | 'outdated' }[]> {
    checkTenant(tenantId);
    const wanted = tenantKeyPolicy(this.#required(), tenantId, this.#stage);
    const copies: { region: string; keyId: string; client: KMSClient }[] = [
      { region: ref.keyId.split(':')[3] ?? '', keyId: ref.keyId, client: this.#primary },
      ...(ref.replicaRegion
        ? [{ region: ref.replicaRegion, keyId: replicaArn(ref), client: this.#replica(ref.replicaRegion) }]
        : []),
    ];
    const results: { region: string; keyId: string; outcome: 'current' | 'updated' | 'outdated' }[] = [];
    for (const { region, keyId, client } of copies) {
      const { Policy } = await client.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }));
      // Compared as JSON values: KMS may return the policy with other whitespace.
      if (Policy !== undefined && canonicalJson(Policy) === canonicalJson(wanted)) {
        results.push({ region, keyId, outcome: 'current' });
      } else if (!apply) {
        results.push({ region, keyId, outcome: 'outdated' });
      } else {
        await client.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: wanted }));
        results.push({ region, keyId, outcome: 'updated' });
      }
    }
    return results;
  }

  async scheduleTenantKeyDeletion(tenantId: string, ref: TenantKeyRef): Promise<ScheduledKeyDeletion> {
    checkTenant(tenantId);
    const PendingWindowInDays = this.#required().deletionWindowDays ?? 30;
    // A primary key with replicas waits for them, so the replica is scheduled first.
    if (ref.replicaRegion) {
      await this.#replica(ref.replicaRegion)
        .send(new ScheduleKeyDeletionCommand({ KeyId: replicaArn(ref), PendingWindowInDays }))
        .catch(ignorePendingDeletion);
    }
    const result = await this.#primary
      .send(new ScheduleKeyDeletionCommand({ KeyId: ref.keyId, PendingWindowInDays }))
      .catch(ignorePendingDeletion);
    return { deletionDate: result?.DeletionDate };
  }

  async generateDataKey(tenantId: string, ref: TenantKeyRef, version: number): Promise<GeneratedDataKey> {
    checkTenant(tenantId);
    checkVersion(version);
    const result = await this.#primary
      .send(
        new GenerateDataKeyCommand({
          KeyId: ref.keyId,
          KeySpec: 'AES_256',
          EncryptionContext: dataKeyContext(tenantId, version),
        }),
      )
      .catch((error: Error) => {
        throw unavailable(tenantId, error);
      });
    if (!result.Plaintext || !result.CiphertextBlob) throw new Error('KMS returned no data key');
    return { version, plaintext: Buffer.from(result.Plaintext), wrapped: Buffer.from(result.CiphertextBlob) };
  }

  async unwrapDataKey(
    tenantId: string,
    ref: TenantKeyRef,
    version: number,
    wrapped: Uint8Array,
  ): Promise<Buffer> {
    checkTenant(tenantId);
    checkVersion(version);
    const result = await this.#primary
      .send(
        new DecryptCommand({
          KeyId: ref.keyId,
          CiphertextBlob: wrapped,
          EncryptionContext: dataKeyContext(tenantId, version),
        }),
      )
      .catch((error: Error) => {
        if (error.name === 'InvalidCiphertextException' || error.name === 'IncorrectKeyException') {
          throw new DataKeyUnwrapError(
            tenantId,
            `data key ${version} of ${tenantId} does not unwrap with the tenant's key`,
          );
        }
        throw unavailable(tenantId, error);
      });
    if (!result.Plaintext) throw new Error('KMS returned no plaintext');
    return Buffer.from(result.Plaintext);
  }

  async exportKeyring(tenantId: string, ref: TenantKeyRef): Promise<KeyringNode> {
    checkTenant(tenantId);
    // GenerateDataKey on the tenant key under the message's context (tenantId, exportId, purpose).
    return new KmsKeyringNode({ generatorKeyId: ref.keyId });
  }

  checkpointSigner(): CheckpointSigner {
    return this.#signer();
  }
}

/** The replica's ARN: a multi-Region key keeps its key id in every region. */
/** What `reconcileTenantKeyPolicies` found and did, for an operator to read. */
export interface TenantKeyPolicyReport {
  readonly lines: readonly string[];
  readonly summary: string;
  /** Key copies whose policy differs and was not written (a report without apply). */
  readonly outdated: number;
  readonly updated: number;
}

/**
 * Applies (or with `apply: false` only checks) today's tenant key policy on the keys of the
 * given tenants. Purged tenants are skipped: their keys are pending deletion, and KMS
 * refuses to change them.
 */
export async function reconcileTenantKeyPolicies(
  keys: Pick<KmsKeyService, 'applyTenantKeyPolicy'>,
  tenants: readonly { tenantId: string; status: string; keyRef: TenantKeyRef }[],
  apply: boolean,
): Promise<TenantKeyPolicyReport> {
  const lines: string[] = [];
  let outdated = 0;
  let updated = 0;
  let current = 0;
  for (const tenant of tenants) {
    if (tenant.status === 'purged') {
      lines.push(`${tenant.tenantId}: purged, key pending deletion, skipped`);
      continue;
    }
    for (const copy of await keys.applyTenantKeyPolicy(tenant.tenantId, tenant.keyRef, apply)) {
      if (copy.outcome === 'outdated') outdated++;
      else if (copy.outcome === 'updated') updated++;
      else current++;
      lines.push(`${tenant.tenantId}: ${copy.region} ${copy.keyId}: ${copy.outcome}`);
    }
  }
  return {
    lines,
    outdated,
    updated,
    summary: `${tenants.length} tenants: ${current} key policies current, ${updated} updated, ${outdated} outdated${
      outdated > 0 ? ' (run again with --apply to update them)' : ''
    }`,
  };
}

function canonicalJson(text: string): string {
  try {
    return canonicalize(JSON.parse(text)) ?? text;
  } catch {
    return text;
  }
}

function replicaArn(ref: TenantKeyRef): string {
  const parts = ref.keyId.split(':');
  if (parts.length < 6 || !ref.replicaRegion) return ref.keyId;
  parts[3] = ref.replicaRegion;
  return parts.join(':');
}

function ignorePendingDeletion(error: Error): undefined {
  // Scheduling twice (a retried purge) is not an error: the first schedule stands.
  if (error.name === 'KMSInvalidStateException' && /pending ?deletion/i.test(error.message)) return undefined;
  throw error;
}

function unavailable(tenantId: string, error: Error): Error {
  if (
    error.name === 'KMSInvalidStateException' ||
    error.name === 'DisabledException' ||
    error.name === 'NotFoundException'
  ) {
    return new TenantKeyUnavailableError(
      tenantId,
      `the key of tenant ${tenantId} is not usable: ${error.name}`,
    );
  }
  return error;
}

/** Tenant key settings from the environment the stack sets (`TENANT_KEYS`, JSON, nothing secret). */
export function tenantKeySettingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): TenantKeySettings | undefined {
  const value = env.TENANT_KEYS;
  if (value === undefined || value === '') return undefined;
  const parsed = JSON.parse(value) as Partial<TenantKeySettings>;
  if (typeof parsed.account !== 'string' || typeof parsed.replicaRegion !== 'string') {
    throw new Error('TENANT_KEYS must be a JSON object with account and replicaRegion');
  }
  return {
    account: parsed.account,
    replicaRegion: parsed.replicaRegion,
    ...(typeof parsed.partition === 'string' ? { partition: parsed.partition } : {}),
    ...(typeof parsed.deletionWindowDays === 'number'
      ? { deletionWindowDays: parsed.deletionWindowDays }
      : {}),
  };
}

/** The key service of this runtime: local key files, or KMS. */
export function createKeyService(
  config: Pick<RuntimeConfig, 'mode' | 'stage' | 'region' | 'localDataDir' | 'auditSigningKeys'>,
  settings: TenantKeySettings | undefined = tenantKeySettingsFromEnv(),
): KeyService {
  let signer: CheckpointSigner | undefined;
  const lazySigner = () => {
    signer ??= createCheckpointSigner(config as RuntimeConfig);
    return signer;
  };
  if (config.mode === 'local') {
    if (!config.localDataDir) throw new Error('the local runtime needs a data folder for its tenant keys');
    return new LocalKeyService(config.localDataDir, lazySigner);
  }
  const replicas = new Map<string, KMSClient>();
  return new KmsKeyService({
    primary: new KMSClient({ region: config.region }),
    replica: (region) => {
      let client = replicas.get(region);
      if (!client) {
        client = new KMSClient({ region });
        replicas.set(region, client);
      }
      return client;
    },
    settings,
    stage: config.stage,
    signer: lazySigner,
  });
}
