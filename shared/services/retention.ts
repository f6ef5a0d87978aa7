/**
 * The retention job (DAT-4): removes the financial records whose retention has expired and
 * appends, in the same transaction as each removal (MutationWriter), an audit entry naming
 * what it removed by id and digest only (DAT-3). The audit log itself is never removed: it
 * is the proof of every removal, and it holds no personal data to expire.
 *
 * What expires, precisely. A tenant keeps its records `effectiveRetentionYears` (its setting,
 * never less than the legal minimum of its jurisdiction in force when the job runs), counted
 * like the statutes count (§ 147 (4) AO and its neighbours): from the end of the calendar year
 * in which the record was closed. A record closed in year Y with retention N expires at
 * 00:00 UTC on 1 January of year Y + N + 1.
 * - An invoice is closed when it is `paid` or `void`, both final states; it closed at its
 *   last change (`voided.at`, or `updatedAt` for the payment that settled it). Its payments
 *   are removed with it, in the same transaction. Invoices in any other state (draft,
 *   submitted, approved, issued) are open business and never expire.
 * - A counterparty expires when no invoice of the tenant refers to it any more (after this
 *   run's removals) and its own last change is older than the retention, counted the same
 *   way: a counterparty still in use, or changed recently, stays.
 * - Nothing else expires here: settings, members and the invoice number sequence live as
 *   long as the tenant; idempotency records expire by their TTL; terminated tenants are left
 *   to the purge (DAT-2), since their data is read-only.
 *
 * Safe to run again, concurrently or after a crash: every deletion is conditioned on the
 * record still being the state that was read (version, status), so a record is removed and
 * audited once; a removal that lost its race commits nothing, entry included.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type AuditEntry, itemDigest } from '#shared/audit/entry';
import type { Counterparty } from '#shared/domain/counterparties';
import { ConflictError, StrongroomError } from '#shared/domain/errors';
import { newId } from '#shared/domain/ids';
import type { Invoice } from '#shared/domain/invoices';
import type { Payment } from '#shared/domain/payments';
import { effectiveRetentionYears } from '#shared/domain/settings';
import { CounterpartyStore } from '#shared/store/counterparties';
import { TenantReadOnlyError } from '#shared/store/mutation';
import type { ServiceContext } from './context';

/** The action of every removal entry; restore validation expects the target gone after it. */
export const retentionRemovalAction = 'retention.remove';

/** The pseudonymous actor of the job's entries. */
export const retentionActorId = 'system:retention';

/** Payments removed in the invoice's own transaction; more go first, in transactions of their own. */
const paymentsPerTransaction = 90;

const pageSize = 100;

export interface RetentionRemoval {
  readonly type: 'invoice' | 'counterparty';
  readonly id: string;
  /** The audit entry committed with the removal. */
  readonly entryId: string;
}

export interface TenantRetentionResult {
  readonly tenantId: string;
  /** The retention applied (the tenant's setting, at least the legal minimum). */
  readonly retentionYears: number;
  readonly removed: readonly RetentionRemoval[];
}

export interface RetentionRunResult {
  /** The job's clock at the start of the run. */
  readonly at: string;
  readonly tenants: readonly TenantRetentionResult[];
  /** Tenants whose run stopped on an error (the others went on); each is retried next run. */
  readonly failed: readonly { readonly tenantId: string; readonly code: string }[];
}

export interface RetentionRunOptions {
  /** Only these tenants (an operator's run for one tenant). @default every active tenant */
  readonly tenantIds?: readonly string[];
}

/** The moment a record closed at `closedAt` and kept `years` years expires. */
export function retentionExpiry(closedAt: string, years: number): Date {
  return new Date(Date.UTC(new Date(closedAt).getUTCFullYear() + years + 1, 0, 1));
}

