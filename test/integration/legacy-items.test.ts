/**
 * A data folder from before the members table was sealed (ENC-3): its people, API keys,
 * support grants and onboarding records hold issuer, subject, roles and status in plain
 * attributes. The sealing clients keep refusing them (a plain item could be anyone's
 * forgery); `npm start` refuses the folder's older data format and names `npm run migrate`;
 * the command, run with the stack stopped, seals them under their tenants' keys, lists each,
 * leaves alone an item written around its seal (the folder keeps its format until that one
 * is dealt with), marks the folder with the current format, and changes nothing when run
 * again. Uses its own DynamoDB Local on a fresh folder, so the shared one keeps running.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables } from '#infra/local/bootstrap-tables';
import { checkLocalDataFormat, LocalDataFormatError, localDataFormat } from '#infra/local/data-format';
import { type DynamoDbLocal, startDynamoDbLocal } from '#infra/local/dynamodb-local';
import { migrateDataFolder } from '#infra/local/legacy-items';
import { findFreePort } from '#infra/local/ports';
import { dataLayout, localStage, localStoreConfig, projectRoot } from '#infra/local/settings';
import { startLocalStack } from '#infra/local/stack';
import type { RuntimeConfig } from '#shared/config/runtime';
import { SealedItemError } from '#shared/crypto/seal';
import { ApiKeyStore } from '#shared/store/api-keys';
import { DataClients } from '#shared/store/dynamo';
import { identityIdOf, MemberStore } from '#shared/store/members';
import { SupportGrantStore } from '#shared/store/support-grants';
import { tableName } from '#shared/store/tables';

const issuer = 'https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Legacy';
const tenantId = 'legacy';
const ownerId = identityIdOf(issuer, 'legacy-owner-subject');
const keyId = '01JLEGACYKEY0000000000000A';
const grantId = 'sgr_legacy';
const members = tableName(localStage, 'members');

let dataDir: string;
let running: DynamoDbLocal | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-legacy-'));
});

afterAll(async () => {
  await running?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function startDynamodb(): Promise<RuntimeConfig> {
  await mkdir(dataLayout(dataDir).dynamodb, { recursive: true, mode: 0o700 });
  running = await startDynamoDbLocal({
    dbPath: dataLayout(dataDir).dynamodb,
    port: await findFreePort('127.0.0.1'),
  });
  return localStoreConfig(running.endpoint, dataDir);
}

async function stopDynamodb(): Promise<void> {
  await running?.stop();
  running = undefined;
}

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const l = (...values: string[]): AttributeValue => ({ L: values.map(s) });

/** Items as the stores wrote them before the members table was sealed. */
const legacyItems: Record<string, AttributeValue>[] = [
  {
    pk: s(`${tenantId}#member`),
    sk: s(ownerId),
    tenantId: s(tenantId),
    identityId: s(ownerId),
    issuer: s(issuer),
    subject: s('legacy-owner-subject'),
    roles: l('owner'),
    status: s('active'),
    createdAt: s('2026-01-01T00:00:00.000Z'),
    version: n(1),
  },
  {
    pk: s(`${tenantId}#apikey`),
    sk: s(keyId),
    identityId: s(keyId),
    tenantId: s(tenantId),
    keyId: s(keyId),
    kind: s('apiKey'),
    name: s('Legacy ERP'),
    roles: l('integration'),
    status: s('active'),
    createdAt: s('2026-01-01T00:00:00.000Z'),
    createdBy: s(ownerId),
    expiresAt: s('2027-01-01T00:00:00.000Z'),
    secretHash: s('bGVnYWN5LWhhc2g='),
    pepperVersion: s('v1'),
    lastUsedAt: s('2026-02-01T00:00:00.000Z'),
    version: n(1),
  },
  {
    pk: s(`${tenantId}#supportgrant`),
    sk: s(grantId),
    tenantId: s(tenantId),
    grantId: s(grantId),
    roles: l('auditor'),
    status: s('active'),
    createdAt: s('2026-01-01T00:00:00.000Z'),
    createdBy: s(ownerId),
    expiresAt: s('2026-01-02T00:00:00.000Z'),
    version: n(1),
  },
  {
    pk: s('platform#onboarding'),
    sk: s(tenantId),
    tenantId: s(tenantId),
    status: s('active'),
    createdAt: s('2026-01-01T00:00:00.000Z'),
    createdBy: s('seed'),
    keys: { M: { status: s('on first use') } },
  },
  // A failure window: a counter and an expiry, nothing to seal.
  {
    pk: s(`${tenantId}#apikey-failures`),
    sk: s(`${keyId}#src_legacy#1767225600000`),
    failures: n(3),
    ttl: n(1767312000),
  },
];

