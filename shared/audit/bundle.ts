/**
 * The audit export format `strongroom-audit-bundle/1` (docs/audit-bundle.md): a UTF-8
 * text file whose first line is a JSON header (log, published keys, signed checkpoints)
 * followed by exactly `size` entry lines `<base64 leaf hash> <RFC 8785 entry JSON>`, each
 * ending with 0x0A. Canonical JSON never contains a raw newline, so lines split on 0x0A.
 *
 * This module has no AWS or store dependencies: the offline verifier loads it.
 */
import { type FileHandle, open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { PublishedSigningKey } from '#shared/crypto/signing';
import { noteKeyId, verifierKeyString } from './signed-note';

export const bundleFormat = 'strongroom-audit-bundle/1';

export interface BundleCheckpoint {
  readonly size: number;
  /** The C2SP signed note text of the checkpoint. */
  readonly note: string;
}

export interface BundleHeader {
  readonly format: typeof bundleFormat;
  readonly tenantId: string;
  /** The checkpoint origin line that names the log. */
  readonly origin: string;
  /** Number of entry lines that follow. */
  readonly size: number;
  readonly keys: readonly PublishedSigningKey[];
  /** Every stored checkpoint up to `size`, ascending; the last one has size `size`. */
  readonly checkpoints: readonly BundleCheckpoint[];
  readonly exportedAt: string;
}

export interface BundleEntry {
  /** The leaf hash the log recorded for the entry. */
  readonly leafHash: Buffer;
  /** The entry's RFC 8785 canonical JSON bytes. */
  readonly entryBytes: Buffer;
}

/** The bundle (or a key set) is not in the documented format. */
export class BundleFormatError extends Error {
  readonly code = 'bundle-malformed';
  /** Log position of the offending entry line; undefined for the header. */
  readonly position: number | undefined;

  constructor(message: string, position?: number) {
    super(message);
    this.name = 'BundleFormatError';
    this.position = position;
  }
}

const newline = 0x0a;
const hashLength = 32;

// ---------------------------------------------------------------------------------------
// Header and key set validation

function fail(message: string): never {
  throw new BundleFormatError(message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function nonEmptyString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(`${what} must be a non-empty string`);
  return value;
}

/**
 * A published key set (the bundle header's `keys`, or GET /audit/keys): each key's id and
 * verifier key string must follow from its name and public key, so neither can mislead.
 */
export function parsePublishedKeys(value: unknown, where: string): PublishedSigningKey[] {
  if (!Array.isArray(value)) fail(`${where} must be a JSON array of published signing keys`);
  return value.map((item, position) => {
    const what = `${where}[${position}]`;
    if (!isRecord(item)) fail(`${what} must be an object`);
    const keyName = nonEmptyString(item.keyName, `${what}.keyName`);
    if (item.algorithm !== 'ed25519') fail(`${what}.algorithm must be "ed25519"`);
    const encoded = nonEmptyString(item.publicKey, `${what}.publicKey`);
    const publicKey = Buffer.from(encoded, 'base64');
    if (publicKey.length !== 32 || publicKey.toString('base64') !== encoded) {
      fail(`${what}.publicKey must be the base64 of a 32-byte Ed25519 public key`);
    }
    const keyId = noteKeyId(keyName, publicKey).toString('hex');
    if (item.keyId !== keyId) fail(`${what}.keyId is not the signed-note key id of that name and key`);
    const verifierKey = verifierKeyString({ keyName, publicKey });
    if (item.verifierKey !== undefined && item.verifierKey !== verifierKey) {
      fail(`${what}.verifierKey does not match its name and public key`);
    }
    return {
      keyName,
      keyId,
      algorithm: 'ed25519',
      publicKey: encoded,
      verifierKey,
      current: item.current === true,
    };
  });
}

/** Validates a parsed header; unknown members are ignored so later minor additions stay readable. */
export function validateBundleHeader(value: unknown): BundleHeader {
  if (!isRecord(value)) fail('the header (line 1) must be a JSON object');
  if (value.format !== bundleFormat) {
    fail(`the header names format ${JSON.stringify(value.format)}, expected "${bundleFormat}"`);
  }
  const tenantId = nonEmptyString(value.tenantId, 'header.tenantId');
  const origin = nonEmptyString(value.origin, 'header.origin');
  if (!isSize(value.size)) fail('header.size must be a non-negative integer');
  const keys = parsePublishedKeys(value.keys, 'header.keys');
  if (!Array.isArray(value.checkpoints)) fail('header.checkpoints must be an array');
  const checkpoints = value.checkpoints.map((item, position): BundleCheckpoint => {
    if (!isRecord(item) || !isSize(item.size) || typeof item.note !== 'string') {
      fail(`header.checkpoints[${position}] must be {"size": integer, "note": signed note text}`);
    }
    return { size: item.size, note: item.note };
  });
  const exportedAt = nonEmptyString(value.exportedAt, 'header.exportedAt');
  return { format: bundleFormat, tenantId, origin, size: value.size, keys, checkpoints, exportedAt };
}

export function parseBundleHeader(line: Uint8Array): BundleHeader {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8'));
  } catch {
    fail(`line 1 is not a JSON header: this is not a ${bundleFormat} file`);
  }
  return validateBundleHeader(value);
}

export function formatBundleHeader(header: BundleHeader): string {
  const valid = validateBundleHeader(header);
  return `${JSON.stringify({
    format: valid.format,
    tenantId: valid.tenantId,
    origin: valid.origin,
    size: valid.size,
    keys: header.keys,
    checkpoints: valid.checkpoints,
    exportedAt: valid.exportedAt,
  })}\n`;
}

// ---------------------------------------------------------------------------------------
// Entry lines

export function formatEntryLine(entry: BundleEntry, position: number): Buffer {
  if (entry.leafHash.length !== hashLength) {
    throw new BundleFormatError(`entry ${position}: a leaf hash has 32 bytes`, position);
  }
  if (entry.entryBytes.length === 0 || entry.entryBytes.includes(newline)) {
    throw new BundleFormatError(
      `entry ${position}: entry bytes must be non-empty and newline-free`,
      position,
    );
  }
  return Buffer.concat([
    Buffer.from(`${entry.leafHash.toString('base64')} `, 'latin1'),
    entry.entryBytes,
    Buffer.of(newline),
  ]);
}

/** Splits one entry line (without its newline) into the recorded leaf hash and the entry bytes. */
export function parseEntryLine(line: Uint8Array, position: number): BundleEntry {
  const bytes = Buffer.from(line.buffer, line.byteOffset, line.byteLength);
  const text = bytes.toString('latin1', 0, 44);
  const leafHash = Buffer.from(text, 'base64');
  if (
    bytes.length < 46 ||
    bytes[44] !== 0x20 ||
    leafHash.length !== 32 ||
    leafHash.toString('base64') !== text
  ) {
    throw new BundleFormatError(`entry line ${position} is not "<base64 leaf hash> <entry JSON>"`, position);
  }
  return { leafHash, entryBytes: bytes.subarray(45) };
}

// ---------------------------------------------------------------------------------------
// Writer

export interface WriteBundleOptions {
  /** End the output when done (default true); the promise then waits for it to finish. */
  readonly end?: boolean;
}

export interface WriteBundleResult {
  readonly entries: number;
  readonly bytes: number;
}

/** Lines are gathered into chunks of about this size: one write per line would dominate the export. */
const writeChunkBytes = 256 * 1024;

/**
 * Writes a bundle: the header, then one line per entry, honouring the output's
 * backpressure. The entries must be exactly `header.size`, in log order.
 */
export async function writeBundle(
  output: Writable,
  header: BundleHeader,
  entries: AsyncIterable<BundleEntry> | Iterable<BundleEntry>,
  options: WriteBundleOptions = {},
): Promise<WriteBundleResult> {
  let written = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const chunk = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    written += chunk.length;
    if (!output.write(chunk)) await drained(output);
  };
  const add = async (chunk: Buffer) => {
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= writeChunkBytes) await flush();
  };

  await add(Buffer.from(formatBundleHeader(header), 'utf8'));
  let count = 0;
  for await (const entry of entries) {
    if (count >= header.size) {
      throw new BundleFormatError(`more entries than the header's size ${header.size}`, count);
    }
    await add(formatEntryLine(entry, count));
    count++;
  }
  if (count !== header.size) {
    throw new BundleFormatError(`${count} entries written, but the header's size is ${header.size}`, count);
  }
  await flush();
  if (options.end !== false) {
    output.end();
    await finished(output);
  }
  return { entries: count, bytes: written };
}

