/**
 * Counterparties over real HTTP, DynamoDB Local and cognito-local: create, read, list
 * and update with ETag / If-Match; concurrent updates from one version; another tenant
 * sees nothing; invalid IBANs are 400 problems that write nothing; every change is
 * audited by id and digest, with no name or bank detail in the entry or the keys.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemDigest } from '#shared/audit/entry';
import { problemContentType } from '#shared/http/problem';
import { securityHeaders } from '#shared/http/security-headers';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { tableName } from '#shared/store/tables';
import { startTestGateway, type TestGateway } from './support/gateway';
import { demoUser, localRuntimeConfig, localStack } from './support/local-stack';
import { tokenFor } from './support/tokens';

let gateway: TestGateway;
let clients: DataClients;
let auditLog: AuditLog;
let accountant: string;
let otherTenantAccountant: string;
let auditor: string;
let approver: string;

beforeAll(async () => {
  gateway = await startTestGateway();
  clients = new DataClients(localRuntimeConfig());
  auditLog = new AuditLog(localStack().stage);
  [accountant, otherTenantAccountant, auditor, approver] = await Promise.all([
    tokenFor(demoUser('accountant').email),
    tokenFor(demoUser('accountant', 'demo-two').email),
    tokenFor(demoUser('auditor').email),
    tokenFor(demoUser('approver').email),
  ]);
});

afterAll(async () => {
  await gateway?.close();
});

const supplier = {
  kind: 'supplier',
  name: 'Kowalczyk Logistics Sp. z o.o.',
  address: { lines: ['ul. Marszałkowska 84/92'], city: 'Warszawa', postalCode: '00-514', country: 'PL' },
  vatId: 'PL 526-000-12-46',
  iban: 'pl61 1090 1014 0000 0712 1981 2874',
  taxId: '5260001246',
};
const supplierIban = 'PL61109010140000071219812874';

interface CounterpartyView {
  id: string;
  kind: string;
  name: string;
  iban?: string;
  version: number;
  auditEntryId?: string;
  [field: string]: unknown;
}

function send(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return gateway.call(path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

const get = (token: string, path: string) => send(token, 'GET', path);
const create = (token: string, body: unknown, headers: Record<string, string> = {}) =>
  send(token, 'POST', '/counterparties', body, headers);
const update = (token: string, id: string, body: unknown, ifMatch?: string) =>
  send(token, 'PUT', `/counterparties/${id}`, body, ifMatch === undefined ? {} : { 'if-match': ifMatch });

async function created(body: unknown = supplier): Promise<CounterpartyView> {
  const response = await create(accountant, body);
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as CounterpartyView;
}

async function expectProblem(
  response: Response,
  status: number,
  code: string,
): Promise<Record<string, unknown>> {
  expect(response.status, await response.clone().text()).toBe(status);
  expect(response.headers.get('content-type')).toBe(problemContentType);
  for (const [name, value] of Object.entries(securityHeaders))
    expect(response.headers.get(name), name).toBe(value);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code });
  return body;
}

/** Everything a counterparty write could have touched for a tenant. */
async function tenantState(tenantId: string) {
  const client = clients.platform();
  const count = async (table: 'data' | 'audit' | 'auditHead' | 'idempotency', pk: string) => {
    const result = await client.send(
      new QueryCommand({
        TableName: tableName(localStack().stage, table),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${tenantId}#${pk}` },
        Select: 'COUNT',
        ConsistentRead: true,
      }),
    );
    return result.Count ?? 0;
  };
  const head = await auditLog.head(clients.forTenant(tenantId), tenantId);
  return {
    counterparties: await count('data', 'counterparty'),
    entries: await count('audit', 'entry'),
    pending: await count('auditHead', 'pending'),
    idempotency: await count('idempotency', 'idempotency'),
    logSize: head.size,
  };
}

/** The raw audit item of an entry: everything stored, not only the entry. */
async function rawAuditItem(tenantId: string, entryId: string): Promise<Record<string, unknown>> {
  const result = await clients.platform().send(
    new GetCommand({
      TableName: tableName(localStack().stage, 'audit'),
      Key: { pk: `${tenantId}#entry`, sk: entryId },
      ConsistentRead: true,
    }),
  );
  expect(result.Item, `audit entry ${entryId}`).toBeDefined();
  return result.Item ?? {};
}

