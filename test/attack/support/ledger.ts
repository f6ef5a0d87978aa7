/**
 * The state checks behind "nothing is half-written" and "the audit log verifies", read
 * straight from DynamoDB Local:
 *
 * - the log: whatever is pending is folded first (as the stream poller would), then every
 *   entry has exactly one position, positions are consecutive, no marker is left, and the
 *   RFC 9162 root recomputed from the entries' leaf hashes is the head's root;
 * - the offline verifier: a checkpoint is signed and the log goes through the same export
 *   and `verifyBundle` as `strongroom-verify`, and every invoice, counterparty and settings
 *   item is the state the last entry about it recorded (the restore validation's checks);
 * - the other way round: every invoice and counterparty has an entry, every payment has
 *   exactly one entry, an invoice's paid amount is the sum of its payments, and every
 *   idempotency record answers with an entry that is in the log.
 */
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry } from '#shared/audit/entry';
import { CompactRange } from '#shared/audit/merkle';
import { LocalCheckpointSigner, signingKeyNamePrefix } from '#shared/crypto/signing';
import type { Invoice } from '#shared/domain/invoices';
import type { Payment } from '#shared/domain/payments';
import { signCheckpoint } from '#shared/services/audit';
import { validateRestoredTables } from '#shared/services/restore-validation';
import type { AuditLog, SequencedEntry } from '#shared/store/audit-log';
import type { DataClients } from '#shared/store/dynamo';
import { tableName } from '#shared/store/tables';

export interface LedgerContext {
  readonly clients: DataClients;
  readonly auditLog: AuditLog;
  readonly stage: string;
  /** The data folder: the local checkpoint signing key lives there. */
  readonly dataDir: string;
}

export interface LedgerCheck {
  /** Log problems: the tree, the verifier, positions. */
  readonly logProblems: string[];
  /** Changes without entries, entries without changes, sums that do not add up. */
  readonly partialWrites: string[];
  readonly entries: readonly SequencedEntry[];
}

