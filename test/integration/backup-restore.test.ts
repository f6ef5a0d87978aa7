/**
 * Local backups and restore tests (BAK-2, BAK-3) and crypto-shredding (DAT-2): a snapshot
 * of every table restores into a separate DynamoDB Local and validates against the audit
 * log; a changed byte of the snapshot, a changed audit entry or an item replaced by
 * another validly sealed state (re-encrypted with the right keys) fails and names what;
 * after one tenant is terminated and purged, the pre-purge snapshot no longer opens for
 * it, and still does for the other.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backupKey,
  decodeSnapshot,
  encodeSnapshot,
  restoreSnapshot,
  restoreTest,
  SnapshotError,
  writeSnapshot,
} from '#infra/local/snapshot';
import { SealedItemError } from '#shared/crypto/seal';
import { createCheckpointSigner } from '#shared/crypto/signing';
import { signCheckpoint } from '#shared/services/audit';
import { createServiceContext } from '#shared/services/context';
import { purgeTenant } from '#shared/services/lifecycle';
import { DataClients } from '#shared/store/dynamo';
import { ItemSealer } from '#shared/store/item-sealing';
import { tableName } from '#shared/store/tables';
import { tableDefinitionsByName } from '#shared/store/tenant-guard';
import { startTestGateway, type TestGateway } from './support/gateway';
import { localRuntimeConfig, localStack } from './support/local-stack';
import { createTestTenant, type TestTenant } from './support/test-tenant';

let gateway: TestGateway;
let a: TestTenant;
let b: TestTenant;
let snapshot: string;
const invoices: Record<string, string> = {};
const base = () => {
  const config = localRuntimeConfig();
  return {
    region: config.region,
    userPoolId: config.userPoolId,
    userPoolClientId: config.userPoolClientId,
    allowedOrigins: config.allowedOrigins,
  };
};

async function post(tenant: TestTenant, path: string, body: unknown): Promise<string> {
  const response = await gateway.call(path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${tenant.user('accountant').token}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return String(((await response.json()) as { id: string }).id);
}

beforeAll(async () => {
  gateway = await startTestGateway();
  [a, b] = await Promise.all([
    createTestTenant('bk-a', ['owner', 'accountant']),
    createTestTenant('bk-b', ['owner', 'accountant']),
  ]);
  for (const tenant of [a, b]) {
    invoices[tenant.tenantId] = await post(tenant, '/invoices', {
      currency: 'EUR',
      lines: [
        { description: `Work for ${tenant.tenantId}`, quantity: '2', unitPrice: 10_000, vatRate: 1900 },
      ],
    });
    await post(tenant, '/counterparties', {
      kind: 'supplier',
      name: `Supplier of ${tenant.tenantId}`,
      address: { lines: ['Rue de la Loi 1'], city: 'Bruxelles', postalCode: '1000', country: 'BE' },
      iban: 'BE68539007547034',
    });
  }
  const config = localRuntimeConfig();
  const context = createServiceContext(config);
  const signer = createCheckpointSigner(config);
  for (const tenant of [a, b]) await signCheckpoint(context, signer, tenant.tenantId);
  const raw = DataClients.rawClient(config);
  try {
    ({ file: snapshot } = await writeSnapshot(raw, config.stage, localStack().dataDir));
  } finally {
    raw.destroy();
  }
}, 180_000);

afterAll(async () => {
  await gateway?.close();
});

const tenants = () => [a.tenantId, b.tenantId];

describe('[BAK-2][BAK-3] local backup and restore test', () => {
  it('restores the snapshot into a separate store and validates it against the audit log', async () => {
    const result = await restoreTest(snapshot, localStack().dataDir, base(), { tenants: tenants() });
    expect(result.failures).toEqual([]);
    expect(result.ok).toBe(true);
    for (const tenant of result.tenants) {
      expect(tenant.verifiedEntries).toBeGreaterThanOrEqual(2);
      expect(tenant.checkedItems).toBeGreaterThanOrEqual(2);
    }
    expect(result.header.tables.data).toBeGreaterThan(0);
    // The snapshot is written owner-only and holds no plaintext of the sealed items.
    expect(JSON.stringify(await readFile(snapshot, 'latin1'))).not.toContain('BE68539007547034');
  });

  it('fails on one changed byte of the snapshot and names the file', async () => {
    const bytes = await readFile(snapshot);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0x01;
    const tampered = `${snapshot}.byte`;
    await writeFile(tampered, bytes, { mode: 0o600 });
    const error = await restoreTest(tampered, localStack().dataDir, base(), { tenants: tenants() }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as SnapshotError).code).toBe('snapshot-not-authentic');
    expect((error as Error).message).toContain(tampered);
  });

  async function rewritten(
    name: string,
    change: (items: ReturnType<typeof decodeSnapshot>['items']) => void,
  ) {
    const key = await backupKey(localStack().dataDir, false);
    const { header, items } = decodeSnapshot(await readFile(snapshot), key);
    change(items);
    const file = `${snapshot}.${name}`;
    await writeFile(file, encodeSnapshot(header, items, key), { mode: 0o600 });
    return file;
  }

  it('fails on a changed audit entry (snapshot re-encrypted with the right key) and names its position', async () => {
    const file = await rewritten('entry', (items) => {
      const entry = items.find((each) => each.table === 'audit' && each.item.pk?.S === `${a.tenantId}#entry`);
      if (!entry) throw new Error('no audit entry of tenant a in the snapshot');
      const value = unmarshall(entry.item);
      value.entry = { ...value.entry, action: 'invoice.void' };
      entry.item.entry = marshall(value, { removeUndefinedValues: true }).entry as never;
    });
    const result = await restoreTest(file, localStack().dataDir, base(), { tenants: tenants() });
    expect(result.ok).toBe(false);
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]).toMatchObject({ tenantId: a.tenantId, kind: 'audit-log' });
    expect(result.failures[0]?.message).toMatch(/at position \d+/);
  });

  it('fails on an item replaced by another validly sealed state and names the item and the entry', async () => {
    const clients = new DataClients(localRuntimeConfig());
    const stage = localStack().stage;
    const sealer = new ItemSealer(tableDefinitionsByName(stage), () => clients.keyring);
    const pk = `${a.tenantId}#invoice`;
    const sk = invoices[a.tenantId] ?? '';
    const current = await clients
      .forTenant(a.tenantId)
      .send(new GetCommand({ TableName: tableName(stage, 'data'), Key: { pk, sk }, ConsistentRead: true }));
    const forged = { ...(current.Item as Record<string, unknown>) };
    forged.invoice = { ...(forged.invoice as Record<string, unknown>), totalGross: 1 };
    // Sealed with the tenant's own data key for exactly this item: it authenticates.
    const sealed = marshall(await sealer.seal(tableName(stage, 'data'), forged), {
      removeUndefinedValues: true,
    });
    const file = await rewritten('item', (items) => {
      const item = items.find(
        (each) => each.table === 'data' && each.item.pk?.S === pk && each.item.sk?.S === sk,
      );
      if (!item) throw new Error('no invoice of tenant a in the snapshot');
      item.item.sealed = sealed.sealed as never;
    });
    const result = await restoreTest(file, localStack().dataDir, base(), { tenants: tenants() });
    expect(result.ok).toBe(false);
    expect(result.failures).toEqual([
      expect.objectContaining({
        tenantId: a.tenantId,
        kind: 'item-digest',
        message: expect.stringContaining(`${pk}/${sk}`),
      }),
    ]);
    expect(result.failures[0]?.message).toMatch(/entry aud_/);
  });
});

describe('[DAT-2][ENC-3] crypto-shredding: a pre-purge snapshot after the purge', () => {
  it('cannot be read for the purged tenant, and can for the other', async () => {
    const owner = await gateway.call('/termination', {
      method: 'POST',
      headers: { authorization: `Bearer ${a.user('owner').token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ confirmTenantId: a.tenantId }),
    });
    expect(owner.status).toBe(202);
    const { exportableUntil } = (await owner.json()) as { exportableUntil: string };
    const config = localRuntimeConfig();
    const context = { ...createServiceContext(config), now: () => new Date(Date.parse(exportableUntil) + 1) };
    await purgeTenant(context, a.tenantId, { signer: createCheckpointSigner(config) });

    const restored = await restoreSnapshot(snapshot, localStack().dataDir, base());
    try {
      const clients = new DataClients(restored.config, { keyring: { provisionMissing: false } });
      const read = (tenantId: string) =>
        clients.forTenant(tenantId).send(
          new GetCommand({
            TableName: tableName(restored.config.stage, 'data'),
            Key: { pk: `${tenantId}#invoice`, sk: invoices[tenantId] },
            ConsistentRead: true,
          }),
        );
      const error = await read(a.tenantId).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SealedItemError);
      expect((error as SealedItemError).code).toBe('sealed-item-key-unavailable');
      expect((error as Error).message).toContain(a.tenantId);
      const other = await read(b.tenantId);
      const invoice = other.Item?.invoice as { lines: { description: string }[] } | undefined;
      expect(invoice?.lines[0]?.description).toBe(`Work for ${b.tenantId}`);
    } finally {
      await restored.stop();
    }

    // The restore test still passes: the purged tenant's log verifies, its items are shredded by design.
    const result = await restoreTest(snapshot, localStack().dataDir, base(), { tenants: tenants() });
    expect(result.failures).toEqual([]);
    expect(result.tenants.find((each) => each.tenantId === a.tenantId)?.keyUnavailable).toBe(true);
    expect(result.tenants.find((each) => each.tenantId === b.tenantId)?.checkedItems).toBeGreaterThanOrEqual(
      2,
    );
    // Two restores, each into a DynamoDB Local of its own: a JVM start and every table copied.
  }, 180_000);
});
