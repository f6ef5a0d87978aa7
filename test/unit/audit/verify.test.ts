import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleEntry } from '#shared/audit/bundle';
import {
  AuditVerificationError,
  parseTrustedKeys,
  trustedCheckpointNote,
  VerifierInputError,
  type VerifyBundleOptions,
  verifyBundle,
} from '#shared/audit/verify';
import type { LocalCheckpointSigner } from '#shared/crypto/signing';
import {
  auditEntry,
  entryLine,
  genuineLog,
  type LogFixture,
  signCheckpoints,
  signedNote,
  signerIn,
  type Workspace,
  workspace,
  writeBundleFile,
  writeRawBundle,
} from './bundle-fixtures';

const size = 123;
const checkpointSizes = [5, 37, 64, 100, 123];

let ws: Workspace;
let signer: LocalCheckpointSigner;
let log: LogFixture;
let fileCount = 0;

beforeAll(async () => {
  ws = await workspace();
  signer = signerIn(ws.dir);
  log = await genuineLog(signer, size, checkpointSizes);
});

afterAll(() => ws.remove());

const nextFile = () => ws.file(`bundle-${fileCount++}.txt`);

/** The engine runs in-thread for small bundles and on workers for large ones: every case runs both ways. */
const modes: [string, VerifyBundleOptions][] = [
  ['in-thread', { workers: 0 }],
  ['on two workers, batches of 8', { workers: 2, batchLines: 8 }],
];

async function failure(path: string, options: VerifyBundleOptions): Promise<AuditVerificationError> {
  const error = await verifyBundle(path, options).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof AuditVerificationError))
    throw new Error(`expected a verification failure, got ${String(error)}`);
  return error;
}

function withLines(lines: BundleEntry[]): LogFixture {
  return { header: log.header, lines };
}