/** When the invoice closed (paid or void), or undefined while it is open business. */
export function invoiceClosedAt(invoice: Invoice): string | undefined {
  if (invoice.status === 'void') return invoice.voided?.at ?? invoice.updatedAt ?? invoice.createdAt;
  if (invoice.status === 'paid') return invoice.updatedAt ?? invoice.createdAt;
  return undefined;
}

/** Every id of `prefix` created before `before` sorts below this bound (ids start with their time). */
function idsBefore(prefix: 'inv' | 'cp', before: Date): string {
  return `${newId(prefix, before.getTime()).slice(0, prefix.length + 11)}${'0'.repeat(16)}`;
}

/** The job for every active tenant (or those named): one tenant's failure does not stop the others. */
export async function runRetention(
  context: ServiceContext,
  options: RetentionRunOptions = {},
): Promise<RetentionRunResult> {
  const at = context.now().toISOString();
  const records = await context.clients.keyring.registry.list(context.clients.platform());
  const active = records
    .filter((record) => record.status === 'active')
    .map((record) => record.tenantId)
    .filter((tenantId) => options.tenantIds === undefined || options.tenantIds.includes(tenantId));
  const tenants: TenantRetentionResult[] = [];
  const failed: { tenantId: string; code: string }[] = [];
  for (const tenantId of active) {
    try {
      tenants.push(await applyRetention(context, tenantId));
    } catch (error) {
      if (!(error instanceof TenantReadOnlyError)) {
        failed.push({
          tenantId,
          code: error instanceof StrongroomError ? error.code : ((error as Error).name ?? 'error'),
        });
      }
      // A tenant terminated during the run is the purge's now (DAT-2): nothing to report.
    }
  }
  return { at, tenants, failed };
}

/** Removes one tenant's expired records (see the module comment for what expires). */
export async function applyRetention(
  context: ServiceContext,
  tenantId: string,
): Promise<TenantRetentionResult> {
  const client = context.clients.platform();
  const now = context.now();
  const settings = await context.settings.get(client, tenantId);
  const years = effectiveRetentionYears(settings);
  // A record closed in year Y expires on 1 January of Y + years + 1: whatever was created
  // from 1 January of (this year - years) on cannot have expired yet.
  const createdBefore = new Date(Date.UTC(now.getUTCFullYear() - years, 0, 1));
  // Ids carry their creation time since 1970: nothing older exists, so nothing has expired.
  if (createdBefore.getTime() <= 0) return { tenantId, retentionYears: years, removed: [] };
  const job: RetentionJob = {
    context,
    client,
    tenantId,
    now,
    years,
    jurisdiction: settings.retention.jurisdiction,
    runId: `retention-${now.getTime()}`,
  };
  const removed: RetentionRemoval[] = [];

  for (const status of ['paid', 'void'] as const) {
    let after: Record<string, string> | undefined;
    do {
      const page = await context.invoices.list(
        client,
        tenantId,
        { status, idRange: { from: 'inv_', to: idsBefore('inv', createdBefore) } },
        pageSize,
        after,
      );
      for (const invoice of page.items) {
        const closedAt = invoiceClosedAt(invoice);
        if (closedAt === undefined || now < retentionExpiry(closedAt, years)) continue;
        const removal = await removeInvoice(job, invoice, closedAt);
        if (removal) removed.push(removal);
      }
      after = page.lastKey;
    } while (after);
  }

  const counterparties = new CounterpartyStore(context.config.stage);
  let after: string | undefined = idsBefore('cp', createdBefore);
  do {
    const page = await counterparties.list(client, tenantId, { limit: pageSize, after });
    for (const counterparty of page.items) {
      if (now < retentionExpiry(counterparty.updatedAt, years)) continue;
      const inUse = await context.invoices.list(
        client,
        tenantId,
        { counterpartyId: counterparty.id },
        1,
        undefined,
      );
      if (inUse.items.length > 0) continue;
      const removal = await removeCounterparty(job, counterparties, counterparty);
      if (removal) removed.push(removal);
    }
    after = page.lastKey;
  } while (after);

  return { tenantId, retentionYears: years, removed };
}

