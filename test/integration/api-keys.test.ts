/**
 * API keys over real HTTP, DynamoDB Local and the local pepper file (AUTH-5, AUTH-2):
 * the key is shown once in a scanner-friendly format, works in the Authorization
 * header, carries only its scopes, expires, is revoked and rotated within the
 * authorizer's cache; failed attempts are throttled per key id and source address and
 * audited as counted windows; the secret never reaches a table, a log or a later
 * response. Every test works in a fresh tenant.
 */
import { stat } from 'node:fs/promises';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiKeyPattern, parseApiKey } from '#shared/auth/api-key-format';
import { localPepperFile } from '#shared/crypto/pepper';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { tableIds, tableName } from '#shared/store/tables';
import { startTestGateway, type TestGateway } from './support/gateway';
import { call, callFrom, expectProblem, expectStatus } from './support/http';
import { Identities, type TestMember, uniqueTenantId } from './support/identities';
import { localRuntimeConfig, localStack } from './support/local-stack';

let gateway: TestGateway;
let identities: Identities;
let auditLog: AuditLog;
let clockOffset = 0;
/** Everything the test process writes to stdout and stderr: handler, authorizer and gateway logs. */
const output: string[] = [];
/** Every key string issued in this file, to look for afterwards. */
const issuedKeys: string[] = [];
const restore: (() => void)[] = [];

beforeAll(async () => {
  process.env.STRONGROOM_LOG_LEVEL = 'DEBUG';
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    // Kept, not echoed: debug logs of every request would drown the test report.
    stream.write = ((chunk: string | Uint8Array) => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = write;
    });
  }
  gateway = await startTestGateway(localStack(), { authorizerClock: () => Date.now() + clockOffset });
  identities = new Identities();
  auditLog = new AuditLog(localStack().stage);
});

afterAll(async () => {
  for (const undo of restore) undo();
  await gateway?.close();
  identities?.destroy();
});

interface KeyBody {
  id: string;
  key?: string;
  name: string;
  kind: string;
  scopes: string[];
  status: string;
  expiresAt: string;
  lastUsedAt?: string;
  previousSecretValidUntil?: string;
  version: number;
  auditEntryId?: string;
}

async function tenantWith(...roles: string[]): Promise<{ tenantId: string; people: TestMember[] }> {
  const tenantId = uniqueTenantId('keys');
  const people = [];
  for (const role of roles) people.push(await identities.addMember(tenantId, [role]));
  return { tenantId, people };
}

async function createKey(token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await call(gateway, 'POST', '/api-keys', {
    token,
    body: { name: 'ERP sync', ...body },
    headers,
  });
  await expectStatus(response, 201);
  const created = (await response.json()) as KeyBody & { key: string };
  issuedKeys.push(created.key);
  return created;
}

const draft = {
  currency: 'EUR',
  lines: [{ description: 'Via key', quantity: '1', unitPrice: 500, vatRate: 0 }],
};

async function entriesOf(tenantId: string) {
  const client = identities.clients.forTenant(tenantId);
  const head = await auditLog.head(client, tenantId);
  return (await auditLog.entriesFrom(client, tenantId, 0, head.size)).map((each) => each.entry);
}

