/**
 * Real audit bundles for the bundle, verifier and CLI tests: canonical entries, leaf
 * hashes and roots from shared/audit, checkpoints signed by a LocalCheckpointSigner in a
 * temporary folder, exactly as the export writes them. Tamperings are applied to the
 * line list before it is written.
 */

import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BundleCheckpoint,
  type BundleEntry,
  type BundleHeader,
  bundleFormat,
  writeBundle,
} from '#shared/audit/bundle';
import { type AuditEntry, canonicalBytes, itemDigest } from '#shared/audit/entry';
import { CompactRange, hashLeaf } from '#shared/audit/merkle';
import { checkpointBody, checkpointOrigin, formatSignedNote, noteKeyId } from '#shared/audit/signed-note';
import { type CheckpointSigner, LocalCheckpointSigner } from '#shared/crypto/signing';

export const testDomain = 'strongroom.test';
export const tenantId = 'acme';
export const origin = checkpointOrigin(testDomain, tenantId);

export interface Workspace {
  readonly dir: string;
  file(name: string): string;
  remove(): Promise<void>;
}

export async function workspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'strongroom-bundle-'));
  return { dir, file: (name) => join(dir, name), remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A signer with its own key in `<dir>/<name>/keys`. */
export function signerIn(dir: string, name = 'signer', version = 1): LocalCheckpointSigner {
  return new LocalCheckpointSigner(join(dir, name), testDomain, version);
}

export function auditEntry(position: number): AuditEntry {
  const time = new Date(Date.UTC(2026, 0, 1) + position * 1000).toISOString();
  return {
    v: 1,
    id: `aud_${String(position).padStart(26, '0')}`,
    tenantId,
    time,
    actor: {
      id: `usr_${(position % 7).toString().padStart(4, '0')}`,
      kind: position % 5 === 0 ? 'apiKey' : 'user',
    },
    action: position % 3 === 0 ? 'invoice.update' : 'invoice.create',
    target: { type: 'invoice', id: `inv_${String(position * 31).padStart(12, '0')}` },
    outcome: 'success',
    requestId: `req_${position}`,
    itemDigest: itemDigest({ invoice: position, amount: position * 100 }),
  };
}

export function entryLine(entry: AuditEntry): BundleEntry {
  const entryBytes = canonicalBytes(entry);
  return { leafHash: hashLeaf(entryBytes), entryBytes };
}

export function rootsAt(lines: readonly BundleEntry[], sizes: readonly number[]): Map<number, Buffer> {
  const range = new CompactRange();
  const roots = new Map<number, Buffer>();
  if (sizes.includes(0)) roots.set(0, range.root());
  for (const line of lines) {
    range.append(line.leafHash);
    if (sizes.includes(range.size)) roots.set(range.size, range.root());
  }
  return roots;
}

/** A C2SP signed checkpoint note, as signCheckpoint (shared/services/audit.ts) writes it. */
export async function signedNote(
  signer: CheckpointSigner,
  size: number,
  root: Buffer,
  logOrigin = origin,
): Promise<string> {
  const body = checkpointBody({ origin: logOrigin, size, root });
  const signature = await signer.sign(Buffer.from(body, 'utf8'));
  const [key] = await signer.publicKeys();
  if (!key) throw new Error('the signer publishes no key');
  return formatSignedNote({
    body,
    signatures: [
      {
        keyName: signer.keyName,
        keyId: noteKeyId(signer.keyName, Buffer.from(key.publicKey, 'base64')),
        signature,
      },
    ],
  });
}

export async function signCheckpoints(
  signer: CheckpointSigner,
  lines: readonly BundleEntry[],
  sizes: readonly number[],
): Promise<BundleCheckpoint[]> {
  const roots = rootsAt(lines, sizes);
  return Promise.all(
    sizes.map(async (size) => {
      const root = roots.get(size);
      if (!root) throw new Error(`no root at size ${size}: the log has ${lines.length} entries`);
      return { size, note: await signedNote(signer, size, root) };
    }),
  );
}

export interface LogFixture {
  readonly header: BundleHeader;
  readonly lines: BundleEntry[];
}

/** A genuine log of `size` entries with signed checkpoints at `checkpointSizes` (the last must be `size`). */
export async function genuineLog(
  signer: CheckpointSigner,
  size: number,
  checkpointSizes: readonly number[],
): Promise<LogFixture> {
  const lines = Array.from({ length: size }, (_, position) => entryLine(auditEntry(position)));
  return {
    header: {
      format: bundleFormat,
      tenantId,
      origin,
      size,
      keys: await signer.publicKeys(),
      checkpoints: await signCheckpoints(signer, lines, checkpointSizes),
      exportedAt: '2026-02-01T00:00:00.000Z',
    },
    lines,
  };
}

/** Writes the bundle through the real writer. */
export async function writeBundleFile(path: string, log: LogFixture): Promise<string> {
  await writeBundle(createWriteStream(path), log.header, log.lines);
  return path;
}

/** Writes arbitrary lines byte for byte (for tamperings the writer would refuse, like a wrong header size). */
export async function writeRawBundle(
  path: string,
  header: BundleHeader,
  lines: readonly (BundleEntry | string)[],
): Promise<string> {
  const parts = [Buffer.from(`${JSON.stringify(header)}\n`)];
  for (const line of lines) {
    parts.push(
      typeof line === 'string'
        ? Buffer.from(`${line}\n`)
        : Buffer.concat([
            Buffer.from(`${line.leafHash.toString('base64')} `),
            line.entryBytes,
            Buffer.from('\n'),
          ]),
    );
  }
  await writeFile(path, Buffer.concat(parts));
  return path;
}