const aroundTheSeal = identityIdOf(issuer, 'around-the-seal');

async function rawMember(config: RuntimeConfig, pk: string, sk: string) {
  const raw = DataClients.rawClient(config);
  try {
    const result = await raw.send(
      new GetItemCommand({ TableName: members, Key: { pk: s(pk), sk: s(sk) }, ConsistentRead: true }),
    );
    return result.Item ?? {};
  } finally {
    raw.destroy();
  }
}

/** npm run migrate as a developer runs it: its exit code and what it printed. */
async function runMigrate(): Promise<{ code: number; stdout: string }> {
  return promisify(execFile)(
    path.join(projectRoot, 'node_modules', '.bin', 'tsx'),
    ['infra/local/migrate.ts'],
    {
      cwd: projectRoot,
      env: { ...process.env, STRONGROOM_DATA_DIR: dataDir, STRONGROOM_LOG_LEVEL: 'SILENT' },
      timeout: 60_000,
    },
  ).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
  );
}

describe('[ENC-3] members written before the members table was sealed', () => {
  it('are refused when read, make npm start refuse the folder, and are sealed once by npm run migrate', async () => {
    // A folder of data format 2 (data and idempotency sealed): the plain members, and one sealed
    // member someone gave a plain `roles` beside its seal (written around the seal, not before it).
    const layout = dataLayout(dataDir);
    let config = await startDynamodb();
    await writeFile(layout.format, JSON.stringify({ format: 2 }));
    const raw = DataClients.rawClient(config);
    await ensureTables(raw, localStage);
    for (const item of legacyItems) await raw.send(new PutItemCommand({ TableName: members, Item: item }));
    const clients = new DataClients(config);
    await new MemberStore(localStage).put(clients.platform(), {
      tenantId,
      identityId: aroundTheSeal,
      issuer,
      subject: 'around-the-seal',
      roles: ['auditor'],
      status: 'active',
      createdAt: '2026-01-01T00:00:00.000Z',
      version: 1,
    });
    await raw.send(
      new UpdateItemCommand({
        TableName: members,
        Key: { pk: s(`${tenantId}#member`), sk: s(aroundTheSeal) },
        UpdateExpression: 'SET #roles = :owner',
        ExpressionAttributeNames: { '#roles': 'roles' },
        ExpressionAttributeValues: { ':owner': l('owner') },
      }),
    );
    raw.destroy();
    // The sealing clients never take a plain item for a member.
    const refused = await new MemberStore(localStage)
      .get(clients.forTenant(tenantId), tenantId, ownerId)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SealedItemError);
    expect((refused as SealedItemError).code).toBe('sealed-item-unsealed-attributes');
    clients.platform().destroy();
    await stopDynamodb();

    // npm start refuses the folder before starting anything, naming the command and the reset.
    const starting = await startLocalStack({ dataDir, dynamodbPort: 0, cognitoPort: 0 }).catch(
      (error: unknown) => error,
    );
    expect(starting).toBeInstanceOf(LocalDataFormatError);
    expect((starting as Error).message).toContain('holds data format 2');
    expect((starting as Error).message).toContain('npm run migrate');

    // The command refuses while npm start runs on the folder (they would share the database file).
    await writeFile(layout.runtimeState, JSON.stringify({ pid: process.ppid }));
    await expect(migrateDataFolder(dataDir)).rejects.toThrow(/npm start runs on/);
    await rm(layout.runtimeState);

    // It seals four items, lists them by key only, and leaves the one written around its seal:
    // exit 1, and the folder stays format 2.
    const first = await runMigrate();
    expect(first.code).toBe(1);
    expect(first.stdout).toContain(`sealed members ${tenantId}#member ${ownerId}`);
    expect(first.stdout).toContain(`sealed members ${tenantId}#apikey ${keyId}`);
    expect(first.stdout).toContain(`sealed members ${tenantId}#supportgrant ${grantId}`);
    expect(first.stdout).toContain(`sealed members platform#onboarding ${tenantId}`);
    expect(first.stdout).toContain(`left   members ${tenantId}#member ${aroundTheSeal}: it carries a seal`);
    expect(first.stdout).toContain('4 item(s) sealed, 1 left as they were');
    expect(first.stdout).not.toContain(`${tenantId}#apikey-failures`);
    for (const value of ['legacy-owner-subject', 'Legacy ERP', issuer]) {
      expect(first.stdout).not.toContain(value);
    }
    expect(JSON.parse(await readFile(layout.format, 'utf8'))).toEqual({ format: 2 });

    // Sealed: nothing of the person in the clear, and the stores open it as it was.
    config = await startDynamodb();
    const owner = await rawMember(config, `${tenantId}#member`, ownerId);
    expect(Object.keys(owner).sort()).toEqual(['identityId', 'pk', 'sealed', 'sk', 'tenantId', 'version']);
    const key = await rawMember(config, `${tenantId}#apikey`, keyId);
    expect(Object.keys(key).sort()).toEqual([
      'identityId',
      'lastUsedAt',
      'pk',
      'sealed',
      'sk',
      'tenantId',
      'version',
    ]);
    const reopened = new DataClients(config);
    const tenant = reopened.forTenant(tenantId);
    expect(await new MemberStore(localStage).get(tenant, tenantId, ownerId)).toMatchObject({
      issuer,
      subject: 'legacy-owner-subject',
      roles: ['owner'],
      status: 'active',
      version: 1,
    });
    expect(await new MemberStore(localStage).findByIdentity(reopened.platform(), ownerId)).toHaveLength(1);
    expect(await new ApiKeyStore(localStage).get(tenant, tenantId, keyId)).toMatchObject({
      name: 'Legacy ERP',
      roles: ['integration'],
      secretHash: 'bGVnYWN5LWhhc2g=',
      lastUsedAt: '2026-02-01T00:00:00.000Z',
    });
    expect(await new SupportGrantStore(localStage).get(tenant, tenantId, grantId)).toMatchObject({
      roles: ['auditor'],
    });
    // The item written around its seal is still refused, as before; its owner removes it.
    const around = await new MemberStore(localStage)
      .get(tenant, tenantId, aroundTheSeal)
      .catch((error: unknown) => error);
    expect((around as SealedItemError).code).toBe('sealed-item-unsealed-attributes');
    reopened.platform().destroy();
    const cleanup = DataClients.rawClient(config);
    await cleanup.send(
      new DeleteItemCommand({
        TableName: members,
        Key: { pk: s(`${tenantId}#member`), sk: s(aroundTheSeal) },
      }),
    );
    cleanup.destroy();
    await stopDynamodb();

    // Again: nothing left to seal, so the folder is marked with the current format.
    const second = await runMigrate();
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`0 item(s) sealed; ${dataDir} is now data format ${localDataFormat}`);
    await expect(checkLocalDataFormat(layout)).resolves.toBeUndefined();
    // Not a byte of a seal changed.
    config = await startDynamodb();
    expect((await rawMember(config, `${tenantId}#member`, ownerId)).sealed).toEqual(owner.sealed);
    await stopDynamodb();
    const third = await runMigrate();
    expect(third.code).toBe(0);
    expect(third.stdout).toContain(`holds data format ${localDataFormat} already: nothing to migrate`);
  });
});