describe('[AUTH-5] issuing and using API keys', () => {
  it('shows the key once, in a format secret scanners recognise, and never again', async () => {
    const { people } = await tenantWith('owner');
    const owner = people[0] as TestMember;
    const created = await createKey(owner.token, { scopes: ['integration'] });
    expect(created.key).toMatch(apiKeyPattern);
    expect(created.key.startsWith('srk_test_')).toBe(true);
    expect(parseApiKey(created.key)?.keyId).toBe(created.id);
    expect(created).toMatchObject({ kind: 'apiKey', scopes: ['integration'], status: 'active', version: 1 });
    // 256 bits: 43 base62 digits after the id.
    expect(parseApiKey(created.key)?.secret).toHaveLength(43);

    const read = await call(gateway, 'GET', `/api-keys/${created.id}`, { token: owner.token });
    const list = await call(gateway, 'GET', '/api-keys', { token: owner.token });
    for (const response of [read, list]) {
      const text = await response.text();
      expect(response.status).toBe(200);
      expect(text).not.toContain(parseApiKey(created.key)?.secret);
      expect(text).not.toContain('secretHash');
    }
  });

  it('authenticates with Authorization: ApiKey and Bearer, acting in its tenant as itself', async () => {
    const { tenantId, people } = await tenantWith('owner');
    const { key, id } = await createKey((people[0] as TestMember).token, { scopes: ['integration'] });
    await expectStatus(await call(gateway, 'GET', '/invoices', { token: key, scheme: 'ApiKey' }), 200);
    const created = await call(gateway, 'POST', '/invoices', { token: key, body: draft });
    await expectStatus(created, 201);
    const invoice = (await created.json()) as { auditEntryId: string; createdBy: string };
    expect(invoice.createdBy).toBe(id);
    const entry = (await entriesOf(tenantId)).find((each) => each.id === invoice.auditEntryId);
    expect(entry?.actor).toEqual({ id, kind: 'apiKey' });
    // The key belongs to one tenant; naming another is denied.
    await expectProblem(
      await call(gateway, 'GET', '/invoices', { token: key, headers: { 'x-strongroom-tenant': 'demo' } }),
      403,
      'forbidden',
    );
  });

  it('records the last-used time', async () => {
    const { people } = await tenantWith('owner');
    const owner = people[0] as TestMember;
    const { key, id } = await createKey(owner.token, { scopes: ['auditor'] });
    const before = (await (
      await call(gateway, 'GET', `/api-keys/${id}`, { token: owner.token })
    ).json()) as KeyBody;
    expect(before.lastUsedAt).toBeUndefined();
    await expectStatus(await call(gateway, 'GET', '/invoices', { token: key }), 200);
    const after = (await (
      await call(gateway, 'GET', `/api-keys/${id}`, { token: owner.token })
    ).json()) as KeyBody;
    expect(Date.parse(after.lastUsedAt ?? '')).toBeGreaterThan(
      Date.parse(before.expiresAt) - 91 * 86_400_000,
    );
  });

  it('acts with its scopes only, and never administers', async () => {
    const { people } = await tenantWith('owner');
    const owner = people[0] as TestMember;
    const { key } = await createKey(owner.token, { scopes: ['auditor'] });
    await expectStatus(await call(gateway, 'GET', '/invoices', { token: key }), 200);
    await expectProblem(
      await call(gateway, 'POST', '/invoices', { token: key, body: draft }),
      403,
      'forbidden',
    );
    const integration = (await createKey(owner.token, { scopes: ['integration'] })).key;
    for (const [method, path, body] of [
      ['POST', '/api-keys', { name: 'x', scopes: ['integration'] }],
      ['POST', '/members', { email: 'x@people.strongroom.test', roles: ['auditor'] }],
    ] as const) {
      await expectProblem(await call(gateway, method, path, { token: integration, body }), 403, 'forbidden');
    }
  });

  it('lets nobody create a key with a scope above their own roles', async () => {
    const { people } = await tenantWith('owner', 'admin', 'accountant');
    const [, admin, accountant] = people as [TestMember, TestMember, TestMember];
    for (const scopes of [['integration'], ['accountant']]) {
      await expectProblem(
        await call(gateway, 'POST', '/api-keys', { token: admin.token, body: { name: 'x', scopes } }),
        403,
        'forbidden',
      );
    }
    await expectProblem(
      await call(gateway, 'POST', '/api-keys', {
        token: admin.token,
        body: { name: 'x', kind: 'agent', scopes: ['agent'] },
      }),
      403,
      'forbidden',
    );
    await createKey(admin.token, { scopes: ['auditor'] });
    await expectProblem(
      await call(gateway, 'POST', '/api-keys', {
        token: accountant.token,
        body: { name: 'x', scopes: ['auditor'] },
      }),
      403,
      'forbidden',
    );
  });

  it('refuses malformed requests for keys with 400 problems', async () => {
    const { people } = await tenantWith('owner');
    const token = (people[0] as TestMember).token;
    for (const body of [
      { name: 'x', scopes: ['owner'] },
      { name: 'x', scopes: ['approver'] },
      { name: 'x', scopes: ['admin'] },
      { name: 'x', scopes: [] },
      { name: 'x', kind: 'agent', scopes: ['integration'] },
      { name: 'x', kind: 'apiKey', scopes: ['agent'] },
      { name: 'x', kind: 'agent', scopes: ['agent', 'auditor'] },
      { name: 'x', scopes: ['auditor'], expiresInDays: 0 },
      { name: 'x', scopes: ['auditor'], expiresInDays: 366 },
      { name: '', scopes: ['auditor'] },
      { name: 'x', scopes: ['auditor'], secret: 'mine' },
    ]) {
      await expectProblem(
        await call(gateway, 'POST', '/api-keys', { token, body }),
        400,
        'validation-failed',
      );
    }
    const listed = (await (await call(gateway, 'GET', '/api-keys', { token })).json()) as {
      items: unknown[];
    };
    expect(listed.items).toEqual([]);
  });

  it('answers a retried creation with 409 naming the key, never the secret again', async () => {
    const { people } = await tenantWith('owner');
    const token = (people[0] as TestMember).token;
    const headers = { 'idempotency-key': `create-${Date.now()}` };
    const created = await createKey(token, { scopes: ['auditor'] }, headers);
    const retried = await call(gateway, 'POST', '/api-keys', {
      token,
      body: { name: 'ERP sync', scopes: ['auditor'] },
      headers,
    });
    const problem = await expectProblem(retried, 409, 'secret-shown-once');
    expect(problem.keyId).toBe(created.id);
    expect(JSON.stringify(problem)).not.toContain(parseApiKey(created.key)?.secret);
    const listed = (await (await call(gateway, 'GET', '/api-keys', { token })).json()) as {
      items: unknown[];
    };
    expect(listed.items).toHaveLength(1);
  });
});

