/**
 * Audit log services (AUD-3, AUD-4): signing checkpoints of a tenant's head, and the
 * proofs an auditor asks for. Proof hashes come from stored perfect-subtree nodes,
 * so each proof is O(log n) reads.
 */

import { Writable } from 'node:stream';
import type { AuditEntry } from '#shared/audit/entry';
import {
  consistencyRanges,
  inclusionRanges,
  type NodeAddress,
  rangeHash,
  rangeNodes,
} from '#shared/audit/merkle';
import { checkpointBody, checkpointOrigin, formatSignedNote, noteKeyId } from '#shared/audit/signed-note';
import type { Principal } from '#shared/auth/principal';
import type { CheckpointSigner } from '#shared/crypto/signing';
import {
  ExportTooLargeError,
  NotCheckpointedError,
  NotFoundError,
  ValidationError,
} from '#shared/domain/errors';
import type { AuditLog, SequencedEntry, StoredCheckpoint } from '#shared/store/audit-log';
import { nodeSortKey } from '#shared/store/audit-log';
import type { DataClients } from '#shared/store/dynamo';
import { auditEntryFor } from './audit-entries';
import { exportAuditBundle } from './audit-export';
import type { ServiceContext } from './context';

/** Domain that names Strongroom logs in checkpoint origins. */
export const checkpointDomain = 'strongroom.dev';

export interface AuditServiceContext {
  readonly clients: Pick<DataClients, 'forTenant'>;
  readonly auditLog: AuditLog;
  readonly now: () => Date;
}

/**
 * Signs the tenant's head if it moved since the last checkpoint; returns the newest
 * checkpoint either way (undefined for an empty log).
 */
