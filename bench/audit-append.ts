/**
 * Audit appends on one tenant (issue 5): committed entries per second at 1, 8 and 32
 * concurrent writers, each writer's transaction followed by its cooperative fold, with
 * 1 writer as the baseline (target: 32 writers ≥ 1 writer, since more writers should
 * mean bigger folds, not more conflicts). Also the latency a writer pays for waiting for
 * its own fold, against returning right after its transaction (the design's trade-off).
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry } from '#shared/audit/entry';
import { newId } from '#shared/domain/ids';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { IdempotencyStore } from '#shared/store/idempotency';
import { MutationWriter } from '#shared/store/mutation';
import { type Benchmark, type BenchRow, percentile } from './harness';
import { load, startBenchApi } from './local-api';

const appendsPerLevel = 320;
const latencySamples = 200;

function entryFor(tenantId: string, index: number): AuditEntry {
  const now = new Date();
  return {
    v: 1,
    id: newId('aud', now.getTime()),
    tenantId,
    time: now.toISOString(),
    actor: { id: 'usr_bench', kind: 'system' },
    action: 'bench.append',
    target: { type: 'bench', id: String(index) },
    outcome: 'success',
    requestId: `bench-${index}`,
  };
}

export const auditAppendBenchmark: Benchmark = {
  name: 'audit appends',
  async run(): Promise<BenchRow[]> {
    const api = await startBenchApi();
    try {
      const clients = new DataClients(api.config);
      const auditLog = new AuditLog(api.config.stage);
      const writer = new MutationWriter(auditLog, new IdempotencyStore(api.config.stage));
      const append = (tenantId: string) => async (index: number) => {
        await writer.commit(clients.forTenant(tenantId), {
          tenantId,
          writes: [],
          entry: entryFor(tenantId, index),
          now: new Date(),
        });
      };

      await load(50, 4, append('bench-warmup'));
      const rates = new Map<number, number>();
      for (const writers of [1, 8, 32]) {
        const tenantId = `bench-writers-${writers}`;
        const run = await load(appendsPerLevel, writers, append(tenantId));
        const head = await auditLog.head(clients.forTenant(tenantId), tenantId);
        if (head.size !== appendsPerLevel)
          throw new Error(`log of ${tenantId} has ${head.size} entries, expected ${appendsPerLevel}`);
        rates.set(writers, appendsPerLevel / run.seconds);
      }

      // One writer at a time: the transaction alone, then transaction plus fold.
      const tenantId = 'bench-latency';
      const client = clients.forTenant(tenantId);
      const transactionOnly = await load(latencySamples, 1, async (index) => {
        await client.send(
          new TransactWriteCommand({ TransactItems: auditLog.pendingEntryWrites(entryFor(tenantId, index)) }),
        );
      });
      await auditLog.fold(client, tenantId);
      const withFold = await load(latencySamples, 1, append(tenantId));

      const single = rates.get(1) ?? Number.NaN;
      const rows: BenchRow[] = [1, 8, 32].map((writers) => ({
        name: `audit appends/s, ${writers} concurrent writer${writers === 1 ? '' : 's'} on one tenant`,
        value: rates.get(writers) ?? Number.NaN,
        unit: 'appends/s',
        baseline: { name: '1 writer', value: single },
        higherIsBetter: true,
        ...(writers === 32 ? { target: '32 writers ≥ 1 writer', met: (rates.get(32) ?? 0) >= single } : {}),
      }));
      rows.push({
        name: 'append p50 latency, waiting for its own fold',
        value: percentile(withFold.latencies, 50),
        unit: 'ms',
        baseline: {
          name: 'transaction only (return at once)',
          value: percentile(transactionOnly.latencies, 50),
        },
        higherIsBetter: false,
      });
      return rows;
    } finally {
      await api.stop();
    }
  },
};
