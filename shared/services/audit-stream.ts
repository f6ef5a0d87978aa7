/**
 * What the audit table's stream does (AUD-2, design "Audit ledger"): in AWS a Lambda
 * consumer, locally the poller in infra/local, both through this code.
 *
 * - Folding: a tenant whose new entries appear is folded (`AuditLog.fold`), so an entry
 *   whose writer crashed between its transaction and its fold still gets its sequence
 *   number. Folding is cooperative and idempotent: usually the writer already did it.
 * - Archiving: every entry (its canonical bytes), every log position (sequence number,
 *   entry id, leaf hash) and every signed checkpoint is put once into the archive. A key
 *   that already holds the same bytes is fine (retries, replays); different bytes are a
 *   mismatch: logged, counted and failed, so it is retried, dead-lettered and alarmed.
 * - The audit table is append-only: a MODIFY or REMOVE event means something bypassed
 *   AUD-2; it is logged and counted (the archive still holds the original).
 *
 * Records are handled in batch order; the result names the first record that failed, and
 * the caller resumes from there (Lambda's partial batch response, or the poller's
 * position). Everything before it is done; everything after it is safe to redo.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type ArchiveSink, archiveKeys, leafRecordBytes } from '#shared/audit/archive';
import { type AuditEntry, canonicalBytes } from '#shared/audit/entry';
import { logger } from '#shared/observability/logger';
import type { AuditLog } from '#shared/store/audit-log';
import type { DataClients } from '#shared/store/dynamo';
import { isTenantId } from '#shared/tenancy/tenant-id';

/** One change on the audit table, with its images already unmarshalled. */
export interface AuditStreamRecord {
  /** INSERT, MODIFY or REMOVE. */
  readonly eventName: string | undefined;
  /** The stream sequence number: Lambda's item identifier for partial batch responses. */
  readonly sequenceNumber: string;
  readonly pk: string;
  readonly sk: string;
  readonly newImage: Record<string, unknown> | undefined;
}

/** A DynamoDB stream record as Lambda delivers it and as GetRecords returns it. */
export interface RawStreamRecord {
  readonly eventName?: string;
  readonly dynamodb?: {
    readonly Keys?: Record<string, unknown>;
    readonly NewImage?: Record<string, unknown>;
    readonly SequenceNumber?: string;
  };
}

export function toAuditStreamRecord(record: RawStreamRecord): AuditStreamRecord {
  const change = record.dynamodb;
  if (!change?.Keys || !change.SequenceNumber)
    throw new Error('stream record without keys or sequence number');
  const keys = unmarshall(change.Keys as Record<string, AttributeValue>);
  return {
    eventName: record.eventName,
    sequenceNumber: change.SequenceNumber,
    pk: String(keys.pk),
    sk: String(keys.sk),
    newImage: change.NewImage ? unmarshall(change.NewImage as Record<string, AttributeValue>) : undefined,
  };
}

export interface AuditStreamContext {
  readonly clients: Pick<DataClients, 'forTenant'>;
  readonly auditLog: AuditLog;
  readonly archive: ArchiveSink;
}

export interface AuditStreamFailure {
  readonly sequenceNumber: string;
  readonly reason: string;
}

export interface AuditStreamResult {
  readonly written: number;
  readonly identical: number;
  /** Archive keys that already held different bytes. */
  readonly mismatches: readonly string[];
  /** MODIFY or REMOVE events seen on the append-only table. */
  readonly mutations: number;
  readonly foldedTenants: readonly string[];
  /** Failed records, in batch order. */
  readonly failures: readonly AuditStreamFailure[];
  /** The first failed record's sequence number: resume from there. */
  readonly retryFrom: string | undefined;
}

/** An object the archive should hold for a record, if any. */
export interface ArchiveObject {
  readonly tenantId: string;
  readonly key: string;
  readonly bytes: Buffer;
}

/** Splits `<tenantId>#<kind>` partition keys; undefined for anything else. */
function partitionOf(pk: string): { tenantId: string; kind: string } | undefined {
  const separator = pk.indexOf('#');
  if (separator < 0) return undefined;
  const tenantId = pk.slice(0, separator);
  return isTenantId(tenantId) ? { tenantId, kind: pk.slice(separator + 1) } : undefined;
}

/**
 * The archive object of an inserted audit item: an entry, a leaf (level-0 node, which
 * carries the sequence number) or a checkpoint. Other items (inner nodes, sequence
 * lookups) are derivable and not archived. Throws on an item of a known kind that is
 * malformed.
 */
