import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createKeyService,
  DataKeyUnwrapError,
  KmsKeyService,
  LocalKeyService,
  reconcileTenantKeyPolicies,
  TenantKeyUnavailableError,
  tenantKeyPolicy,
} from '#shared/crypto/key-service';
import type { CheckpointSigner } from '#shared/crypto/signing';

const noSigner = (): CheckpointSigner => {
  throw new Error('not used');
};

describe('[ENC-4] [DAT-2] local key service: per-tenant key files', () => {
  let dataDir: string;
  let keys: LocalKeyService;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'strongroom-keys-'));
    keys = new LocalKeyService(dataDir, noSigner);
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('creates <dataDir>/keys/tenants/<tenantId>.key with mode 0600, once', async () => {
    const ref = await keys.createTenantKey('acme');
    expect(ref.keyId).toBe('local:acme');
    const file = join(dataDir, 'keys', 'tenants', 'acme.key');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'keys', 'tenants'))).mode & 0o777).toBe(0o700);
    const before = await readFile(file, 'utf8');
    await keys.createTenantKey('acme');
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(Buffer.from(before, 'base64')).toHaveLength(32);
  });

  it('wraps data keys with AES-256-GCM bound to tenant and version', async () => {
    const ref = await keys.createTenantKey('acme');
    await keys.createTenantKey('other');
    const generated = await keys.generateDataKey('acme', ref, 2);
    expect(generated.plaintext).toHaveLength(32);
    expect(generated.wrapped.includes(generated.plaintext)).toBe(false);
    expect(await keys.unwrapDataKey('acme', ref, 2, generated.wrapped)).toEqual(generated.plaintext);
    await expect(keys.unwrapDataKey('acme', ref, 1, generated.wrapped)).rejects.toBeInstanceOf(
      DataKeyUnwrapError,
    );
    await expect(keys.unwrapDataKey('other', { keyId: 'local:other' }, 2, generated.wrapped)).rejects.toThrow(
      /does not unwrap/,
    );
  });

  it('deletes the key file at purge: nothing it wrapped unwraps any more', async () => {
    const ref = await keys.createTenantKey('gone');
    const generated = await keys.generateDataKey('gone', ref, 1);
    expect(await keys.scheduleTenantKeyDeletion('gone')).toEqual({ deletionDate: undefined });
    await expect(stat(keys.keyFile('gone'))).rejects.toThrow(/ENOENT/);
    const error = await keys.unwrapDataKey('gone', ref, 1, generated.wrapped).catch((caught) => caught);
    expect(error).toBeInstanceOf(TenantKeyUnavailableError);
    expect((error as TenantKeyUnavailableError).code).toBe('tenant-key-unavailable');
    // Deleting twice is no error (a retried purge).
    await keys.scheduleTenantKeyDeletion('gone');
  });

  it('refuses tenant ids that could leave the keys folder', async () => {
    await expect(keys.createTenantKey('../escape')).rejects.toThrow(/invalid tenant id/);
  });

  it('createKeyService picks the local one in local mode, without asking anything else', () => {
    const service = createKeyService({
      mode: 'local',
      stage: 'local',
      region: 'eu-central-1',
      localDataDir: dataDir,
    });
    expect(service).toBeInstanceOf(LocalKeyService);
  });
});