describe('[AUTH-5][AUTH-6] expiry, revocation and rotation', () => {
  // Expiry and overlap are set by the handlers' real clock; each test moves the authorizer's from there.
  beforeEach(() => {
    clockOffset = 0;
  });

  it('refuses an expired key', async () => {
    const { people } = await tenantWith('owner');
    const { key } = await createKey((people[0] as TestMember).token, {
      scopes: ['auditor'],
      expiresInDays: 1,
    });
    await expectStatus(await call(gateway, 'GET', '/invoices', { token: key }), 200);
    clockOffset += 86_400_000 + 60_000;
    await expectProblem(await call(gateway, 'GET', '/invoices', { token: key }), 401, 'unauthorized');
  });

  it('stops a revoked key within the authorizer cache, and keeps it revoked', async () => {
    const { tenantId, people } = await tenantWith('owner');
    const owner = people[0] as TestMember;
    const { key, id } = await createKey(owner.token, { scopes: ['auditor'] });
    await expectStatus(await call(gateway, 'GET', '/invoices', { token: key }), 200);
    await expectStatus(await call(gateway, 'DELETE', `/api-keys/${id}`, { token: owner.token }), 204);
    clockOffset += 60_000;
    await expectProblem(await call(gateway, 'GET', '/invoices', { token: key }), 401, 'unauthorized');
    await expectProblem(
      await call(gateway, 'POST', `/api-keys/${id}/rotate`, { token: owner.token, body: {} }),
      409,
      'conflict',
    );
    expect((await entriesOf(tenantId)).map((each) => each.action)).toEqual(
      expect.arrayContaining(['apikey.create', 'apikey.revoke']),
    );
  });

  it('rotates: the new secret works at once, the old one until the overlap ends', async () => {
    const { people } = await tenantWith('owner');
    const owner = people[0] as TestMember;
    const { key: oldKey, id } = await createKey(owner.token, { scopes: ['auditor'] });
    await expectStatus(await call(gateway, 'GET', '/invoices', { token: oldKey }), 200);
    const rotated = await call(gateway, 'POST', `/api-keys/${id}/rotate`, {
      token: owner.token,
      body: { overlapSeconds: 600 },
    });
    await expectStatus(rotated, 200);
    const body = (await rotated.json()) as KeyBody & { key: string };
    issuedKeys.push(body.key);
    expect(body).toMatchObject({ id, version: 2 });
    expect(body.key).not.toBe(oldKey);
    expect(parseApiKey(body.key)?.keyId).toBe(id);
    // At once, although the old record is still in the authorizer's cache.
    await expectStatus(await call(gateway, 'GET', '/invoices', { token: body.key }), 200);
    await expectStatus(await call(gateway, 'GET', '/invoices', { token: oldKey }), 200);
    clockOffset += 601_000;
    await expectProblem(await call(gateway, 'GET', '/invoices', { token: oldKey }), 401, 'unauthorized');
    await expectStatus(await call(gateway, 'GET', '/invoices', { token: body.key }), 200);
  });

  it('refuses keys that are malformed, of another environment or unknown', async () => {
    const { people } = await tenantWith('owner');
    const { key } = await createKey((people[0] as TestMember).token, { scopes: ['auditor'] });
    const parts = parseApiKey(key);
    const variants = [
      key.slice(0, -1),
      `${key}x`,
      key.replace('srk_test_', 'srk_live_'),
      `srk_test_${'0'.repeat(26)}_${parts?.secret}`,
      key.replace('srk_', 'SRK_'),
    ];
    for (const variant of variants) {
      await expectProblem(
        await call(gateway, 'GET', '/invoices', { token: variant, scheme: 'ApiKey' }),
        401,
        'unauthorized',
      );
    }
    await expectProblem(
      await gateway.call('/invoices', { headers: { authorization: `Basic ${key}` } }),
      401,
      'unauthorized',
    );
  });
});

