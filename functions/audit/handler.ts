/** Audit routes for auditors (AUD-3, AUD-4): entries, proofs, checkpoints and keys. */
import { canonicalBytes } from '#shared/audit/entry';
import { loadRuntimeConfig } from '#shared/config/runtime';
import { createCheckpointSigner } from '#shared/crypto/signing';
import { MalformedRequestError } from '#shared/domain/errors';
import { signedInPrincipal } from '#shared/http/request';
import { createRouteGroupHandler } from '#shared/http/route-handler';
import {
  auditEntryWithProof,
  consistencyToCheckpoint,
  exportAuditLogNow,
  latestCheckpoint,
  listAuditEntries,
} from '#shared/services/audit';
import { createServiceContext } from '#shared/services/context';
import type { StoredCheckpoint } from '#shared/store/audit-log';

const config = loadRuntimeConfig();
const context = createServiceContext(config);
const signer = createCheckpointSigner(config);

const base64 = (bytes: Buffer) => bytes.toString('base64');

function checkpointView(checkpoint: StoredCheckpoint) {
  return {
    size: checkpoint.size,
    root: base64(checkpoint.root),
    note: checkpoint.note,
    signedAt: checkpoint.signedAt,
  };
}

// The cursor names the next sequence number of the caller's own log.
function encodeCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^seq:(0|[1-9][0-9]{0,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new MalformedRequestError('The cursor is not valid.');
  return Number(match[1]);
}

export const handler = createRouteGroupHandler('audit', {
  listAuditEntries: async (request) => {
    const { tenantId } = signedInPrincipal(request);
    const query = request.query as {
      limit?: number;
      cursor?: string;
      action?: string;
      actorId?: string;
      targetId?: string;
    };
    const page = await listAuditEntries(
      context,
      tenantId,
      query.cursor === undefined ? 0 : decodeCursor(query.cursor),
      query.limit ?? 50,
      { action: query.action, actorId: query.actorId, targetId: query.targetId },
    );
    return {
      body: {
        items: page.items.map((each) => ({
          seq: each.seq,
          leafHash: base64(each.leafHash),
          entry: each.entry,
        })),
        ...(page.nextSeq === undefined ? {} : { nextCursor: encodeCursor(page.nextSeq) }),
      },
    };
  },

  getAuditEntry: async (request) => {
    const { tenantId } = signedInPrincipal(request);
    const { id } = request.params as { id: string };
    const { treeSize } = request.query as { treeSize?: number };
    const found = await auditEntryWithProof(context, tenantId, id, treeSize);
    return {
      body: {
        seq: found.seq,
        leafHash: base64(found.leafHash),
        entry: found.entry,
        entryBytes: base64(canonicalBytes(found.entry)),
        treeSize: found.checkpoint.size,
        inclusionProof: found.proof.map(base64),
        checkpoint: checkpointView(found.checkpoint),
      },
    };
  },

  getConsistencyProof: async (request) => {
    const { tenantId } = signedInPrincipal(request);
    const { from, to } = request.query as { from: number; to?: number };
    const { checkpoint, proof } = await consistencyToCheckpoint(context, tenantId, from, to);
    return {
      body: { from, to: checkpoint.size, proof: proof.map(base64), checkpoint: checkpointView(checkpoint) },
    };
  },

  getLatestCheckpoint: async (request) => {
    const { tenantId } = signedInPrincipal(request);
    return { body: checkpointView(await latestCheckpoint(context, tenantId)) };
  },

  getAuditKeys: async () => ({ body: { keys: await signer.publicKeys() } }),

  exportAuditLog: async (request) => ({
    text: await exportAuditLogNow(context, signer, {
      principal: signedInPrincipal(request),
      requestId: request.requestId,
    }),
    headers: { 'Content-Disposition': 'attachment; filename="audit.bundle"' },
  }),
});