describe.each(modes)('[AUD-3] the bundle verifier (%s)', (_mode, mode) => {
  const trusted = () => ({ ...mode, keys: log.header.keys });

  it('verifies an untouched log: entries, every checkpoint root, signatures and consistency proofs', async () => {
    const path = await writeBundleFile(nextFile(), log);
    const result = await verifyBundle(path, trusted());
    expect(result.entries).toBe(size);
    expect(result.checkpoints.map((each) => each.size)).toEqual(checkpointSizes);
    expect(result.checkpoints.every((each) => each.keyName === signer.keyName)).toBe(true);
    expect(result.consistencyProofs).toBe(checkpointSizes.length - 1);
    expect(result.keysFromBundle).toBe(false);
    expect(result.root.equals(result.checkpoints.at(-1)?.root as Buffer)).toBe(true);
  });

  it('falls back to the keys the bundle carries, and says so', async () => {
    const result = await verifyBundle(await writeBundleFile(nextFile(), log), mode);
    expect(result.keysFromBundle).toBe(true);
  });

  it('names the entry when one byte of it changed', async () => {
    const lines = [...log.lines];
    const original = lines[42] as BundleEntry;
    const entryBytes = Buffer.from(original.entryBytes);
    entryBytes[entryBytes.indexOf('invoice.')] = 'J'.charCodeAt(0);
    lines[42] = { leafHash: original.leafHash, entryBytes };
    const error = await failure(await writeBundleFile(nextFile(), withLines(lines)), trusted());
    expect(error.code).toBe('leaf-hash-mismatch');
    expect(error.position).toBe(42);
    expect(error.entryId).toBe(auditEntry(42).id);
    expect(error.message).toContain(`entry at position 42 (id ${auditEntry(42).id})`);
    expect(error.message).toContain('its bytes do not match the hash the log recorded');
  });

  it('catches a deleted entry at the next checkpoint', async () => {
    const lines = log.lines.filter((_, position) => position !== 50);
    const error = await failure(await writeRawBundle(nextFile(), log.header, lines), trusted());
    expect(error.code).toBe('checkpoint-root-mismatch');
    expect(error.message).toContain('checkpoint at size 64 does not match entries');
    expect(error.message).toContain('the first differing entry is between 37 and 64');
  });

  it('catches a deleted entry after the last-but-one checkpoint as missing entries', async () => {
    const lines = log.lines.filter((_, position) => position !== 110);
    const error = await failure(await writeRawBundle(nextFile(), log.header, lines), trusted());
    expect(error.code).toBe('log-truncated');
    expect(error.message).toContain('holds 122 of the 123 entries');
    expect(error.message).toContain('entries after position 100 were deleted');
  });

  it('catches an inserted entry (with its own correct leaf hash)', async () => {
    const lines = [...log.lines];
    lines.splice(3, 0, entryLine({ ...auditEntry(3), id: 'aud_FORGED', action: 'invoice.delete' }));
    const error = await failure(await writeRawBundle(nextFile(), log.header, lines), trusted());
    expect(error.code).toBe('checkpoint-root-mismatch');
    expect(error.message).toContain('checkpoint at size 5 does not match entries');
    expect(error.message).toContain('between 0 and 5');
  });

  it('catches two swapped entries', async () => {
    const lines = [...log.lines];
    [lines[70], lines[71]] = [lines[71] as BundleEntry, lines[70] as BundleEntry];
    const error = await failure(await writeBundleFile(nextFile(), withLines(lines)), trusted());
    expect(error.code).toBe('checkpoint-root-mismatch');
    expect(error.message).toContain('checkpoint at size 100 does not match entries');
    expect(error.message).toContain('the first differing entry is between 64 and 100');
  });

  it('names the exact entry when two verified sizes are one entry apart', async () => {
    const sizes = [10, 11, 20];
    const short = await genuineLog(signer, 20, sizes);
    const lines = [...short.lines];
    lines[10] = entryLine({ ...auditEntry(10), outcome: 'denied' });
    const error = await failure(
      await writeBundleFile(nextFile(), { header: short.header, lines }),
      trusted(),
    );
    expect(error.code).toBe('checkpoint-root-mismatch');
    expect(error.position).toBe(10);
    expect(error.entryId).toBe(auditEntry(10).id);
    expect(error.message).toContain(
      `the differing entry is the one at position 10 (id ${auditEntry(10).id})`,
    );
  });

  it('catches the tail truncated after a signed checkpoint', async () => {
    const error = await failure(
      await writeRawBundle(nextFile(), log.header, log.lines.slice(0, 64)),
      trusted(),
    );
    expect(error.code).toBe('log-truncated');
    expect(error.message).toContain('the log was truncated after a signed checkpoint');
    expect(error.position).toBe(64);
  });

  it('catches a truncated tail with a rewritten header only against a trusted checkpoint', async () => {
    const header = { ...log.header, size: 64, checkpoints: log.header.checkpoints.slice(0, 3) };
    const path = await writeRawBundle(nextFile(), header, log.lines.slice(0, 64));
    // On its own, that is a genuine older export.
    expect((await verifyBundle(path, trusted())).entries).toBe(64);
    const kept = log.header.checkpoints.at(-1)?.note as string;
    const error = await failure(path, { ...trusted(), trustedCheckpoint: kept });
    expect(error.code).toBe('log-truncated');
    expect(error.message).toContain('the log was truncated after a signed checkpoint');
  });

  it('catches a replaced checkpoint signature', async () => {
    const victim = log.header.checkpoints[1] as { size: number; note: string };
    const [body = '', signatureLine = ''] = victim.note.split('\n\n');
    const [dash, name, encoded = ''] = signatureLine.trim().split(' ');
    const bytes = Buffer.from(encoded, 'base64');
    bytes[10] = (bytes[10] as number) ^ 0xff;
    const forged = `${body}\n\n${dash} ${name} ${bytes.toString('base64')}\n`;
    const header = {
      ...log.header,
      checkpoints: log.header.checkpoints.map((each) => (each === victim ? { ...each, note: forged } : each)),
    };
    const error = await failure(await writeRawBundle(nextFile(), header, log.lines), trusted());
    expect(error.code).toBe('checkpoint-signature-invalid');
    expect(error.message).toContain('the signature on the checkpoint at size 37 does not verify');
  });

  it('catches a checkpoint signed by an unknown key, even when the bundle carries that key', async () => {
    const intruder = signerIn(ws.dir, 'intruder');
    const roots = await signCheckpoints(intruder, log.lines, [64]);
    const header = {
      ...log.header,
      keys: [...log.header.keys, ...(await intruder.publicKeys())],
      checkpoints: log.header.checkpoints.map((each) =>
        each.size === 64 ? (roots[0] as typeof each) : each,
      ),
    };
    const path = await writeRawBundle(nextFile(), header, log.lines);
    const error = await failure(path, trusted());
    expect(error.code).toBe('checkpoint-unknown-key');
    expect(error.message).toContain('the checkpoint at size 64 is signed by an unknown key');
    // Trusting the bundle's own keys cannot tell: that is why the CLI warns without --keys.
    expect((await verifyBundle(path, mode)).keysFromBundle).toBe(true);
  });

  it('catches history rewritten and re-signed with the same key only with a trusted checkpoint', async () => {
    const kept = log.header.checkpoints[2]?.note as string;
    const lines = [...log.lines];
    lines[20] = entryLine({ ...auditEntry(20), outcome: 'failure' });
    const rewritten = {
      header: { ...log.header, checkpoints: await signCheckpoints(signer, lines, checkpointSizes) },
      lines,
    };
    const path = await writeBundleFile(nextFile(), rewritten);
    expect((await verifyBundle(path, trusted())).entries).toBe(size);
    const error = await failure(path, { ...trusted(), trustedCheckpoint: kept });
    expect(error.code).toBe('trusted-checkpoint-mismatch');
    expect(error.message).toContain(
      "the bundle's first 64 entries do not match your trusted checkpoint of size 64",
    );
    expect(error.message).toContain('rewritten and re-signed');
  });

  it('accepts a genuine trusted checkpoint, also at a size the bundle has no checkpoint for', async () => {
    const path = await writeBundleFile(nextFile(), log);
    const kept = log.header.checkpoints[2]?.note as string;
    const result = await verifyBundle(path, { ...trusted(), trustedCheckpoint: kept });
    expect(result.trustedCheckpoint?.size).toBe(64);
    expect(result.consistencyProofs).toBe(checkpointSizes.length);
    const root = (await import('./bundle-fixtures')).rootsAt(log.lines, [77]).get(77) as Buffer;
    const elsewhere = await verifyBundle(path, {
      ...trusted(),
      trustedCheckpoint: await signedNote(signer, 77, root),
    });
    expect(elsewhere.trustedCheckpoint?.size).toBe(77);
  });

  it('catches a rewritten history against a trusted checkpoint at a size between bundle checkpoints', async () => {
    const lines = [...log.lines];
    lines[70] = entryLine({ ...auditEntry(70), actor: { id: 'usr_9999', kind: 'operator' } });
    const rewritten = {
      header: { ...log.header, checkpoints: await signCheckpoints(signer, lines, checkpointSizes) },
      lines,
    };
    const root = (await import('./bundle-fixtures')).rootsAt(log.lines, [77]).get(77) as Buffer;
    const error = await failure(await writeBundleFile(nextFile(), rewritten), {
      ...trusted(),
      trustedCheckpoint: await signedNote(signer, 77, root),
    });
    expect(error.code).toBe('trusted-checkpoint-mismatch');
  });

  it('refuses a trusted checkpoint signed by a key it does not trust', async () => {
    const intruder = signerIn(ws.dir, 'intruder-2');
    const root = (await import('./bundle-fixtures')).rootsAt(log.lines, [64]).get(64) as Buffer;
    const error = await failure(await writeBundleFile(nextFile(), log), {
      ...trusted(),
      trustedCheckpoint: await signedNote(intruder, 64, root),
    });
    expect(error.code).toBe('trusted-checkpoint-unknown-key');
  });

  it('catches lines beyond the last signed checkpoint and a damaged last line', async () => {
    const extra = await failure(
      await writeRawBundle(nextFile(), log.header, [...log.lines, entryLine(auditEntry(size))]),
      trusted(),
    );
    expect(extra.code).toBe('extra-entries');
    expect(extra.position).toBe(size);
    const path = await writeBundleFile(nextFile(), log);
    const { truncate, stat } = await import('node:fs/promises');
    await truncate(path, (await stat(path)).size - 10);
    const damaged = await failure(path, trusted());
    expect(damaged.code).toBe('bundle-malformed');
    expect(damaged.message).toContain('the file ends inside entry line 122');
  });

  it('catches a malformed entry line and names its position', async () => {
    const lines: (BundleEntry | string)[] = [...log.lines];
    lines[9] = 'not a leaf hash {"id":"aud_x"}';
    const error = await failure(await writeRawBundle(nextFile(), log.header, lines), trusted());
    expect(error.code).toBe('bundle-malformed');
    expect(error.position).toBe(9);
  });
});