export function archiveObjectOf(record: AuditStreamRecord): ArchiveObject | undefined {
  const partition = partitionOf(record.pk);
  const image = record.newImage;
  if (!partition || !image) return undefined;
  const { tenantId, kind } = partition;
  switch (kind) {
    case 'entry': {
      const entry = image.entry as AuditEntry | undefined;
      if (entry?.id !== record.sk || entry.tenantId !== tenantId) {
        throw new Error(`audit entry item ${record.pk}/${record.sk} does not hold its own entry`);
      }
      return { tenantId, key: archiveKeys.entry(tenantId, entry.id), bytes: canonicalBytes(entry) };
    }
    case 'node': {
      if (!record.sk.startsWith('00:')) return undefined;
      const seq = Number(image.seq);
      if (
        !Number.isSafeInteger(seq) ||
        seq < 0 ||
        typeof image.entryId !== 'string' ||
        typeof image.hash !== 'string'
      ) {
        throw new Error(`audit leaf item ${record.pk}/${record.sk} is malformed`);
      }
      return {
        tenantId,
        key: archiveKeys.leaf(tenantId, seq),
        bytes: leafRecordBytes(seq, image.entryId, image.hash),
      };
    }
    case 'checkpoint': {
      const size = Number(image.size);
      if (!Number.isSafeInteger(size) || size < 1 || typeof image.note !== 'string') {
        throw new Error(`audit checkpoint item ${record.pk}/${record.sk} is malformed`);
      }
      return {
        tenantId,
        key: archiveKeys.checkpoint(tenantId, size),
        bytes: Buffer.from(image.note, 'utf8'),
      };
    }
    default:
      return undefined;
  }
}

/** Archive puts in flight at once; each is one small S3 request. */
const archiveConcurrency = 8;

export async function processAuditStream(
  context: AuditStreamContext,
  records: readonly AuditStreamRecord[],
): Promise<AuditStreamResult> {
  const failed = new Map<number, string>();
  const mismatches: string[] = [];
  let written = 0;
  let identical = 0;
  let mutations = 0;
  // The first entry record of each tenant: a failed fold is retried from there.
  const foldFrom = new Map<string, number>();

  const work: { index: number; object: ArchiveObject }[] = [];
  records.forEach((record, index) => {
    if (record.eventName !== 'INSERT') {
      mutations++;
      logger.error('audit table item changed or removed: the table is append-only (AUD-2)', {
        eventName: record.eventName,
        pk: record.pk,
        sk: record.sk,
      });
      return;
    }
    try {
      const object = archiveObjectOf(record);
      if (object) work.push({ index, object });
      const partition = partitionOf(record.pk);
      if (partition?.kind === 'entry' && !foldFrom.has(partition.tenantId)) {
        foldFrom.set(partition.tenantId, index);
      }
    } catch (error) {
      failed.set(index, (error as Error).message);
    }
  });

  let next = 0;
  const archiveWorker = async () => {
    while (next < work.length) {
      const { index, object } = work[next++] as (typeof work)[number];
      try {
        const outcome = await context.archive.putOnce(object.key, object.bytes);
        if (outcome === 'written') written++;
        else if (outcome === 'identical') identical++;
        else {
          mismatches.push(object.key);
          logger.error('audit archive mismatch: the archive holds different bytes under this key (AUD-2)', {
            tenantId: object.tenantId,
            key: object.key,
            archive: context.archive.location,
          });
          failed.set(index, `archive mismatch at ${object.key}`);
        }
      } catch (error) {
        logger.error('audit archive write failed', { tenantId: object.tenantId, key: object.key, error });
        failed.set(index, `archive write of ${object.key} failed: ${(error as Error).message}`);
      }
    }
  };

  const folding = [...foldFrom].map(async ([tenantId, index]) => {
    try {
      await context.auditLog.fold(context.clients.forTenant(tenantId), tenantId);
      return tenantId;
    } catch (error) {
      logger.error('audit fold from the stream failed', { tenantId, error });
      if (!failed.has(index)) failed.set(index, `fold of ${tenantId} failed: ${(error as Error).message}`);
      return undefined;
    }
  });
  const workers = Array.from({ length: Math.min(archiveConcurrency, work.length) }, archiveWorker);
  const [folded] = await Promise.all([Promise.all(folding), Promise.all(workers)]);

  const failures = [...failed.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, reason]) => ({
      sequenceNumber: (records[index] as AuditStreamRecord).sequenceNumber,
      reason,
    }));
  return {
    written,
    identical,
    mismatches,
    mutations,
    foldedTenants: folded.filter((tenantId): tenantId is string => tenantId !== undefined),
    failures,
    retryFrom: failures[0]?.sequenceNumber,
  };
}
