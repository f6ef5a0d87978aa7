/**
 * The offline verification engine for `strongroom-audit-bundle/1` exports (AUD-3). It
 * needs nothing but the bundle file and the keys the caller trusts, and streams: memory
 * stays at a few batches of lines plus O(checkpoints · log n) tree nodes, whatever the
 * size of the log.
 *
 * What is checked, and in which order (the first problem is reported):
 *   1. the header, the checkpoint notes (C2SP signed notes over tlog-checkpoint bodies),
 *      their origin, ascending sizes ending at the bundle size, and every signature
 *      against the trusted keys (key chosen by name and key id);
 *   2. the trusted checkpoint, if given: its signature and origin, and that the bundle
 *      reaches its size;
 *   3. every entry line, in order: SHA-256(0x00 ‖ entry bytes) equals the recorded leaf
 *      hash; the recorded hashes rebuild the RFC 9162 tree, whose root at each checkpoint
 *      size must equal the signed root (and the trusted root at its size); between
 *      consecutive checkpoints, and from the trusted checkpoint to the end, the RFC 9162
 *      consistency proof is built from the rebuilt tree's nodes and verified;
 *   4. the number of lines equals the last checkpoint's size.
 *
 * Leaf hashing (verify-worker.mjs) runs on the main thread, and for large bundles on a
 * machine with idle cores also on worker threads: the main thread reads the file, cuts
 * batches, keeps each worker two batches ahead, hashes every other batch itself (never
 * waiting for a worker while a batch is unclaimed), and folds each batch's few subtree
 * nodes in log order.
 */
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { PublishedSigningKey } from '#shared/crypto/signing';
import {
  BundleFormatError,
  type BundleHeader,
  BundleReader,
  type LineBatch,
  type LineBatchBuffers,
  parsePublishedKeys,
} from './bundle';
import {
  consistencyRanges,
  emptyRoot,
  hashChildren,
  type NodeAddress,
  nodeKey,
  rangeHash,
  rangeNodes,
} from './merkle';
import { verifyConsistency } from './proofs';
import {
  type Checkpoint,
  parseCheckpointBody,
  parseSignedNote,
  type SignedNote,
  verifySignedNote,
} from './signed-note';
import type { BatchNode, BatchProblem, BatchReply, BatchRequest, BatchResult } from './verify-worker.mjs';
import { processBatch } from './verify-worker.mjs';

export type VerificationFailureCode =
  | 'bundle-malformed'
  | 'origin-mismatch'
  | 'checkpoint-malformed'
  | 'checkpoint-order'
  | 'checkpoint-unknown-key'
  | 'checkpoint-signature-invalid'
  | 'no-checkpoint'
  | 'unsigned-entries'
  | 'log-truncated'
  | 'extra-entries'
  | 'leaf-hash-mismatch'
  | 'checkpoint-root-mismatch'
  | 'consistency-proof-failed'
  | 'trusted-checkpoint-unknown-key'
  | 'trusted-checkpoint-signature-invalid'
  | 'trusted-checkpoint-origin'
  | 'trusted-checkpoint-mismatch';

/** The bundle does not verify: `message` names the first problem found. */
export class AuditVerificationError extends Error {
  readonly code: VerificationFailureCode;
  /** Log position (0-based) of the entry the problem is pinned to, when it is pinned to one. */
  readonly position: number | undefined;
  readonly entryId: string | undefined;

  constructor(
    code: VerificationFailureCode,
    message: string,
    details: { position?: number | undefined; entryId?: string | undefined } = {},
  ) {
    super(message);
    this.name = 'AuditVerificationError';
    this.code = code;
    this.position = details.position;
    this.entryId = details.entryId;
  }
}

/** A verifier input the caller supplied (trusted keys, trusted checkpoint) is unusable. */
export class VerifierInputError extends Error {
  readonly code: 'invalid-keys' | 'invalid-trusted-checkpoint';

  constructor(code: 'invalid-keys' | 'invalid-trusted-checkpoint', message: string) {
    super(message);
    this.name = 'VerifierInputError';
    this.code = code;
  }
}