describe('[API-3][AZ-3] create, read, list and update a counterparty', () => {
  it('creates with normalised details, an ETag and a Location, and reads it back', async () => {
    const response = await create(accountant, supplier);
    expect(response.status).toBe(201);
    for (const [name, value] of Object.entries(securityHeaders))
      expect(response.headers.get(name), name).toBe(value);
    const counterparty = (await response.json()) as CounterpartyView;
    expect(counterparty).toMatchObject({
      kind: 'supplier',
      name: supplier.name,
      iban: supplierIban,
      vatId: 'PL5260001246',
      address: supplier.address,
      version: 1,
      createdBy: demoUser('accountant').identityId,
    });
    expect(counterparty.id).toMatch(/^cp_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(response.headers.get('etag')).toBe('"v1"');
    expect(response.headers.get('location')).toBe(`/counterparties/${counterparty.id}`);

    const read = await get(auditor, `/counterparties/${counterparty.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"v1"');
    const { auditEntryId: _entry, ...stored } = counterparty;
    expect(await read.json()).toEqual(stored);

    const list = (await (await get(auditor, '/counterparties?limit=100')).json()) as {
      items: { id: string }[];
    };
    expect(list.items.map((item) => item.id)).toContain(counterparty.id);
  });

  it('updates with the current If-Match and answers the new version', async () => {
    const counterparty = await created();
    const response = await update(
      accountant,
      counterparty.id,
      { ...supplier, kind: 'both', name: 'Kowalczyk Logistics S.A.' },
      '"v1"',
    );
    expect(response.status, await response.clone().text()).toBe(200);
    expect(response.headers.get('etag')).toBe('"v2"');
    expect(await response.json()).toMatchObject({
      id: counterparty.id,
      kind: 'both',
      name: 'Kowalczyk Logistics S.A.',
      version: 2,
      createdAt: counterparty.createdAt,
      updatedBy: demoUser('accountant').identityId,
    });
    const read = await get(auditor, `/counterparties/${counterparty.id}`);
    expect(read.headers.get('etag')).toBe('"v2"');
    expect(await read.json()).toMatchObject({ version: 2, name: 'Kowalczyk Logistics S.A.' });
  });

  it('refuses an update without If-Match (428) or with a stale one (412), and changes nothing', async () => {
    const counterparty = await created();
    expect((await update(accountant, counterparty.id, supplier, '"v1"')).status).toBe(200);
    const before = await tenantState('demo');
    const changed = { ...supplier, name: 'Lost update' };
    await expectProblem(await update(accountant, counterparty.id, changed), 428, 'precondition-required');
    await expectProblem(
      await update(accountant, counterparty.id, changed, '*'),
      428,
      'precondition-required',
    );
    await expectProblem(
      await update(accountant, counterparty.id, changed, '"v1"'),
      412,
      'precondition-failed',
    );
    await expectProblem(
      await update(accountant, counterparty.id, changed, 'W/"v2"'),
      412,
      'precondition-failed',
    );
    await expectProblem(await update(accountant, counterparty.id, changed, 'v2'), 400, 'validation-failed');
    expect(await tenantState('demo')).toEqual(before);
    expect(await (await get(auditor, `/counterparties/${counterparty.id}`)).json()).toMatchObject({
      version: 2,
      name: supplier.name,
    });
  });

  it('lets exactly one of several concurrent updates from the same version win; the others get 412', async () => {
    const counterparty = await created();
    const before = await tenantState('demo');
    const names = Array.from({ length: 6 }, (_, index) => `Concurrent writer ${index}`);
    const responses = await Promise.all(
      names.map((name) => update(accountant, counterparty.id, { ...supplier, name }, '"v1"')),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 412)).toHaveLength(names.length - 1);
    const winner = responses[statuses.indexOf(200)] as Response;
    const won = (await winner.json()) as CounterpartyView;
    for (const response of responses.filter((each) => each !== winner)) {
      await expectProblem(response, 412, 'precondition-failed');
    }
    const read = (await (
      await get(auditor, `/counterparties/${counterparty.id}`)
    ).json()) as CounterpartyView;
    expect(read).toMatchObject({ version: 2, name: won.name });
    const after = await tenantState('demo');
    expect(after.entries).toBe(before.entries + 1);
    expect(after.logSize).toBe(before.logSize + 1);
    expect(after.pending).toBe(0);
  });

  it('lists newest first in pages, and filters by kind (both counts as customer and supplier)', async () => {
    const customer = await created({ ...supplier, kind: 'customer' });
    const vendor = await created({ ...supplier, kind: 'supplier' });
    const both = await created({ ...supplier, kind: 'both' });
    const ids = async (query: string) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const response = await get(auditor, `/counterparties?${query}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(response.status).toBe(200);
        const page = (await response.json()) as {
          items: { id: string; kind: string }[];
          nextCursor?: string;
        };
        seen.push(...page.items.map((item) => item.id));
        cursor = page.nextCursor;
      } while (cursor);
      return seen;
    };
    const customers = await ids('kind=customer&limit=2');
    expect(customers).toEqual(expect.arrayContaining([customer.id, both.id]));
    expect(customers).not.toContain(vendor.id);
    expect(new Set(customers).size).toBe(customers.length);
    expect([...customers].sort().reverse()).toEqual(customers);
    const suppliers = await ids('kind=supplier&limit=3');
    expect(suppliers).toEqual(expect.arrayContaining([vendor.id, both.id]));
    expect(suppliers).not.toContain(customer.id);
    const everyone = await ids('limit=2');
    expect(everyone).toEqual(expect.arrayContaining([customer.id, vendor.id, both.id]));
    expect([...everyone].sort().reverse()).toEqual(everyone);
    await expectProblem(await get(auditor, '/counterparties?kind=partner'), 400, 'validation-failed');
    await expectProblem(
      await get(auditor, '/counterparties?cursor=bm90LWEtY3Vyc29y'),
      400,
      'malformed-request',
    );
  });

  it('binds cursors to the tenant and the filter: altered, moved or re-filtered cursors are refused', async () => {
    for (let index = 0; index < 3; index++) await created({ ...supplier, kind: 'customer' });
    const first = (await (await get(auditor, '/counterparties?kind=customer&limit=1')).json()) as {
      nextCursor?: string;
    };
    const cursor = first.nextCursor ?? '';
    expect(cursor).not.toBe('');
    expect((await get(auditor, `/counterparties?kind=customer&limit=1&cursor=${cursor}`)).status).toBe(200);
    // The first character's bits all count (the last one's may be padding).
    const tampered = `${cursor.startsWith('A') ? 'B' : 'A'}${cursor.slice(1)}`;
    for (const path of [
      `/counterparties?kind=supplier&limit=1&cursor=${cursor}`,
      `/counterparties?limit=1&cursor=${cursor}`,
      `/counterparties?kind=customer&limit=1&cursor=${tampered}`,
    ]) {
      await expectProblem(await get(auditor, path), 400, 'malformed-request');
    }
    await expectProblem(
      await get(otherTenantAccountant, `/counterparties?kind=customer&limit=1&cursor=${cursor}`),
      400,
      'malformed-request',
    );
  });

  it('hides a counterparty from another tenant: 404 on read and update, absent from its list', async () => {
    const counterparty = await created();
    const before = await tenantState('demo');
    const foreign = await expectProblem(
      await get(otherTenantAccountant, `/counterparties/${counterparty.id}`),
      404,
      'not-found',
    );
    const missing = await expectProblem(
      await get(otherTenantAccountant, '/counterparties/cp_00000000000000000000000000'),
      404,
      'not-found',
    );
    expect({ ...foreign, requestId: '' }).toEqual({ ...missing, requestId: '' });
    await expectProblem(
      await update(otherTenantAccountant, counterparty.id, { ...supplier, name: 'Hijacked' }, '"v1"'),
      404,
      'not-found',
    );
    const list = (await (await get(otherTenantAccountant, '/counterparties?limit=100')).json()) as {
      items: { id: string }[];
    };
    expect(list.items.map((item) => item.id)).not.toContain(counterparty.id);
    expect(await tenantState('demo')).toEqual(before);
  });
});

