/**
 * Sealed members, API keys and support grants (ENC-3) end to end, over the local gateway
 * and DynamoDB Local: read raw, past the sealing clients, a member's item holds no issuer,
 * subject, roles or status, an API key's no label, scopes, status or secret hash, a
 * grant's no roles; the authorizer still admits members and keys, opening what it finds
 * through the identity index. A sealed payload planted under another tenant's item, another
 * item or in another table does not open, and neither does an item whose plain index
 * attributes were rewritten to point elsewhere: the store names why, and the authorizer
 * lets nobody in on it (fail closed) while it is there.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKey } from '#shared/auth/api-key-format';
import { ApiKeyStore } from '#shared/store/api-keys';
import { DataClients } from '#shared/store/dynamo';
import { MemberStore } from '#shared/store/members';
import { SupportGrantStore } from '#shared/store/support-grants';
import { tableName } from '#shared/store/tables';
import { startTestGateway, type TestGateway } from './support/gateway';
import { call, expectStatus } from './support/http';
import { Identities, type TestMember, uniqueTenantId } from './support/identities';
import { localRuntimeConfig, localStack } from './support/local-stack';
import { openError, rawText } from './support/sealed-items';

let gateway: TestGateway;
let identities: Identities;
let clients: DataClients;
let raw: ReturnType<typeof DataClients.rawClient>;
/** The authorizer's clock: moved past its 60 s caches instead of sleeping. */
let clockOffset = 0;
const planted: { table: string; pk: string; sk: string }[] = [];
const stage = () => localStack().stage;
const membersTable = () => tableName(stage(), 'members');

const tenantA = uniqueTenantId('seal-a');
const tenantB = uniqueTenantId('seal-b');
let ownerA: TestMember;
let accountantA: TestMember;
let ownerB: TestMember;
const keyLabel = 'Zebrafisch ERP sync';

beforeAll(async () => {
  gateway = await startTestGateway(localStack(), { authorizerClock: () => Date.now() + clockOffset });
  identities = new Identities();
  clients = new DataClients(localRuntimeConfig());
  raw = DataClients.rawClient(localRuntimeConfig());
  ownerA = await identities.addMember(tenantA, ['owner']);
  accountantA = await identities.addMember(tenantA, ['accountant']);
  ownerB = await identities.addMember(tenantB, ['owner']);
});

afterAll(async () => {
  for (const { table, pk, sk } of planted) {
    await raw.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } } }));
  }
  raw?.destroy();
  identities?.destroy();
  await gateway?.close();
});

/** Every cache of the authorizer (memberships, key records) has expired for the next call. */
function expireAuthorizerCaches(): void {
  clockOffset += 61_000;
}

async function rawItem(table: string, pk: string, sk: string): Promise<Record<string, AttributeValue>> {
  const result = await raw.send(
    new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }),
  );
  if (!result.Item) throw new Error(`no item ${pk}/${sk} in ${table}`);
  return result.Item;
}

async function putRaw(table: string, item: Record<string, AttributeValue>): Promise<void> {
  await raw.send(new PutItemCommand({ TableName: table, Item: item }));
}

async function plant(table: string, item: Record<string, AttributeValue>): Promise<void> {
  planted.push({ table, pk: String(item.pk?.S), sk: String(item.sk?.S) });
  await putRaw(table, item);
}

async function unplant(table: string, pk: string, sk: string): Promise<void> {
  await raw.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } } }));
}

async function createKey(name = keyLabel): Promise<{ id: string; key: string }> {
  const response = await call(gateway, 'POST', '/api-keys', {
    token: ownerA.token,
    body: { name, scopes: ['integration'] },
  });
  await expectStatus(response, 201);
  return (await response.json()) as { id: string; key: string };
}

const listInvoices = (key: string) => call(gateway, 'GET', '/invoices', { token: key, scheme: 'ApiKey' });