export interface VerifyBundleOptions {
  /** Keys to trust (GET /audit/keys). Without them the bundle's own keys are used, which proves less. */
  readonly keys?: readonly PublishedSigningKey[];
  /** A signed checkpoint note the tenant kept from earlier (or the JSON of GET /audit/checkpoints/latest). */
  readonly trustedCheckpoint?: string;
  /**
   * Worker threads for leaf hashing, besides the main thread, which hashes whatever batch
   * no worker holds; default: one per idle core but one (by the load average) for large
   * bundles, none for small ones or on a busy machine.
   */
  readonly workers?: number;
  /** Lines per batch; a power of two keeps batches aligned to subtrees. */
  readonly batchLines?: number;
  /** Called once the header is read, before the entries. */
  readonly onHeader?: (header: BundleHeader) => void;
  /** Called as entries are verified. */
  readonly onProgress?: (verifiedEntries: number, totalEntries: number) => void;
}

export interface VerifiedCheckpoint {
  readonly size: number;
  readonly root: Buffer;
  /** The trusted key whose signature verified. */
  readonly keyName: string;
  readonly keyId: string;
}

export interface BundleVerification {
  readonly tenantId: string;
  readonly origin: string;
  readonly exportedAt: string;
  readonly entries: number;
  readonly root: Buffer;
  readonly checkpoints: readonly VerifiedCheckpoint[];
  /** True when no keys were given and the bundle's own key set was trusted. */
  readonly keysFromBundle: boolean;
  /** RFC 9162 consistency proofs verified (consecutive checkpoints, and trusted → last). */
  readonly consistencyProofs: number;
  readonly trustedCheckpoint: VerifiedCheckpoint | undefined;
}

/** Bundles at least this large are hashed on worker threads; below it their start-up costs more than it saves. */
const parallelThreshold = 50_000;
const defaultBatchLines = 4096;
/** Batches queued per worker: enough to keep it busy between two turns of the main thread's event loop. */
const batchesQueuedPerWorker = 2;
/** Batches the main thread may read and hash ahead of the oldest one a worker still holds. */
const mainThreadLead = 4;

/**
 * Parses a key set file: a JSON array of published signing keys, or GET /audit/keys's
 * response body (`{"keys": [...]}`) saved as it is.
 */
export function parseTrustedKeys(text: string): PublishedSigningKey[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new VerifierInputError('invalid-keys', 'the keys file is not JSON');
  }
  const list =
    value !== null && typeof value === 'object' && !Array.isArray(value) && 'keys' in value
      ? value.keys
      : value;
  try {
    const keys = parsePublishedKeys(list, 'the keys file');
    if (keys.length === 0) throw new VerifierInputError('invalid-keys', 'the keys file lists no key');
    return keys;
  } catch (error) {
    if (error instanceof BundleFormatError) throw new VerifierInputError('invalid-keys', error.message);
    throw error;
  }
}

/**
 * The signed note of a trusted checkpoint file: the note text itself, or GET
 * /audit/checkpoints/latest's response body (JSON with a `note` member) saved as it is.
 */
export function trustedCheckpointNote(text: string): string {
  if (!text.trimStart().startsWith('{')) return text;
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && 'note' in value && typeof value.note === 'string') {
      return value.note;
    }
  } catch {
    // Reported below like any other unreadable checkpoint.
  }
  throw new VerifierInputError(
    'invalid-trusted-checkpoint',
    'the trusted checkpoint file is JSON without a "note" holding the signed checkpoint',
  );
}

export async function verifyBundle(
  path: string,
  options: VerifyBundleOptions = {},
): Promise<BundleVerification> {
  const trustedNote =
    options.trustedCheckpoint === undefined ? undefined : parseNoteInput(options.trustedCheckpoint);
  let reader: BundleReader;
  try {
    reader = await BundleReader.open(path);
  } catch (error) {
    throw asVerificationError(error);
  }
  try {
    options.onHeader?.(reader.header);
    const plan = checkHeader(reader.header, options.keys, trustedNote);
    return await verifyEntries(reader, plan, options);
  } finally {
    await reader.close();
  }
}