describe('[AUD-3] the bundle verifier on generated logs', () => {
  it('verifies any genuine log and names any single changed byte, whatever the batching', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 200 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            sizes: fc.uniqueArray(fc.integer({ min: 1, max: n }), { maxLength: 4 }),
            batchLines: fc.integer({ min: 1, max: 40 }),
            tampered: fc.nat(n - 1),
            byteOffset: fc.nat(200),
          }),
        ),
        async ({ n, sizes, batchLines, tampered, byteOffset }) => {
          const checkpoints = [...new Set([...sizes, n])].sort((a, b) => a - b);
          const genuine = await genuineLog(signer, n, checkpoints);
          const result = await verifyBundle(await writeBundleFile(nextFile(), genuine), {
            workers: 0,
            batchLines,
          });
          expect(result.entries).toBe(n);
          expect(result.consistencyProofs).toBe(checkpoints.length - 1);

          const lines = [...genuine.lines];
          const target = lines[tampered] as BundleEntry;
          const entryBytes = Buffer.from(target.entryBytes);
          const at = byteOffset % entryBytes.length;
          entryBytes[at] = entryBytes[at] === 0x41 ? 0x42 : 0x41;
          lines[tampered] = { leafHash: target.leafHash, entryBytes };
          const error = await failure(await writeBundleFile(nextFile(), { header: genuine.header, lines }), {
            workers: 0,
            batchLines,
          });
          expect(error.code).toBe('leaf-hash-mismatch');
          expect(error.position).toBe(tampered);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('checks the consistency proof of every pair of checkpoints and a trusted checkpoint on workers', async () => {
    const sizes = [1, 2, 3, 7, 8, 9, 100, 255, 256, 257, 600];
    const genuine = await genuineLog(signer, 600, sizes);
    const path = await writeBundleFile(nextFile(), genuine);
    for (const batchLines of [1, 3, 64, 4096]) {
      const result = await verifyBundle(path, {
        workers: 2,
        batchLines,
        trustedCheckpoint: genuine.header.checkpoints[4]?.note as string,
      });
      expect(result.consistencyProofs).toBe(sizes.length);
    }
  });
});

