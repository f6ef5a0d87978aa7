/**
 * Tenant data export (DAT-1). `POST /exports` records a pending export with its audit entry
 * and idempotency record in one transaction (AUD-1, API-3) and answers 202; the work runs
 * elsewhere: in AWS the record's insert reaches the export worker through the data table's
 * stream (keys only), so a committed export is never left without its worker; locally the
 * worker runs in-process right after the answer.
 *
 * The worker claims the record (pending → running, conditional on its version), reads every
 * data partition of the tenant through the tenant's session (items opened from their sealed
 * form, ENC-3), signs a fresh checkpoint and writes the AUD-4 audit bundle, puts it all in a
 * tar with the verifier's instructions, encrypts the tar as one AWS Encryption SDK message
 * under the tenant's key with the context {purpose, tenantId, exportId}, stores it and marks
 * the record complete with an audit entry. A terminated tenant exports within its window;
 * a purged one has nothing left to export.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type AuditEntry, itemDigest } from '#shared/audit/entry';
import type { Principal } from '#shared/auth/principal';
import type { CheckpointSigner } from '#shared/crypto/signing';
import { NotFoundError } from '#shared/domain/errors';
import { newId } from '#shared/domain/ids';
import {
  type ExportEncryptionContext,
  encryptExport,
  exportEncryptionContext,
  exportFormat,
  exportInstructions,
  exportRoot,
} from '#shared/exports/archive';
import { writeTar } from '#shared/exports/tar';
import { logger } from '#shared/observability/logger';
import { countPartitionItems } from '#shared/store/dynamo';
import type { DownloadLink, ExportArchives } from '#shared/store/export-archives';
import { type ExportRecord, type ExportStatus, ExportStore, exportIdPrefix } from '#shared/store/exports';
import { requestFingerprint, type StoredResponse } from '#shared/store/idempotency';
import { type TableId, tableName } from '#shared/store/tables';
import { tenantPrefix } from '#shared/tenancy/tenant-id';
import { auditEntryFor } from './audit-entries';
import { exportAuditBundle } from './audit-export';
import type { ServiceContext } from './context';
import { TenantNotActiveError } from './lifecycle';

/** A partition of the tenant that an export carries, and the file (`data/<file>.jsonl`) it goes to. */
export interface ExportedPartition {
  readonly table: TableId;
  readonly partition: string;
  readonly file: string;
}

/**
 * What an export carries: every partition of the tenant's business items (a test compares
 * them with what the data table holds; export records themselves are not exported), and its
 * members (identity, roles, status). API keys (peppered hashes), their failure windows and
 * support grants stay out: they are credentials and access, not the tenant's data.
 */
export const exportedPartitions: readonly ExportedPartition[] = [
  { table: 'data', partition: 'counterparty', file: 'counterparties' },
  { table: 'data', partition: 'invoice', file: 'invoices' },
  { table: 'data', partition: 'invoice-sequence', file: 'invoice-sequence' },
  { table: 'data', partition: 'payment', file: 'payments' },
  { table: 'data', partition: 'settings', file: 'settings' },
  { table: 'members', partition: 'member', file: 'members' },
];

/** Items read per query page; progress is saved after each page. */
const pageSize = 100;

/** A running export whose heartbeat is older than this is taken over (the worker's time limit is 15 minutes). */
export const staleRunningMs = 20 * 60_000;

/** Starts the work of an export once its record is committed. */
export type ExportDispatcher = (job: ExportJob) => void;

export interface ExportJob {
  readonly tenantId: string;
  readonly exportId: string;
}

export interface ExportContext extends ServiceContext {
  readonly exportRecords: ExportStore;
  readonly archives: ExportArchives;
  readonly dispatch: ExportDispatcher;
}

export function exportContext(
  base: ServiceContext,
  archives: ExportArchives,
  dispatch: ExportDispatcher,
): ExportContext {
  return { ...base, exportRecords: new ExportStore(base.config.stage), archives, dispatch };
}