function parseNoteInput(text: string): { note: SignedNote; checkpoint: Checkpoint } {
  const noteText = trustedCheckpointNote(text);
  try {
    const note = parseSignedNote(noteText);
    return { note, checkpoint: parseCheckpointBody(note.body) };
  } catch {
    throw new VerifierInputError(
      'invalid-trusted-checkpoint',
      'the trusted checkpoint is not a C2SP signed note with a checkpoint body (origin, size, root)',
    );
  }
}

function asVerificationError(error: unknown): unknown {
  if (error instanceof BundleFormatError) {
    return new AuditVerificationError('bundle-malformed', `the bundle is malformed: ${error.message}`, {
      position: error.position,
    });
  }
  return error;
}

// ---------------------------------------------------------------------------------------
// Header, checkpoints and signatures

interface KeyRef {
  readonly keyName: string;
  readonly keyId: string;
  readonly publicKey: Buffer;
}

interface VerificationPlan {
  readonly header: BundleHeader;
  readonly keysFromBundle: boolean;
  readonly checkpoints: readonly VerifiedCheckpoint[];
  readonly trusted: VerifiedCheckpoint | undefined;
  /** Sizes at which the rebuilt root is checked, ascending, each in (0, size]. */
  readonly splits: readonly number[];
  /** Nodes the consistency proofs read, by level, then index. */
  readonly wanted: ReadonlyMap<number, ReadonlySet<number>>;
  /** The same nodes sorted by first leaf, to hand each batch the ones inside it. */
  readonly wantedByStart: readonly NodeAddress[];
}

function checkHeader(
  header: BundleHeader,
  trustedKeys: readonly PublishedSigningKey[] | undefined,
  trustedNote: { note: SignedNote; checkpoint: Checkpoint } | undefined,
): VerificationPlan {
  const keysFromBundle = trustedKeys === undefined;
  const keys: KeyRef[] = (trustedKeys ?? header.keys).map((key) => ({
    keyName: key.keyName,
    keyId: key.keyId,
    publicKey: Buffer.from(key.publicKey, 'base64'),
  }));
  if (!header.origin.endsWith(`/tenants/${header.tenantId}/audit`)) {
    throw new AuditVerificationError(
      'origin-mismatch',
      `the bundle's origin ${header.origin} does not name its tenant ${header.tenantId}`,
    );
  }

  const checkpoints: VerifiedCheckpoint[] = [];
  let previousSize = -1;
  for (const [position, { size, note }] of header.checkpoints.entries()) {
    const what = `the checkpoint at size ${size}`;
    let parsed: { note: SignedNote; checkpoint: Checkpoint };
    try {
      const signed = parseSignedNote(note);
      parsed = { note: signed, checkpoint: parseCheckpointBody(signed.body) };
    } catch {
      throw new AuditVerificationError(
        'checkpoint-malformed',
        `${what} (header checkpoint ${position}) is not a C2SP signed checkpoint note`,
      );
    }
    if (parsed.checkpoint.size !== size) {
      throw new AuditVerificationError(
        'checkpoint-malformed',
        `${what} says size ${parsed.checkpoint.size} in its signed body`,
      );
    }
    if (parsed.checkpoint.origin !== header.origin) {
      throw new AuditVerificationError(
        'origin-mismatch',
        `${what} is for log ${parsed.checkpoint.origin}, not this bundle's ${header.origin}`,
      );
    }
    if (size <= previousSize) {
      throw new AuditVerificationError(
        'checkpoint-order',
        `${what} follows one of size ${previousSize}: checkpoint sizes must ascend`,
      );
    }
    if (size === 0 && !parsed.checkpoint.root.equals(emptyRoot)) {
      throw new AuditVerificationError(
        'checkpoint-root-mismatch',
        `${what} does not have the empty tree's root`,
      );
    }
    previousSize = size;
    const signer = checkSignature(parsed.note, keys, what, 'checkpoint');
    checkpoints.push({ size, root: parsed.checkpoint.root, ...signer });
  }

  const last = checkpoints.at(-1);
  if (!last) {
    if (header.size > 0) {
      throw new AuditVerificationError(
        'no-checkpoint',
        `the bundle holds ${header.size} entries but no signed checkpoint vouches for them`,
      );
    }
  } else if (last.size > header.size) {
    throw new AuditVerificationError(
      'log-truncated',
      `the log was truncated after a signed checkpoint: the checkpoint at size ${last.size} is signed, but the bundle's header declares only ${header.size} entries`,
      { position: header.size },
    );
  } else if (last.size < header.size) {
    throw new AuditVerificationError(
      'unsigned-entries',
      `entries from position ${last.size} to ${header.size - 1} are not covered by any signed checkpoint (the last one has size ${last.size})`,
      { position: last.size },
    );
  }

  let trusted: VerifiedCheckpoint | undefined;
  if (trustedNote) {
    const { checkpoint } = trustedNote;
    const what = `your trusted checkpoint (size ${checkpoint.size})`;
    const signer = checkSignature(trustedNote.note, keys, what, 'trusted-checkpoint');
    if (checkpoint.origin !== header.origin) {
      throw new AuditVerificationError(
        'trusted-checkpoint-origin',
        `${what} is for log ${checkpoint.origin}, not this bundle's ${header.origin}`,
      );
    }
    if (checkpoint.size > header.size) {
      throw new AuditVerificationError(
        'log-truncated',
        `the log was truncated after a signed checkpoint: ${what} covers ${checkpoint.size} entries, but this bundle holds only ${header.size}`,
        { position: header.size },
      );
    }
    if (checkpoint.size === 0 && !checkpoint.root.equals(emptyRoot)) {
      throw new AuditVerificationError(
        'trusted-checkpoint-mismatch',
        `${what} does not have the empty tree's root`,
      );
    }
    trusted = { size: checkpoint.size, root: checkpoint.root, ...signer };
  }

  const splits = [...new Set([...checkpoints.map((each) => each.size), ...(trusted ? [trusted.size] : [])])]
    .filter((size) => size > 0)
    .sort((a, b) => a - b);
  const proofAddresses: NodeAddress[] = [];
  const pairs: [number, number][] = [];
  for (let index = 1; index < checkpoints.length; index++) {
    pairs.push([
      (checkpoints[index - 1] as VerifiedCheckpoint).size,
      (checkpoints[index] as VerifiedCheckpoint).size,
    ]);
  }
  if (trusted) pairs.push([trusted.size, header.size]);
  for (const [first, second] of pairs) {
    if (first < 1 || first >= second) continue;
    for (const [start, end] of consistencyRanges(first, second)) rangeNodes(start, end, proofAddresses);
  }
  const wanted = new Map<number, Set<number>>();
  const unique = new Map<string, NodeAddress>();
  for (const address of proofAddresses) {
    unique.set(nodeKey(address), address);
    const level = wanted.get(address.level) ?? new Set<number>();
    level.add(address.index);
    wanted.set(address.level, level);
  }
  const wantedByStart = [...unique.values()].sort((a, b) => a.index * 2 ** a.level - b.index * 2 ** b.level);
  return { header, keysFromBundle, checkpoints, trusted, splits, wanted, wantedByStart };
}