describe('[ENC-3] members, API keys and support grants are sealed at rest', () => {
  it('stores a member as its keys, index keys, version and one seal: no issuer, subject, roles or status in the clear', async () => {
    const item = await rawItem(membersTable(), `${tenantA}#member`, accountantA.identityId);
    expect(Object.keys(item).sort()).toEqual(['identityId', 'pk', 'sealed', 'sk', 'tenantId', 'version']);
    expect(item.sealed?.B).toBeInstanceOf(Uint8Array);
    const text = rawText(item);
    for (const clear of [localStack().issuer, accountantA.subject, 'accountant', 'active', 'createdAt']) {
      expect(text, clear).not.toContain(clear);
    }
    // The sealing clients open it as the store wrote it.
    const member = await new MemberStore(stage()).get(
      clients.forTenant(tenantA),
      tenantA,
      accountantA.identityId,
    );
    expect(member).toMatchObject({ roles: ['accountant'], status: 'active', subject: accountantA.subject });
  });

  it('stores an API key with no label, scopes, status or secret hash in the clear; the authorizer admits it and writes its use in the clear', async () => {
    const { id, key } = await createKey();
    const stored = await rawItem(membersTable(), `${tenantA}#apikey`, id);
    expect(Object.keys(stored).sort()).toEqual(['identityId', 'pk', 'sealed', 'sk', 'tenantId', 'version']);
    const text = rawText(stored);
    for (const clear of [
      keyLabel,
      'integration',
      'active',
      'secretHash',
      'pepperVersion',
      ownerA.identityId,
    ]) {
      expect(text, clear).not.toContain(clear);
    }

    await expectStatus(await listInvoices(key), 200);
    // The authorizer's one write: the last-used time, plain, beside the untouched seal.
    const used = await rawItem(membersTable(), `${tenantA}#apikey`, id);
    expect(Object.keys(used).sort()).toEqual([
      'identityId',
      'lastUsedAt',
      'pk',
      'sealed',
      'sk',
      'tenantId',
      'version',
    ]);
    expect(used.sealed).toEqual(stored.sealed);
    const record = await new ApiKeyStore(stage()).get(clients.forTenant(tenantA), tenantA, id);
    expect(record).toMatchObject({ name: keyLabel, roles: ['integration'], lastUsedAt: used.lastUsedAt?.S });
  });

  it("keeps failed-attempt windows to a counter and an expiry: nothing to seal, the tenant's key names the window", async () => {
    const { key } = await createKey('windows');
    const wrong = key.replace(parseApiKey(key)?.secret ?? '', 'A'.repeat(43));
    expect((await listInvoices(wrong)).status).toBe(401);
    const windows = await raw.send(
      new QueryCommand({
        TableName: membersTable(),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `${tenantA}#apikey-failures` } },
        ConsistentRead: true,
      }),
    );
    expect(windows.Items?.length).toBeGreaterThan(0);
    for (const item of windows.Items ?? []) {
      expect(Object.keys(item).sort()).toEqual(['failures', 'pk', 'sk', 'ttl']);
    }
  });

  it('stores a support grant with no roles or expiry in the clear', async () => {
    const response = await call(gateway, 'POST', '/support-grants', {
      token: ownerA.token,
      body: { roles: ['auditor'], durationMinutes: 60 },
    });
    await expectStatus(response, 201);
    const { id } = (await response.json()) as { id: string };
    const item = await rawItem(membersTable(), `${tenantA}#supportgrant`, id);
    expect(Object.keys(item).sort()).toEqual(['pk', 'sealed', 'sk', 'tenantId', 'version']);
    expect(rawText(item)).not.toContain('auditor');
    const grant = await new SupportGrantStore(stage()).get(clients.forTenant(tenantA), tenantA, id);
    expect(grant).toMatchObject({ roles: ['auditor'], status: 'active' });
  });

  it('admits sealed members through the identity index, and denies them elsewhere', async () => {
    expireAuthorizerCaches();
    await expectStatus(await call(gateway, 'GET', '/invoices', { token: accountantA.token }), 200);
    const elsewhere = await call(gateway, 'GET', '/invoices', {
      token: ownerB.token,
      headers: { 'x-strongroom-tenant': tenantA },
    });
    expect(elsewhere.status).toBe(403);
  });
});

