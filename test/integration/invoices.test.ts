/**
 * The foundation's vertical slice over real HTTP, DynamoDB Local and cognito-local: a
 * user of tenant `demo` creates a draft invoice, reads it back and lists it; the change
 * is in the tenant's audit log; a user of `demo-two` cannot see it; hostile requests
 * get 4xx problems and change nothing; retried POSTs never act twice.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemDigest } from '#shared/audit/entry';
import { CompactRange } from '#shared/audit/merkle';
import { problemContentType } from '#shared/http/problem';
import { securityHeaders } from '#shared/http/security-headers';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { tableName } from '#shared/store/tables';
import { startTestGateway, type TestGateway } from './support/gateway';
import { demoUser, localRuntimeConfig, localStack } from './support/local-stack';
import { accessTokenClaims, signWithCognitoLocalKey, tokenFor, withForgedSignature } from './support/tokens';

let gateway: TestGateway;
let clients: DataClients;
let auditLog: AuditLog;
let accountant: string;
let otherTenantAccountant: string;
let auditor: string;

beforeAll(async () => {
  gateway = await startTestGateway();
  clients = new DataClients(localRuntimeConfig());
  auditLog = new AuditLog(localStack().stage);
  [accountant, otherTenantAccountant, auditor] = await Promise.all([
    tokenFor(demoUser('accountant').email),
    tokenFor(demoUser('accountant', 'demo-two').email),
    tokenFor(demoUser('auditor').email),
  ]);
});

afterAll(async () => {
  await gateway?.close();
});

const draft = {
  currency: 'EUR',
  reference: 'PO-2026-117',
  dueDate: '2026-12-31',
  lines: [
    { description: 'Advisory, November', quantity: '12.5', unitPrice: 15_000, vatRate: 1900 },
    { description: 'Travel', quantity: '1', unitPrice: 23_999, vatRate: 700 },
  ],
};

function post(token: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return gateway.call('/invoices', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function get(token: string, path: string): Promise<Response> {
  return gateway.call(path, { headers: { authorization: `Bearer ${token}` } });
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

/** Everything a write could have touched for a tenant: items, audit entries, head size, pending markers. */
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
    invoices: await count('data', 'invoice'),
    entries: await count('audit', 'entry'),
    pending: await count('auditHead', 'pending'),
    idempotency: await count('idempotency', 'idempotency'),
    logSize: head.size,
  };
}

