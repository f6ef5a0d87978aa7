/**
 * The hot loop of the audit-bundle verifier (shared/audit/verify.ts), in plain JavaScript
 * so it runs in a worker thread without a TypeScript loader, and in-thread for small
 * bundles. One call takes a batch of entry lines at known log positions and:
 *   - recomputes every leaf hash, SHA-256(0x00 ‖ entry bytes), and compares it with the
 *     hash the line records;
 *   - folds the recorded hashes of each segment (the batch cut at checkpoint sizes) into
 *     its aligned perfect subtrees, so the caller appends a handful of nodes, not every
 *     leaf, to its compact range;
 *   - keeps the hashes of the subtree nodes the caller asked for (consistency proofs).
 * It stops at the first bad line and reports it with the segments completed before it.
 */
import { hash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

/** Length of the base64 text of a 32-byte hash. */
const hashTextLength = 44;
const space = 0x20;
const maxLevels = 64;

/** Byte offset of a stack slot: slots follow one spare byte, so every slot has a byte before it. */
const slotOffset = (slot) => 1 + slot * 32;
/** The subtree stack (processBatch runs to completion, so one per thread suffices). */
const stackBuffer = Buffer.alloc(1 + maxLevels * 32);
/**
 * nodeInputs[s]: the 65 bytes from the byte before slot s to the end of slot s + 1, i.e. the
 * RFC 9162 interior node input 0x01 ‖ left ‖ right once that byte is set to 0x01. Made
 * once, so merging two nodes copies nothing and allocates no view.
 */
const nodeInputs = Array.from({ length: maxLevels - 1 }, (_, slot) =>
  stackBuffer.subarray(slotOffset(slot) - 1, slotOffset(slot + 1) + 32),
);

/**
 * @param {import('./verify-worker.d.mts').BatchRequest} request
 * @returns {import('./verify-worker.d.mts').BatchResult}
 */
export function processBatch(request) {
  const { firstPosition, lineEnds, splits, wanted } = request;
  const bytes = Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength);
  const arrayBuffer = bytes.buffer;
  const baseOffset = bytes.byteOffset;
  const wantedKeys = new Set();
  for (let position = 0; position < wanted.length; position += 2) {
    wantedKeys.add(`${wanted[position]}:${wanted[position + 1]}`);
  }
  const captured = [];
  const segments = [];

  // A stack of subtree nodes of the current segment: hashes in one buffer, 32 bytes a slot
  // from offset 1 (see nodeInputs).
  const stackHashes = stackBuffer;
  const stackLevels = new Array(maxLevels);
  const stackIndexes = new Array(maxLevels);
  let stackSize = 0;

  // Most batches keep no node: skip the lookup (and its key string) for them.
  const keepsNodes = wantedKeys.size > 0;
  const capture = (level, index, slot) => {
    if (wantedKeys.has(`${level}:${index}`)) {
      captured.push({
        level,
        index,
        hash: Buffer.from(stackHashes.subarray(slotOffset(slot), slotOffset(slot) + 32)),
      });
    }
  };
  let segmentStart = firstPosition;
  let lastEntryStart = 0;
  let lastEntryEnd = 0;
  const closeSegment = (end) => {
    const nodes = [];
    for (let slot = 0; slot < stackSize; slot++) {
      nodes.push({
        level: stackLevels[slot],
        index: stackIndexes[slot],
        hash: Buffer.from(stackHashes.subarray(slotOffset(slot), slotOffset(slot) + 32)),
      });
    }
    // A one-entry segment lies between two verified sizes: if its root is wrong, this entry is.
    const soleEntryId =
      end - segmentStart === 1 ? entryIdOf(bytes.subarray(lastEntryStart, lastEntryEnd)) : undefined;
    segments.push({ end, nodes, ...(soleEntryId === undefined ? {} : { soleEntryId }) });
    segmentStart = end;
    stackSize = 0;
  };

  let nextSplit = 0;
  let lineStart = 0;
  for (let line = 0; line < lineEnds.length; line++) {
    const position = firstPosition + line;
    while (nextSplit < splits.length && splits[nextSplit] === position) {
      closeSegment(position);
      nextSplit++;
    }
    const lineEnd = lineEnds[line];
    const entryStart = lineStart + hashTextLength + 1;
    if (lineEnd <= entryStart || bytes[lineStart + hashTextLength] !== space) {
      return { segments, captured, problem: malformedLine(lineStart, lineEnd, position) };
    }
    // The separator becomes the 0x00 leaf prefix, so the leaf input is hashed in one call, in place.
    bytes[entryStart - 1] = 0x00;
    let slot = stackSize++;
    // Digests come out as latin1 strings and are written as bytes: no base64 either way on
    // the hot path. The leaf input is viewed by a plain Uint8Array: cheaper to make than a
    // Buffer view (Buffer#subarray), which measured an eighth of the batch's CPU time.
    stackHashes.latin1Write(
      hash(
        'sha256',
        new Uint8Array(arrayBuffer, baseOffset + entryStart - 1, lineEnd - entryStart + 1),
        'latin1',
      ),
      slotOffset(slot),
      32,
    );
    if (!recordedHashEquals(bytes, lineStart, stackHashes, slotOffset(slot))) {
      return { segments, captured, problem: leafProblem(bytes, lineStart, entryStart, lineEnd, position) };
    }
    lastEntryStart = entryStart;
    lastEntryEnd = lineEnd;
    stackLevels[slot] = 0;
    stackIndexes[slot] = position;
    if (keepsNodes) capture(0, position, slot);
    // Merge while the node below is this node's left sibling (same level, even index).
    while (
      slot > 0 &&
      stackLevels[slot - 1] === stackLevels[slot] &&
      stackIndexes[slot - 1] % 2 === 0 &&
      stackIndexes[slot - 1] + 1 === stackIndexes[slot]
    ) {
      // 0x01 ‖ left ‖ right in place: the byte before the left slot lends itself as the prefix.
      const prefixAt = slotOffset(slot - 1) - 1;
      const lent = stackHashes[prefixAt];
      stackHashes[prefixAt] = 0x01;
      const digest = hash('sha256', nodeInputs[slot - 1], 'latin1');
      stackHashes[prefixAt] = lent;
      stackHashes.latin1Write(digest, slotOffset(slot - 1), 32);
      stackLevels[slot - 1] += 1;
      stackIndexes[slot - 1] /= 2;
      slot--;
      stackSize--;
      if (keepsNodes) capture(stackLevels[slot], stackIndexes[slot], slot);
    }
    lineStart = lineEnd + 1;
  }
  closeSegment(firstPosition + lineEnds.length);
  return { segments, captured };
}

