import { writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleEntry } from '#shared/audit/bundle';
import { exitCodes, runVerifyCli } from '#shared/audit/cli';
import { runStrongroomVerify } from '#test/support/strongroom-verify-cli';
import {
  auditEntry,
  genuineLog,
  type LogFixture,
  signerIn,
  type Workspace,
  workspace,
  writeBundleFile,
} from './bundle-fixtures';

const runBin = runStrongroomVerify;

let ws: Workspace;
let log: LogFixture;
let good: string;
let tampered: string;
let keys: string;
let kept: string;

beforeAll(async () => {
  ws = await workspace();
  log = await genuineLog(signerIn(ws.dir), 300, [100, 200, 300]);
  good = await writeBundleFile(ws.file('good.txt'), log);
  const lines = [...log.lines];
  const original = lines[150] as BundleEntry;
  lines[150] = {
    leafHash: original.leafHash,
    entryBytes: Buffer.from(original.entryBytes.toString().replace('success', 'failure')),
  };
  tampered = await writeBundleFile(ws.file('tampered.txt'), { header: log.header, lines });
  keys = ws.file('keys.json');
  // Saved exactly as GET /audit/keys answers.
  await writeFile(keys, JSON.stringify({ keys: log.header.keys }));
  kept = ws.file('kept-checkpoint.txt');
  await writeFile(kept, log.header.checkpoints[0]?.note as string);
});

afterAll(() => ws.remove());

function captured(isTTY = false) {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY, columns: 80 });
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  return { streams: { stdout, stderr }, out: () => out, err: () => err };
}

describe('[AUD-3] strongroom-verify', () => {
  it('exits 0 with a verdict for a genuine bundle (bin, as a subprocess)', async () => {
    const { code, stdout, stderr } = await runBin([good, '--keys', keys, '--trusted-checkpoint', kept]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Verified 300 entries');
    expect(stdout).toContain(
      `3 checkpoints signed by ${log.header.keys[0]?.keyName} (key id ${log.header.keys[0]?.keyId})`,
    );
    expect(stdout).toContain('Consistent with your trusted checkpoint of size 100');
  });

  it('exits 1 naming the altered entry (bin, as a subprocess)', async () => {
    const { code, stdout, stderr } = await runBin([tampered, '--keys', keys]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('NOT VERIFIED [leaf-hash-mismatch]');
    expect(stderr).toContain(
      `entry at position 150 (id ${auditEntry(150).id}): its bytes do not match the hash the log recorded`,
    );
  });

  it('warns when the keys come from the bundle itself', async () => {
    const io = captured();
    expect(await runVerifyCli([good], io.streams)).toBe(exitCodes.verified);
    expect(io.err()).toContain('Warning: no --keys file was given');
    expect(io.out()).toContain('checked against the keys carried in the bundle itself');
    expect(io.out()).toContain('No trusted checkpoint was given');
  });

  it('exits 2 on usage errors and unusable input files', async () => {
    for (const args of [
      [],
      [good, good],
      [good, '--nope'],
      [ws.file('missing.txt')],
      [good, '--keys', ws.file('none.json')],
      [good, '--trusted-checkpoint', keys],
    ]) {
      const io = captured();
      expect(await runVerifyCli(args, io.streams)).toBe(exitCodes.usage);
      expect(io.err()).toContain('usage: strongroom-verify <bundle>');
    }
  });

  it('shows a progress bar on a terminal for large logs, never with --quiet', async () => {
    const tty = captured(true);
    expect(await runVerifyCli([good, '--keys', keys], tty.streams, { progressThreshold: 100 })).toBe(0);
    expect(tty.err()).toContain('Verifying');
    const quiet = captured(true);
    expect(
      await runVerifyCli([good, '--keys', keys, '--quiet'], quiet.streams, { progressThreshold: 100 }),
    ).toBe(0);
    expect(quiet.err()).toBe('');
  });
});