export async function signCheckpoint(
  context: AuditServiceContext,
  signer: CheckpointSigner,
  tenantId: string,
): Promise<StoredCheckpoint | undefined> {
  const client = context.clients.forTenant(tenantId);
  // Whatever a crashed writer left pending is folded first, so the checkpoint covers it.
  await context.auditLog.fold(client, tenantId);
  const [head, latest] = await Promise.all([
    context.auditLog.head(client, tenantId),
    context.auditLog.latestCheckpoint(client, tenantId),
  ]);
  if (head.size === 0 || (latest && latest.size >= head.size)) return latest;
  const body = checkpointBody({
    origin: checkpointOrigin(checkpointDomain, tenantId),
    size: head.size,
    root: head.root,
  });
  const signature = await signer.sign(Buffer.from(body, 'utf8'));
  const [current] = await signer.publicKeys();
  if (!current) throw new Error('the signer publishes no key');
  const note = formatSignedNote({
    body,
    signatures: [
      {
        keyName: signer.keyName,
        keyId: noteKeyId(signer.keyName, Buffer.from(current.publicKey, 'base64')),
        signature,
      },
    ],
  });
  const checkpoint: StoredCheckpoint = {
    size: head.size,
    root: head.root,
    note,
    signedAt: context.now().toISOString(),
  };
  try {
    await context.auditLog.putCheckpoint(client, tenantId, checkpoint);
  } catch (error) {
    // Another signer stored this size first; its checkpoint is as good as ours.
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
  return checkpoint;
}

async function hashesOf(
  context: AuditServiceContext,
  tenantId: string,
  ranges: readonly [number, number][],
): Promise<Buffer[]> {
  const addresses: NodeAddress[] = [];
  for (const [start, end] of ranges) rangeNodes(start, end, addresses);
  const stored = await context.auditLog.nodes(context.clients.forTenant(tenantId), tenantId, addresses);
  const node = (address: NodeAddress) => {
    const hash = stored.get(nodeSortKey(address));
    if (!hash) throw new Error(`audit node ${nodeSortKey(address)} of ${tenantId} is missing`);
    return hash;
  };
  return ranges.map(([start, end]) => rangeHash(start, end, node));
}

export async function inclusionProof(
  context: AuditServiceContext,
  tenantId: string,
  leafIndex: number,
  treeSize: number,
): Promise<Buffer[]> {
  const head = await context.auditLog.head(context.clients.forTenant(tenantId), tenantId);
  if (treeSize > head.size) throw new ValidationError(`The log has only ${head.size} entries.`);
  if (leafIndex >= treeSize) throw new NotFoundError('No entry at this position in a tree of that size.');
  return hashesOf(context, tenantId, inclusionRanges(leafIndex, treeSize));
}

export async function consistencyProof(
  context: AuditServiceContext,
  tenantId: string,
  firstSize: number,
  secondSize: number,
): Promise<Buffer[]> {
  const head = await context.auditLog.head(context.clients.forTenant(tenantId), tenantId);
  if (secondSize > head.size) throw new ValidationError(`The log has only ${head.size} entries.`);
  if (firstSize < 1 || firstSize > secondSize) {
    throw new ValidationError('A consistency proof needs 1 ≤ from ≤ to.');
  }
  return hashesOf(context, tenantId, consistencyRanges(firstSize, secondSize));
}

export interface AuditEntryPage {
  readonly items: SequencedEntry[];
  /** The next sequence number to read, when the log goes on. */
  readonly nextSeq: number | undefined;
}

export interface AuditEntryFilter {
  readonly action?: string;
  readonly actorId?: string;
  readonly targetId?: string;
}

/** How many entries one page may read while filtering, so a request stays bounded. */
const maxEntriesScannedPerPage = 1000;

/** Entries in log order from `fromSeq` that match the filter (AUD-4). */
export async function listAuditEntries(
  context: AuditServiceContext,
  tenantId: string,
  fromSeq: number,
  limit: number,
  filter: AuditEntryFilter,
): Promise<AuditEntryPage> {
  const client = context.clients.forTenant(tenantId);
  const head = await context.auditLog.head(client, tenantId);
  const items: SequencedEntry[] = [];
  let seq = fromSeq;
  while (seq < head.size && items.length < limit && seq - fromSeq < maxEntriesScannedPerPage) {
    const batch = await context.auditLog.entriesFrom(client, tenantId, seq, Math.min(100, head.size - seq));
    if (batch.length === 0) break;
    for (const each of batch) {
      seq = each.seq + 1;
      if (matches(each.entry, filter)) items.push(each);
      if (items.length === limit) break;
    }
  }
  return { items, nextSeq: seq < head.size ? seq : undefined };
}

function matches(entry: AuditEntry, filter: AuditEntryFilter): boolean {
  return (
    (filter.action === undefined || entry.action === filter.action) &&
    (filter.actorId === undefined || entry.actor.id === filter.actorId) &&
    (filter.targetId === undefined || entry.target.id === filter.targetId)
  );
}

/** The checkpoint a proof is given against: the one of `treeSize`, or the latest. */
async function checkpointFor(
  context: AuditServiceContext,
  tenantId: string,
  treeSize: number | undefined,
): Promise<StoredCheckpoint> {
  const client = context.clients.forTenant(tenantId);
  const checkpoint =
    treeSize === undefined
      ? await context.auditLog.latestCheckpoint(client, tenantId)
      : await context.auditLog.checkpointAt(client, tenantId, treeSize);
  if (!checkpoint) {
    throw new NotCheckpointedError(
      treeSize === undefined
        ? 'The audit log has no signed checkpoint yet.'
        : `There is no signed checkpoint of size ${treeSize}.`,
    );
  }
  return checkpoint;
}

export interface EntryWithProof {
  readonly seq: number;
  readonly entry: AuditEntry;
  readonly leafHash: Buffer;
  readonly checkpoint: StoredCheckpoint;
  readonly proof: Buffer[];
}

/** One entry with its inclusion proof against a signed checkpoint (AUD-3). */
export async function auditEntryWithProof(
  context: AuditServiceContext,
  tenantId: string,
  entryId: string,
  treeSize: number | undefined,
): Promise<EntryWithProof> {
  const client = context.clients.forTenant(tenantId);
  const [found, seq] = await Promise.all([
    context.auditLog.getEntry(client, tenantId, entryId),
    context.auditLog.sequenceOf(client, tenantId, entryId),
  ]);
  if (!found || seq === undefined) throw new NotFoundError('No audit entry with this id.');
  const checkpoint = await checkpointFor(context, tenantId, treeSize);
  if (seq >= checkpoint.size) {
    throw new NotCheckpointedError(
      `Entry ${seq} is not yet covered by a signed checkpoint (size ${checkpoint.size}).`,
    );
  }
  const proof = await inclusionProof(context, tenantId, seq, checkpoint.size);
  return { seq, entry: found.entry, leafHash: found.leafHash, checkpoint, proof };
}

/** A consistency proof from `from` to a signed checkpoint (the latest, or the one of size `to`). */
export async function consistencyToCheckpoint(
  context: AuditServiceContext,
  tenantId: string,
  from: number,
  to: number | undefined,
): Promise<{ checkpoint: StoredCheckpoint; proof: Buffer[] }> {
  const checkpoint = await checkpointFor(context, tenantId, to);
  if (from > checkpoint.size) {
    throw new ValidationError(`from (${from}) is beyond the checkpoint's size (${checkpoint.size}).`);
  }
  return { checkpoint, proof: await consistencyProof(context, tenantId, from, checkpoint.size) };
}

export async function latestCheckpoint(
  context: AuditServiceContext,
  tenantId: string,
): Promise<StoredCheckpoint> {
  return checkpointFor(context, tenantId, undefined);
}

/** The largest log the synchronous API export serves (a Lambda response holds about 6 MB). */
export const maxSynchronousExportEntries = 10_000;

export interface AuditExportCommand {
  readonly principal: Principal;
  readonly requestId: string;
}

/**
 * AUD-4: the audit log as a strongroom-audit-bundle/1 file, up to its latest signed
 * checkpoint. The export is recorded first (AUD-1), so the next checkpoint covers it.
 */
export async function exportAuditLogNow(
  context: ServiceContext,
  signer: CheckpointSigner,
  command: AuditExportCommand,
): Promise<string> {
  const { principal } = command;
  const client = context.clients.forTenant(principal.tenantId);
  const head = await context.auditLog.head(client, principal.tenantId);
  if (head.size > maxSynchronousExportEntries) {
    throw new ExportTooLargeError(
      `The log has ${head.size} entries; the API exports at most ${maxSynchronousExportEntries} at once.`,
    );
  }
  const now = context.now();
  await context.mutations.commit(client, {
    tenantId: principal.tenantId,
    writes: [],
    entry: auditEntryFor(
      { principal, requestId: command.requestId, agentReason: undefined, inputs: {} },
      { action: 'audit.export', target: { type: 'audit-log', id: principal.tenantId } },
      now,
    ),
    now,
  });
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await exportAuditBundle(context, signer, principal.tenantId, sink, { signFresh: false });
  return Buffer.concat(chunks).toString('utf8');
}