describe('[ENC-4] [ENC-5] [DAT-2] KMS key service (KMS mocked with aws-sdk-client-mock)', () => {
  const primary = mockClient(KMSClient);
  const keyArn = 'arn:aws:kms:eu-central-1:111122223333:key/mrk-1234abcd';
  const settings = { account: '111122223333', replicaRegion: 'eu-west-1', deletionWindowDays: 30 };
  const service = () =>
    new KmsKeyService({
      primary: new KMSClient({ region: 'eu-central-1' }),
      replica: () => new KMSClient({ region: 'eu-west-1' }),
      settings,
      stage: 'dev',
      signer: noSigner,
    });

  beforeEach(() => primary.reset());

  it('creates a tagged multi-Region key with a policy that separates use from administration, and replicates it to the DR region', async () => {
    primary.on(CreateKeyCommand).resolves({ KeyMetadata: { KeyId: 'mrk-1234abcd', Arn: keyArn } });
    primary.on(ReplicateKeyCommand).resolves({});
    const ref = await service().createTenantKey('acme');
    expect(ref).toEqual({ keyId: keyArn, replicaRegion: 'eu-west-1' });

    const create = primary.commandCalls(CreateKeyCommand)[0]?.args[0].input;
    expect(create?.MultiRegion).toBe(true);
    expect(create?.KeySpec).toBe('SYMMETRIC_DEFAULT');
    expect(create?.Tags).toContainEqual({ TagKey: 'strongroom:tenant', TagValue: 'acme' });
    const policy = JSON.parse(create?.Policy ?? '{}') as {
      Statement: { Sid: string; Action: string[]; Condition?: Record<string, Record<string, string>> }[];
    };
    const admin = policy.Statement.find((statement) => statement.Sid === 'KeyAdministrationWithoutUse');
    expect(admin?.Action).not.toContain('kms:Decrypt');
    expect(admin?.Action).not.toContain('kms:GenerateDataKey');
    const use = policy.Statement.find((statement) => statement.Sid === 'DataKeysOfThisTenantOnly');
    expect(use?.Action.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(use?.Condition?.StringEquals?.['kms:EncryptionContext:tenantId']).toBe('acme');

    const replicate = primary.commandCalls(ReplicateKeyCommand)[0]?.args[0].input;
    expect(replicate).toMatchObject({ KeyId: keyArn, ReplicaRegion: 'eu-west-1' });
    expect(replicate?.Tags).toContainEqual({ TagKey: 'strongroom:tenant', TagValue: 'acme' });
  });

  it("[DAT-1] brings keys made under an earlier policy to today's in both regions, reports first, and leaves current ones alone", async () => {
    const replicaArn = keyArn.replace('eu-central-1', 'eu-west-1');
    const today = tenantKeyPolicy(settings, 'acme', 'dev');
    // A key created before exports (DAT-1): its data-key statement allows no export purpose.
    const before = today.replace(',"strongroom-tenant-export"', '');
    expect(before).not.toBe(today);
    primary.on(GetKeyPolicyCommand, { KeyId: keyArn }).resolves({ Policy: before });
    // KMS may hand back the same policy formatted differently: that is current.
    primary
      .on(GetKeyPolicyCommand, { KeyId: replicaArn })
      .resolves({ Policy: JSON.stringify(JSON.parse(today), null, 2) });
    primary.on(PutKeyPolicyCommand).resolves({});
    const tenants = [
      { tenantId: 'acme', status: 'active', keyRef: { keyId: keyArn, replicaRegion: 'eu-west-1' } },
      { tenantId: 'gone', status: 'purged', keyRef: { keyId: `${keyArn}-gone`, replicaRegion: 'eu-west-1' } },
    ];

    const report = await reconcileTenantKeyPolicies(service(), tenants, false);
    expect(primary.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
    expect(report).toMatchObject({ outdated: 1, updated: 0 });
    expect(report.lines).toEqual([
      `acme: eu-central-1 ${keyArn}: outdated`,
      `acme: eu-west-1 ${replicaArn}: current`,
      'gone: purged, key pending deletion, skipped',
    ]);

    const applied = await reconcileTenantKeyPolicies(service(), tenants, true);
    expect(applied).toMatchObject({ outdated: 0, updated: 1 });
    const puts = primary.commandCalls(PutKeyPolicyCommand).map((call) => call.args[0].input);
    expect(puts).toEqual([{ KeyId: keyArn, PolicyName: 'default', Policy: today }]);
    expect(applied.summary).toBe('2 tenants: 1 key policies current, 1 updated, 0 outdated');
  });

  it('generates and unwraps data keys under the encryption context {tenantId, purpose, keyVersion}', async () => {
    const plaintext = Buffer.alloc(32, 7);
    primary
      .on(GenerateDataKeyCommand)
      .resolves({ Plaintext: plaintext, CiphertextBlob: Buffer.from('wrapped') });
    primary.on(DecryptCommand).resolves({ Plaintext: plaintext });
    const ref = { keyId: keyArn, replicaRegion: 'eu-west-1' };
    const generated = await service().generateDataKey('acme', ref, 3);
    expect(generated).toEqual({ version: 3, plaintext, wrapped: Buffer.from('wrapped') });
    const context = { tenantId: 'acme', purpose: 'tenant-data-key', keyVersion: '3' };
    expect(primary.commandCalls(GenerateDataKeyCommand)[0]?.args[0].input).toEqual({
      KeyId: keyArn,
      KeySpec: 'AES_256',
      EncryptionContext: context,
    });
    expect(await service().unwrapDataKey('acme', ref, 3, Buffer.from('wrapped'))).toEqual(plaintext);
    expect(primary.commandCalls(DecryptCommand)[0]?.args[0].input).toMatchObject({
      KeyId: keyArn,
      EncryptionContext: context,
    });
  });

  it('maps KMS refusals to named errors: a key pending deletion is unavailable, a foreign blob does not unwrap', async () => {
    const ref = { keyId: keyArn };
    primary
      .on(DecryptCommand)
      .rejectsOnce(Object.assign(new Error('pending deletion'), { name: 'KMSInvalidStateException' }))
      .rejectsOnce(Object.assign(new Error('bad'), { name: 'InvalidCiphertextException' }));
    await expect(service().unwrapDataKey('acme', ref, 1, Buffer.from('x'))).rejects.toBeInstanceOf(
      TenantKeyUnavailableError,
    );
    await expect(service().unwrapDataKey('acme', ref, 1, Buffer.from('x'))).rejects.toBeInstanceOf(
      DataKeyUnwrapError,
    );
  });

  it('schedules deletion of the replica first, then the primary, with the waiting period', async () => {
    const deletionDate = new Date('2026-08-01T00:00:00Z');
    primary.on(ScheduleKeyDeletionCommand).resolves({ DeletionDate: deletionDate });
    const result = await service().scheduleTenantKeyDeletion('acme', {
      keyId: keyArn,
      replicaRegion: 'eu-west-1',
    });
    expect(result.deletionDate).toEqual(deletionDate);
    const calls = primary.commandCalls(ScheduleKeyDeletionCommand).map((call) => call.args[0].input);
    expect(calls).toEqual([
      { KeyId: 'arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd', PendingWindowInDays: 30 },
      { KeyId: keyArn, PendingWindowInDays: 30 },
    ]);
  });

  it('[DAT-2] schedules nothing twice when a purge is retried (KMS mocked): a key already pending deletion is no error, any other refusal is', async () => {
    const pending = () =>
      Object.assign(new Error('arn:aws:kms:…:key/mrk-1234abcd is pending deletion.'), {
        name: 'KMSInvalidStateException',
      });
    primary.on(ScheduleKeyDeletionCommand).rejects(pending());
    const ref = { keyId: keyArn, replicaRegion: 'eu-west-1' };
    expect(await service().scheduleTenantKeyDeletion('acme', ref)).toEqual({ deletionDate: undefined });
    expect(primary.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(2);
    primary.reset();
    primary
      .on(ScheduleKeyDeletionCommand)
      .rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    await expect(service().scheduleTenantKeyDeletion('acme', ref)).rejects.toThrow(/not allowed/);
  });

  it('refuses deletion windows KMS would refuse, and creation without settings', async () => {
    expect(
      () =>
        new KmsKeyService({
          primary: new KMSClient({}),
          replica: () => new KMSClient({}),
          settings: { ...settings, deletionWindowDays: 3 },
          stage: 'dev',
          signer: noSigner,
        }),
    ).toThrow(/7 to 30 days/);
    const withoutSettings = new KmsKeyService({
      primary: new KMSClient({ region: 'eu-central-1' }),
      replica: () => new KMSClient({}),
      settings: undefined,
      stage: 'dev',
      signer: noSigner,
    });
    await expect(withoutSettings.createTenantKey('acme')).rejects.toThrow(/TENANT_KEYS/);
  });
});
