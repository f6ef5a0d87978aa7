/**
 * Sealed items (ENC-3) end to end: an invoice, a counterparty and an idempotency record
 * created through the gateway are stored with no plaintext name, IBAN or line description
 * (read raw, past the sealing clients), and a sealed payload planted under another
 * tenant's key, another item's key or in another table does not open: the store names why.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CounterpartyStore } from '#shared/store/counterparties';
import { DataClients } from '#shared/store/dynamo';
import { InvoiceStore } from '#shared/store/invoices';
import { tableName } from '#shared/store/tables';
import { startTestGateway, type TestGateway } from './support/gateway';
import { demoUser, localRuntimeConfig, localStack } from './support/local-stack';
import { openError, rawText } from './support/sealed-items';
import { tokenFor } from './support/tokens';

let gateway: TestGateway;
let clients: DataClients;
let raw: ReturnType<typeof DataClients.rawClient>;
let accountant: string;
const stage = () => localStack().stage;
const planted: { table: string; pk: string; sk: string }[] = [];

const counterpartyBody = {
  kind: 'supplier',
  name: 'Zebrafisch Beratung GmbH',
  address: { lines: ['Hauptstraße 1'], city: 'Berlin', postalCode: '10115', country: 'DE' },
  vatId: 'DE 136 695 976',
  iban: 'DE89 3704 0044 0532 0130 00',
};
const iban = 'DE89370400440532013000';
const description = 'Quarterly advisory for the Zebrafisch account';

beforeAll(async () => {
  gateway = await startTestGateway();
  clients = new DataClients(localRuntimeConfig());
  raw = DataClients.rawClient(localRuntimeConfig());
  accountant = await tokenFor(demoUser('accountant').email);
});

afterAll(async () => {
  for (const { table, pk, sk } of planted) {
    await raw.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: sk } } }));
  }
  raw?.destroy();
  await gateway?.close();
});

async function post(path: string, body: unknown, idempotencyKey: string): Promise<Record<string, unknown>> {
  const response = await gateway.call(path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accountant}`,
      'content-type': 'application/json',
      'idempotency-key': idempotencyKey,
    },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as Record<string, unknown>;
}

async function rawItem(table: 'data' | 'idempotency', pk: string, sk: string) {
  const result = await raw.send(
    new GetItemCommand({
      TableName: tableName(stage(), table),
      Key: { pk: { S: pk }, sk: { S: sk } },
      ConsistentRead: true,
    }),
  );
  if (!result.Item) throw new Error(`no item ${pk}/${sk} in ${table}`);
  return result.Item;
}

describe('[ENC-3] tenant items are sealed at rest', () => {
  let invoiceId: string;
  let counterpartyId: string;
  const invoiceKey = `seal-invoice-${Date.now()}`;
  const counterpartyKey = `seal-counterparty-${Date.now()}`;

  beforeAll(async () => {
    const counterparty = await post('/counterparties', counterpartyBody, counterpartyKey);
    counterpartyId = String(counterparty.id);
    const invoice = await post(
      '/invoices',
      {
        currency: 'EUR',
        counterpartyId,
        lines: [{ description, quantity: '1', unitPrice: 120_000, vatRate: 1900 }],
      },
      invoiceKey,
    );
    invoiceId = String(invoice.id);
  });

  it('stores an invoice as keys, index keys, status, version and one sealed payload', async () => {
    const item = await rawItem('data', 'demo#invoice', invoiceId);
    expect(Object.keys(item).sort()).toEqual(
      ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'pk', 'sealed', 'sk', 'status', 'version'].sort(),
    );
    expect(item.sealed?.B).toBeInstanceOf(Uint8Array);
    const text = rawText(item);
    expect(text).not.toContain('Zebrafisch');
    expect(text).not.toContain('advisory');
    // The sealing clients open it as the store wrote it.
    const invoice = await new InvoiceStore(stage()).get(clients.forTenant('demo'), 'demo', invoiceId);
    expect(invoice?.lines[0]?.description).toBe(description);
  });

  it('stores a counterparty with no name, IBAN or VAT id in the clear', async () => {
    const item = await rawItem('data', 'demo#counterparty', counterpartyId);
    expect(Object.keys(item).sort()).toEqual(['pk', 'sealed', 'sk', 'version']);
    const text = rawText(item);
    for (const secret of [iban, 'DE89 3704', 'Zebrafisch', 'Hauptstraße', '136695976']) {
      expect(text, secret).not.toContain(secret);
    }
    const counterparty = await new CounterpartyStore(stage()).get(
      clients.forTenant('demo'),
      'demo',
      counterpartyId,
    );
    expect(counterparty?.iban).toBe(iban);
  });

  it('seals idempotency records, whose stored responses carry the same personal data', async () => {
    for (const key of [invoiceKey, counterpartyKey]) {
      const item = await rawItem('idempotency', 'demo#idempotency', key);
      expect(Object.keys(item).sort()).toEqual(['expiresAt', 'pk', 'sealed', 'sk']);
      const text = rawText(item);
      expect(text).not.toContain('Zebrafisch');
      expect(text).not.toContain(iban);
    }
  });

  describe('a sealed payload moved elsewhere does not open, and the error says why', () => {
    async function plant(
      table: 'data' | 'idempotency',
      pk: string,
      sk: string,
      from: Record<string, unknown>,
    ) {
      const name = tableName(stage(), table);
      planted.push({ table: name, pk, sk });
      await raw.send(
        new PutItemCommand({
          TableName: name,
          Item: { ...(from as Record<string, AttributeValue>), pk: { S: pk }, sk: { S: sk } },
        }),
      );
    }

    it("to another tenant's item: sealed-item-wrong-tenant", async () => {
      const original = await rawItem('data', 'demo#counterparty', counterpartyId);
      await plant('data', 'demo-two#counterparty', counterpartyId, original);
      const error = await openError(() =>
        new CounterpartyStore(stage()).get(clients.forTenant('demo-two'), 'demo-two', counterpartyId),
      );
      expect(error.code).toBe('sealed-item-wrong-tenant');
      expect(error.message).toContain('another tenant');
      expect(error.message).not.toContain('Zebrafisch');
      // Through the API the other tenant gets a problem without internals, never the data.
      const response = await gateway.call(`/counterparties/${counterpartyId}`, {
        headers: { authorization: `Bearer ${await tokenFor(demoUser('accountant', 'demo-two').email)}` },
      });
      expect(response.status).toBe(500);
      const body = await response.text();
      expect(body).not.toContain('Zebrafisch');
      expect(body).not.toContain(iban);
    });

    it('to another item of the same tenant: sealed-item-wrong-item', async () => {
      const original = await rawItem('data', 'demo#counterparty', counterpartyId);
      const otherId = `${counterpartyId.slice(0, -4)}ZZZZ`;
      await plant('data', 'demo#counterparty', otherId, original);
      const error = await openError(() =>
        new CounterpartyStore(stage()).get(clients.forTenant('demo'), 'demo', otherId),
      );
      expect(error.code).toBe('sealed-item-wrong-item');
    });

    it('to another table: sealed-item-wrong-table', async () => {
      const original = await rawItem('data', 'demo#counterparty', counterpartyId);
      await plant('idempotency', 'demo#counterparty', counterpartyId, { sealed: original.sealed });
      const error = await openError(() =>
        clients.forTenant('demo').send(
          new GetCommand({
            TableName: tableName(stage(), 'idempotency'),
            Key: { pk: 'demo#counterparty', sk: counterpartyId },
            ConsistentRead: true,
          }),
        ),
      );
      expect(error.code).toBe('sealed-item-wrong-table');
    });

    it('with one byte changed: sealed-item-tampered', async () => {
      const original = await rawItem('data', 'demo#counterparty', counterpartyId);
      const bytes = Buffer.from(original.sealed?.B ?? new Uint8Array());
      bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0x01;
      // Sealed for exactly this item and key, then one byte flipped: only the GCM tag can tell.
      await raw.send(
        new PutItemCommand({
          TableName: tableName(stage(), 'data'),
          Item: { ...original, sealed: { B: bytes } },
        }),
      );
      const error = await openError(() =>
        new CounterpartyStore(stage()).get(clients.forTenant('demo'), 'demo', counterpartyId),
      );
      expect(error.code).toBe('sealed-item-tampered');
      // Put the original back for the other tests of this run.
      await raw.send(new PutItemCommand({ TableName: tableName(stage(), 'data'), Item: original }));
    });
  });
});