describe('[AUD-3] the bundle verifier sharing batches between workers and the main thread', () => {
  it('names the first altered entry in log order, whichever thread hashed which batch first', async () => {
    const lines = [...log.lines];
    // Altered entries in many batches: later batches are often hashed (by the main thread,
    // or a faster worker) before the worker holding the first altered one answers.
    for (const position of [17, 18, 40, 41, 77, 101, 122]) {
      const original = lines[position] as BundleEntry;
      const entryBytes = Buffer.from(original.entryBytes);
      entryBytes[entryBytes.indexOf('invoice.')] = 'J'.charCodeAt(0);
      lines[position] = { leafHash: original.leafHash, entryBytes };
    }
    const path = await writeBundleFile(nextFile(), withLines(lines));
    for (const options of [
      { workers: 1, batchLines: 1 },
      { workers: 1, batchLines: 2 },
      { workers: 3, batchLines: 1 },
      { workers: 2, batchLines: 4 },
    ]) {
      const error = await failure(path, { ...options, keys: log.header.keys });
      expect(error).toMatchObject({ code: 'leaf-hash-mismatch', position: 17, entryId: auditEntry(17).id });
    }
  });
});

describe('[AUD-3] verifier inputs', () => {
  it('takes the key set and the kept checkpoint as saved from the API, or bare', async () => {
    const keys = log.header.keys;
    expect(parseTrustedKeys(JSON.stringify({ keys }))).toEqual(keys);
    expect(parseTrustedKeys(JSON.stringify(keys))).toEqual(keys);
    const note = log.header.checkpoints[1]?.note as string;
    expect(trustedCheckpointNote(note)).toBe(note);
    expect(trustedCheckpointNote(JSON.stringify({ size: 37, root: 'x', note, signedAt: 'now' }))).toBe(note);
    const path = await writeBundleFile(nextFile(), log);
    const result = await verifyBundle(path, {
      keys,
      trustedCheckpoint: JSON.stringify({ size: 37, note }),
    });
    expect(result.trustedCheckpoint?.size).toBe(37);
  });

  it('refuses unusable inputs as input errors, not as verdicts', async () => {
    expect(() => parseTrustedKeys('not json')).toThrow(VerifierInputError);
    expect(() => parseTrustedKeys('[]')).toThrow(/lists no key/);
    expect(() => parseTrustedKeys(JSON.stringify([{ ...log.header.keys[0], keyId: 'ffffffff' }]))).toThrow(
      VerifierInputError,
    );
    expect(() => trustedCheckpointNote('{"size": 3}')).toThrow(VerifierInputError);
    const path = await writeBundleFile(nextFile(), log);
    await expect(verifyBundle(path, { trustedCheckpoint: 'just text\n' })).rejects.toThrow(
      VerifierInputError,
    );
  });
});
