/**
 * The auditor's view of the ledger over HTTP (AUD-3, AUD-4): signed checkpoints,
 * inclusion and consistency proofs checked with an independent RFC 9162
 * implementation (test/support/rfc9162.ts), and filtered, paged entries.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCheckpointBody, parseSignedNote, verifySignedNote } from '#shared/audit/signed-note';
import { verifyBundle } from '#shared/audit/verify';
import {
  LocalCheckpointSigner,
  type PublishedSigningKey,
  signingKeyNamePrefix,
} from '#shared/crypto/signing';
import { signCheckpoint } from '#shared/services/audit';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import {
  referenceLeafHash,
  referenceRootFromInclusion,
  referenceRootsFromConsistency,
} from '#test/support/rfc9162';
import { startTestGateway, type TestGateway } from './support/gateway';
import { demoUser, localRuntimeConfig, localStack } from './support/local-stack';
import { tokenFor } from './support/tokens';

let gateway: TestGateway;
let auditor: string;
let accountant: string;
let otherAuditor: string;
let signAll: (tenantId: string) => Promise<unknown>;

beforeAll(async () => {
  gateway = await startTestGateway();
  const stack = localStack();
  const context = {
    clients: new DataClients(localRuntimeConfig()),
    auditLog: new AuditLog(stack.stage),
    now: () => new Date(),
  };
  // The scheduled checkpoint signer's work, done on demand with the runtime's own local key.
  const signer = new LocalCheckpointSigner(stack.dataDir, signingKeyNamePrefix(stack.stage));
  signAll = (tenantId) => signCheckpoint(context, signer, tenantId);
  [auditor, accountant, otherAuditor] = await Promise.all([
    tokenFor(demoUser('auditor').email),
    tokenFor(demoUser('accountant').email),
    tokenFor(demoUser('owner', 'demo-two').email),
  ]);
});

afterAll(async () => {
  await gateway?.close();
});

const draft = {
  currency: 'EUR',
  lines: [{ description: 'Audit me', quantity: '1', unitPrice: 100, vatRate: 0 }],
};

async function createInvoice(): Promise<{ id: string; auditEntryId: string }> {
  const response = await gateway.call('/invoices', {
    method: 'POST',
    headers: { authorization: `Bearer ${accountant}`, 'content-type': 'application/json' },
    body: JSON.stringify(draft),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; auditEntryId: string };
}

async function getJson<T>(path: string, token = auditor): Promise<{ status: number; body: T }> {
  const response = await gateway.call(path, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as T };
}

interface CheckpointView {
  size: number;
  root: string;
  note: string;
}

async function verifiedCheckpoint(view: CheckpointView, keys: PublishedSigningKey[]) {
  const note = parseSignedNote(view.note);
  const trusted = keys.map((key) => ({
    keyName: key.keyName,
    publicKey: Buffer.from(key.publicKey, 'base64'),
  }));
  expect(verifySignedNote(note, trusted)).toBe(true);
  const body = parseCheckpointBody(note.body);
  expect(body.origin).toBe('strongroom.dev/tenants/demo/audit');
  expect(body.size).toBe(view.size);
  expect(body.root.toString('base64')).toBe(view.root);
  return body;
}

describe('[AUD-3][AUD-4] the audit API', () => {
  it('proves an entry is in a signed checkpoint, verified with an independent RFC 9162 implementation', async () => {
    const created = [await createInvoice(), await createInvoice(), await createInvoice()];
    await signAll('demo');
    const keys = (await getJson<{ keys: PublishedSigningKey[] }>('/audit/keys')).body.keys;
    expect(keys.filter((key) => key.current)).toHaveLength(1);
    const latest = await getJson<CheckpointView>('/audit/checkpoints/latest');
    expect(latest.status).toBe(200);
    const checkpoint = await verifiedCheckpoint(latest.body, keys);

    for (const { auditEntryId } of created) {
      const { status, body } = await getJson<{
        seq: number;
        leafHash: string;
        entryBytes: string;
        treeSize: number;
        inclusionProof: string[];
        entry: { id: string };
      }>(`/audit/entries/${auditEntryId}`);
      expect(status).toBe(200);
      expect(body.entry.id).toBe(auditEntryId);
      expect(body.treeSize).toBe(checkpoint.size);
      const leaf = referenceLeafHash(Buffer.from(body.entryBytes, 'base64'));
      expect(leaf.toString('base64')).toBe(body.leafHash);
      const proof = body.inclusionProof.map((hash) => Buffer.from(hash, 'base64'));
      expect(referenceRootFromInclusion(body.seq, body.treeSize, leaf, proof)).toEqual(checkpoint.root);
    }
  });

  it('proves a later checkpoint extends an earlier one (consistency), and refuses impossible ranges', async () => {
    await createInvoice();
    const first = (await signAll('demo')) as { size: number; root: Buffer };
    await createInvoice();
    await createInvoice();
    await signAll('demo');
    const keys = (await getJson<{ keys: PublishedSigningKey[] }>('/audit/keys')).body.keys;
    const { status, body } = await getJson<{
      from: number;
      to: number;
      proof: string[];
      checkpoint: CheckpointView;
    }>(`/audit/consistency?from=${first.size}`);
    expect(status).toBe(200);
    const latest = await verifiedCheckpoint(body.checkpoint, keys);
    expect(body.to).toBe(latest.size);
    expect(latest.size).toBeGreaterThan(first.size);
    const proof = body.proof.map((hash) => Buffer.from(hash, 'base64'));
    expect(referenceRootsFromConsistency(first.size, latest.size, first.root, proof)).toEqual({
      old: first.root,
      new: latest.root,
    });
    const beyond = await getJson<{ code: string }>(`/audit/consistency?from=${latest.size + 1}`);
    expect(beyond.status).toBe(400);
    const noSuchCheckpoint = await getJson<{ code: string }>(
      `/audit/consistency?from=1&to=${latest.size + 7}`,
    );
    expect(noSuchCheckpoint).toMatchObject({ status: 409, body: { code: 'not-checkpointed' } });
  });

  it('answers 409 for an entry not yet covered by a signed checkpoint', async () => {
    await signAll('demo');
    const { auditEntryId } = await createInvoice();
    const { status, body } = await getJson<{ code: string }>(`/audit/entries/${auditEntryId}`);
    expect(status).toBe(409);
    expect(body.code).toBe('not-checkpointed');
  });

  it('filters and pages entries in log order', async () => {
    const { id } = await createInvoice();
    const byTarget = await getJson<{ items: { entry: { target: { id: string } } }[] }>(
      `/audit/entries?targetId=${id}`,
    );
    expect(byTarget.status).toBe(200);
    expect(byTarget.body.items.map((each) => each.entry.target.id)).toEqual([id]);

    const seqs: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await getJson<{
        items: { seq: number; entry: { action: string } }[];
        nextCursor?: string;
      }>(`/audit/entries?action=invoice.create&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.every((each) => each.entry.action === 'invoice.create')).toBe(true);
      seqs.push(...page.body.items.map((each) => each.seq));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.length).toBeGreaterThanOrEqual(8);
  });

  it('keeps the log to auditors of the tenant: 403 for an accountant, 404 for another tenant', async () => {
    const { auditEntryId } = await createInvoice();
    await signAll('demo');
    expect((await getJson(`/audit/entries/${auditEntryId}`, accountant)).status).toBe(403);
    expect((await getJson('/audit/entries', accountant)).status).toBe(403);
    expect((await getJson(`/audit/entries/${auditEntryId}`, otherAuditor)).status).toBe(404);
    const theirs = await getJson<{ items: { entry: { tenantId: string } }[] }>(
      '/audit/entries?limit=100',
      otherAuditor,
    );
    expect(theirs.body.items.every((each) => each.entry.tenantId === 'demo-two')).toBe(true);
  });

  it('exports the log up to its latest signed checkpoint, and the export verifies offline and is audited', async () => {
    await createInvoice();
    const signed = (await signAll('demo')) as { size: number; root: Buffer };
    const keys = await gateway.call('/audit/keys', { headers: { authorization: `Bearer ${auditor}` } });
    const exported = await gateway.call('/audit/export', {
      method: 'POST',
      headers: { authorization: `Bearer ${auditor}` },
    });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toBe('application/vnd.strongroom.audit-bundle');
    const dir = await mkdtemp(join(tmpdir(), 'strongroom-export-'));
    try {
      const bundlePath = join(dir, 'audit.bundle');
      await writeFile(bundlePath, Buffer.from(await exported.arrayBuffer()));
      const verified = await verifyBundle(bundlePath, {
        keys: ((await keys.json()) as { keys: PublishedSigningKey[] }).keys,
      });
      expect(verified).toMatchObject({ tenantId: 'demo', entries: signed.size, keysFromBundle: false });
      expect(verified.root).toEqual(signed.root);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // The export is a material action: its entry is in the log (and the next checkpoint covers it).
    const recorded = await getJson<{ items: { entry: { action: string } }[] }>(
      '/audit/entries?action=audit.export&limit=100',
    );
    expect(recorded.body.items.length).toBeGreaterThanOrEqual(1);
    expect(
      (
        await gateway.call('/audit/export', {
          method: 'POST',
          headers: { authorization: `Bearer ${accountant}` },
        })
      ).status,
    ).toBe(403);
  });
});
