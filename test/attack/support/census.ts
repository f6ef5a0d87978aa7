/**
 * What a tenant has in the store, counted straight from DynamoDB Local (never through the
 * API under attack): items per partition of every table, and the audit head. Two censuses
 * taken around requests that were all refused must be equal; around accepted writes, the
 * audit entries must grow by exactly the number of changes (AUD-1: no change without its
 * entry, no entry without its change).
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { inProcessExportsSettled } from '#shared/services/exports';
import { countPartitionItems, type DataClients } from '#shared/store/dynamo';
import { type TableId, tableIds, tableName } from '#shared/store/tables';

/** Every partition a tenant's items live in, by table (the `<tenantId>#<suffix>` keys of shared/store). */
export const tenantPartitions: Readonly<Record<TableId, readonly string[]>> = {
  data: ['invoice', 'invoice-sequence', 'counterparty', 'payment', 'settings', 'export'],
  members: ['member', 'apikey', 'apikey-failures', 'supportgrant'],
  audit: ['entry', 'entryseq', 'node', 'checkpoint'],
  auditHead: ['head', 'pending'],
  idempotency: ['idempotency'],
  tenants: ['tenant'],
};

export type Census = Readonly<Record<string, number>>;

/** Items per `<table>/<partition>` of one tenant, plus the head's size and version. */
export async function tenantCensus(clients: DataClients, stage: string, tenantId: string): Promise<Census> {
  // A quiet store: exports the gateway started in this process have finished (their worker
  // writes its own entry after the 202, DAT-1).
  await inProcessExportsSettled();
  const counts: Record<string, number> = {};
  await Promise.all(
    tableIds.flatMap((table) =>
      tenantPartitions[table].map(async (suffix) => {
        counts[`${table}/${suffix}`] = await countPartitionItems(
          clients.platform(),
          tableName(stage, table),
          `${tenantId}#${suffix}`,
        );
      }),
    ),
  );
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** The partitions whose counts differ, as `table/partition: before → after`. */
export function censusDiff(before: Census, after: Census): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names]
    .filter((name) => before[name] !== after[name])
    .map((name) => `${name}: ${before[name] ?? 0} → ${after[name] ?? 0}`);
}

/**
 * Items per tenant and table across the whole store (a Scan of every table, for the
 * test's eyes only), so that a scenario can prove that tenants it did not write to are
 * exactly as they were, whatever partition a stray write might have used.
 */
export async function storeCensus(clients: DataClients, stage: string): Promise<Map<string, string>> {
  await inProcessExportsSettled();
  const perTenant = new Map<string, Record<string, number>>();
  for (const table of tableIds) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await clients.platform().send(
        new ScanCommand({
          TableName: tableName(stage, table),
          ProjectionExpression: 'pk',
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const pk = String(item.pk);
        const tenant = pk.slice(0, Math.max(0, pk.indexOf('#')));
        const partition = `${table}/${pk.slice(tenant.length + 1)}`;
        const counts = perTenant.get(tenant) ?? {};
        counts[partition] = (counts[partition] ?? 0) + 1;
        perTenant.set(tenant, counts);
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return new Map(
    [...perTenant].map(([tenant, counts]) => [
      tenant,
      JSON.stringify(Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)))),
    ]),
  );
}

/** Tenants whose items changed between two store censuses, except the ones expected to. */
export function changedTenants(
  before: Map<string, string>,
  after: Map<string, string>,
  expected: (tenantId: string) => boolean,
): string[] {
  const tenants = new Set([...before.keys(), ...after.keys()]);
  return [...tenants].filter((tenant) => !expected(tenant) && before.get(tenant) !== after.get(tenant));
}

/** The audit entries of a tenant written since `since` (folded or not), to name what a stray write was. */
export async function entriesSince(
  clients: DataClients,
  stage: string,
  tenantId: string,
  since: Date,
): Promise<string[]> {
  const found: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await clients.platform().send(
      new QueryCommand({
        TableName: tableName(stage, 'audit'),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${tenantId}#entry` },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const entry = item.entry as {
        time: string;
        action?: string;
        actor?: { kind?: string };
        target?: { type?: string };
        requestId?: string;
        outcome?: string;
      };
      if (Date.parse(entry.time) < since.getTime()) continue;
      found.push(
        `${entry.action} by ${entry.actor?.kind} on ${entry.target?.type} (${entry.outcome}, request ${entry.requestId})`,
      );
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return found;
}
