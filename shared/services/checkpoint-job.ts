/**
 * The checkpoint signer's run (AUD-3, AUD-5): for every tenant with an audit log, fold
 * what is pending and sign a checkpoint when the head moved (`signCheckpoint`). The
 * scheduled function in AWS and the local poller run exactly this.
 *
 * A tenant that fails does not stop the others; the run reports it, and the age of the
 * oldest entry that no signed checkpoint covers after the run, which the stale-checkpoint
 * alarm watches.
 */
import type { CheckpointSigner } from '#shared/crypto/signing';
import { logger } from '#shared/observability/logger';
import type { AuditLog } from '#shared/store/audit-log';
import { listAuditTenants } from '#shared/store/audit-tenants';
import type { DataClients } from '#shared/store/dynamo';
import { signCheckpoint } from './audit';

export interface CheckpointJobContext {
  readonly stage: string;
  readonly clients: Pick<DataClients, 'forTenant' | 'platform'>;
  readonly auditLog: AuditLog;
  readonly now: () => Date;
}

export interface CheckpointJobResult {
  /** Tenants with an audit log. */
  readonly tenants: number;
  /** Tenants whose head moved and got a new signed checkpoint. */
  readonly signed: readonly string[];
  /** Tenants whose latest checkpoint already covered the head. */
  readonly unchanged: number;
  readonly failed: readonly { readonly tenantId: string; readonly error: string }[];
  /** Age of the oldest entry not covered by a signed checkpoint after this run; 0 when none. */
  readonly oldestUnsignedEntryAgeSeconds: number;
}

export interface CheckpointJobOptions {
  /**
   * Tenants signed at once.
   * @default 4
   */
  readonly concurrency?: number;
}

export async function runCheckpointJob(
  context: CheckpointJobContext,
  signer: CheckpointSigner,
  options: CheckpointJobOptions = {},
): Promise<CheckpointJobResult> {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(
      `checkpoint job concurrency must be a positive integer, got ${JSON.stringify(concurrency)}`,
    );
  }
  const tenants = await listAuditTenants(context.clients.platform(), context.stage);
  const signed: string[] = [];
  const failed: { tenantId: string; error: string }[] = [];
  let unchanged = 0;
  let oldestUnsignedMs = 0;

  let next = 0;
  const worker = async () => {
    while (next < tenants.length) {
      const { tenantId, headUpdatedAt } = tenants[next++] as (typeof tenants)[number];
      const client = context.clients.forTenant(tenantId);
      try {
        const before = await context.auditLog.latestCheckpoint(client, tenantId);
        const after = await signCheckpoint(context, signer, tenantId);
        if (after && after.size > (before?.size ?? 0)) signed.push(tenantId);
        else unchanged++;
      } catch (error) {
        failed.push({ tenantId, error: (error as Error).message });
        logger.error('checkpoint signing failed', { tenantId, error });
        const since = await oldestUnsignedEntryTime(context, tenantId).catch(() => undefined);
        const reference = Date.parse(since ?? headUpdatedAt ?? '');
        const age = Number.isNaN(reference) ? 0 : context.now().getTime() - reference;
        oldestUnsignedMs = Math.max(oldestUnsignedMs, age);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tenants.length) }, worker));
  return {
    tenants: tenants.length,
    signed: signed.sort(),
    unchanged,
    failed,
    oldestUnsignedEntryAgeSeconds: Math.max(0, Math.round(oldestUnsignedMs / 1000)),
  };
}

/** When the first entry past the latest checkpoint was written, if there is one. */
async function oldestUnsignedEntryTime(
  context: CheckpointJobContext,
  tenantId: string,
): Promise<string | undefined> {
  const client = context.clients.forTenant(tenantId);
  const latest = await context.auditLog.latestCheckpoint(client, tenantId);
  const [first] = await context.auditLog.entriesFrom(client, tenantId, latest?.size ?? 0, 1);
  return first?.entry.time;
}
