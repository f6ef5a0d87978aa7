/**
 * Tenant data export (DAT-1) over the local gateway, DynamoDB Local and cognito-local: the
 * owner starts an export (202, Location, audited, a retry with the same Idempotency-Key is
 * the same export), follows its progress to complete, downloads it once through the local
 * one-time link, decrypts it with the expected encryption context and finds its items and an
 * audit bundle that verifies offline; a wrong expected context is refused; members without
 * the role get 403; another tenant sees neither the export nor the link; a terminated tenant
 * exports within its window and a purged one cannot.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '#shared/audit/verify';
import { LocalKeyService } from '#shared/crypto/key-service';
import { createCheckpointSigner } from '#shared/crypto/signing';
import {
  decryptExport,
  ExportContextMismatchError,
  exportEncryptionContext,
  exportRoot,
} from '#shared/exports/archive';
import { readTar } from '#shared/exports/tar';
import { createServiceContext } from '#shared/services/context';
import {
  type ExportView,
  exportContext,
  exportedPartitions,
  runExport,
  startExport as startExportNow,
} from '#shared/services/exports';
import { purgeTenant } from '#shared/services/lifecycle';
import { LocalExportArchives } from '#shared/store/export-archives';
import { tableName } from '#shared/store/tables';
import { bundleFunction } from './support/bundled-function';
import { startTestGateway, type TestGateway } from './support/gateway';
import { call, expectProblem, expectStatus } from './support/http';
import { localRuntimeConfig, localStack } from './support/local-stack';
import { createTestTenant, type TestTenant } from './support/test-tenant';

let gateway: TestGateway;
let tenant: TestTenant;
let other: TestTenant;
const config = () => localRuntimeConfig();
const signer = () => createCheckpointSigner(config());
const keys = () => new LocalKeyService(localStack().dataDir, signer);

beforeAll(async () => {
  gateway = await startTestGateway();
  tenant = await createTestTenant('exp', ['owner', 'admin', 'accountant', 'auditor']);
  other = await createTestTenant('expother', ['owner']);
});

afterAll(async () => {
  await gateway?.close();
});

function as(
  who: TestTenant,
  role: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
) {
  return call(gateway, method, path, {
    token: who.user(role).token,
    headers,
    ...(method === 'POST' ? { body: {} } : {}),
  });
}

/** Follows an export as a client would, asking again until it has finished. */
async function untilFinished(who: TestTenant, location: string): Promise<ExportView> {
  const seen: string[] = [];
  for (let attempt = 0; attempt < 5000; attempt++) {
    const response = await as(who, 'owner', 'GET', location);
    await expectStatus(response, 200);
    const view = (await response.json()) as ExportView;
    seen.push(view.status);
    expect(view.progress.done).toBeLessThanOrEqual(Math.max(view.progress.total, 0));
    if (view.status === 'complete' || view.status === 'failed') return view;
  }
  throw new Error(`the export did not finish; statuses seen: ${[...new Set(seen)].join(', ')}`);
}

async function startExport(who: TestTenant, role = 'owner', key = `exp-${Math.random()}`) {
  const response = await as(who, role, 'POST', '/exports', { 'idempotency-key': key });
  await expectStatus(response, 202);
  return { response, body: (await response.json()) as ExportView & { auditEntryId: string } };
}