function drained(output: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      output.off('drain', onDrain);
      output.off('error', onError);
      output.off('close', onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('the bundle output closed before the bundle was written'));
    };
    output.on('drain', onDrain);
    output.on('error', onError);
    output.on('close', onClose);
  });
}

// ---------------------------------------------------------------------------------------
// Streaming reader

/** A run of consecutive entry lines in a buffer of their own (transferable to a worker). */
export interface LineBatch {
  /** Log position of the first line. */
  readonly firstPosition: number;
  /** The lines, each with its terminating 0x0A (a view from offset 0 of its own ArrayBuffer). */
  readonly bytes: Uint8Array;
  /** Offset of each line's 0x0A within `bytes`; line i starts after line i−1's. */
  readonly lineEnds: Uint32Array;
}

/** The buffers behind a returned batch, handed back to `nextBatch` for reuse. */
export interface LineBatchBuffers {
  readonly bytes: ArrayBuffer;
  readonly lineEnds: ArrayBuffer;
}

export interface BundleReaderOptions {
  /** Bytes read from the file at a time. */
  readonly chunkBytes?: number;
  /** Longest line accepted (the header included), so a damaged file cannot exhaust memory. */
  readonly maxLineBytes?: number;
}

/**
 * Reads a bundle file in chunks: the header at open, then batches of entry lines on
 * demand. The next chunk is always being read while the current one is scanned (two
 * buffers take turns), so the caller's work overlaps the file reads. Memory stays at two
 * chunks plus the batch being returned (more only for a line longer than a chunk).
 */