describe('[API-1] invalid counterparties get a 400 problem naming the field and write nothing', () => {
  const cases: [string, unknown, string][] = [
    ['an IBAN with a wrong checksum', { ...supplier, iban: 'PL61109010140000071219812875' }, '/iban'],
    ['an IBAN of the wrong length', { ...supplier, iban: 'PL6110901014000007121981287' }, '/iban'],
    [
      'a country that does not exist',
      { ...supplier, address: { ...supplier.address, country: 'XX' } },
      '/address/country',
    ],
    ['a malformed VAT id', { ...supplier, vatId: 'PL123' }, '/vatId'],
    ['an unknown field', { ...supplier, bic: 'BREXPLPWMBK' }, '/'],
  ];

  it.each(cases)('refuses %s', async (_name, body, pointer) => {
    const before = await tenantState('demo');
    const problem = await expectProblem(await create(accountant, body), 400, 'validation-failed');
    expect(problem.errors).toContainEqual(expect.objectContaining({ in: 'body', pointer }));
    // The problem names the rule, never the rejected value.
    expect(JSON.stringify(problem)).not.toContain('PL61109010140000071219812875');
    expect(await tenantState('demo')).toEqual(before);
  });

  it('refuses an invalid IBAN on update too, leaving the counterparty as it was', async () => {
    const counterparty = await created();
    const before = await tenantState('demo');
    const problem = await expectProblem(
      await update(accountant, counterparty.id, { ...supplier, iban: 'DE89370400440532013001' }, '"v1"'),
      400,
      'validation-failed',
    );
    expect(problem.errors).toContainEqual(expect.objectContaining({ pointer: '/iban' }));
    expect(await tenantState('demo')).toEqual(before);
  });

  it('[AZ-1] refuses writes to roles without counterparty:write', async () => {
    const counterparty = await created();
    const before = await tenantState('demo');
    await expectProblem(await create(approver, supplier), 403, 'forbidden');
    await expectProblem(await update(auditor, counterparty.id, supplier, '"v1"'), 403, 'forbidden');
    expect(await tenantState('demo')).toEqual(before);
  });
});

