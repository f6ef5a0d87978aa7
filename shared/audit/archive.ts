/**
 * The audit archive (AUD-2): a write-once copy of every entry, its place in the log and
 * every signed checkpoint, outside the tables. In AWS it is an S3 bucket with Object Lock
 * in compliance mode; locally a folder of read-only files. Writers only ever call
 * `putOnce`, which never replaces an object: a second write of the same bytes is
 * `identical` (retries and replays are harmless), different bytes are a `mismatch`, which
 * means someone tried to rewrite history and must be raised, never ignored.
 */
import { canonicalBytes } from './entry';

export type ArchiveOutcome = 'written' | 'identical' | 'mismatch';

export interface ArchiveSink {
  /** Where the archive lives, for messages (a bucket or a folder). */
  readonly location: string;
  /** Writes `bytes` under `key` unless an object exists there; then compares the two. */
  putOnce(key: string, bytes: Uint8Array): Promise<ArchiveOutcome>;
}

const segmentPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Archive keys are relative paths of plain segments: no `..`, no empty or hidden segment. */
export function assertArchiveKey(key: string): void {
  const segments = key.split('/');
  if (
    key.length > 512 ||
    segments.some((segment) => !segmentPattern.test(segment) || segment.includes('..'))
  ) {
    throw new Error(`archive key must be plain path segments, got ${JSON.stringify(key)}`);
  }
}

const seqWidth = 16;

/** Where each kind of object lives in the archive, per tenant. */
export const archiveKeys = {
  /** The entry's RFC 8785 canonical bytes: exactly what its leaf hash covers. */
  entry: (tenantId: string, entryId: string): string => `tenants/${tenantId}/entries/${entryId}.json`,
  /** The entry at a log position (sequence number, entry id, leaf hash), fixed width so keys sort. */
  leaf: (tenantId: string, seq: number): string =>
    `tenants/${tenantId}/leaves/${String(seq).padStart(seqWidth, '0')}.json`,
  /** A signed checkpoint (C2SP signed note) of a tree size. */
  checkpoint: (tenantId: string, size: number): string => `tenants/${tenantId}/checkpoints/${size}.note`,
} as const;

/** The archived form of a log position. */
export function leafRecordBytes(seq: number, entryId: string, leafHash: string): Buffer {
  return canonicalBytes({ seq, entryId, leafHash });
}

/** Content type of an archive object, by its extension. */
export function archiveContentType(key: string): string {
  return key.endsWith('.note') ? 'text/plain; charset=utf-8' : 'application/json';
}