function malformedLine(lineStart, lineEnd, position) {
  return {
    kind: 'malformed-line',
    position,
    detail:
      lineEnd - lineStart === 0
        ? 'the line is empty'
        : 'the line is not "<base64 leaf hash> <entry JSON>" (44 characters of base64, one space, the entry)',
  };
}

/** Base64 alphabet values by character code; -1 for anything else. */
const base64Values = new Int16Array(256).fill(-1);
for (const [value, character] of [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
].entries()) {
  base64Values[character.charCodeAt(0)] = value;
}

/**
 * Whether the 44 characters at `textStart` are the canonical padded base64 of the 32 bytes
 * at `hashStart`: decoded in place, without making strings.
 */
export function recordedHashEquals(text, textStart, hashes, hashStart) {
  let invalid = 0;
  let equal = true;
  let out = hashStart;
  for (let at = textStart; at < textStart + 40; at += 4) {
    const a = base64Values[text[at]];
    const b = base64Values[text[at + 1]];
    const c = base64Values[text[at + 2]];
    const d = base64Values[text[at + 3]];
    invalid |= a | b | c | d;
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    equal =
      equal &&
      hashes[out] === ((bits >>> 16) & 255) &&
      hashes[out + 1] === ((bits >>> 8) & 255) &&
      hashes[out + 2] === (bits & 255);
    out += 3;
  }
  // The last group encodes two bytes: "xyz=", with z's two low bits zero in canonical form.
  const x = base64Values[text[textStart + 40]];
  const y = base64Values[text[textStart + 41]];
  const z = base64Values[text[textStart + 42]];
  invalid |= x | y | z;
  const bits = (x << 18) | (y << 12) | (z << 6);
  return (
    equal &&
    invalid >= 0 &&
    (z & 3) === 0 &&
    text[textStart + 43] === 0x3d &&
    hashes[out] === ((bits >>> 16) & 255) &&
    hashes[out + 1] === ((bits >>> 8) & 255)
  );
}

function leafProblem(bytes, lineStart, entryStart, lineEnd, position) {
  const recorded = bytes.latin1Slice(lineStart, lineStart + hashTextLength);
  const decoded = Buffer.from(recorded, 'base64');
  if (decoded.length !== 32 || decoded.toString('base64') !== recorded) {
    return {
      kind: 'malformed-line',
      position,
      detail: 'its leaf hash field is not the base64 of a 32-byte hash',
    };
  }
  return { kind: 'leaf-mismatch', position, entryId: entryIdOf(bytes.subarray(entryStart, lineEnd)) };
}

/** The entry's `id`, for naming it in a report; undefined when the bytes are not such JSON. */
export function entryIdOf(entryBytes) {
  try {
    const entry = JSON.parse(Buffer.from(entryBytes).toString('utf8'));
    return entry !== null && typeof entry === 'object' && typeof entry.id === 'string' ? entry.id : undefined;
  } catch {
    return undefined;
  }
}

if (parentPort && workerData?.strongroomVerifyWorker === true) {
  const port = parentPort;
  port.on('message', (request) => {
    const result = processBatch(request);
    // The batch's buffers go back with the result, so the reader fills them again.
    const buffers = { bytes: request.bytes.buffer, lineEnds: request.lineEnds.buffer };
    port.postMessage({ id: request.id, result, buffers }, [buffers.bytes, buffers.lineEnds]);
  });
}
