/**
 * Tampering with a real audit export (AUD-2, AUD-3, AUD-4): a tenant's log is written by
 * the API into DynamoDB Local, signed at three sizes by the local checkpoint signer (the
 * tenant keeps the second checkpoint), and exported with `POST /audit/export`. Each
 * tampering of the list is applied to the exported file, and the offline verifier
 * must refuse it and name the place: the entry's log position (and id) where the bytes
 * show it, otherwise the checkpoint interval or the checkpoint concerned. The untouched
 * export verifies. The CLI is run on tampered files for its exit code and message.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleHeader } from '#shared/audit/bundle';
import { CompactRange, hashLeaf } from '#shared/audit/merkle';
import {
  checkpointBody,
  formatSignedNote,
  parseCheckpointBody,
  parseSignedNote,
} from '#shared/audit/signed-note';
import { AuditVerificationError, type VerifyBundleOptions, verifyBundle } from '#shared/audit/verify';
import {
  LocalCheckpointSigner,
  type PublishedSigningKey,
  signingKeyNamePrefix,
} from '#shared/crypto/signing';
import { signCheckpoint } from '#shared/services/audit';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { runStrongroomVerify } from '#test/support/strongroom-verify-cli';
import { startTestGateway, type TestGateway } from './support/gateway';
import { call, expectStatus } from './support/http';
import { localRuntimeConfig, localStack } from './support/local-stack';
import { createTestTenant, type TestTenant } from './support/test-tenant';

let gateway: TestGateway;
let tenant: TestTenant;
let signer: LocalCheckpointSigner;
let dir: string;
/** The export as the API served it. */
let header: BundleHeader;
let lines: Buffer[];
let keys: PublishedSigningKey[];
/** The note of the checkpoint the tenant kept (the second of three). */
let kept: string;
/** Checkpoint sizes in the export, ascending. */
let first: number;
let second: number;
let third: number;

async function createInvoices(count: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    const response = await call(gateway, 'POST', '/invoices', {
      token: tenant.user('accountant').token,
      body: {
        currency: 'EUR',
        lines: [{ description: `Tamper test ${n}`, quantity: '1', unitPrice: 100 + n, vatRate: 0 }],
      },
    });
    await expectStatus(response, 201);
  }
}

beforeAll(async () => {
  gateway = await startTestGateway();
  tenant = await createTestTenant('tamper', ['accountant', 'auditor']);
  const stack = localStack();
  const context = {
    clients: new DataClients(localRuntimeConfig(stack)),
    auditLog: new AuditLog(stack.stage),
    now: () => new Date(),
  };
  // The scheduled checkpoint signer's work, done on demand with the runtime's own local key.
  signer = new LocalCheckpointSigner(stack.dataDir, signingKeyNamePrefix(stack.stage));
  const sign = async () => {
    const checkpoint = await signCheckpoint(context, signer, tenant.tenantId);
    if (!checkpoint) throw new Error('nothing was signed');
    return checkpoint;
  };
  await createInvoices(6);
  await sign();
  await createInvoices(5);
  kept = (await sign()).note;
  await createInvoices(5);
  await sign();

  const auditor = tenant.user('auditor').token;
  const keySet = await call(gateway, 'GET', '/audit/keys', { token: auditor });
  await expectStatus(keySet, 200);
  keys = ((await keySet.json()) as { keys: PublishedSigningKey[] }).keys;
  const exported = await call(gateway, 'POST', '/audit/export', { token: auditor });
  await expectStatus(exported, 200);
  const bytes = Buffer.from(await exported.arrayBuffer());
  const all = splitLines(bytes);
  header = JSON.parse((all[0] as Buffer).toString('utf8')) as BundleHeader;
  lines = all.slice(1);
  [first = 0, second = 0, third = 0] = header.checkpoints.map((each) => each.size);
  dir = await mkdtemp(join(tmpdir(), 'strongroom-tamper-it-'));
});

afterAll(async () => {
  await gateway?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function splitLines(bytes: Buffer): Buffer[] {
  const found: Buffer[] = [];
  let start = 0;
  for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, start)) {
    found.push(bytes.subarray(start, at));
    start = at + 1;
  }
  expect(start, 'the export ends with a newline').toBe(bytes.length);
  return found;
}

let files = 0;
async function bundleFile(entryLines: readonly Buffer[], head: unknown = header): Promise<string> {
  const path = join(dir, `bundle-${files++}.txt`);
  const text = [Buffer.from(JSON.stringify(head)), ...entryLines].flatMap((line) => [
    line,
    Buffer.from('\n'),
  ]);
  await writeFile(path, Buffer.concat(text));
  return path;
}

/** The verifier's verdict on a file that must not verify. */
async function refusal(path: string, options: VerifyBundleOptions = {}): Promise<AuditVerificationError> {
  try {
    await verifyBundle(path, { keys, ...options });
  } catch (error) {
    if (error instanceof AuditVerificationError) return error;
    throw error;
  }
  throw new Error('the tampered bundle verified');
}

