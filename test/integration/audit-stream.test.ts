/**
 * The audit table's stream on DynamoDB Local, through the local poller (infra/local/audit-poller.ts),
 * which runs the same code as the Lambda consumer and the scheduled signer (AUD-2, AUD-3):
 * a writer that crashed between its transaction and its fold is folded by one poll; entries,
 * log positions and checkpoints land in the archive as read-only files written once; a replay
 * is identical and a changed file is a mismatch; the checkpoint job signs moved heads only.
 * Cycles run on demand (`pollStream`, `runCheckpoints`, `drain`), never on timers.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditPoller, startAuditPoller } from '#infra/local/audit-poller';
import { archiveKeys, leafRecordBytes } from '#shared/audit/archive';
import { type AuditEntry, canonicalBytes } from '#shared/audit/entry';
import { parseCheckpointBody, parseSignedNote, verifySignedNote } from '#shared/audit/signed-note';
import { LocalCheckpointSigner, signingKeyNamePrefix } from '#shared/crypto/signing';
import { newId } from '#shared/domain/ids';
import { logger } from '#shared/observability/logger';
import { type AuditStreamRecord, processAuditStream } from '#shared/services/audit-stream';
import { AuditLog, nodeSortKey } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { FileArchiveSink } from '#shared/store/file-archive';
import { tableName } from '#shared/store/tables';
import { referenceLeafHash, referenceRoot } from '#test/support/rfc9162';
import { localRuntimeConfig, localStack } from './support/local-stack';

let workDir: string;
let poller: AuditPoller;
let clients: DataClients;
let auditLog: AuditLog;
let signer: LocalCheckpointSigner;

/** A tenant of its own per test, so the log sizes and archive keys are known exactly. */
const freshTenant = () => `stream-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  // The shared code logs mismatches and changes on purpose here.
  logger.setLogLevel('SILENT');
  const stack = localStack();
  workDir = await mkdtemp(path.join(tmpdir(), 'strongroom-audit-stream-'));
  clients = new DataClients(localRuntimeConfig());
  auditLog = new AuditLog(stack.stage);
  signer = new LocalCheckpointSigner(stack.dataDir, signingKeyNamePrefix(stack.stage));
  poller = await startAuditPoller({
    config: localRuntimeConfig(),
    archiveDir: path.join(workDir, 'archive'),
    stateFile: path.join(workDir, 'audit-stream.json'),
    deadLetterDir: path.join(workDir, 'dead-letters'),
    streamIntervalMs: 0,
    checkpointIntervalMs: 0,
    signer,
  });
  // Whatever earlier test files wrote is read once here, so each test sees only its own records.
  await poller.drain();
});

afterAll(async () => {
  await poller?.stop();
  if (workDir) {
    // The archive's files and folders are read-only by design; make them removable again.
    await chmodTree(workDir);
    await rm(workDir, { recursive: true, force: true });
  }
});

async function chmodTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) await chmodTree(file);
    else await chmod(file, 0o600);
  }
}

function entryFor(tenantId: string, n: number): AuditEntry {
  return {
    v: 1,
    id: newId('aud'),
    tenantId,
    time: new Date().toISOString(),
    actor: { id: 'usr_stream', kind: 'user' },
    action: 'invoice.create',
    target: { type: 'invoice', id: `inv_stream_${n}` },
    outcome: 'success',
    requestId: `req-${n}`,
  };
}

/** A writer that commits its change and pending entry, then crashes before folding. */
async function crashedWriter(tenantId: string, n: number): Promise<AuditEntry> {
  const entry = entryFor(tenantId, n);
  const client = clients.forTenant(tenantId);
  await client.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: tableName(localStack().stage, 'data'),
            Item: { pk: `${tenantId}#invoice`, sk: entry.target.id, status: 'draft' },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        ...auditLog.pendingEntryWrites(entry),
      ],
    }),
  );
  return entry;
}

const archivePath = (key: string) => path.join(poller.archiveDir, ...key.split('/'));