describe('[AUTH-2][AUD-1] failed attempts are throttled per key id and source address', () => {
  it('throttles a stranger who knows the key id without locking out the integration, and audits counted windows', async () => {
    const { tenantId, people } = await tenantWith('owner');
    const { key, id } = await createKey((people[0] as TestMember).token, { scopes: ['auditor'] });
    const parts = parseApiKey(key);
    const wrong = key.replace(parts?.secret ?? '', 'A'.repeat(43));
    const stranger = (secretKey: string) =>
      callFrom(gateway, '127.0.0.2', 'GET', '/invoices', { authorization: `ApiKey ${secretKey}` });
    const integration = () =>
      callFrom(gateway, '127.0.0.1', 'GET', '/invoices', { authorization: `ApiKey ${key}` });

    // Start at the beginning of a failure window, so the attempts below never straddle two.
    const now = Date.now() + clockOffset;
    clockOffset += 300_000 - (now % 300_000) + 1_000;
    for (let attempt = 1; attempt <= 10; attempt++) {
      expect((await stranger(wrong)).status).toBe(401);
      expect((await integration()).status).toBe(200);
    }
    // The stranger's address is throttled for this key: even the right secret is refused there.
    expect((await stranger(key)).status).toBe(401);
    expect((await integration()).status).toBe(200);
    const failures = (await entriesOf(tenantId)).filter(
      (each) => each.action === 'apikey.authentication-failed',
    );
    expect(failures.map((each) => each.detail?.failures)).toEqual([1, 10]);
    expect(failures[1]).toMatchObject({
      actor: { kind: 'system' },
      target: { type: 'apiKey', id },
      outcome: 'denied',
      detail: { throttled: true, windowSeconds: 300 },
    });
    // DAT-3: the source is a keyed pseudonym, not the address.
    expect(failures[0]?.detail?.source).toMatch(/^src_[A-Za-z0-9_-]{16}$/);
    expect(JSON.stringify(failures)).not.toContain('127.0.0.2');

    // The next window lets the stranger's address in again with the right key.
    clockOffset += 300_000;
    expect((await stranger(key)).status).toBe(200);
  });
});

describe('[AUTH-5][SEC-1][LOG-1] the secret never appears after creation', () => {
  it('keeps the pepper in a 0600 file under the data folder', async () => {
    const file = localPepperFile(localStack().dataDir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('is in no table, no log line and no access-log entry', async () => {
    expect(issuedKeys.length).toBeGreaterThan(5);
    const secrets = issuedKeys.map((key) => parseApiKey(key)?.secret ?? key);
    const config = localRuntimeConfig();
    const raw = DataClients.rawClient(config);
    try {
      for (const id of tableIds) {
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await raw.send(
            new ScanCommand({ TableName: tableName(config.stage, id), ExclusiveStartKey: startKey as never }),
          );
          const text = JSON.stringify(page.Items ?? []);
          for (const secret of secrets) expect(text.includes(secret), `${id} holds a secret`).toBe(false);
          startKey = page.LastEvaluatedKey;
        } while (startKey);
      }
    } finally {
      raw.destroy();
    }
    const logs = output.join('');
    // The capture works: the authorizer's refusals were logged (with key ids, not secrets).
    expect(logs).toContain('api key refused');
    for (const secret of secrets) expect(logs.includes(secret)).toBe(false);
    const accessLog = JSON.stringify(gateway.accessLog);
    for (const secret of secrets) expect(accessLog.includes(secret)).toBe(false);
  });
});