function checkSignature(
  note: SignedNote,
  keys: readonly KeyRef[],
  what: string,
  codes: 'checkpoint' | 'trusted-checkpoint',
): { keyName: string; keyId: string } {
  const describe = (keyName: string, keyId: string) => `${keyName} (key id ${keyId})`;
  const known = note.signatures.flatMap((signature) => {
    const keyId = signature.keyId.toString('hex');
    const key = keys.find((each) => each.keyName === signature.keyName && each.keyId === keyId);
    return key ? [{ signature, key }] : [];
  });
  if (known.length === 0) {
    const signers = note.signatures
      .map((each) => describe(each.keyName, each.keyId.toString('hex')))
      .join(', ');
    const trusted = keys.map((each) => describe(each.keyName, each.keyId)).join(', ') || 'none';
    throw new AuditVerificationError(
      codes === 'checkpoint' ? 'checkpoint-unknown-key' : 'trusted-checkpoint-unknown-key',
      `${what} is signed by an unknown key: ${signers || 'no signature'}; the trusted keys are ${trusted}`,
    );
  }
  for (const { signature, key } of known) {
    if (verifySignedNote({ body: note.body, signatures: [signature] }, [key])) {
      return { keyName: key.keyName, keyId: key.keyId };
    }
  }
  const { key } = known[0] as { key: KeyRef };
  throw new AuditVerificationError(
    codes === 'checkpoint' ? 'checkpoint-signature-invalid' : 'trusted-checkpoint-signature-invalid',
    `the signature on ${what} does not verify with key ${describe(key.keyName, key.keyId)}: the checkpoint or its signature was altered`,
  );
}