describe('[AUD-2][AUD-3] the audit stream, locally', () => {
  it('folds the entries of writers that crashed before their fold in one poll, with the RFC 9162 root of those entries', async () => {
    const tenantId = freshTenant();
    const entries = [];
    for (let n = 0; n < 5; n++) entries.push(await crashedWriter(tenantId, n));
    const client = clients.forTenant(tenantId);
    expect(await auditLog.sequenceOf(client, tenantId, (entries[0] as AuditEntry).id)).toBeUndefined();
    expect((await auditLog.head(client, tenantId)).size).toBe(0);

    const poll = await poller.pollStream();
    expect(poll.foldedTenants).toContain(tenantId);
    expect(poll.failures).toEqual([]);

    const head = await auditLog.head(client, tenantId);
    expect(head.size).toBe(entries.length);
    const seqs = await Promise.all(entries.map((entry) => auditLog.sequenceOf(client, tenantId, entry.id)));
    expect([...seqs].sort()).toEqual([0, 1, 2, 3, 4]);
    const logged = await auditLog.entriesFrom(client, tenantId, 0, entries.length);
    expect(logged.map((each) => each.entry.id).sort()).toEqual(entries.map((entry) => entry.id).sort());
    const leaves = logged.map((each) => referenceLeafHash(canonicalBytes(each.entry)));
    expect(referenceRoot(leaves)).toEqual(head.root);
  });

  it('archives entries, log positions and checkpoints as read-only files, written once', async () => {
    const tenantId = freshTenant();
    const entries = [await crashedWriter(tenantId, 0), await crashedWriter(tenantId, 1)];
    const { stream, checkpoints } = await poller.drain();
    expect(stream.failures).toEqual([]);
    expect(checkpoints.signed).toContain(tenantId);

    const client = clients.forTenant(tenantId);
    for (const entry of entries) {
      const file = archivePath(archiveKeys.entry(tenantId, entry.id));
      expect(await readFile(file)).toEqual(canonicalBytes(entry));
      expect((await stat(file)).mode & 0o777).toBe(0o444);
      const seq = (await auditLog.sequenceOf(client, tenantId, entry.id)) as number;
      const stored = await auditLog.nodes(client, tenantId, [{ level: 0, index: seq }]);
      const leaf = stored.get(nodeSortKey({ level: 0, index: seq }));
      expect(await readFile(archivePath(archiveKeys.leaf(tenantId, seq)))).toEqual(
        leafRecordBytes(seq, entry.id, (leaf as Buffer).toString('base64')),
      );
    }
    const latest = await auditLog.latestCheckpoint(client, tenantId);
    expect(latest?.size).toBe(2);
    const noteFile = archivePath(archiveKeys.checkpoint(tenantId, 2));
    const note = await readFile(noteFile, 'utf8');
    expect(note).toBe(latest?.note);
    expect((await stat(noteFile)).mode & 0o777).toBe(0o444);
    const [published] = await signer.publicKeys();
    const signed = parseSignedNote(note);
    expect(
      verifySignedNote(signed, [
        { keyName: signer.keyName, publicKey: Buffer.from(published?.publicKey ?? '', 'base64') },
      ]),
    ).toBe(true);
    expect(parseCheckpointBody(signed.body)).toMatchObject({
      size: 2,
      origin: `strongroom.dev/tenants/${tenantId}/audit`,
    });
  });

  it('finds a replayed record identical, and a file changed on disk a mismatch that fails the record', async () => {
    const tenantId = freshTenant();
    const entry = await crashedWriter(tenantId, 0);
    await poller.drain();
    const item = await clients.forTenant(tenantId).send(
      new GetCommand({
        TableName: tableName(localStack().stage, 'audit'),
        Key: { pk: `${tenantId}#entry`, sk: entry.id },
      }),
    );
    const replay: AuditStreamRecord = {
      eventName: 'INSERT',
      sequenceNumber: '000000000000000000001',
      pk: `${tenantId}#entry`,
      sk: entry.id,
      newImage: item.Item,
    };
    const archive = new FileArchiveSink(poller.archiveDir);
    const context = { clients, auditLog, archive };

    const again = await processAuditStream(context, [replay]);
    expect(again).toMatchObject({ written: 0, identical: 1, mismatches: [], failures: [] });

    // Someone with access to the folder changes the archived entry.
    const key = archiveKeys.entry(tenantId, entry.id);
    const file = archivePath(key);
    await chmod(file, 0o644);
    await writeFile(file, canonicalBytes({ ...entry, outcome: 'denied' }));
    await chmod(file, 0o444);
    expect(await archive.putOnce(key, canonicalBytes(entry))).toBe('mismatch');
    const tampered = await processAuditStream(context, [replay]);
    expect(tampered.mismatches).toEqual([key]);
    expect(tampered.retryFrom).toBe(replay.sequenceNumber);
    expect(tampered.failures).toEqual([
      { sequenceNumber: replay.sequenceNumber, reason: `archive mismatch at ${key}` },
    ]);
    // The archive never overwrites: the changed file is still what is there.
    expect(JSON.parse(await readFile(file, 'utf8')).outcome).toBe('denied');
  });

  it('counts a change to an append-only audit item and archives nothing for it', async () => {
    const tenantId = freshTenant();
    const entry = await crashedWriter(tenantId, 0);
    await poller.drain();
    // A direct overwrite, as only someone outside the application roles could do (AUD-2).
    await clients.platform().send(
      new PutCommand({
        TableName: tableName(localStack().stage, 'audit'),
        Item: {
          pk: `${tenantId}#entry`,
          sk: entry.id,
          entry: { ...entry, outcome: 'denied' },
          leafHash: 'x',
        },
      }),
    );
    const poll = await poller.pollStream();
    expect(poll.mutations).toBe(1);
    expect(poll.written).toBe(0);
    expect(
      JSON.parse(await readFile(archivePath(archiveKeys.entry(tenantId, entry.id)), 'utf8')).outcome,
    ).toBe('success');
  });

  it('signs a checkpoint only for heads that moved since the last one', async () => {
    const moved = freshTenant();
    const still = freshTenant();
    await crashedWriter(moved, 0);
    await crashedWriter(still, 0);
    const first = await poller.drain();
    expect(first.checkpoints.signed).toEqual(expect.arrayContaining([moved, still]));

    await crashedWriter(moved, 1);
    // No stream poll in between: the job itself folds what is pending before signing.
    const second = await poller.runCheckpoints();
    expect(second.signed).toContain(moved);
    expect(second.signed).not.toContain(still);
    expect(second.failed).toEqual([]);
    expect(second.oldestUnsignedEntryAgeSeconds).toBe(0);
    expect((await auditLog.latestCheckpoint(clients.forTenant(moved), moved))?.size).toBe(2);
    expect((await auditLog.latestCheckpoint(clients.forTenant(still), still))?.size).toBe(1);

    const third = await poller.runCheckpoints();
    expect(third.signed).not.toContain(moved);
    expect(third.signed).not.toContain(still);
  });

  it('resumes after a restart from the saved position without reading handled records again', async () => {
    const tenantId = freshTenant();
    // Whatever the earlier tests left unread (the last checkpoints) is handled before the stop.
    await poller.pollStream();
    await poller.stop();
    const options = {
      config: localRuntimeConfig(),
      archiveDir: poller.archiveDir,
      stateFile: path.join(workDir, 'audit-stream.json'),
      deadLetterDir: path.join(workDir, 'dead-letters'),
      streamIntervalMs: 0,
      checkpointIntervalMs: 0,
      signer,
    };
    poller = await startAuditPoller(options);
    expect((await poller.pollStream()).records).toBe(0);
    await crashedWriter(tenantId, 0);
    const poll = await poller.pollStream();
    expect(poll.records).toBeGreaterThan(0);
    expect(poll.foldedTenants).toEqual([tenantId]);
    expect(poll.identical).toBe(0);
  });
});