/** What GET /exports/{id} shows. */
export interface ExportView {
  readonly id: string;
  readonly status: ExportStatus;
  readonly progress: { readonly done: number; readonly total: number };
  readonly requestedAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** The context `decryptExport` must be given (and compares with the message's). */
  readonly encryptionContext: ExportEncryptionContext;
  readonly bytes?: number;
  readonly sha256?: string;
  readonly failure?: string;
  readonly download?: DownloadLink;
}

export function exportView(record: ExportRecord, download?: DownloadLink): ExportView {
  return {
    id: record.id,
    status: record.status,
    progress: record.progress,
    requestedAt: record.requestedAt,
    ...(record.startedAt ? { startedAt: record.startedAt } : {}),
    ...(record.finishedAt ? { finishedAt: record.finishedAt } : {}),
    encryptionContext: exportEncryptionContext(record.tenantId, record.id),
    ...(record.archive ? { bytes: record.archive.bytes, sha256: record.archive.sha256 } : {}),
    ...(record.failure ? { failure: record.failure } : {}),
    ...(download ? { download } : {}),
  };
}

export interface StartExportCommand {
  readonly principal: Principal;
  readonly requestId: string;
  readonly idempotencyKey: string | undefined;
  /** Renders the response stored for replays, so a retry gets the same bytes. */
  readonly respond: (record: ExportRecord, auditEntryId: string) => StoredResponse;
}

/** DAT-1 with DAT-2: an active tenant exports; a terminated one until its window ends; a purged one never. */
async function assertExportable(context: ExportContext, tenantId: string, now: Date): Promise<void> {
  const client = context.clients.forTenant(tenantId);
  const record = await context.clients.keyring.registry.get(client, tenantId);
  if (!record || record.status === 'active') return;
  if (record.status === 'purged') {
    throw new TenantNotActiveError('This tenant is purged: nothing is left to export.', { status: 'purged' });
  }
  if (record.exportableUntil !== undefined && record.exportableUntil <= now.toISOString()) {
    throw new TenantNotActiveError(`The export window of this tenant ended at ${record.exportableUntil}.`, {
      status: record.status,
    });
  }
}

export async function startExport(
  context: ExportContext,
  command: StartExportCommand,
): Promise<StoredResponse> {
  const { principal, idempotencyKey } = command;
  const { tenantId } = principal;
  const client = context.clients.forTenant(tenantId);
  const fingerprint = requestFingerprint(principal.actorId, 'startExport', {});
  if (idempotencyKey !== undefined) {
    const replayed = await context.mutations.replay(client, tenantId, idempotencyKey, fingerprint);
    if (replayed) return replayed;
  }
  const now = context.now();
  await assertExportable(context, tenantId, now);
  const record: ExportRecord = {
    id: newId('exp', now.getTime()),
    tenantId,
    status: 'pending',
    requestedBy: principal.actorId,
    requestedAt: now.toISOString(),
    updatedAt: now.toISOString(),
    progress: { done: 0, total: 0 },
    version: 1,
  };
  const entry = auditEntryFor(
    { principal, requestId: command.requestId, agentReason: undefined, inputs: {} },
    { action: 'export.start', target: { type: 'export', id: record.id }, itemState: record },
    now,
  );
  const response = command.respond(record, entry.id);
  const result = await context.mutations.commit(client, {
    tenantId,
    writes: [context.exportRecords.createWrite(record)],
    entry,
    ...(idempotencyKey === undefined
      ? {}
      : { idempotency: { key: idempotencyKey, record: { fingerprint, response } } }),
    now,
    // A terminated tenant still exports (DAT-2); assertExportable refused the ones that may not.
    requireActiveTenant: false,
  });
  if (result.kind === 'replayed') return result.response;
  context.dispatch({ tenantId, exportId: record.id });
  return response;
}

/** GET /exports/{id}: the record, and for a complete export a fresh short-lived download link. */
export async function getExport(
  context: ExportContext,
  principal: Principal,
  id: string,
  origin: string | undefined,
): Promise<ExportView> {
  const record = await context.exportRecords.get(
    context.clients.forTenant(principal.tenantId),
    principal.tenantId,
    id,
  );
  // Another tenant's id is indistinguishable from one that never existed (AZ-3).
  if (!record) throw new NotFoundError('No export with this id.');
  const now = context.now();
  if (
    (record.status === 'pending' || record.status === 'running') &&
    now.getTime() - Date.parse(record.updatedAt) > staleRunningMs
  ) {
    // No worker has touched it for longer than a worker may run: it was lost (a timeout, a
    // crash after its retries). Say so rather than show it pending forever; start another.
    return exportView({ ...record, status: 'failed', failure: 'export-interrupted' });
  }
  if (record.status !== 'complete' || !record.archive) return exportView(record);
  const link = await context.archives.downloadLink(principal.tenantId, record.archive.objectKey, now, origin);
  return exportView(record, link);
}

// ---------------------------------------------------------------------------------------
// The worker

const systemActor = { id: 'system:export', kind: 'system' } as const;

function systemEntry(
  record: ExportRecord,
  action: string,
  outcome: 'success' | 'failure',
  now: Date,
): AuditEntry {
  return {
    v: 1,
    id: newId('aud', now.getTime()),
    tenantId: record.tenantId,
    time: now.toISOString(),
    actor: { ...systemActor },
    action,
    target: { type: 'export', id: record.id },
    outcome,
    requestId: `export-${record.id}`,
    itemDigest: itemDigest(record),
  };
}

function isConditionFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

export type RunOutcome = 'complete' | 'failed' | 'skipped';

/**
 * Runs one export to its end. Safe to call twice (a redelivered stream record): only the
 * caller whose claim wins works; a finished export is left as it is.
 */
export async function runExport(
  context: ExportContext,
  signer: CheckpointSigner,
  job: ExportJob,
): Promise<RunOutcome> {
  const { tenantId, exportId } = job;
  const client = context.clients.forTenant(tenantId);
  const found = await context.exportRecords.get(client, tenantId, exportId);
  if (!found) return 'skipped';
  const claimedAt = context.now();
  const stale =
    found.status === 'running' && claimedAt.getTime() - Date.parse(found.updatedAt) > staleRunningMs;
  if (found.status !== 'pending' && !stale) return 'skipped';
  let record: ExportRecord = {
    ...found,
    status: 'running',
    startedAt: claimedAt.toISOString(),
    updatedAt: claimedAt.toISOString(),
    version: found.version + 1,
  };
  try {
    await context.exportRecords.replace(client, record, found.version);
  } catch (error) {
    if (isConditionFailure(error)) return 'skipped';
    throw error;
  }

  const save = async (changes: Partial<ExportRecord>) => {
    const next: ExportRecord = {
      ...record,
      ...changes,
      updatedAt: context.now().toISOString(),
      version: record.version + 1,
    };
    await context.exportRecords.replace(client, next, record.version);
    record = next;
  };

  // The last change of the record, audited as the system's (AUD-1): complete or failed.
  const finish = async (changes: Pick<ExportRecord, 'status'> & Partial<ExportRecord>) => {
    const now = context.now();
    const finished: ExportRecord = {
      ...record,
      ...changes,
      finishedAt: now.toISOString(),
      updatedAt: now.toISOString(),
      version: record.version + 1,
    };
    const outcome = finished.status === 'complete' ? 'success' : 'failure';
    await context.mutations.commit(client, {
      tenantId,
      writes: [context.exportRecords.replaceWrite(finished, record.version)],
      entry: systemEntry(finished, outcome === 'success' ? 'export.complete' : 'export.fail', outcome, now),
      now,
      requireActiveTenant: false,
    });
  };

  try {
    const tableOf = (source: ExportedPartition) => tableName(context.config.stage, source.table);
    const pkOf = (source: ExportedPartition) => `${tenantPrefix(tenantId)}${source.partition}`;
    let items = 0;
    for (const source of exportedPartitions)
      items += await countPartitionItems(client, tableOf(source), pkOf(source));
    // Every item, then the audit bundle as one more step.
    const total = items + 1;
    await save({ progress: { done: 0, total } });

    const files: { name: string; content: Buffer }[] = [];
    const itemCounts: Record<string, number> = {};
    let done = 0;
    for (const source of exportedPartitions) {
      const lines: string[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableOf(source),
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pkOf(source) },
            ConsistentRead: true,
            Limit: pageSize,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) lines.push(JSON.stringify(item));
        done += page.Items?.length ?? 0;
        start = page.LastEvaluatedKey;
        await save({ progress: { done: Math.min(done, total - 1), total } });
      } while (start);
      itemCounts[source.file] = lines.length;
      files.push({
        name: `${exportRoot}/data/${source.file}.jsonl`,
        content: Buffer.from(lines.length === 0 ? '' : `${lines.join('\n')}\n`, 'utf8'),
      });
    }

