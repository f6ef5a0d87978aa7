import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyService } from '#shared/crypto/key-service';
import { SealedItemError } from '#shared/crypto/seal';
import { ItemSealer, SealedExpressionError } from '#shared/store/item-sealing';
import { tableDefinitionsByName } from '#shared/store/tenant-guard';
import { TenantKeyring, TenantNotProvisionedError } from '#shared/store/tenant-keyring';
import type { TenantRecord, TenantRegistry } from '#shared/store/tenants';

/** The registry's contract in memory: get, conditional create and replace. */
function memoryRegistry(): TenantRegistry & { reads: number } {
  const records = new Map<string, TenantRecord>();
  const registry = {
    reads: 0,
    async get(_client: unknown, tenantId: string) {
      registry.reads++;
      return records.get(tenantId);
    },
    async create(_client: unknown, record: TenantRecord) {
      if (records.has(record.tenantId)) return false;
      records.set(record.tenantId, record);
      return true;
    },
    async replace(_client: unknown, record: TenantRecord) {
      records.set(record.tenantId, record);
    },
  };
  return registry as unknown as TenantRegistry & { reads: number };
}

const data = 'strongroom-unit-data';
const idempotency = 'strongroom-unit-idempotency';
const audit = 'strongroom-unit-audit';

describe('[ENC-3] item sealing on the data clients', () => {
  let dataDir: string;
  let clock = 0;
  let registry: ReturnType<typeof memoryRegistry>;
  let keyring: TenantKeyring;
  let sealer: ItemSealer;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'strongroom-sealing-'));
    registry = memoryRegistry();
    keyring = new TenantKeyring(
      new LocalKeyService(dataDir, () => ({}) as never),
      registry,
      () => ({}) as never,
      {
        now: () => clock,
        ttlMilliseconds: 60_000,
        maxKeys: 3,
      },
    );
    sealer = new ItemSealer(tableDefinitionsByName('unit'), () => keyring);
    await keyring.provision('t1');
    await keyring.provision('t2');
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  const invoiceItem = {
    pk: 't1#invoice',
    sk: 'inv_01',
    gsi1pk: 't1#invoice-status#draft',
    gsi1sk: 'inv_01',
    status: 'draft',
    version: 2,
    invoice: { id: 'inv_01', lines: [{ description: 'Advisory for Erika Mustermann' }], version: 2 },
  };

  it('keeps keys, index keys and declared metadata plain and seals the rest into one attribute', async () => {
    const stored = await sealer.seal(data, invoiceItem);
    expect(Object.keys(stored).sort()).toEqual([
      'gsi1pk',
      'gsi1sk',
      'pk',
      'sealed',
      'sk',
      'status',
      'version',
    ]);
    expect(JSON.stringify(stored)).not.toContain('Mustermann');
    expect(await sealer.open(data, stored)).toEqual(invoiceItem);
  });

  it('seals idempotency records whole except the TTL attribute', async () => {
    const record = {
      pk: 't1#idempotency',
      sk: 'key-1',
      fingerprint: 'abc',
      response: { statusCode: 201, body: '{"iban":"DE89370400440532013000"}' },
      expiresAt: 1_900_000_000,
    };
    const stored = await sealer.seal(idempotency, record);
    expect(Object.keys(stored).sort()).toEqual(['expiresAt', 'pk', 'sealed', 'sk']);
    expect(await sealer.open(idempotency, stored)).toEqual(record);
  });

  it('leaves audit entries as they are (unsealed by design, DAT-3)', async () => {
    const entry = { pk: 't1#entry', sk: 'aud_1', entry: { action: 'invoice.create' } };
    expect(await sealer.seal(audit, entry)).toBe(entry);
  });

  it('refuses a sealed payload moved to another tenant, item or table with a named error', async () => {
    const stored = await sealer.seal(data, invoiceItem);
    const cases = [
      [{ ...stored, pk: 't2#invoice' }, data, 'sealed-item-wrong-tenant'],
      [{ ...stored, sk: 'inv_02' }, data, 'sealed-item-wrong-item'],
      [{ pk: 't1#invoice', sk: 'inv_01', sealed: stored.sealed }, idempotency, 'sealed-item-wrong-table'],
    ] as const;
    for (const [moved, table, code] of cases) {
      const error = await sealer.open(table, moved).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SealedItemError);
      expect((error as SealedItemError).code).toBe(code);
    }
  });

  it('refuses attributes written around the seal', async () => {
    const stored = await sealer.seal(data, invoiceItem);
    const error = await sealer
      .open(data, { ...stored, iban: 'DE89370400440532013000' })
      .catch((e: unknown) => e);
    expect((error as SealedItemError).code).toBe('sealed-item-unsealed-attributes');
    const plainOnly = await sealer.open(data, { pk: 't1#invoice-sequence', sk: 'sequence', sequence: 4 });
    expect(plainOnly).toEqual({ pk: 't1#invoice-sequence', sk: 'sequence', sequence: 4 });
  });

  it('refuses expressions that name sealed attributes (they would never match, or write in the clear)', () => {
    expect(() =>
      sealer.checkExpressions(data, {
        ConditionExpression: 'invoice.version = :expected',
      }),
    ).toThrow(SealedExpressionError);
    expect(() =>
      sealer.checkExpressions(data, {
        UpdateExpression: 'SET #n = :name',
        ExpressionAttributeNames: { '#n': 'name' },
      }),
    ).toThrow(/names "name", which is sealed/);
    expect(() =>
      sealer.checkExpressions(data, {
        ConditionExpression: 'attribute_exists(pk) AND #version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
      }),
    ).not.toThrow();
    expect(() => sealer.checkExpressions(audit, { ConditionExpression: 'entry.x = :y' })).not.toThrow();
  });

  it('opens items sealed under an older key version after rotation, and seals new ones under the new version', async () => {
    const before = await sealer.seal(data, invoiceItem);
    await keyring.rotate('t1');
    const after = await sealer.seal(data, invoiceItem);
    expect((before.sealed as Uint8Array)[4]).toBe(1);
    expect((after.sealed as Uint8Array)[4]).toBe(2);
    expect(await sealer.open(data, before)).toEqual(invoiceItem);
    expect(await sealer.open(data, after)).toEqual(invoiceItem);
  });

  it('keeps unwrapped keys for minutes in a bounded LRU cache', async () => {
    keyring.forget('t1');
    keyring.forget('t2');
    await keyring.currentKey('t1');
    const reads = registry.reads;
    await keyring.currentKey('t1');
    expect(registry.reads).toBe(reads);
    await keyring.provision('t3');
    await keyring.provision('t4');
    await Promise.all(['t2', 't3', 't4'].map((tenant) => keyring.currentKey(tenant)));
    expect(keyring.cachedKeys).toBeLessThanOrEqual(3);
    clock += 61_000;
    await keyring.currentKey('t1');
    expect(registry.reads).toBeGreaterThan(reads);
  });

  it('names a tenant without a registry record (AWS: only onboarding creates keys)', async () => {
    const error = await sealer.seal(data, { ...invoiceItem, pk: 'nobody#invoice' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TenantNotProvisionedError);
  });

  it('locally, gives a tenant without a record its keys on first use', async () => {
    const local = new TenantKeyring(
      new LocalKeyService(dataDir, () => ({}) as never),
      registry,
      () => ({}) as never,
      {
        provisionMissing: true,
      },
    );
    const key = await local.currentKey('seeded');
    expect(key.version).toBe(1);
    expect((await local.record('seeded')).status).toBe('active');
  });
});
