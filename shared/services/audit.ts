/**
 * Audit log services (AUD-3, AUD-4): signing checkpoints of a tenant's head, and the
 * proofs an auditor asks for. Proof hashes come from stored perfect-subtree nodes,
 * so each proof is O(log n) reads.
 */
import {
  consistencyRanges,
  inclusionRanges,
  type NodeAddress,
  rangeHash,
  rangeNodes,
} from '#shared/audit/merkle';
import { checkpointBody, checkpointOrigin, formatSignedNote, noteKeyId } from '#shared/audit/signed-note';
import type { CheckpointSigner } from '#shared/crypto/signing';
import { NotFoundError, ValidationError } from '#shared/domain/errors';
import type { AuditLog, StoredCheckpoint } from '#shared/store/audit-log';
import { nodeSortKey } from '#shared/store/audit-log';
import type { DataClients } from '#shared/store/dynamo';

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
