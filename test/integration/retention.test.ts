/**
 * Retention (DAT-4) over the local gateway, DynamoDB Local and cognito-local: the tenant's
 * retention setting is refused below the legal minimum of its jurisdiction (a problem that
 * names the minimum, nothing changed), and the retention job, its clock moved years ahead,
 * removes exactly the records whose retention has expired, each with its audit entry, keeps
 * the rest, removes nothing twice when run again, and leaves an audit log that verifies.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '#shared/audit/verify';
import {
  LocalCheckpointSigner,
  type PublishedSigningKey,
  signingKeyNamePrefix,
} from '#shared/crypto/signing';
import { signCheckpoint } from '#shared/services/audit';
import { createServiceContext } from '#shared/services/context';
import { retentionActorId, retentionRemovalAction, runRetention } from '#shared/services/retention';
import { startTestGateway, type TestGateway } from './support/gateway';
import { localRuntimeConfig, localStack } from './support/local-stack';
import { createTestTenant, type TestTenant, type TestTenantUser } from './support/test-tenant';

let gateway: TestGateway;
let tenant: TestTenant;

beforeAll(async () => {
  gateway = await startTestGateway();
  tenant = await createTestTenant('keep', ['owner', 'admin', 'accountant', 'approver', 'auditor']);
});

afterAll(async () => {
  await gateway?.close();
});

interface Reply<T> {
  status: number;
  body: T;
  etag: string | null;
}

async function call<T = Record<string, unknown>>(
  role: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const user: TestTenantUser = tenant.user(role);
  const response = await gateway.call(path, {
    method,
    headers: {
      authorization: `Bearer ${user.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : undefined) as T,
    etag: response.headers.get('etag'),
  };
}

interface SettingsView {
  invoiceNumberPrefix: string;
  approval: Record<string, unknown>;
  retention: { jurisdiction: string | null; financialRecordsYears: number };
  version: number;
}

async function settings(): Promise<Reply<SettingsView>> {
  return call<SettingsView>('auditor', 'GET', '/settings');
}

async function putSettings(
  role: string,
  retention: unknown,
  etag: string,
): Promise<Reply<Record<string, unknown>>> {
  const { body } = await settings();
  return call(
    role,
    'PUT',
    '/settings',
    {
      invoiceNumberPrefix: body.invoiceNumberPrefix,
      approval: body.approval,
      ...(retention === undefined ? {} : { retention }),
    },
    { 'if-match': etag },
  );
}

async function entries(action: string): Promise<{ entry: Record<string, unknown> }[]> {
  const page = await call<{ items: { entry: Record<string, unknown> }[] }>(
    'auditor',
    'GET',
    `/audit/entries?action=${action}&limit=100`,
  );
  expect(page.status).toBe(200);
  return page.body.items;
}

describe('[DAT-4] retention settings', () => {
  it('starts at the 10-year default with no jurisdiction declared', async () => {
    const { status, body } = await settings();
    expect(status).toBe(200);
    expect(body.retention).toEqual({ jurisdiction: null, financialRecordsYears: 10 });
  });

  it('refuses a retention below the legal minimum with a problem naming it, and changes nothing', async () => {
    const before = await settings();
    const auditedBefore = (await entries('settings.update')).length;
    for (const [retention, minimumYears] of [
      [{ jurisdiction: null, financialRecordsYears: 9 }, 10],
      [{ jurisdiction: 'DE', financialRecordsYears: 8 }, 10],
      [{ jurisdiction: 'NL', financialRecordsYears: 6 }, 7],
      [{ jurisdiction: 'BR', financialRecordsYears: 5 }, 10],
    ] as const) {
      const refused = await putSettings('owner', retention, before.etag ?? '');
      expect(refused.status, JSON.stringify(refused.body)).toBe(422);
      expect(refused.body).toMatchObject({
        type: 'https://strongroom.dev/problems/retention-below-minimum',
        code: 'retention-below-minimum',
        minimumYears,
      });
      expect(String(refused.body.detail)).toContain(`${minimumYears} years`);
    }
    const after = await settings();
    expect(after.etag).toBe(before.etag);
    expect(after.body).toEqual(before.body);
    expect(await entries('settings.update')).toHaveLength(auditedBefore);
  });

  it('lets owners and admins choose a longer retention (audited), not accountants, and keeps it when a body leaves it out', async () => {
    const before = await settings();
    const denied = await putSettings(
      'accountant',
      { jurisdiction: 'DE', financialRecordsYears: 12 },
      before.etag ?? '',
    );
    expect(denied.status).toBe(403);
    const nl = await putSettings(
      'owner',
      { jurisdiction: 'NL', financialRecordsYears: 7 },
      before.etag ?? '',
    );
    expect(nl.status, JSON.stringify(nl.body)).toBe(200);
    const changed = await putSettings(
      'admin',
      { jurisdiction: 'DE', financialRecordsYears: 12 },
      nl.etag ?? '',
    );
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.retention).toEqual({ jurisdiction: 'DE', financialRecordsYears: 12 });
    const without = await putSettings('admin', undefined, changed.etag ?? '');
    expect(without.status, JSON.stringify(without.body)).toBe(200);
    expect(without.body.retention).toEqual({ jurisdiction: 'DE', financialRecordsYears: 12 });
    expect((await settings()).body.retention).toEqual({ jurisdiction: 'DE', financialRecordsYears: 12 });
    expect((await entries('settings.update')).length).toBeGreaterThanOrEqual(3);
  });
});

describe('[DAT-4] the retention job', () => {
  interface InvoiceView {
    id: string;
    status: string;
    version: number;
    totals: { gross: number };
  }
  const ids: Record<string, string> = {};

  async function counterparty(name: string): Promise<string> {
    const created = await call<{ id: string }>('accountant', 'POST', '/counterparties', {
      kind: 'customer',
      name,
      iban: 'DE89 3704 0044 0532 0130 00',
      address: { lines: ['Hauptstrasse 1'], city: 'Berlin', postalCode: '10115', country: 'DE' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.id;
  }

  async function invoice(
    state: 'draft' | 'issued' | 'paid' | 'void',
    counterpartyId?: string,
  ): Promise<string> {
    const created = await call<InvoiceView>('accountant', 'POST', '/invoices', {
      currency: 'EUR',
      ...(counterpartyId === undefined ? {} : { counterpartyId }),
      lines: [{ description: 'Kept for years', quantity: '1', unitPrice: 12_000, vatRate: 1900 }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    let current = created.body;
    const step = async (role: string, verb: string, body?: unknown) => {
      const reply = await call<InvoiceView>(role, 'POST', `/invoices/${current.id}/${verb}`, body, {
        'if-match': `"v${current.version}"`,
      });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      current = reply.body;
    };
    if (state === 'void') {
      await step('accountant', 'void', { reason: 'cancelled order' });
      return current.id;
    }
    if (state === 'draft') return current.id;
    await step('accountant', 'submit');
    await step('approver', 'approve');
    await step('accountant', 'issue');
    if (state === 'paid') {
      const paid = await call('accountant', 'POST', `/invoices/${current.id}/payments`, {
        amount: current.totals.gross,
        receivedOn: '2026-11-20',
      });
      expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    }
    return current.id;
  }

  const context = () => createServiceContext(localRuntimeConfig());
  const at = (iso: string) => ({ ...context(), now: () => new Date(iso) });

  beforeAll(async () => {
    ids.closedCustomer = await counterparty('Closed Books GmbH');
    ids.openCustomer = await counterparty('Open Account KG');
    ids.unusedCustomer = await counterparty('Never Billed AG');
    ids.paid = await invoice('paid', ids.closedCustomer);
    ids.void = await invoice('void', ids.closedCustomer);
    ids.issued = await invoice('issued', ids.openCustomer);
    ids.draft = await invoice('draft');
  });

  it('keeps everything until the tenant’s own retention (12 years here, above the 10-year minimum) has run out', async () => {
    // Closed in 2026, kept 12 years from the end of 2026: expires on 1 January 2039.
    const result = await runRetention(at('2038-12-31T23:59:59.999Z'), { tenantIds: [tenant.tenantId] });
    expect(result.failed).toEqual([]);
    expect(result.tenants).toEqual([{ tenantId: tenant.tenantId, retentionYears: 12, removed: [] }]);
    expect(await entries(retentionRemovalAction)).toEqual([]);
  });

  it('then removes exactly the closed invoices, their payments and the counterparties no invoice refers to, each with its audit entry', async () => {
    const ledger = context();
    const client = ledger.clients.platform();
    expect(await ledger.payments.listForInvoice(client, tenant.tenantId, ids.paid ?? '')).toHaveLength(1);

    const result = await runRetention(at('2039-01-01T00:00:00.000Z'), { tenantIds: [tenant.tenantId] });
    expect(result.failed).toEqual([]);
    const removed = result.tenants[0]?.removed ?? [];
    expect(removed.map(({ type, id }) => `${type} ${id}`).sort()).toEqual(
      [
        `counterparty ${ids.closedCustomer}`,
        `counterparty ${ids.unusedCustomer}`,
        `invoice ${ids.paid}`,
        `invoice ${ids.void}`,
      ].sort(),
    );

    for (const gone of [ids.paid, ids.void])
      expect((await call('auditor', 'GET', `/invoices/${gone}`)).status).toBe(404);
    for (const gone of [ids.closedCustomer, ids.unusedCustomer])
      expect((await call('auditor', 'GET', `/counterparties/${gone}`)).status).toBe(404);
    expect(await ledger.payments.listForInvoice(client, tenant.tenantId, ids.paid ?? '')).toEqual([]);
    for (const kept of [ids.issued, ids.draft])
      expect((await call('auditor', 'GET', `/invoices/${kept}`)).status).toBe(200);
    expect((await call('auditor', 'GET', `/counterparties/${ids.openCustomer}`)).status).toBe(200);

    const audited = await entries(retentionRemovalAction);
    expect(audited.map(({ entry }) => entry.id).sort()).toEqual(removed.map((each) => each.entryId).sort());
    for (const { entry } of audited) {
      expect(entry.actor).toEqual({ id: retentionActorId, kind: 'system' });
      expect(entry.detail).toMatchObject({
        removedItemDigest: expect.any(String),
        retentionYears: 12,
        jurisdiction: 'DE',
      });
      // DAT-3: ids and digests only: no names, no bank details.
      const text = JSON.stringify(entry);
      for (const personal of ['Closed Books', 'Never Billed', 'DE89', 'Hauptstrasse', 'cancelled order'])
        expect(text).not.toContain(personal);
    }
    const paidEntry = audited.find(({ entry }) => (entry.target as { id: string }).id === ids.paid)?.entry;
    expect(paidEntry?.detail).toMatchObject({ status: 'paid', paymentIds: [expect.stringMatching(/^pay_/)] });
  });

  it('removes nothing twice when the job runs again', async () => {
    const before = (await entries(retentionRemovalAction)).length;
    const again = await runRetention(at('2039-01-01T00:00:00.000Z'), { tenantIds: [tenant.tenantId] });
    expect(again.tenants[0]?.removed).toEqual([]);
    const later = await runRetention(at('2045-06-01T00:00:00.000Z'), { tenantIds: [tenant.tenantId] });
    expect(later.tenants[0]?.removed).toEqual([]);
    expect(await entries(retentionRemovalAction)).toHaveLength(before);
  });

  it('keeps everything of a tenant that keeps its records for a century', async () => {
    const current = await settings();
    const longer = await putSettings(
      'owner',
      { jurisdiction: 'DE', financialRecordsYears: 100 },
      current.etag ?? '',
    );
    expect(longer.status, JSON.stringify(longer.body)).toBe(200);
    const result = await runRetention(at('2060-06-01T00:00:00.000Z'), { tenantIds: [tenant.tenantId] });
    expect(result.tenants).toEqual([{ tenantId: tenant.tenantId, retentionYears: 100, removed: [] }]);
    for (const kept of [ids.issued, ids.draft])
      expect((await call('auditor', 'GET', `/invoices/${kept}`)).status).toBe(200);
  });

  it('keeps the audit log, which still verifies offline in an export bundle', async () => {
    const stack = localStack();
    const signer = new LocalCheckpointSigner(stack.dataDir, signingKeyNamePrefix(stack.stage));
    const ledger = context();
    const signed = (await signCheckpoint(ledger, signer, tenant.tenantId)) as { size: number };
    const keys = await call<{ keys: PublishedSigningKey[] }>('auditor', 'GET', '/audit/keys');
    const exported = await gateway.call('/audit/export', {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.user('auditor').token}` },
    });
    expect(exported.status).toBe(200);
    const dir = await mkdtemp(join(tmpdir(), 'strongroom-retention-'));
    try {
      const bundlePath = join(dir, 'audit.bundle');
      await writeFile(bundlePath, Buffer.from(await exported.arrayBuffer()));
      const verified = await verifyBundle(bundlePath, { keys: keys.body.keys });
      expect(verified).toMatchObject({ tenantId: tenant.tenantId, entries: signed.size });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
