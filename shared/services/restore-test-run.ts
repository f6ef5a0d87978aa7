/**
 * The AWS side of restore tests (BAK-3): AWS Backup's restore testing plan restores every
 * table from one recovery point run, and each restore job's "COMPLETED" event starts the
 * validation function. The job whose completion makes the set whole validates the restored
 * copies together (restore-validation.ts, through the same stores and sealing, reading
 * the restored names), reports the result to AWS Backup for every job of the run, and
 * hands the result on for the metric and the audit entry. Earlier events wait; a run
 * already reported is not validated twice.
 */
import type { RestoreJobsListMember } from '@aws-sdk/client-backup';
import type { BackupVaults } from '#shared/store/backup-vaults';
import { type TableId, tableIds } from '#shared/store/tables';
import type { RestoreValidation } from './restore-validation';

/** The part of AWS Backup's "Restore Job State Change" event detail this reads. */
export interface RestoreJobEventDetail {
  readonly restoreJobId?: string;
  readonly status?: string;
  readonly restoreTestingPlanArn?: string;
  readonly createdResourceArn?: string;
}

export interface RestoreTestRunContext {
  readonly region: string;
  /** The source table of each logical table, by ARN, as the restore testing selection names them. */
  readonly sourceTables: Readonly<Record<TableId, string>>;
  readonly vaults: BackupVaults;
  /** Validates the restored copies, given their physical names. */
  readonly validate: (tableNames: Readonly<Record<TableId, string>>) => Promise<RestoreValidation>;
  readonly now: () => Date;
  /** How far back a run's jobs are looked for. @default 24 hours */
  readonly runWindowMs?: number;
}

export type RestoreTestOutcome =
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'waiting'; readonly missing: readonly TableId[] }
  | { readonly kind: 'validated'; readonly result: RestoreValidation; readonly jobs: readonly string[] };

function tableNameOf(arn: string | undefined): string | undefined {
  const match = /:table\/([^/]+)$/.exec(arn ?? '');
  return match?.[1];
}

export function summarize(result: RestoreValidation): string {
  if (result.ok) {
    const entries = result.tenants.reduce((sum, tenant) => sum + tenant.verifiedEntries, 0);
    const items = result.tenants.reduce((sum, tenant) => sum + tenant.checkedItems, 0);
    return `restore validated: ${result.tenants.length} tenants, ${entries} audit entries, ${items} items`;
  }
  return `restore validation FAILED: ${result.failures.map((failure) => failure.message).join('; ')}`;
}

export async function onRestoreJobEvent(
  context: RestoreTestRunContext,
  detail: RestoreJobEventDetail,
): Promise<RestoreTestOutcome> {
  if (detail.status !== 'COMPLETED') return { kind: 'ignored', reason: `status ${detail.status}` };
  if (!detail.restoreTestingPlanArn) return { kind: 'ignored', reason: 'not a restore test' };
  const since = new Date(context.now().getTime() - (context.runWindowMs ?? 24 * 3_600_000));
  const jobs = await context.vaults.restoreJobsOfPlan(context.region, detail.restoreTestingPlanArn, since);

  // The newest completed job per source table is this run's copy of it.
  const latest = new Map<string, RestoreJobsListMember>();
  for (const job of jobs) {
    if (job.Status !== 'COMPLETED' || !job.SourceResourceArn) continue;
    const known = latest.get(job.SourceResourceArn);
    if (!known || (job.CreationDate ?? 0) > (known.CreationDate ?? 0)) latest.set(job.SourceResourceArn, job);
  }
  const restored: Partial<Record<TableId, string>> = {};
  const run: RestoreJobsListMember[] = [];
  const missing: TableId[] = [];
  for (const id of tableIds) {
    const job = latest.get(context.sourceTables[id]);
    const name = tableNameOf(job?.CreatedResourceArn);
    if (!job || !name) missing.push(id);
    else {
      restored[id] = name;
      run.push(job);
    }
  }
  if (missing.length > 0) return { kind: 'waiting', missing };
  if (run.some((job) => job.ValidationStatus !== undefined)) {
    return { kind: 'ignored', reason: 'this run is validated already' };
  }
  // Only the event of one of this run's jobs validates it (an old run's late event does not).
  if (!run.some((job) => job.RestoreJobId === detail.restoreJobId)) {
    return { kind: 'ignored', reason: 'the event belongs to an older run' };
  }

  const result = await context.validate(restored as Record<TableId, string>);
  const message = summarize(result);
  const ids = run.map((job) => job.RestoreJobId ?? '').filter((id) => id !== '');
  for (const id of ids) await context.vaults.reportValidation(context.region, id, result.ok, message);
  return { kind: 'validated', result, jobs: ids };
}