describe('[API-3] Idempotency-Key on POST and PUT /counterparties', () => {
  it('replays an update retried with the same key instead of answering 412', async () => {
    const counterparty = await created();
    const headers = { 'if-match': '"v1"', 'idempotency-key': `cp-put-${crypto.randomUUID()}` };
    const body = { ...supplier, name: 'Retried update' };
    const first = await send(accountant, 'PUT', `/counterparties/${counterparty.id}`, body, headers);
    expect(first.status).toBe(200);
    const before = await tenantState('demo');
    const retry = await send(accountant, 'PUT', `/counterparties/${counterparty.id}`, body, headers);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('etag')).toBe('"v2"');
    expect(await retry.text()).toBe(await first.text());
    expect(await tenantState('demo')).toEqual(before);
  });

  it('replays the first response for a retry and refuses the key with another body (422)', async () => {
    const key = `cp-${crypto.randomUUID()}`;
    const first = await create(accountant, supplier, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    const before = await tenantState('demo');
    const retry = await create(accountant, supplier, { 'idempotency-key': key });
    expect(retry.status).toBe(201);
    expect(await retry.text()).toBe(await first.text());
    expect(retry.headers.get('etag')).toBe('"v1"');
    await expectProblem(
      await create(accountant, { ...supplier, name: 'Someone else' }, { 'idempotency-key': key }),
      422,
      'idempotency-key-reused',
    );
    expect(await tenantState('demo')).toEqual(before);
  });
});

describe('[AUD-1][DAT-3][ENC-3] audited by id and digest; no personal or banking data in entries or keys', () => {
  it('writes one entry per change with the digest of the state it produced, and nothing personal', async () => {
    const response = await create(accountant, supplier);
    const { auditEntryId: createEntryId, ...createdState } = (await response.json()) as CounterpartyView;
    const updatedResponse = await update(
      accountant,
      createdState.id,
      { ...supplier, name: 'Kowalczyk Logistics S.A.' },
      '"v1"',
    );
    const { auditEntryId: updateEntryId, ...updatedState } =
      (await updatedResponse.json()) as CounterpartyView;

    const client = clients.forTenant('demo');
    const entries = [
      ['counterparty.create', createEntryId, createdState],
      ['counterparty.update', updateEntryId, updatedState],
    ] as const;
    for (const [action, entryId, state] of entries) {
      const stored = await auditLog.getEntry(client, 'demo', entryId ?? '');
      expect(stored?.entry).toMatchObject({
        tenantId: 'demo',
        action,
        target: { type: 'counterparty', id: createdState.id },
        outcome: 'success',
        actor: { id: demoUser('accountant').identityId, kind: 'user' },
        itemDigest: itemDigest(state),
      });
      // DAT-3: everything stored for the entry, not only the entry, is free of the details.
      const raw = JSON.stringify(await rawAuditItem('demo', entryId ?? ''));
      for (const secret of [
        supplierIban,
        '1090 1014',
        supplier.name,
        'Kowalczyk',
        'PL5260001246',
        supplier.taxId,
        'Marszałkowska',
        'Warszawa',
        '00-514',
        '@',
      ]) {
        expect(raw, secret).not.toContain(secret);
      }
      expect(await auditLog.sequenceOf(client, 'demo', entryId ?? '')).toBeTypeOf('number');
    }
  });

  it('stores the details only in the payload attribute; keys carry the tenant and the id', async () => {
    const counterparty = await created();
    const result = await clients.platform().send(
      new GetCommand({
        TableName: tableName(localStack().stage, 'data'),
        Key: { pk: 'demo#counterparty', sk: counterparty.id },
        ConsistentRead: true,
      }),
    );
    const item = result.Item ?? {};
    expect(Object.keys(item).sort()).toEqual(['counterparty', 'pk', 'sk', 'version']);
    expect(item.counterparty).toMatchObject({ iban: supplierIban, name: supplier.name });
    expect(`${item.pk} ${item.sk}`).toBe(`demo#counterparty ${counterparty.id}`);
  });
});