    // The AUD-4 bundle, ending at a checkpoint signed now: it covers the export's own entry.
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    const audit = await exportAuditBundle(context, signer, tenantId, sink, { signFresh: true });
    const exportedAt = context.now().toISOString();
    const manifest = {
      format: exportFormat,
      tenantId,
      exportId,
      requestedAt: record.requestedAt,
      exportedAt,
      items: itemCounts,
      audit: {
        file: 'audit.bundle',
        entries: audit.size,
        checkpoints: audit.checkpoints,
        ...(audit.checkpoint ? { root: audit.checkpoint.root.toString('base64') } : {}),
      },
    };
    const tar = writeTar(
      [
        {
          name: `${exportRoot}/README.txt`,
          content: Buffer.from(
            exportInstructions({ tenantId, exportId, exportedAt, auditEntries: audit.size }),
            'utf8',
          ),
        },
        {
          name: `${exportRoot}/manifest.json`,
          content: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'),
        },
        ...files,
        { name: `${exportRoot}/audit.bundle`, content: Buffer.concat(chunks) },
      ],
      context.now(),
    );

    const registry = await context.clients.keyring.registry.get(client, tenantId);
    if (!registry) throw new Error(`tenant ${tenantId} has no registry record`);
    const keyring = await context.clients.keyring.keyService.exportKeyring(tenantId, registry.keyRef);
    const message = await encryptExport(keyring, tar, exportEncryptionContext(tenantId, exportId));
    tar.fill(0);
    const objectKey = await context.archives.put(tenantId, exportId, message);

