import { readFile, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BundleFormatError,
  BundleReader,
  bundleFormat,
  parseBundleHeader,
  parsePublishedKeys,
  readBundleEntries,
  writeBundle,
} from '#shared/audit/bundle';
import { canonicalBytes } from '#shared/audit/entry';
import type { LocalCheckpointSigner } from '#shared/crypto/signing';
import {
  auditEntry,
  genuineLog,
  type LogFixture,
  signerIn,
  type Workspace,
  workspace,
  writeBundleFile,
  writeRawBundle,
} from './bundle-fixtures';

let ws: Workspace;
let signer: LocalCheckpointSigner;
let log: LogFixture;

beforeAll(async () => {
  ws = await workspace();
  signer = signerIn(ws.dir);
  log = await genuineLog(signer, 40, [10, 40]);
});

afterAll(() => ws.remove());

/** A writable that takes one chunk at a time and records how much was ever queued in it. */
function slowSink(highWaterMark: number) {
  const chunks: Buffer[] = [];
  let maxQueued = 0;
  const sink = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      setImmediate(done);
    },
  });
  const write = sink.write.bind(sink);
  sink.write = ((chunk: Buffer, ...rest: never[]) => {
    const accepted = write(chunk, ...rest);
    maxQueued = Math.max(maxQueued, sink.writableLength);
    return accepted;
  }) as typeof sink.write;
  return { sink, chunks, maxQueued: () => maxQueued };
}

describe('[AUD-3] strongroom-audit-bundle/1 files', () => {
  it('writes the header line and one "<leaf hash> <entry>" line per entry, and reads them back', async () => {
    const path = await writeBundleFile(ws.file('round-trip.txt'), log);
    const text = await readFile(path, 'utf8');
    const lines = text.split('\n');
    expect(lines).toHaveLength(log.lines.length + 2);
    expect(lines.at(-1)).toBe('');
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      format: bundleFormat,
      tenantId: 'acme',
      size: 40,
    });
    expect(lines[1]).toBe(
      `${log.lines[0]?.leafHash.toString('base64')} ${canonicalBytes(auditEntry(0)).toString()}`,
    );
    const read = [];
    for await (const entry of readBundleEntries(path)) read.push(entry);
    expect(read.map(({ leafHash, entryBytes }) => ({ leafHash, entryBytes }))).toEqual(log.lines);
    expect(read.map((entry) => entry.position)).toEqual(log.lines.map((_, position) => position));
  });

  it('waits for the output to drain instead of queueing the whole log', async () => {
    const big = await genuineLog(signer, 3000, [3000]);
    const { sink, chunks, maxQueued } = slowSink(1024);
    const result = await writeBundle(sink, big.header, big.lines);
    const total = Buffer.concat(chunks);
    expect(result.entries).toBe(3000);
    expect(result.bytes).toBe(total.length);
    expect(total.length).toBeGreaterThan(4 * 256 * 1024);
    // Without waiting for 'drain', everything would sit in the stream's queue at once.
    expect(maxQueued()).toBeLessThan(300 * 1024);
  });

  it('refuses to write a bundle whose entries do not match its header', async () => {
    const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() });
    await expect(writeBundle(sink(), log.header, log.lines.slice(1))).rejects.toThrow(/39 entries written/);
    await expect(writeBundle(sink(), log.header, [...log.lines, ...log.lines])).rejects.toThrow(
      BundleFormatError,
    );
    const withNewline = [
      { leafHash: log.lines[0]?.leafHash as Buffer, entryBytes: Buffer.from('{"a":\n1}') },
    ];
    await expect(writeBundle(sink(), { ...log.header, size: 1 }, withNewline)).rejects.toThrow(
      /newline-free/,
    );
    await expect(
      writeBundle(sink(), { ...log.header, format: 'other' as typeof bundleFormat }, []),
    ).rejects.toThrow(/expected "strongroom-audit-bundle\/1"/);
  });

  it('reads lines in batches across chunk boundaries, however small the chunks', async () => {
    const path = await writeBundleFile(ws.file('chunks.txt'), log);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 16, max: 2048 }),
        fc.integer({ min: 1, max: 50 }),
        async (chunkBytes, maxLines) => {
          const reader = await BundleReader.open(path, { chunkBytes });
          try {
            expect(reader.header.size).toBe(40);
            const entries: Buffer[] = [];
            for (
              let batch = await reader.nextBatch(maxLines);
              batch;
              batch = await reader.nextBatch(maxLines)
            ) {
              expect(batch.firstPosition).toBe(entries.length);
              expect(batch.lineEnds.length).toBeLessThanOrEqual(maxLines);
              let start = 0;
              for (const end of batch.lineEnds) {
                entries.push(Buffer.from(batch.bytes.subarray(start + 45, end)));
                start = end + 1;
              }
            }
            expect(entries).toEqual(log.lines.map((line) => line.entryBytes));
          } finally {
            await reader.close();
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('refuses files that are not bundles, and lines longer than the limit', async () => {
    const notJson = ws.file('not-json.txt');
    await writeFile(notJson, 'hello\n');
    await expect(BundleReader.open(notJson)).rejects.toThrow(/not a JSON header/);
    const path = await writeBundleFile(ws.file('limit.txt'), log);
    await expect(BundleReader.open(path, { chunkBytes: 64, maxLineBytes: 100 })).rejects.toThrow(
      /the header is longer than 100 bytes/,
    );
    const long = await writeRawBundle(ws.file('long-line.txt'), log.header, ['x'.repeat(20_000)]);
    const reader = await BundleReader.open(long, { chunkBytes: 64, maxLineBytes: 4096 });
    await expect(reader.nextBatch(1)).rejects.toThrow(/entry line 0 is longer than 4096 bytes/);
    await reader.close();
    expect(() => parseBundleHeader(Buffer.from('{"format":"strongroom-audit-bundle/1"}'))).toThrow(
      /tenantId/,
    );
  });

  it('accepts a key set only when each key id and verifier key follow from the name and key', () => {
    const keys = log.header.keys;
    expect(parsePublishedKeys(keys, 'keys')).toEqual(keys);
    const [key] = keys;
    expect(() => parsePublishedKeys([{ ...key, keyId: '00000000' }], 'keys')).toThrow(/keyId/);
    expect(() =>
      parsePublishedKeys([{ ...key, keyName: 'strongroom.test/audit-signing/2' }], 'keys'),
    ).toThrow(/keyId/);
    expect(() => parsePublishedKeys([{ ...key, publicKey: 'AAAA' }], 'keys')).toThrow(/32-byte/);
  });
});