describe('[AZ-3][AUD-1] create, read and list a draft invoice, audited and tenant-scoped', () => {
  it('creates a draft with server-computed totals, reads it back and lists it', async () => {
    const created = await post(accountant, draft);
    expect(created.status).toBe(201);
    for (const [name, value] of Object.entries(securityHeaders))
      expect(created.headers.get(name), name).toBe(value);
    const invoice = (await created.json()) as Record<string, unknown> & { id: string; auditEntryId: string };
    expect(invoice).toMatchObject({
      status: 'draft',
      currency: 'EUR',
      version: 1,
      createdBy: demoUser('accountant').identityId,
      // 12.5 × 150.00 = 1875.00 + 19% VAT 356.25; 239.99 + 7% VAT 16.80 (16.7993 rounded half up)
      totals: { net: 187_500 + 23_999, vat: 35_625 + 1_680, gross: 187_500 + 23_999 + 35_625 + 1_680 },
    });
    expect(created.headers.get('location')).toBe(`/invoices/${invoice.id}`);
    expect(created.headers.get('etag')).toBe('"v1"');

    const read = await get(accountant, `/invoices/${invoice.id}`);
    expect(read.status).toBe(200);
    const { auditEntryId: _entry, ...stored } = invoice;
    expect(await read.json()).toEqual(stored);

    const list = await get(auditor, '/invoices?limit=100');
    expect(list.status).toBe(200);
    const page = (await list.json()) as { items: { id: string }[] };
    expect(page.items.map((item) => item.id)).toContain(invoice.id);
  });

  it('records the change in the tenant audit log with a digest of the state it produced', async () => {
    const created = (await (await post(accountant, draft)).json()) as Record<string, unknown> & {
      id: string;
      auditEntryId: string;
    };
    const { auditEntryId, ...invoice } = created;
    const client = clients.forTenant('demo');
    const head = await auditLog.head(client, 'demo');
    const entries = await auditLog.entriesFrom(client, 'demo', 0, head.size);
    const entry = entries.find((each) => each.entry.id === auditEntryId);
    expect(entry?.entry).toMatchObject({
      tenantId: 'demo',
      action: 'invoice.create',
      target: { type: 'invoice', id: invoice.id },
      outcome: 'success',
      actor: { id: demoUser('accountant').identityId, kind: 'user' },
      itemDigest: itemDigest(invoice),
    });
    // DAT-3: the entry names the actor pseudonymously, never by email.
    expect(JSON.stringify(entry?.entry)).not.toContain('@');
    // AUD-3: the head's root is the RFC 9162 root of the sequenced leaves, without gaps.
    expect(entries.map((each) => each.seq)).toEqual([...Array(head.size).keys()]);
    const range = new CompactRange();
    for (const each of entries) range.append(each.leafHash);
    expect(range.root()).toEqual(head.root);
  });

  it('hides the invoice from another tenant: 404 on its id and absent from its list', async () => {
    const invoice = (await (await post(accountant, draft)).json()) as { id: string };
    await expectProblem(await get(otherTenantAccountant, `/invoices/${invoice.id}`), 404, 'not-found');
    const missing = await get(otherTenantAccountant, '/invoices/inv_00000000000000000000000000');
    // A foreign id and an id that never existed are indistinguishable.
    const [foreignBody, missingBody] = await Promise.all([
      expectProblem(await get(otherTenantAccountant, `/invoices/${invoice.id}`), 404, 'not-found'),
      expectProblem(missing, 404, 'not-found'),
    ]);
    expect({ ...foreignBody, requestId: '' }).toEqual({ ...missingBody, requestId: '' });
    const list = (await (await get(otherTenantAccountant, '/invoices?limit=100')).json()) as {
      items: { id: string }[];
    };
    expect(list.items.map((item) => item.id)).not.toContain(invoice.id);
  });

  it('pages the list with an opaque cursor, newest first, without repeats', async () => {
    for (let index = 0; index < 3; index++) await post(accountant, draft);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const response = await get(auditor, `/invoices?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { items: { id: string }[]; nextCursor?: string };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort().reverse()).toEqual(seen);
    await expectProblem(await get(auditor, '/invoices?cursor=not-a-cursor'), 400, 'malformed-request');
  });
});

describe('[API-1][API-5] hostile requests get the right 4xx and write nothing', () => {
  const line = draft.lines[0] as (typeof draft.lines)[number];
  const cases: [string, () => Promise<Response>, number, string][] = [
    ['malformed JSON', () => post(accountant, '{"currency":"EUR",'), 400, 'malformed-request'],
    ['an unknown field', () => post(accountant, { ...draft, approvedBy: 'me' }), 400, 'validation-failed'],
    [
      'a body over the limit',
      () => post(accountant, { ...draft, reference: 'x'.repeat(100_000) }),
      413,
      'payload-too-large',
    ],
    [
      'deep nesting',
      () => post(accountant, `{"lines":${'['.repeat(5000)}${']'.repeat(5000)}}`),
      400,
      'malformed-request',
    ],
    [
      'a lone surrogate',
      () => post(accountant, '{"currency":"EUR","reference":"\\udfff","lines":[]}'),
      400,
      'malformed-request',
    ],
    [
      'a wrong content type',
      () => post(accountant, draft, { 'content-type': 'text/plain' }),
      415,
      'unsupported-media-type',
    ],
    [
      'a negative amount',
      () => post(accountant, { ...draft, lines: [{ ...line, unitPrice: -100 }] }),
      400,
      'validation-failed',
    ],
    [
      'a fractional amount',
      () => post(accountant, { ...draft, lines: [{ ...line, unitPrice: 0.5 }] }),
      400,
      'validation-failed',
    ],
    [
      'a duplicate key',
      () => post(accountant, '{"currency":"EUR","currency":"USD","lines":[]}'),
      400,
      'malformed-request',
    ],
    [
      'a missing token',
      () =>
        gateway.call('/invoices', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(draft),
        }),
      401,
      'unauthorized',
    ],
    ['a forged token', () => post(withForgedSignature(accountant), draft), 401, 'unauthorized'],
    [
      'an expired token',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        const claims = accessTokenClaims(demoUser('accountant').subject, {
          issuedAt: now - 7200,
          expiresAt: now - 3600,
        });
        return post(await signWithCognitoLocalKey(claims), draft);
      },
      401,
      'unauthorized',
    ],
    ['a role without the permission', () => post(auditor, draft), 403, 'forbidden'],
  ];

  it.each(cases)('refuses %s', async (_name, send, status, code) => {
    const before = await tenantState('demo');
    await expectProblem(await send(), status, code);
    expect(await tenantState('demo')).toEqual(before);
  });
});

describe('[AZ-3] an invoice names only a counterparty its tenant has', () => {
  let counterpartyId: string;

  beforeAll(async () => {
    const response = await gateway.call('/counterparties', {
      method: 'POST',
      headers: { authorization: `Bearer ${accountant}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'customer',
        name: 'Nordlicht Handel AG',
        address: { lines: ['Kaiserstraße 5'], city: 'Frankfurt', postalCode: '60311', country: 'DE' },
      }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    counterpartyId = String(((await response.json()) as { id: string }).id);
  });

  it('creates an invoice for an existing counterparty of the tenant', async () => {
    const response = await post(accountant, { ...draft, counterpartyId });
    expect(response.status, await response.clone().text()).toBe(201);
    expect(await response.json()).toMatchObject({ counterpartyId });
  });

  it("refuses an unknown counterparty, and another tenant's, with 422 counterparty-not-found, writing nothing", async () => {
    const before = await tenantState('demo');
    const unknown = `${counterpartyId.slice(0, -4)}ZZZZ`;
    const refused = await expectProblem(
      await post(accountant, { ...draft, counterpartyId: unknown }),
      422,
      'counterparty-not-found',
    );
    expect(refused.counterpartyId).toBe(unknown);
    expect(await tenantState('demo')).toEqual(before);

    const otherBefore = await tenantState('demo-two');
    await expectProblem(
      await post(otherTenantAccountant, { ...draft, counterpartyId }),
      422,
      'counterparty-not-found',
    );
    expect(await tenantState('demo-two')).toEqual(otherBefore);
  });

  it('refuses an edit of a draft to an unknown counterparty, and keeps the draft as it was', async () => {
    const created = (await (await post(accountant, { ...draft, counterpartyId })).json()) as {
      id: string;
      version: number;
    };
    const before = await tenantState('demo');
    const edit = (body: unknown) =>
      gateway.call(`/invoices/${created.id}`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${accountant}`,
          'content-type': 'application/json',
          'if-match': `"v${created.version}"`,
        },
        body: JSON.stringify(body),
      });
    await expectProblem(
      await edit({ ...draft, counterpartyId: `${counterpartyId.slice(0, -4)}ZZZZ` }),
      422,
      'counterparty-not-found',
    );
    expect(await tenantState('demo')).toEqual(before);
    const stored = (await (await get(accountant, `/invoices/${created.id}`)).json()) as Record<
      string,
      unknown
    >;
    expect(stored).toMatchObject({ version: created.version, counterpartyId });
    const edited = await edit({ ...draft, reference: 'PO-2026-118', counterpartyId });
    expect(edited.status, await edited.clone().text()).toBe(200);
  });
});

describe('[API-3] Idempotency-Key: a retried POST never acts twice', () => {
  it('replays the first response for a retry with the same key and body', async () => {
    const key = `retry-${crypto.randomUUID()}`;
    const first = await post(accountant, draft, { 'idempotency-key': key });
    const before = await tenantState('demo');
    const second = await post(accountant, draft, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(await second.text()).toBe(await first.text());
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(await tenantState('demo')).toEqual(before);
  });

  it('refuses the same key with another body with 422 and writes nothing', async () => {
    const key = `reuse-${crypto.randomUUID()}`;
    expect((await post(accountant, draft, { 'idempotency-key': key })).status).toBe(201);
    const before = await tenantState('demo');
    await expectProblem(
      await post(accountant, { ...draft, reference: 'other' }, { 'idempotency-key': key }),
      422,
      'idempotency-key-reused',
    );
    expect(await tenantState('demo')).toEqual(before);
  });

  it('creates one invoice when the same POST arrives 20 times at once', async () => {
    const key = `burst-${crypto.randomUUID()}`;
    const before = await tenantState('demo');
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => post(accountant, draft, { 'idempotency-key': key })),
    );
    const bodies = await Promise.all(responses.map((response) => response.text()));
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(201));
    expect(new Set(bodies).size).toBe(1);
    const after = await tenantState('demo');
    expect(after.invoices).toBe(before.invoices + 1);
    expect(after.entries).toBe(before.entries + 1);
    expect(after.logSize).toBe(before.logSize + 1);
    expect(after.pending).toBe(0);
  });

  it('keys are per tenant: the same key in another tenant is a different request', async () => {
    const key = `shared-${crypto.randomUUID()}`;
    const mine = (await (await post(accountant, draft, { 'idempotency-key': key })).json()) as { id: string };
    const theirs = (await (await post(otherTenantAccountant, draft, { 'idempotency-key': key })).json()) as {
      id: string;
    };
    expect(theirs.id).not.toBe(mine.id);
    await expectProblem(await get(otherTenantAccountant, `/invoices/${mine.id}`), 404, 'not-found');
  });
});

describe('[AUD-1][AUD-3] concurrent writers on one tenant', () => {
  it('32 concurrent creates leave a gap-free log with exactly one entry per invoice', async () => {
    const before = await tenantState('demo-two');
    const responses = await Promise.all(Array.from({ length: 32 }, () => post(otherTenantAccountant, draft)));
    expect(responses.map((response) => response.status)).toEqual(Array(32).fill(201));
    const created = await Promise.all(
      responses.map((response) => response.json() as Promise<{ auditEntryId: string }>),
    );
    const after = await tenantState('demo-two');
    expect(after.invoices - before.invoices).toBe(32);
    expect(after.logSize - before.logSize).toBe(32);
    expect(after.pending).toBe(0);
    const client = clients.forTenant('demo-two');
    const entries = await auditLog.entriesFrom(client, 'demo-two', 0, after.logSize);
    expect(entries.map((each) => each.seq)).toEqual([...Array(after.logSize).keys()]);
    const ids = entries.map((each) => each.entry.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { auditEntryId } of created) expect(ids).toContain(auditEntryId);
    const range = new CompactRange();
    for (const each of entries) range.append(each.leafHash);
    expect(range.root()).toEqual((await auditLog.head(client, 'demo-two')).root);
  });
});