// ---------------------------------------------------------------------------------------
// Entries

/** A compact range that appends aligned perfect subtrees, not just leaves (see merkle.ts CompactRange). */
class SubtreeRange {
  #size = 0;
  readonly #nodes: { level: number; index: number; hash: Buffer }[] = [];

  get size(): number {
    return this.#size;
  }

  append(
    level: number,
    index: number,
    hash: Buffer,
    onNode: (level: number, index: number, hash: Buffer) => void,
  ): void {
    if (index * 2 ** level !== this.#size || this.#size % 2 ** level !== 0) {
      throw new Error(`internal: subtree ${level}:${index} is not aligned at size ${this.#size}`);
    }
    let current = { level, index, hash };
    onNode(level, index, hash);
    while (this.#nodes.length > 0 && (this.#nodes.at(-1) as { level: number }).level === current.level) {
      const left = this.#nodes.pop() as { level: number; index: number; hash: Buffer };
      current = {
        level: current.level + 1,
        index: left.index / 2,
        hash: hashChildren(left.hash, current.hash),
      };
      onNode(current.level, current.index, current.hash);
    }
    this.#nodes.push(current);
    this.#size += 2 ** level;
  }

  root(): Buffer {
    if (this.#nodes.length === 0) return emptyRoot;
    let root = (this.#nodes.at(-1) as { hash: Buffer }).hash;
    for (let position = this.#nodes.length - 2; position >= 0; position--) {
      root = hashChildren((this.#nodes[position] as { hash: Buffer }).hash, root);
    }
    return root;
  }
}

/** A batch of entry lines, processed on a worker or on the main thread, applied in log order. */
interface Job {
  readonly request: BatchRequest;
  /** Set on a batch sent to a worker: settles when its reply has arrived. */
  readonly sent: Promise<void> | undefined;
  /** The result, once the batch is processed. */
  reply: Omit<BatchReply, 'id'> | undefined;
}

/** Lets the event loop deliver worker replies and file reads between two batches hashed in-thread. */
const turnEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

async function verifyEntries(
  reader: BundleReader,
  plan: VerificationPlan,
  options: VerifyBundleOptions,
): Promise<BundleVerification> {
  const { header } = plan;
  const total = header.size;
  const workerCount = Math.max(0, Math.floor(options.workers ?? defaultVerifierWorkers(total)));
  const batchLines = Math.max(1, Math.floor(options.batchLines ?? defaultBatchLines));
  const pool = workerCount > 0 ? new WorkerPool(workerCount) : undefined;
  // Batches read ahead of the oldest unfinished one: the workers' queues, and room for the
  // main thread to go on hashing while it waits for a worker's batch.
  const maxQueued = workerCount * batchesQueuedPerWorker + mainThreadLead;

  const state = new EntryState(plan);
  const queue: Job[] = [];
  const spares: LineBatchBuffers[] = [];
  let deferred: unknown;
  let inputDone = false;
  let nextId = 0;
  let wantedCursor = 0;
  let splitCursor = 0;
  try {
    for (;;) {
      while (!inputDone && deferred === undefined && queue.length < maxQueued) {
        const position = reader.nextPosition;
        const aligned = batchLines - (position % batchLines);
        // Stop at the declared size: a line beyond it is reported only after everything before it.
        const maxLines = position < total ? Math.min(aligned, total - position) : 1;
        let batch: LineBatch | undefined;
        try {
          batch = await reader.nextBatch(maxLines, spares.pop());
        } catch (error) {
          deferred = asVerificationError(error);
          break;
        }
        if (!batch) {
          inputDone = true;
          break;
        }
        if (position >= total) {
          deferred = new AuditVerificationError(
            'extra-entries',
            `the bundle has more lines than its last signed checkpoint covers (size ${total}): the line at position ${total} is not covered by any signature`,
            { position: total },
          );
          break;
        }
        const end = position + batch.lineEnds.length;
        const splits: number[] = [];
        while (splitCursor < plan.splits.length && (plan.splits[splitCursor] as number) <= position)
          splitCursor++;
        for (
          let cursor = splitCursor;
          cursor < plan.splits.length && (plan.splits[cursor] as number) < end;
          cursor++
        ) {
          splits.push(plan.splits[cursor] as number);
        }
        const wanted: number[] = [];
        while (
          wantedCursor < plan.wantedByStart.length &&
          startOf(plan.wantedByStart[wantedCursor] as NodeAddress) < position
        ) {
          wantedCursor++;
        }
        for (let cursor = wantedCursor; cursor < plan.wantedByStart.length; cursor++) {
          const address = plan.wantedByStart[cursor] as NodeAddress;
          if (startOf(address) >= end) break;
          if (startOf(address) + 2 ** address.level <= end) wanted.push(address.level, address.index);
        }
        const request: BatchRequest = {
          id: nextId++,
          firstPosition: position,
          bytes: batch.bytes,
          lineEnds: batch.lineEnds,
          splits,
          wanted,
        };
        queue.push(pool?.hasRoom(batchesQueuedPerWorker) ? sendToWorker(pool, request) : localJob(request));
      }
      // Apply finished batches in log order, so the first problem reported is the first in the log.
      for (let job = queue[0]; job?.reply; job = queue[0]) {
        queue.shift();
        spares.push(job.reply.buffers);
        state.apply(job.reply.result);
        options.onProgress?.(state.verified, total);
      }
      const oldest = queue[0];
      if (!oldest) {
        if (inputDone || deferred !== undefined) break;
        continue;
      }
      // The main thread never idles while a batch is waiting: it hashes the oldest batch no
      // worker has, even one behind a worker's, whose result then waits its turn. A busy
      // machine that starves the workers therefore costs little more than one thread.
      const waiting = queue.find((job) => job.sent === undefined && job.reply === undefined);
      if (waiting) {
        waiting.reply = processInThread(waiting.request);
        if (pool) await turnEventLoop();
        continue;
      }
      await oldest.sent;
    }
    if (deferred !== undefined) throw deferred;
    return state.finish(reader.nextPosition);
  } finally {
    await pool?.close();
  }
}

/**
 * Worker threads only pay when there are enough entries to repay their start-up and cores
 * to spare: on a machine whose cores are already busy the scheduler shares CPU between
 * processes (or sessions), not threads, so a worker adds its overhead and no throughput.
 * Idle cores are the cores less the 1-minute load average, which counts this process's
 * own main thread once it has run a while (and at least that one is taken); one worker per
 * idle core, at most eight. Where the load is unknown (Windows reports 0) all but one core
 * count as idle.
 */
export function defaultVerifierWorkers(total: number): number {
  if (total < parallelThreshold) return 0;
  const idle = availableParallelism() - Math.max(1, loadavg()[0] ?? 0);
  return Math.min(Math.max(0, Math.round(idle)), 8);
}

function localJob(request: BatchRequest): Job {
  return { request, sent: undefined, reply: undefined };
}

function sendToWorker(pool: WorkerPool, request: BatchRequest): Job {
  const job: { request: BatchRequest; sent: Promise<void> | undefined; reply: Job['reply'] } = {
    request,
    sent: undefined,
    reply: undefined,
  };
  const sent = pool.run(request).then((reply) => {
    job.reply = reply;
  });
  // A worker that fails rejects every batch it holds; only the oldest is awaited, and the
  // rest must not surface as unhandled rejections.
  sent.catch(() => undefined);
  job.sent = sent;
  return job;
}

function processInThread(request: BatchRequest): Omit<BatchReply, 'id'> {
  return {
    result: processBatch(request),
    buffers: {
      bytes: request.bytes.buffer as ArrayBuffer,
      lineEnds: request.lineEnds.buffer as ArrayBuffer,
    },
  };
}

function startOf(address: NodeAddress): number {
  return address.index * 2 ** address.level;
}

/** The rebuilt tree and every check made against it as batches arrive, in log order. */
class EntryState {
  readonly #plan: VerificationPlan;
  readonly #range = new SubtreeRange();
  readonly #captured = new Map<string, Buffer>();
  readonly #checkpointsBySize: Map<number, VerifiedCheckpoint>;
  /** Largest size whose root has been verified: a later mismatch lies after it. */
  #lastVerifiedSize = 0;
  #previousCheckpoint: VerifiedCheckpoint | undefined;
  #consistencyProofs = 0;
  /** A trusted-root mismatch at a size the bundle has no checkpoint for waits for the next checkpoint. */
  #pendingTrustedMismatch: AuditVerificationError | undefined;

  constructor(plan: VerificationPlan) {
    this.#plan = plan;
    this.#checkpointsBySize = new Map(plan.checkpoints.map((each) => [each.size, each]));
    this.#previousCheckpoint = plan.checkpoints.find((each) => each.size === 0);
  }

  get verified(): number {
    return this.#range.size;
  }

  apply(result: BatchResult): void {
    for (const node of result.captured) this.#captured.set(nodeKey(node), toBuffer(node.hash));
    for (const segment of result.segments) {
      for (const node of segment.nodes) this.#appendNode(node);
      if (this.#range.size !== segment.end)
        throw new Error(`internal: segment ends at ${segment.end}, tree has ${this.#range.size}`);
      this.#checkRootsAt(segment.end, segment.soleEntryId);
    }
    if (result.problem) throw this.#problem(result.problem);
  }

  finish(lines: number): BundleVerification {
    const { header } = this.#plan;
    if (lines < header.size) {
      throw new AuditVerificationError(
        'log-truncated',
        `the log was truncated after a signed checkpoint: the bundle holds ${lines} of the ${header.size} entries its last signed checkpoint covers (entries from position ${lines} on are missing${
          this.#lastVerifiedSize < lines
            ? `, or entries after position ${this.#lastVerifiedSize} were deleted`
            : ''
        })`,
        { position: lines },
      );
    }
    const root = this.#range.root();
    return {
      tenantId: header.tenantId,
      origin: header.origin,
      exportedAt: header.exportedAt,
      entries: this.#range.size,
      root,
      checkpoints: this.#plan.checkpoints,
      keysFromBundle: this.#plan.keysFromBundle,
      consistencyProofs: this.#consistencyProofs,
      trustedCheckpoint: this.#plan.trusted,
    };
  }

  #appendNode(node: BatchNode): void {
    const wanted = this.#plan.wanted;
    this.#range.append(node.level, node.index, toBuffer(node.hash), (level, index, hash) => {
      if (wanted.get(level)?.has(index)) this.#captured.set(nodeKey({ level, index }), hash);
    });
  }

  #checkRootsAt(size: number, soleEntryId: string | undefined): void {
    const trusted = this.#plan.trusted;
    const checkpoint = this.#checkpointsBySize.get(size);
    // Batch ends that are no checkpoint size need no root (and the last size always has a checkpoint).
    if (!checkpoint && trusted?.size !== size) return;
    const root = this.#range.root();
    if (checkpoint) {
      if (!root.equals(checkpoint.root)) {
        const from = this.#lastVerifiedSize;
        const where =
          size - from === 1
            ? `the differing entry is the one at position ${from}${soleEntryId ? ` (id ${soleEntryId})` : ''}`
            : `the first differing entry is between ${from} and ${size} (at a position from ${from} to ${size - 1}${
                from > 0 ? `; the tree up to size ${from} matched` : ''
              })`;
        throw new AuditVerificationError(
          'checkpoint-root-mismatch',
          `checkpoint at size ${size} does not match entries; ${where}. Entries there were changed (together with their recorded hashes), deleted, inserted or reordered.`,
          size - from === 1 ? { position: from, entryId: soleEntryId } : { position: from },
        );
      }
      if (this.#pendingTrustedMismatch) throw this.#pendingTrustedMismatch;
      const previous = this.#previousCheckpoint;
      if (previous && previous.size >= 1) this.#checkConsistency(previous, checkpoint, 'the checkpoint');
      this.#previousCheckpoint = checkpoint;
      this.#lastVerifiedSize = size;
    }
    if (trusted && trusted.size === size) {
      if (!root.equals(trusted.root)) {
        const mismatch = new AuditVerificationError(
          'trusted-checkpoint-mismatch',
          `the bundle's first ${size} entries do not match your trusted checkpoint of size ${size}: the history before it was rewritten${
            checkpoint ? ' and re-signed (the bundle signs a different root for that size)' : ''
          }; the first differing entry is before position ${size}`,
          { position: size },
        );
        if (checkpoint) throw mismatch;
        this.#pendingTrustedMismatch = mismatch;
      } else {
        this.#lastVerifiedSize = Math.max(this.#lastVerifiedSize, size);
      }
    }
    if (size === this.#plan.header.size && trusted && trusted.size >= 1) {
      const last = this.#checkpointsBySize.get(size) as VerifiedCheckpoint;
      // At equal sizes the roots were just compared; there is no proof to build.
      if (trusted.size < size) this.#checkConsistency(trusted, last, 'your trusted checkpoint');
    }
  }

  /** Builds the RFC 9162 consistency proof between two verified checkpoints from the rebuilt tree and checks it. */
  #checkConsistency(first: VerifiedCheckpoint, second: VerifiedCheckpoint, what: string): void {
    const node = (address: NodeAddress) => {
      const hash = this.#captured.get(nodeKey(address));
      if (!hash)
        throw new Error(`internal: tree node ${nodeKey(address)} for a consistency proof was not kept`);
      return hash;
    };
    const proof = consistencyRanges(first.size, second.size).map(([start, end]) =>
      rangeHash(start, end, node),
    );
    if (!verifyConsistency(first.size, second.size, first.root, second.root, proof)) {
      throw new AuditVerificationError(
        'consistency-proof-failed',
        `the RFC 9162 consistency proof from ${what} at size ${first.size} to the checkpoint at size ${second.size} does not verify`,
        { position: first.size },
      );
    }
    this.#consistencyProofs++;
  }

  #problem(problem: BatchProblem): AuditVerificationError {
    const named = `entry at position ${problem.position}${problem.entryId ? ` (id ${problem.entryId})` : ''}`;
    if (problem.kind === 'leaf-mismatch') {
      return new AuditVerificationError(
        'leaf-hash-mismatch',
        `${named}: its bytes do not match the hash the log recorded (the entry was altered after it was logged)`,
        { position: problem.position, entryId: problem.entryId },
      );
    }
    return new AuditVerificationError(
      'bundle-malformed',
      `the bundle is malformed: ${named}: ${problem.detail ?? 'malformed line'}`,
      {
        position: problem.position,
      },
    );
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface PendingBatch {
  readonly resolve: (reply: BatchReply) => void;
  readonly reject: (error: Error) => void;
}

/** Worker threads running verify-worker.mjs; each batch goes to the least busy one. */
class WorkerPool {
  readonly #workers: { worker: Worker; pending: Map<number, PendingBatch> }[];

  constructor(count: number) {
    const url = new URL('./verify-worker.mjs', import.meta.url);
    this.#workers = Array.from({ length: count }, () => {
      // No inherited execArgv: the worker is plain JavaScript and needs no loader.
      const worker = new Worker(url, { workerData: { strongroomVerifyWorker: true }, execArgv: [] });
      const pending = new Map<number, PendingBatch>();
      const failAll = (error: Error) => {
        for (const each of pending.values()) each.reject(error);
        pending.clear();
      };
      worker.on('message', (reply: BatchReply) => {
        const waiting = pending.get(reply.id);
        pending.delete(reply.id);
        waiting?.resolve(reply);
      });
      worker.on('error', failAll);
      worker.on('exit', (code) => failAll(new Error(`a verifier worker exited with code ${code}`)));
      return { worker, pending };
    });
  }

  /** Whether some worker holds fewer than `limit` batches. */
  hasRoom(limit: number): boolean {
    return this.#workers.some((each) => each.pending.size < limit);
  }

  run(request: BatchRequest): Promise<BatchReply> {
    const target = this.#workers.reduce((best, each) =>
      each.pending.size < best.pending.size ? each : best,
    );
    return new Promise((resolve, reject) => {
      target.pending.set(request.id, { resolve, reject });
      target.worker.postMessage(request, [
        request.bytes.buffer as ArrayBuffer,
        request.lineEnds.buffer as ArrayBuffer,
      ]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map(({ worker }) => worker.terminate()));
  }
}