describe('[DAT-1] tenant data export', () => {
  let invoiceId: string;
  let exportId: string;
  let finished: ExportView;

  beforeAll(async () => {
    const invoice = await call(gateway, 'POST', '/invoices', {
      token: tenant.user('accountant').token,
      body: {
        currency: 'EUR',
        lines: [{ description: 'Exported work', quantity: '2', unitPrice: 12_500, vatRate: 1900 }],
      },
    });
    await expectStatus(invoice, 201);
    invoiceId = ((await invoice.json()) as { id: string }).id;
    await expectStatus(
      await call(gateway, 'POST', '/counterparties', {
        token: tenant.user('accountant').token,
        body: {
          kind: 'customer',
          name: 'Export Customer AG',
          address: { lines: ['Exportweg 7'], city: 'Basel', postalCode: '4051', country: 'CH' },
          iban: 'CH9300762011623852957',
        },
      }),
      201,
    );
  });

  it('starts with 202 and a Location; a retry with the same Idempotency-Key is the same export', async () => {
    const { response, body } = await startExport(tenant, 'owner', 'export-once');
    exportId = body.id;
    expect(response.headers.get('location')).toBe(`/exports/${exportId}`);
    expect(body.encryptionContext).toEqual(exportEncryptionContext(tenant.tenantId, exportId));
    const retried = await as(tenant, 'owner', 'POST', '/exports', { 'idempotency-key': 'export-once' });
    await expectStatus(retried, 202);
    expect(((await retried.json()) as { id: string }).id).toBe(exportId);
  });

  it('runs to complete with its progress, and the link downloads exactly once', async () => {
    finished = await untilFinished(tenant, `/exports/${exportId}`);
    expect(finished.status).toBe('complete');
    // Every item of the tenant (an invoice, a counterparty, four members) plus the audit bundle.
    expect(finished.progress.total).toBe(7);
    expect(finished.progress.done).toBe(finished.progress.total);
    const download = finished.download;
    if (!download) throw new Error('a complete export carries a download link');
    expect(download.url).toMatch(new RegExp(`^${gateway.url}/local-downloads/[A-Za-z0-9_-]{43}$`));
    expect(download.url).not.toContain(exportId);
    const minutes = (Date.parse(download.expiresAt) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(0);
    expect(minutes).toBeLessThanOrEqual(5);

    const first = await fetch(download.url);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/octet-stream');
    const message = Buffer.from(await first.arrayBuffer());
    expect(message.length).toBe(finished.bytes);
    await expectProblem(await fetch(download.url), 404, 'not-found');
    // The access log names the link, never its token.
    expect(
      gateway.accessLog.some((entry) => entry.path.includes(download.url.split('/').at(-1) ?? '?')),
    ).toBe(false);

    const keyring = await keys().exportKeyring(tenant.tenantId);
    const tar = readTar(
      await decryptExport(keyring, message, exportEncryptionContext(tenant.tenantId, exportId)),
    );
    const text = (name: string) => tar.get(`${exportRoot}/${name}`)?.toString('utf8') ?? '';
    expect(text('README.txt')).toContain('strongroom-verify audit.bundle');
    expect(JSON.parse(text('manifest.json'))).toMatchObject({
      format: 'strongroom-export/1',
      tenantId: tenant.tenantId,
      exportId,
      items: { invoices: 1, counterparties: 1, members: 4 },
    });
    const invoices = text('data/invoices.jsonl')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(invoices.map((item) => item.invoice?.id)).toEqual([invoiceId]);
    // Opened from its sealed form: the IBAN and the name are there in the clear.
    expect(text('data/counterparties.jsonl')).toContain('Export Customer AG');
    expect(text('data/counterparties.jsonl')).toContain('CH9300762011623852957');
    expect(text('data/counterparties.jsonl')).not.toContain('"sealed"');
    expect(text('data/members.jsonl')).toContain(tenant.user('owner').identityId);

    const dir = await mkdtemp(join(tmpdir(), 'strongroom-tenant-export-'));
    try {
      const bundle = join(dir, 'audit.bundle');
      await writeFile(bundle, tar.get(`${exportRoot}/audit.bundle`) ?? Buffer.alloc(0));
      const verified = await verifyBundle(bundle, { keys: await signer().publicKeys() });
      expect(verified.tenantId).toBe(tenant.tenantId);
      expect(verified.keysFromBundle).toBe(false);
      // The checkpoint the worker signed covers the export's own start entry.
      expect(verified.entries).toBeGreaterThanOrEqual(3);
      expect(verified.checkpoints.at(-1)?.size).toBe(verified.entries);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to decrypt when the expected encryption context differs', async () => {
    const link = (await (await as(tenant, 'admin', 'GET', `/exports/${exportId}`)).json()) as ExportView;
    const message = Buffer.from(await (await fetch(link.download?.url ?? '')).arrayBuffer());
    const keyring = await keys().exportKeyring(tenant.tenantId);
    await keys().createTenantKey(other.tenantId);
    const otherExport = 'exp_01ARZ3NDEKTSV4RRFFQ69G5FAV';
    await expect(
      decryptExport(keyring, message, exportEncryptionContext(tenant.tenantId, otherExport)),
    ).rejects.toThrow(ExportContextMismatchError);
    await expect(
      decryptExport(keyring, message, exportEncryptionContext(other.tenantId, exportId)),
    ).rejects.toMatchObject({ code: 'export-context-mismatch', keys: ['tenantId'] });
    await expect(
      decryptExport(keyring, message, {
        ...exportEncryptionContext(tenant.tenantId, exportId),
        purpose: 'x',
      }),
    ).rejects.toThrow(/does not match the expected one \(purpose\)/);
    // Another tenant's key does not open it at all.
    await expect(
      decryptExport(
        await keys().exportKeyring(other.tenantId),
        message,
        exportEncryptionContext(tenant.tenantId, exportId),
      ),
    ).rejects.toThrow();
  });

  it('is for owners and admins only', async () => {
    for (const role of ['accountant', 'auditor']) {
      await expectProblem(await as(tenant, role, 'POST', '/exports'), 403, 'forbidden');
      await expectProblem(await as(tenant, role, 'GET', `/exports/${exportId}`), 403, 'forbidden');
    }
    const { body } = await startExport(tenant, 'admin');
    expect((await untilFinished(tenant, `/exports/${body.id}`)).status).toBe('complete');
  });

  it('is invisible to another tenant, and its link cannot be made from the export id', async () => {
    const theirs = await as(other, 'owner', 'GET', `/exports/${exportId}`);
    const missing = await as(other, 'owner', 'GET', '/exports/exp_01ARZ3NDEKTSV4RRFFQ69G5FAV');
    const strip = ({ requestId: _id, ...rest }: Record<string, unknown>) => rest;
    expect(strip(await expectProblem(theirs, 404, 'not-found'))).toEqual(
      strip(await expectProblem(missing, 404, 'not-found')),
    );
    await expectProblem(
      await call(gateway, 'GET', `/local-downloads/${exportId}`, { token: other.user('owner').token }),
      404,
      'not-found',
    );
  });

  it('is in the audit log: who started it, and that it completed', async () => {
    const entries = async (action: string) => {
      const response = await as(
        tenant,
        'auditor',
        'GET',
        `/audit/entries?action=${action}&targetId=${exportId}`,
      );
      await expectStatus(response, 200);
      return ((await response.json()) as { items: { entry: { actor: { id: string }; outcome: string } }[] })
        .items;
    };
    const started = await entries('export.start');
    expect(started).toHaveLength(1);
    expect(started[0]?.entry.actor.id).toBe(tenant.user('owner').identityId);
    const completed = await entries('export.complete');
    expect(completed.map((item) => item.entry.outcome)).toEqual(['success']);
  });

  it('shows an export no worker finished in time as failed, not pending forever', async () => {
    const longAgo = new Date(Date.now() - 3_600_000);
    const context = exportContext(
      { ...createServiceContext(config()), now: () => longAgo },
      new LocalExportArchives(localStack().dataDir),
      () => undefined, // the worker is lost: nothing runs it
    );
    const stored = await startExportNow(context, {
      principal: {
        kind: 'user',
        actorId: tenant.user('owner').identityId,
        tenantId: tenant.tenantId,
        roles: ['owner'],
      },
      requestId: 'lost-worker',
      idempotencyKey: undefined,
      respond: (record) => ({ statusCode: 202, headers: {}, body: JSON.stringify({ id: record.id }) }),
    });
    const { id } = JSON.parse(stored.body) as { id: string };
    const response = await as(tenant, 'owner', 'GET', `/exports/${id}`);
    await expectStatus(response, 200);
    expect(await response.json()).toMatchObject({ id, status: 'failed', failure: 'export-interrupted' });
  });

  it('marks an export failed, and audits it, when its archive cannot be stored', async () => {
    const base = createServiceContext(config());
    const context = exportContext(
      base,
      {
        put: () => Promise.reject(new Error('the store is down')),
        downloadLink: () => Promise.reject(new Error('no link without an archive')),
      },
      () => undefined,
    );
    const stored = await startExportNow(context, {
      principal: {
        kind: 'user',
        actorId: tenant.user('admin').identityId,
        tenantId: tenant.tenantId,
        roles: ['admin'],
      },
      requestId: 'store-down',
      idempotencyKey: undefined,
      respond: (record) => ({ statusCode: 202, headers: {}, body: JSON.stringify({ id: record.id }) }),
    });
    const { id } = JSON.parse(stored.body) as { id: string };
    const job = { tenantId: tenant.tenantId, exportId: id };
    expect(await runExport(context, signer(), job)).toBe('failed');
    // A second delivery of the same job finds it finished and does nothing.
    expect(await runExport(context, signer(), job)).toBe('skipped');
    const view = (await (await as(tenant, 'owner', 'GET', `/exports/${id}`)).json()) as ExportView;
    expect(view).toMatchObject({ status: 'failed', failure: 'export-failed' });
    expect(view.download).toBeUndefined();
    const failed = await as(tenant, 'auditor', 'GET', `/audit/entries?action=export.fail&targetId=${id}`);
    const items = (
      (await failed.json()) as { items: { entry: { actor: { id: string }; outcome: string } }[] }
    ).items;
    expect(items.map((item) => [item.entry.actor.id, item.entry.outcome])).toEqual([
      ['system:export', 'failure'],
    ]);
  });

  it('exports every partition of the tenant that the data table holds', async () => {
    const context = createServiceContext(config());
    const scan = await context.clients.platform().send(
      new ScanCommand({
        TableName: tableName(config().stage, 'data'),
        ProjectionExpression: 'pk',
        FilterExpression: 'begins_with(pk, :prefix)',
        ExpressionAttributeValues: { ':prefix': `${tenant.tenantId}#` },
      }),
    );
    const partitions = new Set((scan.Items ?? []).map((item) => String(item.pk).split('#')[1]));
    for (const partition of partitions) {
      const exported = exportedPartitions
        .filter((each) => each.table === 'data')
        .map((each) => each.partition);
      expect([...exported, 'export'], partition).toContain(partition);
    }
  });
});

describe('[DAT-1] [DAT-2] export after termination', () => {
  it('exports a terminated tenant within its window, and refuses a purged one', async () => {
    const leaving = await createTestTenant('expterm', ['owner']);
    const terminated = await call(gateway, 'POST', '/termination', {
      token: leaving.user('owner').token,
      body: { confirmTenantId: leaving.tenantId },
    });
    await expectStatus(terminated, 202);
    const { exportableUntil } = (await terminated.json()) as { exportableUntil: string };
    const { body } = await startExport(leaving);
    expect((await untilFinished(leaving, `/exports/${body.id}`)).status).toBe('complete');

    const later = () => new Date(Date.parse(exportableUntil) + 1000);
    await purgeTenant({ ...createServiceContext(config()), now: later }, leaving.tenantId, {
      signer: signer(),
    });
    // The service refuses a purged tenant whoever asks (its members are gone with it, so the
    // gateway refuses its people as soon as the authorizer's cache has let go of them).
    const context = exportContext(
      { ...createServiceContext(config()), now: later },
      new LocalExportArchives(localStack().dataDir),
      () => {
        throw new Error('a refused export is never dispatched');
      },
    );
    await expect(
      startExportNow(context, {
        principal: {
          kind: 'user',
          actorId: leaving.user('owner').identityId,
          tenantId: leaving.tenantId,
          roles: ['owner'],
        },
        requestId: 'after-purge',
        idempotencyKey: undefined,
        respond: () => ({ statusCode: 202, headers: {}, body: '' }),
      }),
    ).rejects.toMatchObject({ code: 'tenant-not-active', extensions: { status: 'purged' } });
  });
});

describe('[DAT-1] the export worker as AWS runs it', () => {
  it('loads as a bundle with only its environment, and leaves records that are not export inserts alone', async () => {
    const bundled = await bundleFunction('functions/export-worker/handler.ts');
    try {
      const record = (eventName: string, pk: string, sk: string) => ({
        eventName,
        dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } }, SequenceNumber: '1' },
      });
      const { result, error } = await bundled.invoke(
        {
          Records: [
            record('INSERT', 'acme#invoice', 'inv_01JDZ8Q5N2X3Y4Z5A6B7C8D9EF'),
            record('MODIFY', 'acme#export', 'exp_01JDZ8Q5N2X3Y4Z5A6B7C8D9EF'),
            record('REMOVE', 'acme#export', 'exp_01JDZ8Q5N2X3Y4Z5A6B7C8D9EF'),
          ],
        },
        {
          STRONGROOM_MODE: 'aws',
          STRONGROOM_STAGE: 'dev',
          AWS_REGION: 'eu-central-1',
          EXPORTS_BUCKET: 'strongroom-dev-exports-111122223333-eu-central-1',
          TENANT_ACCESS_ROLE_ARN: 'arn:aws:iam::111122223333:role/tenant-access',
          AUDIT_SIGNING_KEYS: JSON.stringify([
            {
              keyArn: 'arn:aws:kms:eu-central-1:111122223333:key/11111111-2222-3333-4444-555555555555',
              keyName: 'strongroom.dev/dev/audit-signing/1',
            },
          ]),
          STRONGROOM_LOG_LEVEL: 'SILENT',
        },
      );
      expect(error).toBeUndefined();
      expect(result).toEqual({ batchItemFailures: [] });
    } finally {
      await bundled.remove();
    }
  });
});
