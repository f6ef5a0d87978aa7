/**
 * Termination and purge (DAT-2) over the local gateway, DynamoDB Local and cognito-local:
 * only the owner terminates (typing the tenant id again); from that commit the tenant is
 * read-only while reads go on; the purge refuses to run inside the 30-day export window,
 * and with the clock moved past it deletes the tenant's items, deletes its key file,
 * records the final audit entry and signs a final checkpoint over it.
 */
import { stat } from 'node:fs/promises';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyService } from '#shared/crypto/key-service';
import { createCheckpointSigner } from '#shared/crypto/signing';
import { createServiceContext } from '#shared/services/context';
import { exportWindowDays, purgeTenant, TenantNotActiveError } from '#shared/services/lifecycle';
import { tableName } from '#shared/store/tables';
import { startTestGateway, type TestGateway } from './support/gateway';
import { localRuntimeConfig, localStack } from './support/local-stack';
import { createTestTenant, type TestTenant } from './support/test-tenant';

let gateway: TestGateway;
let tenant: TestTenant;

beforeAll(async () => {
  gateway = await startTestGateway();
  tenant = await createTestTenant('life', ['owner', 'admin', 'accountant', 'auditor']);
});

afterAll(async () => {
  await gateway?.close();
});

function send(role: string, method: string, path: string, body?: unknown): Promise<Response> {
  return gateway.call(path, {
    method,
    headers: {
      authorization: `Bearer ${tenant.user(role).token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const invoiceBody = {
  currency: 'EUR',
  lines: [{ description: 'Before the end', quantity: '1', unitPrice: 5_000, vatRate: 1900 }],
};

describe('[DAT-2] termination and purge', () => {
  let invoiceId: string;
  let terminatedAt: string;
  let exportableUntil: string;

  beforeAll(async () => {
    const created = await send('accountant', 'POST', '/invoices', invoiceBody);
    expect(created.status, await created.clone().text()).toBe(201);
    invoiceId = String(((await created.json()) as { id: string }).id);
    const counterparty = await send('accountant', 'POST', '/counterparties', {
      kind: 'customer',
      name: 'Last Customer AG',
      address: { lines: ['Bahnhofstrasse 1'], city: 'Zürich', postalCode: '8001', country: 'CH' },
    });
    expect(counterparty.status, await counterparty.clone().text()).toBe(201);
  });

  it('lets only the owner terminate, and only with the tenant id typed again', async () => {
    expect((await send('admin', 'POST', '/termination', { confirmTenantId: tenant.tenantId })).status).toBe(
      403,
    );
    const wrong = await send('owner', 'POST', '/termination', { confirmTenantId: 'another-tenant' });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { code: string }).code).toBe('validation-failed');
    expect(((await (await send('auditor', 'GET', '/termination')).json()) as { status: string }).status).toBe(
      'active',
    );
  });

  it('turns the tenant read-only at once; reads go on', async () => {
    const response = await send('owner', 'POST', '/termination', { confirmTenantId: tenant.tenantId });
    expect(response.status, await response.clone().text()).toBe(202);
    const view = (await response.json()) as { status: string; terminatedAt: string; exportableUntil: string };
    expect(view.status).toBe('terminated');
    ({ terminatedAt, exportableUntil } = view);
    expect(Date.parse(exportableUntil) - Date.parse(terminatedAt)).toBe(exportWindowDays * 86_400_000);

    const write = await send('accountant', 'POST', '/invoices', invoiceBody);
    expect(write.status).toBe(403);
    expect(((await write.json()) as { code: string }).code).toBe('tenant-read-only');
    const settings = await send('owner', 'GET', '/settings');
    const etag = settings.headers.get('etag') ?? '';
    const update = await gateway.call('/settings', {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${tenant.user('owner').token}`,
        'content-type': 'application/json',
        'if-match': etag,
      },
      body: JSON.stringify({
        invoiceNumberPrefix: 'X',
        approval: { dualApprovalThreshold: 1, defaultApproverLimit: null, approverLimits: {} },
      }),
    });
    expect(update.status).toBe(403);

    expect((await send('auditor', 'GET', `/invoices/${invoiceId}`)).status).toBe(200);
    expect((await send('auditor', 'GET', '/counterparties')).status).toBe(200);
    const state = (await (await send('auditor', 'GET', '/termination')).json()) as Record<string, unknown>;
    expect(state).toEqual({ tenantId: tenant.tenantId, status: 'terminated', terminatedAt, exportableUntil });
    // Terminating twice is a conflict, not a second termination.
    expect((await send('owner', 'POST', '/termination', { confirmTenantId: tenant.tenantId })).status).toBe(
      409,
    );
  });

  it('audits the termination in the tenant log', async () => {
    const response = await send('auditor', 'GET', '/audit/entries?action=tenant.terminate');
    const page = (await response.json()) as { items: { entry: { actor: { id: string } } }[] };
    expect(page.items).toHaveLength(1);
    expect(page.items[0]?.entry.actor.id).toBe(tenant.user('owner').identityId);
  });

  it('purges only after the export window, then deletes items and the key and signs a final checkpoint', async () => {
    const config = localRuntimeConfig();
    const signer = createCheckpointSigner(config);
    const early = createServiceContext(config);
    await expect(purgeTenant(early, tenant.tenantId, { signer })).rejects.toBeInstanceOf(
      TenantNotActiveError,
    );

    const context = {
      ...createServiceContext(config),
      now: () => new Date(Date.parse(exportableUntil) + 1000),
    };
    const keyFile = new LocalKeyService(localStack().dataDir, () => signer).keyFile(tenant.tenantId);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);

    const result = await purgeTenant(context, tenant.tenantId, { signer });
    expect(result.deleted.data).toBeGreaterThanOrEqual(2);
    expect(result.deleted.members).toBe(4);
    await expect(stat(keyFile)).rejects.toThrow(/ENOENT/);

    const client = context.clients.platform();
    for (const [table, partition] of [
      ['data', 'invoice'],
      ['data', 'counterparty'],
      ['members', 'member'],
    ] as const) {
      const left = await client.send(
        new QueryCommand({
          TableName: tableName(config.stage, table),
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `${tenant.tenantId}#${partition}` },
          ConsistentRead: true,
        }),
      );
      expect(left.Items, `${table} ${partition}`).toEqual([]);
    }
    const record = await context.clients.keyring.registry.get(client, tenant.tenantId);
    expect(record?.status).toBe('purged');
    expect(record?.dataKeys.size).toBe(0);

    // The log's last entry is the purge, and a signed checkpoint covers it.
    const tenantClient = context.clients.forTenant(tenant.tenantId);
    const head = await context.auditLog.head(tenantClient, tenant.tenantId);
    const [last] = await context.auditLog.entriesFrom(tenantClient, tenant.tenantId, head.size - 1, 1);
    expect(last?.entry.action).toBe('tenant.purge');
    expect(last?.entry.id).toBe(result.finalEntryId);
    expect(result.checkpoint?.size).toBe(head.size);

    // Purging again is refused: the tenant is gone, not terminated.
    await expect(purgeTenant(context, tenant.tenantId, { signer })).rejects.toBeInstanceOf(
      TenantNotActiveError,
    );
  });
});