async function queryAll(
  clients: DataClients,
  tenantId: string,
  table: 'data' | 'idempotency' | 'audit' | 'auditHead',
  suffix: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await clients.forTenant(tenantId).send(
      new QueryCommand({
        TableName: tableName(clients.stage, table),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${tenantId}#${suffix}` },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * Every entry of the log in order, after folding what is pending as the stream poller and
 * the checkpoint job do. A writer that failed to release its fold lease blocks sweeps for
 * the lease's 3 s; the check lets that time pass by expiring such a lease (the lease only
 * spares contention, the fold's own conditions keep the log right), then sweeps again.
 */
export async function foldedEntries(context: LedgerContext, tenantId: string): Promise<SequencedEntry[]> {
  const client = context.clients.forTenant(tenantId);
  await context.auditLog.fold(client, tenantId);
  if ((await queryAll(context.clients, tenantId, 'auditHead', 'pending')).length > 0) {
    await context.clients.platform().send(
      new UpdateCommand({
        TableName: tableName(context.stage, 'auditHead'),
        Key: { pk: `${tenantId}#head`, sk: 'head' },
        UpdateExpression: 'SET foldLeaseUntil = :expired',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':expired': 0 },
      }),
    );
    await context.auditLog.fold(client, tenantId);
  }
  const head = await context.auditLog.head(client, tenantId);
  const entries: SequencedEntry[] = [];
  while (entries.length < head.size) {
    const page = await context.auditLog.entriesFrom(
      client,
      tenantId,
      entries.length,
      Math.min(500, head.size - entries.length),
    );
    if (page.length === 0) break;
    entries.push(...page);
  }
  return entries;
}

export async function checkLedger(
  context: LedgerContext,
  tenantId: string,
  options: { readonly verifier?: boolean } = {},
): Promise<LedgerCheck> {
  const logProblems: string[] = [];
  const partialWrites: string[] = [];
  const client = context.clients.forTenant(tenantId);
  const entries = await foldedEntries(context, tenantId);
  const head = await context.auditLog.head(client, tenantId);

  // The log itself.
  if (entries.length !== head.size)
    logProblems.push(`${tenantId}: head size ${head.size}, ${entries.length} entries readable`);
  entries.forEach((each, index) => {
    if (each.seq !== index) logProblems.push(`${tenantId}: position ${index} holds seq ${each.seq}`);
  });
  const ids = entries.map((each) => each.entry.id);
  if (new Set(ids).size !== ids.length) logProblems.push(`${tenantId}: an entry is in the log twice`);
  const range = new CompactRange();
  for (const each of entries) range.append(each.leafHash);
  if (!range.root().equals(head.root))
    logProblems.push(`${tenantId}: the recomputed root is not the head's root`);
  const [stored, pending] = await Promise.all([
    queryAll(context.clients, tenantId, 'audit', 'entry'),
    queryAll(context.clients, tenantId, 'auditHead', 'pending'),
  ]);
  if (stored.length !== head.size) {
    partialWrites.push(
      `${tenantId}: ${stored.length} entries stored, ${head.size} in the log after the fold`,
    );
  }
  if (pending.length > 0)
    partialWrites.push(`${tenantId}: ${pending.length} pending markers left after the fold`);

  if (options.verifier ?? true) {
    const signer = new LocalCheckpointSigner(context.dataDir, signingKeyNamePrefix(context.stage));
    await signCheckpoint(
      { clients: context.clients, auditLog: context.auditLog, now: () => new Date() },
      signer,
      tenantId,
    );
    const validation = await validateRestoredTables(
      { stage: context.stage, clients: context.clients, auditLog: context.auditLog },
      await signer.publicKeys(),
      { tenants: [tenantId] },
    );
    for (const failure of validation.failures) {
      (failure.kind === 'audit-log' ? logProblems : partialWrites).push(
        `${failure.kind}: ${failure.message}`,
      );
    }
  }

  // The other way round: each change has its entry.
  const byTarget = new Map<string, AuditEntry[]>();
  for (const { entry } of entries) {
    const key = `${entry.target.type}/${entry.target.id}`;
    byTarget.set(key, [...(byTarget.get(key) ?? []), entry]);
  }
  const [invoices, counterparties, payments, records] = await Promise.all([
    queryAll(context.clients, tenantId, 'data', 'invoice'),
    queryAll(context.clients, tenantId, 'data', 'counterparty'),
    queryAll(context.clients, tenantId, 'data', 'payment'),
    queryAll(context.clients, tenantId, 'idempotency', 'idempotency'),
  ]);
  for (const item of invoices) {
    const invoice = item.invoice as Invoice;
    const about = byTarget.get(`invoice/${invoice.id}`) ?? [];
    if (!about.some((entry) => entry.action === 'invoice.create')) {
      partialWrites.push(`${tenantId}: invoice ${invoice.id} has no invoice.create entry`);
    }
    const paymentEntries = about.filter((entry) => entry.action === 'invoice.payment').length;
    const own = payments
      .map((each) => each.payment as Payment)
      .filter((each) => each.invoiceId === invoice.id);
    if (own.length !== paymentEntries) {
      partialWrites.push(
        `${tenantId}: invoice ${invoice.id} has ${own.length} payments and ${paymentEntries} payment entries`,
      );
    }
    const paid = own.reduce((sum, each) => sum + each.amount, 0);
    if (paid !== invoice.paidAmount) {
      partialWrites.push(
        `${tenantId}: invoice ${invoice.id} says ${invoice.paidAmount} paid, its payments add up to ${paid}`,
      );
    }
    if (invoice.paidAmount > invoice.totals.gross) {
      partialWrites.push(
        `${tenantId}: invoice ${invoice.id} is overpaid (${invoice.paidAmount} > ${invoice.totals.gross})`,
      );
    }
    // Each change of an invoice is one entry and one version.
    if (invoice.version !== about.length) {
      partialWrites.push(
        `${tenantId}: invoice ${invoice.id} is at version ${invoice.version} after ${about.length} entries`,
      );
    }
  }
  for (const item of counterparties) {
    const id = String(item.sk);
    if (!(byTarget.get(`counterparty/${id}`) ?? []).some((entry) => entry.action === 'counterparty.create')) {
      partialWrites.push(`${tenantId}: counterparty ${id} has no counterparty.create entry`);
    }
  }
  const entryIds = new Set(ids);
  for (const record of records) {
    const response = record.response as { body?: string } | undefined;
    let auditEntryId: unknown;
    try {
      auditEntryId = (JSON.parse(response?.body ?? '{}') as { auditEntryId?: unknown }).auditEntryId;
    } catch {
      auditEntryId = undefined;
    }
    if (typeof auditEntryId === 'string' && !entryIds.has(auditEntryId)) {
      partialWrites.push(
        `${tenantId}: idempotency record ${String(record.sk)} answers with entry ${auditEntryId}, which is not in the log`,
      );
    }
  }
  return { logProblems, partialWrites, entries };
}