export class BundleReader {
  readonly header: BundleHeader;
  readonly #file: FileHandle;
  readonly #chunkBytes: number;
  readonly #maxLineBytes: number;
  /** Room in front of each chunk for the unconsumed data carried over from the previous one. */
  readonly #headroom: number;
  /** Unconsumed data is #buffer[#start, #end). */
  #buffer: Buffer;
  #start: number;
  #end: number;
  /** The buffer the next read goes into, when no read is in flight. */
  #spare: Buffer | undefined;
  #ahead: Promise<{ buffer: Buffer; bytesRead: number }> | undefined;
  #eof = false;
  #nextPosition = 0;
  #bytesRead = 0;

  private constructor(file: FileHandle, options: BundleReaderOptions) {
    this.#file = file;
    this.#chunkBytes = Math.max(16, options.chunkBytes ?? 4 * 1024 * 1024);
    this.#maxLineBytes = options.maxLineBytes ?? 256 * 1024 * 1024;
    // The carried-over tail is the batch scanned so far plus the unfinished line, so a chunk's worth.
    this.#headroom = this.#chunkBytes;
    this.#buffer = Buffer.allocUnsafe(this.#headroom + this.#chunkBytes);
    this.#start = this.#headroom;
    this.#end = this.#headroom;
    this.#spare = Buffer.allocUnsafe(this.#headroom + this.#chunkBytes);
    // Set by open() before anyone sees the reader.
    this.header = undefined as unknown as BundleHeader;
  }

  static async open(path: string, options: BundleReaderOptions = {}): Promise<BundleReader> {
    const file = await open(path, 'r');
    const reader = new BundleReader(file, options);
    try {
      const line = await reader.#nextLine('the header');
      if (!line) throw new BundleFormatError('the bundle is empty');
      (reader as { header: BundleHeader }).header = parseBundleHeader(line);
      return reader;
    } catch (error) {
      await reader.close();
      throw error;
    }
  }

  /** Log position of the next line `nextBatch` returns. */
  get nextPosition(): number {
    return this.#nextPosition;
  }