interface RetentionJob {
  readonly context: ServiceContext;
  readonly client: DynamoDBDocumentClient;
  readonly tenantId: string;
  readonly now: Date;
  readonly years: number;
  readonly jurisdiction: string | null;
  readonly runId: string;
}

function removalEntry(
  job: RetentionJob,
  target: { type: string; id: string },
  detail: Readonly<Record<string, string | number | readonly string[]>>,
): AuditEntry {
  return {
    v: 1,
    id: newId('aud', job.now.getTime()),
    tenantId: job.tenantId,
    time: job.now.toISOString(),
    actor: { id: retentionActorId, kind: 'system' },
    action: retentionRemovalAction,
    target,
    outcome: 'success',
    requestId: job.runId,
    detail: { ...detail, retentionYears: job.years, jurisdiction: job.jurisdiction ?? 'none' },
  };
}

/** Commits a removal with its entry; false when the record changed or went meanwhile (nothing committed). */
async function commitRemoval(
  job: RetentionJob,
  writes: Parameters<ServiceContext['mutations']['commit']>[1]['writes'],
  entry: AuditEntry,
): Promise<boolean> {
  try {
    await job.context.mutations.commit(job.client, {
      tenantId: job.tenantId,
      writes,
      entry,
      now: job.now,
      conditionFailed: () => new ConflictError('the record changed or was removed meanwhile'),
    });
    return true;
  } catch (error) {
    if (error instanceof ConflictError) return false;
    throw error;
  }
}

async function removeInvoice(
  job: RetentionJob,
  invoice: Invoice,
  closedAt: string,
): Promise<RetentionRemoval | undefined> {
  const { context, client, tenantId } = job;
  const payments = await context.payments.listForInvoice(client, tenantId, invoice.id);
  const paymentFacts = (chunk: readonly Payment[]) => ({
    paymentIds: chunk.map((payment) => payment.id),
    paymentsDigest: itemDigest(chunk),
  });
  // An invoice with very many payments: the surplus goes first, each chunk audited on its own.
  let kept = payments;
  while (kept.length > paymentsPerTransaction) {
    const chunk = kept.slice(paymentsPerTransaction);
    const entry = removalEntry(job, { type: 'invoice-payments', id: invoice.id }, paymentFacts(chunk));
    const committed = await commitRemoval(
      job,
      chunk.map((payment) => context.payments.deleteWrite(tenantId, payment)),
      entry,
    );
    if (!committed) return undefined;
    kept = kept.slice(0, paymentsPerTransaction);
  }
  const entry = removalEntry(
    job,
    { type: 'invoice', id: invoice.id },
    {
      removedItemDigest: itemDigest(invoice),
      status: invoice.status,
      closedAt,
      expiredAt: retentionExpiry(closedAt, job.years).toISOString(),
      ...paymentFacts(kept),
    },
  );
  const committed = await commitRemoval(
    job,
    [
      context.invoices.deleteWrite(tenantId, invoice),
      ...kept.map((payment) => context.payments.deleteWrite(tenantId, payment)),
    ],
    entry,
  );
  return committed ? { type: 'invoice', id: invoice.id, entryId: entry.id } : undefined;
}

async function removeCounterparty(
  job: RetentionJob,
  store: CounterpartyStore,
  counterparty: Counterparty,
): Promise<RetentionRemoval | undefined> {
  const entry = removalEntry(
    job,
    { type: 'counterparty', id: counterparty.id },
    {
      removedItemDigest: itemDigest(counterparty),
      lastChangedAt: counterparty.updatedAt,
      expiredAt: retentionExpiry(counterparty.updatedAt, job.years).toISOString(),
    },
  );
  const committed = await commitRemoval(job, [store.deleteWrite(job.tenantId, counterparty)], entry);
  return committed ? { type: 'counterparty', id: counterparty.id, entryId: entry.id } : undefined;
}
