/** Audit API schemas (AUD-3, AUD-4). */
import { z } from 'zod';
import { text } from './common';

/** Entry ids: the `aud_` prefix and a time-ordered id. */
export const auditEntryId = z.string().regex(/^aud_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be an audit entry id');

const base64Hash = z.string();
const treeSize = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const auditEntriesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(64).optional(),
  action: text(1, 64).optional(),
  actorId: text(1, 64).optional(),
  targetId: text(1, 64).optional(),
});

export const auditEntryView = z.strictObject({
  seq: z.number().int(),
  leafHash: base64Hash,
  entry: z.record(z.string(), z.unknown()),
});

export const auditEntryListResponse = z.strictObject({
  items: z.array(auditEntryView),
  nextCursor: z.string().optional(),
});

export const auditEntryParams = z.strictObject({ id: auditEntryId });
export const auditEntryQuery = z.strictObject({ treeSize: treeSize.optional() });

export const checkpointView = z.strictObject({
  size: z.number().int(),
  root: base64Hash,
  note: z.string(),
  signedAt: z.string(),
});

export const auditEntryWithProofResponse = z.strictObject({
  seq: z.number().int(),
  leafHash: base64Hash,
  entry: z.record(z.string(), z.unknown()),
  /** Canonical entry bytes (RFC 8785), base64: what the leaf hash covers. */
  entryBytes: z.string(),
  treeSize: z.number().int(),
  inclusionProof: z.array(base64Hash),
  checkpoint: checkpointView,
});

export const consistencyQuery = z.strictObject({ from: treeSize, to: treeSize.optional() });

export const consistencyResponse = z.strictObject({
  from: z.number().int(),
  to: z.number().int(),
  proof: z.array(base64Hash),
  checkpoint: checkpointView,
});

export const publishedKeysResponse = z.strictObject({
  keys: z.array(
    z.strictObject({
      keyName: z.string(),
      keyId: z.string(),
      algorithm: z.literal('ed25519'),
      publicKey: z.string(),
      verifierKey: z.string(),
      current: z.boolean(),
    }),
  ),
});

/** An audit export takes no input; an empty JSON object or no body at all. */
export const auditExportBody = z.strictObject({}).optional();
