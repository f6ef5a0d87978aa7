/**
 * POST /invoices through the local gateway (authorizer, middy stack, validation, one
 * transaction, audit fold) against the raw DynamoDB Local transaction the same request
 * performs (the same four items, no HTTP, no auth, no fold), in the same run.
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { itemDigest } from '#shared/audit/entry';
import { newId } from '#shared/domain/ids';
import { draftInvoice } from '#shared/domain/invoices';
import type { CreateInvoiceBody } from '#shared/http/schemas/invoices';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { IdempotencyStore, requestFingerprint } from '#shared/store/idempotency';
import { InvoiceStore } from '#shared/store/invoices';
import { type Benchmark, type BenchRow, percentile } from './harness';
import { load, startBenchApi } from './local-api';

const body: CreateInvoiceBody = {
  currency: 'EUR',
  reference: 'PO-2026-117',
  lines: [
    { description: 'Advisory', quantity: '12.5', unitPrice: 15_000, vatRate: 1900 },
    { description: 'Travel', quantity: '1', unitPrice: 23_999, vatRate: 700 },
  ],
};

const sequentialRequests = 300;
const concurrentRequests = 1000;
const concurrency = 8;

export const invoicesBenchmark: Benchmark = {
  name: 'POST /invoices',
  async run(): Promise<BenchRow[]> {
    const api = await startBenchApi();
    try {
      const token = await api.tokenFor('accountant');
      const clients = new DataClients(api.config);
      const auditLog = new AuditLog(api.config.stage);
      const invoices = new InvoiceStore(api.config.stage);
      const idempotency = new IdempotencyStore(api.config.stage);
      const rawClient = clients.forTenant('bench-raw');

      const viaApi = async (index: number) => {
        const response = await fetch(`${api.gateway.url}/invoices`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'idempotency-key': `bench-${index}-${Math.random()}`,
          },
          body: JSON.stringify(body),
        });
        if (response.status !== 201) throw new Error(`POST /invoices answered ${response.status}`);
        await response.arrayBuffer();
      };
      const rawTransaction = async (index: number) => {
        const now = new Date();
        const invoice = draftInvoice(body, newId('inv'), 'usr_bench', now);
        const entry = {
          v: 1 as const,
          id: newId('aud'),
          tenantId: 'bench-raw',
          time: now.toISOString(),
          actor: { id: 'usr_bench', kind: 'user' as const },
          action: 'invoice.create',
          target: { type: 'invoice', id: invoice.id },
          outcome: 'success' as const,
          requestId: `raw-${index}`,
          itemDigest: itemDigest(invoice),
        };
        const record = {
          fingerprint: requestFingerprint('usr_bench', 'createInvoice', body),
          response: { statusCode: 201, headers: {}, body: JSON.stringify(invoice) },
        };
        await rawClient.send(
          new TransactWriteCommand({
            TransactItems: [
              invoices.createWrite('bench-raw', invoice),
              ...auditLog.pendingEntryWrites(entry),
              idempotency.recordWrite('bench-raw', `raw-${index}-${Math.random()}`, record, now),
            ],
          }),
        );
      };

      // Warm both paths (JIT, connections, DynamoDB Local's first-use costs).
      await load(50, 1, viaApi);
      await load(50, 1, rawTransaction);

      const apiSequential = await load(sequentialRequests, 1, viaApi);
      const rawSequential = await load(sequentialRequests, 1, rawTransaction);
      const apiConcurrent = await load(concurrentRequests, concurrency, viaApi);
      const rawConcurrent = await load(concurrentRequests, concurrency, rawTransaction);

      const rows: BenchRow[] = [];
      for (const p of [50, 99]) {
        rows.push({
          name: `POST /invoices p${p} latency, 1 in flight`,
          value: percentile(apiSequential.latencies, p),
          unit: 'ms',
          baseline: { name: `raw transaction p${p}`, value: percentile(rawSequential.latencies, p) },
          higherIsBetter: false,
        });
      }
      rows.push({
        name: `POST /invoices throughput, ${concurrency} in flight`,
        value: concurrentRequests / apiConcurrent.seconds,
        unit: 'req/s',
        baseline: { name: 'raw transaction', value: concurrentRequests / rawConcurrent.seconds },
        higherIsBetter: true,
      });
      return rows;
    } finally {
      await api.stop();
    }
  },
};