  /** Bytes read from the file so far. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** The next line without its newline (a copy), or undefined at the end of the file. */
  async #nextLine(what: string): Promise<Buffer | undefined> {
    let scanFrom = 0;
    for (;;) {
      const at = this.#buffer.indexOf(newline, this.#start + scanFrom);
      if (at >= 0 && at < this.#end) {
        const line = Buffer.from(this.#buffer.subarray(this.#start, at));
        this.#start = at + 1;
        return line;
      }
      scanFrom = this.#end - this.#start;
      if (this.#eof) break;
      await this.#fill(this.#maxLineBytes, what);
    }
    if (this.#end > this.#start) throw new BundleFormatError(`${what} line does not end with a newline`);
    return undefined;
  }

  /**
   * Up to `maxLines` whole lines (fewer only at the end of the file); undefined at the end.
   * Throws when the file ends inside a line. `spare` buffers of an earlier batch, once the
   * caller is done with them, are filled again instead of new ones: fresh large buffers
   * cost page faults, which showed up as a third of the reading time.
   */
  async nextBatch(maxLines: number, spare?: LineBatchBuffers): Promise<LineBatch | undefined> {
    if (maxLines < 1) throw new RangeError('maxLines must be at least 1');
    const lineEnds =
      spare && spare.lineEnds.byteLength >= maxLines * 4
        ? new Uint32Array(spare.lineEnds, 0, maxLines)
        : new Uint32Array(maxLines);
    let count = 0;
    /** Offsets below are relative to #start, which moves when the data moves to the other buffer. */
    let scanFrom = 0;
    while (count < maxLines) {
      // Search the whole buffer from an offset (no view per line); a hit past #end is stale data.
      const at = this.#buffer.indexOf(newline, this.#start + scanFrom);
      if (at >= 0 && at < this.#end) {
        lineEnds[count++] = at - this.#start;
        scanFrom = at - this.#start + 1;
        continue;
      }
      if (this.#eof) break;
      await this.#fill(this.#maxLineBytes + scanFrom, `entry line ${this.#nextPosition + count}`);
    }
    if (count === 0) {
      if (this.#end > this.#start) {
        throw new BundleFormatError(
          `the file ends inside entry line ${this.#nextPosition} (no final newline): it is truncated or damaged`,
          this.#nextPosition,
        );
      }
      return undefined;
    }
    const length = (lineEnds[count - 1] as number) + 1;
    // Headroom, so the next batches of similar lines fit the same buffer when it comes back.
    const bytes =
      spare && spare.bytes.byteLength >= length
        ? new Uint8Array(spare.bytes, 0, length)
        : new Uint8Array(new ArrayBuffer(Math.ceil(length * 1.25)), 0, length);
    bytes.set(this.#buffer.subarray(this.#start, this.#start + length));
    this.#start += length;
    const batch = {
      firstPosition: this.#nextPosition,
      bytes,
      lineEnds: count === maxLines ? lineEnds : new Uint32Array(lineEnds.buffer, 0, count),
    };
    this.#nextPosition += count;
    return batch;
  }

  async close(): Promise<void> {
    // A read still in flight must finish before its file handle closes.
    await this.#ahead?.catch(() => undefined);
    await this.#file.close();
  }

  /** Starts reading the next chunk into the spare buffer, after its headroom. */
  #readAhead(): void {
    if (this.#ahead || this.#eof || !this.#spare) return;
    const buffer = this.#spare;
    this.#spare = undefined;
    this.#ahead = this.#file
      .read(buffer, this.#headroom, this.#chunkBytes, null)
      .then(({ bytesRead }) => ({ buffer, bytesRead }));
  }

  /**
   * Appends the next chunk to the unconsumed data. Normally the unconsumed tail (the lines
   * of the batch being cut, and the start of a line) moves in front of the chunk, into the
   * other buffer's headroom; a longer tail (a line or batch longer than a chunk) grows the
   * current buffer instead.
   */
  async #fill(maxUnconsumed: number, what: string): Promise<void> {
    const tail = this.#end - this.#start;
    if (tail > maxUnconsumed) throw new BundleFormatError(`${what} is longer than ${maxUnconsumed} bytes`);
    this.#readAhead();
    const { buffer, bytesRead } = await (this.#ahead as Promise<{ buffer: Buffer; bytesRead: number }>);
    this.#ahead = undefined;
    this.#bytesRead += bytesRead;
    if (bytesRead === 0) {
      this.#eof = true;
      this.#spare = buffer;
      return;
    }
    if (tail <= this.#headroom) {
      this.#buffer.copy(buffer, this.#headroom - tail, this.#start, this.#end);
      // A buffer grown for a long line is dropped once the line is done.
      this.#spare = this.#buffer.length === buffer.length ? this.#buffer : Buffer.allocUnsafe(buffer.length);
      this.#buffer = buffer;
      this.#start = this.#headroom - tail;
      this.#end = this.#headroom + bytesRead;
    } else {
      if (this.#buffer.length - this.#end < bytesRead) {
        const grown = Buffer.allocUnsafe(
          Math.max(this.#buffer.length * 2, tail + bytesRead + this.#headroom),
        );
        this.#buffer.copy(grown, this.#headroom, this.#start, this.#end);
        this.#buffer = grown;
        this.#start = this.#headroom;
        this.#end = this.#headroom + tail;
      }
      buffer.copy(this.#buffer, this.#end, this.#headroom, this.#headroom + bytesRead);
      this.#end += bytesRead;
      this.#spare = buffer;
    }
    this.#readAhead();
  }
}

/** Every entry of a bundle file, parsed, in order: for tools and tests; the verifier uses batches. */
export async function* readBundleEntries(
  path: string,
): AsyncGenerator<BundleEntry & { readonly position: number }, void, undefined> {
  const reader = await BundleReader.open(path);
  try {
    for (;;) {
      const batch = await reader.nextBatch(1024);
      if (!batch) return;
      let lineStart = 0;
      for (const [offset, lineEnd] of batch.lineEnds.entries()) {
        const position = batch.firstPosition + offset;
        yield { position, ...parseEntryLine(batch.bytes.subarray(lineStart, lineEnd), position) };
        lineStart = lineEnd + 1;
      }
    }
  } finally {
    await reader.close();
  }
}