    await finish({
      status: 'complete',
      progress: { done: total, total },
      archive: {
        objectKey,
        bytes: message.length,
        sha256: createHash('sha256').update(message).digest('base64'),
      },
    });
    return 'complete';
  } catch (error) {
    logger.error('export failed', { exportId, error });
    await finish({ status: 'failed', failure: 'export-failed' });
    return 'failed';
  }
}

/** The in-process runs not yet finished (the local runtime's worker). */
const inProcessRuns = new Set<Promise<void>>();

/** Runs exports in this process, after the answer (the local runtime's worker). */
export function inProcessDispatcher(
  context: () => ExportContext,
  signer: () => CheckpointSigner,
): ExportDispatcher {
  return (job) => {
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => runExport(context(), signer(), job))
      .then(
        () => undefined,
        (error: unknown) => {
          logger.error('local export worker failed', { exportId: job.exportId, error });
        },
      )
      .finally(() => inProcessRuns.delete(run));
    inProcessRuns.add(run);
  };
}

/**
 * Resolves once every export this process started has finished, including any started
 * meanwhile: what a test that counts the store's items waits for, so that a worker's own
 * audit entry (export.complete or export.fail) is never taken for a stray write.
 */
export async function inProcessExportsSettled(): Promise<void> {
  while (inProcessRuns.size > 0) await Promise.allSettled([...inProcessRuns]);
}

/** The export job a stream record's keys name, if they name one (`<tenantId>#export`, `exp_...`). */
export function exportJobOfStreamKeys(pk: string | undefined, sk: string | undefined): ExportJob | undefined {
  if (pk === undefined || sk === undefined || !sk.startsWith(exportIdPrefix)) return undefined;
  const match = /^([^#]+)#export$/.exec(pk);
  if (!match?.[1]) return undefined;
  return { tenantId: match[1], exportId: sk };
}
