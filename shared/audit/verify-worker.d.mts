/** Types of verify-worker.mjs, the verifier's hot loop (see that file). */

export interface BatchRequest {
  readonly id: number;
  /** Log position of the first line. */
  readonly firstPosition: number;
  /** The lines, each ending with 0x0A; the worker may overwrite bytes in place. */
  readonly bytes: Uint8Array;
  /** Offset of each line's terminating 0x0A within `bytes`. */
  readonly lineEnds: Uint32Array;
  /** Log positions strictly inside the batch where a segment ends (checkpoint sizes), ascending. */
  readonly splits: readonly number[];
  /** Subtree nodes to keep, flattened as level, index, level, index, … */
  readonly wanted: readonly number[];
}

export interface BatchNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Uint8Array;
}

export interface BatchSegment {
  /** Log position where the segment ends (exclusive). */
  readonly end: number;
  /** The segment's aligned perfect subtrees, left to right. */
  readonly nodes: readonly BatchNode[];
  /** The entry id when the segment holds exactly one entry. */
  readonly soleEntryId?: string;
}

export interface BatchProblem {
  readonly kind: 'malformed-line' | 'leaf-mismatch';
  readonly position: number;
  readonly entryId?: string;
  readonly detail?: string;
}

export interface BatchResult {
  /** Segments completed before the problem, if any. */
  readonly segments: readonly BatchSegment[];
  readonly captured: readonly BatchNode[];
  readonly problem?: BatchProblem;
}

/** What a worker posts back: the result, and the request's buffers for reuse. */
export interface BatchReply {
  readonly id: number;
  readonly result: BatchResult;
  readonly buffers: { readonly bytes: ArrayBuffer; readonly lineEnds: ArrayBuffer };
}

export function processBatch(request: BatchRequest): BatchResult;

export function entryIdOf(entryBytes: Uint8Array): string | undefined;

/** Whether the 44 bytes at `textStart` are exactly the canonical padded base64 of the 32 bytes at `hashStart`. */
export function recordedHashEquals(
  text: Uint8Array,
  textStart: number,
  hashes: Uint8Array,
  hashStart: number,
): boolean;