function entryOf(line: Buffer): { id: string; outcome: string } {
  return JSON.parse(line.subarray(45).toString('utf8')) as { id: string; outcome: string };
}

/** The line with one byte of its entry changed: the first letter of its outcome capitalised. */
function withOneByteChanged(line: Buffer): Buffer {
  const at = line.indexOf('"outcome":"') + '"outcome":"'.length;
  expect(at).toBeGreaterThan(45);
  const changed = Buffer.from(line);
  changed[at] = (line[at] as number) - 0x20;
  return changed;
}

/** An entry line whose recorded leaf hash is correct for its (new) bytes. */
function lineFor(entryBytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${hashLeaf(entryBytes).toString('base64')} `), entryBytes]);
}

/** The checkpoints of `header`, recomputed over `entryLines` and signed again with the log's own key. */
async function resigned(entryLines: readonly Buffer[]): Promise<BundleHeader> {
  const range = new CompactRange();
  const checkpoints = [];
  const [current] = header.checkpoints.map((each) => parseSignedNote(each.note).signatures[0]);
  if (!current) throw new Error('the export has no signed checkpoint');
  for (const [position, line] of entryLines.entries()) {
    range.append(hashLeaf(line.subarray(45)));
    const original = header.checkpoints.find((each) => each.size === position + 1);
    if (!original) continue;
    const { origin } = parseCheckpointBody(parseSignedNote(original.note).body);
    const body = checkpointBody({ origin, size: position + 1, root: range.root() });
    const signature = await signer.sign(Buffer.from(body, 'utf8'));
    checkpoints.push({
      size: position + 1,
      note: formatSignedNote({ body, signatures: [{ ...current, signature }] }),
    });
  }
  return { ...header, checkpoints };
}

/** The export with the outcome of entry 1 reversed, its leaf hash recomputed and every checkpoint re-signed. */
async function rewrittenHistory(): Promise<string> {
  const line = lines[1] as Buffer;
  const { outcome } = entryOf(line);
  const changedEntry = Buffer.from(
    line
      .subarray(45)
      .toString('utf8')
      .replace(`"outcome":"${outcome}"`, `"outcome":"${outcome === 'success' ? 'denied' : 'success'}"`),
  );
  const rewritten = lines.map((each, index) => (index === 1 ? lineFor(changedEntry) : each));
  return bundleFile(rewritten, await resigned(rewritten));
}

describe('[AUD-2][AUD-3][AUD-4] tampering with an audit export of DynamoDB Local', () => {
  it('exports a log signed at three sizes whose untouched export verifies, with the kept checkpoint', async () => {
    expect(header.tenantId).toBe(tenant.tenantId);
    expect(header.checkpoints).toHaveLength(3);
    expect(first).toBeGreaterThanOrEqual(6);
    expect(second - first).toBeGreaterThanOrEqual(5);
    expect(third).toBe(lines.length);
    const verified = await verifyBundle(await bundleFile(lines), { keys, trustedCheckpoint: kept });
    expect(verified).toMatchObject({ tenantId: tenant.tenantId, entries: third, keysFromBundle: false });
    expect(verified.checkpoints.map((each) => each.size)).toEqual([first, second, third]);
    // Two between consecutive checkpoints, one from the kept checkpoint to the end.
    expect(verified.consistencyProofs).toBe(3);
    expect(verified.trustedCheckpoint?.size).toBe(second);
  });

  it('names the entry, by position and id, when one byte of it changed', async () => {
    const position = first + 2;
    const line = lines[position] as Buffer;
    const { id } = entryOf(line);
    const changed = withOneByteChanged(line);
    expect(changed.length).toBe(line.length);
    expect(changed.compare(line)).not.toBe(0);
    const tampered = lines.map((each, index) => (index === position ? changed : each));

    const error = await refusal(await bundleFile(tampered));
    expect(error).toMatchObject({ code: 'leaf-hash-mismatch', position, entryId: id });
    expect(error.message).toContain(`entry at position ${position} (id ${id})`);
  });

  it('catches a deleted entry and names the checkpoint interval it was deleted from', async () => {
    const tampered = lines.filter((_, index) => index !== first + 2);
    const error = await refusal(await bundleFile(tampered));
    expect(error).toMatchObject({ code: 'checkpoint-root-mismatch', position: first });
    expect(error.message).toContain(`checkpoint at size ${second} does not match entries`);
    expect(error.message).toContain(`at a position from ${first} to ${second - 1}`);
  });

  it('catches an inserted entry with a correct leaf hash and names the checkpoint interval', async () => {
    const copied = entryOf(lines[first + 1] as Buffer);
    const forged = Buffer.from(
      (lines[first + 1] as Buffer)
        .subarray(45)
        .toString('utf8')
        .replace(copied.id, `${copied.id.slice(0, -4)}ZZZZ`),
    );
    const tampered = [...lines.slice(0, first + 2), lineFor(forged), ...lines.slice(first + 2)];
    const error = await refusal(await bundleFile(tampered));
    expect(error).toMatchObject({ code: 'checkpoint-root-mismatch', position: first });
    expect(error.message).toContain(`at a position from ${first} to ${second - 1}`);
  });

  it('catches two swapped entries and names the checkpoint interval', async () => {
    const tampered = [...lines];
    [tampered[first + 1], tampered[first + 3]] = [lines[first + 3] as Buffer, lines[first + 1] as Buffer];
    const error = await refusal(await bundleFile(tampered));
    expect(error).toMatchObject({ code: 'checkpoint-root-mismatch', position: first });
    expect(error.message).toContain(`checkpoint at size ${second} does not match entries`);
  });

  it('catches the tail truncated after a signed checkpoint, also with the header rewritten to match, given the kept checkpoint', async () => {
    const cut = await refusal(await bundleFile(lines.slice(0, second)));
    expect(cut).toMatchObject({ code: 'log-truncated', position: second });
    expect(cut.message).toContain(`the bundle holds ${second} of the ${third} entries`);

    // The header made to agree with the shorter log: only the kept checkpoint shows what is missing.
    const shortened = {
      ...header,
      size: first,
      checkpoints: header.checkpoints.filter((each) => each.size <= first),
    };
    const file = await bundleFile(lines.slice(0, first), shortened);
    await expect(verifyBundle(file, { keys })).resolves.toMatchObject({ entries: first });
    const rewritten = await refusal(file, { trustedCheckpoint: kept });
    expect(rewritten).toMatchObject({ code: 'log-truncated', position: first });
    expect(rewritten.message).toContain(`your trusted checkpoint (size ${second}) covers ${second} entries`);
  });

  it('catches a replaced checkpoint signature and names the checkpoint', async () => {
    const [, victim, donor] = header.checkpoints;
    if (!victim || !donor) throw new Error('three checkpoints expected');
    // A genuine signature by the same key, over another checkpoint's body.
    const signature = parseSignedNote(donor.note).signatures[0];
    if (!signature) throw new Error('an unsigned checkpoint');
    const note = formatSignedNote({ ...parseSignedNote(victim.note), signatures: [signature] });
    const forged = {
      ...header,
      checkpoints: header.checkpoints.map((each) => (each === victim ? { size: each.size, note } : each)),
    };
    const error = await refusal(await bundleFile(lines, forged));
    expect(error).toMatchObject({ code: 'checkpoint-signature-invalid' });
    expect(error.message).toContain(`the checkpoint at size ${second}`);
  });

  it('catches history rewritten and re-signed with the real key only with the kept checkpoint, and says before which size', async () => {
    const file = await rewrittenHistory();

    // Consistent and signed with the log's own key: without a kept checkpoint it passes.
    await expect(verifyBundle(file, { keys })).resolves.toMatchObject({ entries: third });
    const error = await refusal(file, { trustedCheckpoint: kept });
    expect(error).toMatchObject({ code: 'trusted-checkpoint-mismatch', position: second });
    expect(error.message).toContain(`do not match your trusted checkpoint of size ${second}`);
    expect(error.message).toContain('rewritten and re-signed');
  });

  it('strongroom-verify exits 1 on a tampered export and names the entry; with --trusted-checkpoint it names the rewrite', async () => {
    const keysFile = join(dir, 'keys.json');
    await writeFile(keysFile, JSON.stringify({ keys }));
    const position = second + 1;
    const line = lines[position] as Buffer;
    const { id } = entryOf(line);
    const tampered = await bundleFile(
      lines.map((each, index) => (index === position ? withOneByteChanged(each) : each)),
    );
    const refused = await runStrongroomVerify([tampered, '--keys', keysFile, '--quiet']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('NOT VERIFIED [leaf-hash-mismatch]');
    expect(refused.stderr).toContain(`entry at position ${position} (id ${id})`);

    const untouched = await runStrongroomVerify([await bundleFile(lines), '--keys', keysFile, '--quiet']);
    expect(untouched.code).toBe(0);
    expect(untouched.stdout).toContain(`Verified ${third} entries of tenant ${tenant.tenantId}'s audit log`);

    const keptFile = join(dir, 'kept-checkpoint.txt');
    await writeFile(keptFile, kept);
    const rewritten = await runStrongroomVerify([
      await rewrittenHistory(),
      '--keys',
      keysFile,
      '--trusted-checkpoint',
      keptFile,
      '--quiet',
    ]);
    expect(rewritten.code).toBe(1);
    expect(rewritten.stderr).toContain('NOT VERIFIED [trusted-checkpoint-mismatch]');
    expect(rewritten.stderr).toContain(`your trusted checkpoint of size ${second}`);
  });
});