describe('[ENC-3] a sealed member or API-key payload moved elsewhere does not open, and lets nobody in', () => {
  it("under another tenant's item: sealed-item-wrong-tenant", async () => {
    const original = await rawItem(membersTable(), `${tenantA}#member`, accountantA.identityId);
    // Index attributes that agree with the new key: only the seal can tell.
    const moved = { ...original, pk: { S: `${tenantB}#member` }, tenantId: { S: tenantB } };
    await plant(membersTable(), moved);
    const error = await openError(() =>
      new MemberStore(stage()).get(clients.forTenant(tenantB), tenantB, accountantA.identityId),
    );
    expect(error.code).toBe('sealed-item-wrong-tenant');
    expect(error.message).toContain('another tenant');
    expect(error.message).not.toContain(accountantA.subject);

    // The authorizer finds it through the identity index and refuses to go on (fail closed).
    expireAuthorizerCaches();
    const response = await call(gateway, 'GET', '/invoices', {
      token: accountantA.token,
      headers: { 'x-strongroom-tenant': tenantB },
    });
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain(accountantA.subject);
    await unplant(membersTable(), `${tenantB}#member`, accountantA.identityId);
    expireAuthorizerCaches();
    expect(
      (
        await call(gateway, 'GET', '/invoices', {
          token: accountantA.token,
          headers: { 'x-strongroom-tenant': tenantB },
        })
      ).status,
    ).toBe(403);
  });

  it('under another item of the same tenant (someone copying a member to their own identity): sealed-item-wrong-item', async () => {
    const original = await rawItem(membersTable(), `${tenantA}#member`, ownerA.identityId);
    const intruder = await identities.createUser();
    const token = await identities.signIn(intruder.email, intruder.password);
    await plant(membersTable(), {
      ...original,
      sk: { S: intruder.identityId },
      identityId: { S: intruder.identityId },
    });
    const error = await openError(() =>
      new MemberStore(stage()).get(clients.forTenant(tenantA), tenantA, intruder.identityId),
    );
    expect(error.code).toBe('sealed-item-wrong-item');
    // The authorizer finds the copy under the intruder's identity and lets nobody in on it.
    expect((await call(gateway, 'GET', '/members', { token })).status).toBe(500);
    // Until it goes, the tenant's member list does not open either (the owner's next test lists it).
    await unplant(membersTable(), `${tenantA}#member`, intruder.identityId);
  });

  it('in another table: sealed-item-wrong-table', async () => {
    const original = await rawItem(membersTable(), `${tenantA}#member`, accountantA.identityId);
    const idempotency = tableName(stage(), 'idempotency');
    await plant(idempotency, {
      pk: { S: `${tenantA}#member` },
      sk: { S: accountantA.identityId },
      sealed: original.sealed as AttributeValue,
    });
    const error = await openError(() =>
      clients.forTenant(tenantA).send(
        new GetCommand({
          TableName: idempotency,
          Key: { pk: `${tenantA}#member`, sk: accountantA.identityId },
          ConsistentRead: true,
        }),
      ),
    );
    expect(error.code).toBe('sealed-item-wrong-table');
  });

  it("an API key's payload under another tenant: sealed-item-wrong-tenant, and the key is refused while it is there", async () => {
    const { id, key } = await createKey('moved');
    await expectStatus(await listInvoices(key), 200);
    const original = await rawItem(membersTable(), `${tenantA}#apikey`, id);
    await plant(membersTable(), { ...original, pk: { S: `${tenantB}#apikey` }, tenantId: { S: tenantB } });
    const error = await openError(() =>
      new ApiKeyStore(stage()).get(clients.forTenant(tenantB), tenantB, id),
    );
    expect(error.code).toBe('sealed-item-wrong-tenant');

    expireAuthorizerCaches();
    const refused = await listInvoices(key);
    expect(refused.status).toBe(500);
    expect(await refused.text()).not.toContain('moved');
    await unplant(membersTable(), `${tenantB}#apikey`, id);
    expireAuthorizerCaches();
    await expectStatus(await listInvoices(key), 200);
  });

  it('rewriting a plain index attribute moves nothing: an API key pointed at another tenant is refused (sealed-item-index-mismatch)', async () => {
    const { id, key } = await createKey('repointed');
    const original = await rawItem(membersTable(), `${tenantA}#apikey`, id);
    // The seal still opens (its key is unchanged); the plain tenant id now says tenant B.
    await putRaw(membersTable(), { ...original, tenantId: { S: tenantB } });
    try {
      const error = await openError(() =>
        new ApiKeyStore(stage()).get(clients.forTenant(tenantA), tenantA, id),
      );
      expect(error.code).toBe('sealed-item-index-mismatch');
      expireAuthorizerCaches();
      const response = await call(gateway, 'GET', '/invoices', {
        token: key,
        scheme: 'ApiKey',
        headers: { 'x-strongroom-tenant': tenantB },
      });
      expect(response.status).toBe(500);
    } finally {
      await putRaw(membersTable(), original);
    }
    expireAuthorizerCaches();
    await expectStatus(await listInvoices(key), 200);
  });

  it("rewriting a member's plain identity id gives nobody its roles: the owner's item pointed at an outsider is refused", async () => {
    const original = await rawItem(membersTable(), `${tenantA}#member`, ownerA.identityId);
    // Tenant B's owner would become tenant A's owner if the index attribute were trusted.
    await putRaw(membersTable(), { ...original, identityId: { S: ownerB.identityId } });
    try {
      const error = await openError(() =>
        new MemberStore(stage()).get(clients.forTenant(tenantA), tenantA, ownerA.identityId),
      );
      expect(error.code).toBe('sealed-item-index-mismatch');
      expireAuthorizerCaches();
      const response = await call(gateway, 'GET', '/members', {
        token: ownerB.token,
        headers: { 'x-strongroom-tenant': tenantA },
      });
      expect(response.status).toBe(500);
    } finally {
      await putRaw(membersTable(), original);
    }
    expireAuthorizerCaches();
    await expectStatus(await call(gateway, 'GET', '/members', { token: ownerA.token }), 200);
  });
});
