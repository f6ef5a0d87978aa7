import { createWriteStream } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '#shared/audit/entry';
import { leafHash } from '#shared/audit/entry';
import { CompactRange } from '#shared/audit/merkle';
import { AuditVerificationError, verifyBundle } from '#shared/audit/verify';
import type { LocalCheckpointSigner } from '#shared/crypto/signing';
import type { AuditServiceContext } from '#shared/services/audit';
import { AuditExportError, exportAuditBundle, exportPageSize } from '#shared/services/audit-export';
import type { AuditLog, SequencedEntry, StoredCheckpoint } from '#shared/store/audit-log';
import { auditEntry, signerIn, tenantId, type Workspace, workspace } from './bundle-fixtures';

/**
 * The part of AuditLog the export and signCheckpoint use, over arrays: the integration
 * tests run the same export against DynamoDB Local.
 */
function memoryLog(entries: AuditEntry[]) {
  const sequenced: SequencedEntry[] = entries.map((entry, seq) => ({
    seq,
    entry,
    leafHash: leafHash(entry),
  }));
  const checkpoints: StoredCheckpoint[] = [];
  const pageRequests: number[] = [];
  const auditLog = {
    fold: async () => undefined,
    head: async () => {
      const range = new CompactRange();
      for (const each of sequenced) range.append(each.leafHash);
      return { size: range.size, version: 1, frontier: range.frontier, root: range.root() };
    },
    latestCheckpoint: async () => checkpoints.at(-1),
    putCheckpoint: async (_client: unknown, _tenant: string, checkpoint: StoredCheckpoint) => {
      checkpoints.push(checkpoint);
    },
    checkpoints: async () => [...checkpoints],
    entriesFrom: async (_client: unknown, _tenant: string, from: number, limit: number) => {
      pageRequests.push(limit);
      return sequenced.slice(from, from + limit);
    },
  };
  const context: AuditServiceContext = {
    clients: { forTenant: () => ({}) as never },
    auditLog: auditLog as unknown as AuditLog,
    now: () => new Date('2026-03-01T12:00:00.000Z'),
  };
  return { context, sequenced, checkpoints, pageRequests };
}

let ws: Workspace;
let signer: LocalCheckpointSigner;

beforeAll(async () => {
  ws = await workspace();
  signer = signerIn(ws.dir);
});

afterAll(() => ws.remove());

async function exportTo(context: AuditServiceContext, name: string) {
  const path = ws.file(name);
  const summary = await exportAuditBundle(context, signer, tenantId, createWriteStream(path));
  return { path, summary };
}

describe('[AUD-3][AUD-4] audit export', () => {
  it('signs a fresh checkpoint, pages the log and writes a bundle the verifier accepts', async () => {
    const store = memoryLog(Array.from({ length: 1234 }, (_, position) => auditEntry(position)));
    // An earlier scheduled checkpoint at 600 entries, then more entries were logged.
    const { context } = store;
    const early = memoryLog(store.sequenced.slice(0, 600).map((each) => each.entry));
    await exportTo(early.context, 'early.txt');
    store.checkpoints.push(...early.checkpoints);

    const { path, summary } = await exportTo(context, 'export.txt');
    expect(summary).toMatchObject({ tenantId, size: 1234, checkpoints: 2 });
    expect(store.checkpoints.map((each) => each.size)).toEqual([600, 1234]);
    expect(Math.max(...store.pageRequests)).toBeLessThanOrEqual(exportPageSize);
    const result = await verifyBundle(path, {
      keys: await signer.publicKeys(),
      trustedCheckpoint: early.checkpoints[0]?.note as string,
    });
    expect(result.entries).toBe(1234);
    expect(result.checkpoints.map((each) => each.size)).toEqual([600, 1234]);
    expect(result.origin).toBe(`strongroom.dev/tenants/${tenantId}/audit`);
  });

  it('exports what the store holds, so an entry altered in the store is named by the verifier', async () => {
    const store = memoryLog(Array.from({ length: 30 }, (_, position) => auditEntry(position)));
    const altered = store.sequenced[17] as SequencedEntry;
    store.sequenced[17] = { ...altered, entry: { ...altered.entry, outcome: 'denied' } };
    const { path } = await exportTo(store.context, 'altered.txt');
    const error = await verifyBundle(path, { keys: await signer.publicKeys() }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AuditVerificationError);
    expect(error).toMatchObject({ code: 'leaf-hash-mismatch', position: 17, entryId: altered.entry.id });
  });

  it('exports an empty log as an empty bundle', async () => {
    const { path, summary } = await exportTo(memoryLog([]).context, 'empty.txt');
    expect(summary).toMatchObject({ size: 0, checkpoints: 0, checkpoint: undefined });
    expect((await verifyBundle(path, { keys: await signer.publicKeys() })).entries).toBe(0);
  });

  it('stops rather than write a bundle with a gap in the sequence', async () => {
    const store = memoryLog(Array.from({ length: 10 }, (_, position) => auditEntry(position)));
    // The head covers 10 entries, but the one at position 4 is gone from the store.
    store.sequenced.splice(4, 1);
    store.sequenced.push({ seq: 10, entry: auditEntry(10), leafHash: leafHash(auditEntry(10)) });
    await expect(exportTo(store.context, 'gap.txt')).rejects.toThrow(AuditExportError);
  });
});
