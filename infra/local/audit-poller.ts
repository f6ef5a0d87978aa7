/**
 * The local stand-in for the audit table's stream consumer and the scheduled checkpoint
 * signer (AUD-2, AUD-3): it polls DynamoDB Local's stream of the audit table and hands the
 * records to the same code as the Lambda consumer (shared/services/audit-stream.ts), with
 * a folder of read-only files as the archive, and runs the same checkpoint job as the
 * signer function (shared/services/checkpoint-job.ts) with the local signing key.
 *
 * Where it resumes after a restart: the position of every shard (the last sequence number
 * handled) is kept in a private state file and read again at start, so a restart goes on
 * after the last record it handled (AFTER_SEQUENCE_NUMBER). A shard it never saw, a new
 * stream (the table was recreated) or a position the stream has trimmed starts at
 * TRIM_HORIZON. Reading a record twice is harmless: folding is idempotent and the
 * archive's putOnce finds the identical file. A record that keeps failing (for instance an
 * archive mismatch) is retried on the next polls and, after `maxRecordAttempts`, set
 * aside in the dead-letter folder, as the Lambda consumer sends it to its queue.
 *
 * Nothing runs in the background unless an interval is given; `drain()` runs one full
 * cycle on demand (stream, checkpoints, stream again for the checkpoints just written),
 * which is how tests synchronise. Cycles never overlap; `stop()` clears the timers and
 * waits for the cycle in flight.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type Shard,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { RuntimeConfig } from '#shared/config/runtime';
import { type CheckpointSigner, createCheckpointSigner } from '#shared/crypto/signing';
import {
  type AuditStreamResult,
  processAuditStream,
  type RawStreamRecord,
  toAuditStreamRecord,
} from '#shared/services/audit-stream';
import { type CheckpointJobResult, runCheckpointJob } from '#shared/services/checkpoint-job';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { FileArchiveSink } from '#shared/store/file-archive';
import { tableName } from '#shared/store/tables';
import { ensurePrivateDir, readJsonFile, writePrivateFile } from './private-files';

export interface AuditPollerOptions {
  /** The local runtime configuration (DynamoDB Local endpoint, stage, data folder). */
  readonly config: RuntimeConfig;
  /** Folder of the archive's read-only files; absolute. */
  readonly archiveDir: string;
  /** Private file that keeps each shard's position across restarts; absolute. */
  readonly stateFile: string;
  /** Private folder for records given up after their attempts; absolute. */
  readonly deadLetterDir: string;
  /**
   * Milliseconds between stream polls; 0 polls only on `drain()` or `pollStream()`.
   * @default 2000
   */
  readonly streamIntervalMs?: number;
  /**
   * Milliseconds between checkpoint runs; 0 runs only on `drain()` or `runCheckpoints()`.
   * @default 30000
   */
  readonly checkpointIntervalMs?: number;
  /**
   * Polls a failing record is tried in before it is set aside as a dead letter.
   * @default 3
   */
  readonly maxRecordAttempts?: number;
  /**
   * The checkpoint signer.
   * @default createCheckpointSigner(config): the local key file under the data folder
   */
  readonly signer?: CheckpointSigner;
  /** Progress and problems, one line each. @default nothing */
  readonly log?: (message: string) => void;
}

/** What one stream poll did, summed over its batches. */
export interface StreamPollResult {
  readonly records: number;
  readonly written: number;
  readonly identical: number;
  readonly mismatches: readonly string[];
  readonly mutations: number;
  readonly foldedTenants: readonly string[];
  readonly failures: AuditStreamResult['failures'];
  /** Records set aside after their last attempt. */
  readonly deadLettered: number;
}

export interface AuditPoller {
  /** Folder of the archive files. */
  readonly archiveDir: string;
  /** Reads every shard until it is caught up, once. */
  pollStream(): Promise<StreamPollResult>;
  /** Runs the checkpoint job once. */
  runCheckpoints(): Promise<CheckpointJobResult>;
  /** Stream, then checkpoints, then stream again (to archive the new checkpoints). */
  drain(): Promise<{ readonly stream: StreamPollResult; readonly checkpoints: CheckpointJobResult }>;
  /** Clears the timers, waits for the cycle in flight and saves the positions. */
  stop(): Promise<void>;
}

interface PollerState {
  readonly streamArn: string | undefined;
  /** Last sequence number handled, per shard. */
  readonly positions: Record<string, string>;
  /** Shards read to their end. */
  readonly closed: readonly string[];
}

/** GetRecords pages read from one shard in one poll, so a poll always ends. */
const maxPagesPerShard = 100;

export async function startAuditPoller(options: AuditPollerOptions): Promise<AuditPoller> {
  const { config } = options;
  if (config.mode !== 'local' || !config.dynamoEndpoint) {
    throw new Error(
      `the audit poller runs against DynamoDB Local only, got mode ${JSON.stringify(config.mode)}`,
    );
  }
  for (const [name, value] of Object.entries({
    archiveDir: options.archiveDir,
    stateFile: options.stateFile,
    deadLetterDir: options.deadLetterDir,
  })) {
    if (!path.isAbsolute(value))
      throw new Error(`audit poller ${name} must be absolute, got ${JSON.stringify(value)}`);
  }
  const streamIntervalMs = options.streamIntervalMs ?? 2000;
  const checkpointIntervalMs = options.checkpointIntervalMs ?? 30_000;
  const maxRecordAttempts = options.maxRecordAttempts ?? 3;
  for (const [name, value] of Object.entries({ streamIntervalMs, checkpointIntervalMs })) {
    if (!Number.isInteger(value) || value < 0) {
      throw new Error(`audit poller ${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
    }
  }
  if (!Number.isInteger(maxRecordAttempts) || maxRecordAttempts < 1) {
    throw new Error(
      `audit poller maxRecordAttempts must be at least 1, got ${JSON.stringify(maxRecordAttempts)}`,
    );
  }
  const log = options.log ?? (() => undefined);

  await mkdir(options.archiveDir, { recursive: true, mode: 0o700 });
  const clients = new DataClients(config);
  const auditLog = new AuditLog(config.stage);
  const archive = new FileArchiveSink(options.archiveDir);
  const signer = options.signer ?? createCheckpointSigner(config);
  const streams = new DynamoDBStreamsClient({
    region: config.region,
    endpoint: config.dynamoEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
  const auditTable = tableName(config.stage, 'audit');

  const saved = (await readJsonFile(options.stateFile)) as Partial<PollerState> | undefined;
  let state: PollerState = {
    streamArn: saved?.streamArn,
    positions: { ...(saved?.positions ?? {}) },
    closed: [...(saved?.closed ?? [])],
  };
  let stateChanged = false;
  const attempts = new Map<string, number>();

  const saveState = async () => {
    if (!stateChanged) return;
    await writePrivateFile(options.stateFile, `${JSON.stringify(state, null, 2)}\n`);
    stateChanged = false;
  };
  const setPosition = (shardId: string, sequenceNumber: string) => {
    state.positions[shardId] = sequenceNumber;
    stateChanged = true;
  };

  const currentStreamArn = async (): Promise<string> => {
    const table = await clients.platform().send(new DescribeTableCommand({ TableName: auditTable }));
    const arn = table.Table?.LatestStreamArn;
    if (!arn) throw new Error(`table ${auditTable} has no stream`);
    if (arn !== state.streamArn) {
      // A new stream (the table was recreated): positions of the old one mean nothing.
      state = { streamArn: arn, positions: {}, closed: [] };
      stateChanged = true;
    }
    return arn;
  };

  const shardsOf = async (streamArn: string): Promise<Shard[]> => {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const page = await streams.send(
        new DescribeStreamCommand({
          StreamArn: streamArn,
          ...(start ? { ExclusiveStartShardId: start } : {}),
        }),
      );
      shards.push(...(page.StreamDescription?.Shards ?? []));
      start = page.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    // Parents before children, so a tenant's records are handled in order across a split.
    const ids = new Set(shards.map((shard) => shard.ShardId));
    const depth = (shard: Shard): number => {
      const parent = shards.find((each) => each.ShardId === shard.ParentShardId);
      return parent && ids.has(parent.ShardId) ? depth(parent) + 1 : 0;
    };
    return shards.sort((a, b) => depth(a) - depth(b));
  };

  const iteratorFor = async (streamArn: string, shardId: string): Promise<string | undefined> => {
    const position = state.positions[shardId];
    try {
      const result = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ...(position
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: position }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      return result.ShardIterator;
    } catch (error) {
      if (!(error instanceof TrimmedDataAccessException) || !position) throw error;
      log(
        `audit stream: position ${position} of shard ${shardId} was trimmed; reading from the oldest record`,
      );
      const result = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      return result.ShardIterator;
    }
  };

  const deadLetter = async (shardId: string, sequenceNumber: string, reason: string) => {
    await ensurePrivateDir(options.deadLetterDir);
    const file = path.join(
      options.deadLetterDir,
      `${shardId.replace(/[^\w.-]/g, '_')}-${sequenceNumber}.json`,
    );
    await writePrivateFile(
      file,
      `${JSON.stringify({ streamArn: state.streamArn, shardId, sequenceNumber, reason, at: new Date().toISOString() }, null, 2)}\n`,
    );
    log(
      `audit stream: record ${sequenceNumber} of shard ${shardId} set aside after ${maxRecordAttempts} attempts: ${reason}`,
    );
  };

  const pollStreamOnce = async (): Promise<StreamPollResult> => {
    const totals = {
      records: 0,
      written: 0,
      identical: 0,
      mismatches: [] as string[],
      mutations: 0,
      foldedTenants: new Set<string>(),
      failures: [] as AuditStreamResult['failures'][number][],
      deadLettered: 0,
    };
    const streamArn = await currentStreamArn();
    for (const shard of await shardsOf(streamArn)) {
      const shardId = shard.ShardId;
      if (!shardId || state.closed.includes(shardId)) continue;
      // A fresh iterator from the saved position every poll: DynamoDB Local answers an iterator
      // that once came back empty with TrimmedDataAccessException after new writes.
      let iterator = await iteratorFor(streamArn, shardId);
      let renewed = false;
      for (let page = 0; iterator && page < maxPagesPerShard; page++) {
        let batch: GetRecordsCommandOutput;
        try {
          batch = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        } catch (error) {
          const stale =
            error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException;
          if (!stale || renewed) throw error;
          renewed = true;
          iterator = await iteratorFor(streamArn, shardId);
          continue;
        }
        const raw = batch.Records ?? [];
        const next = batch.NextShardIterator;
        if (raw.length > 0) {
          const records = raw.map((record) => toAuditStreamRecord(record as RawStreamRecord));
          const result = await processAuditStream({ clients, auditLog, archive }, records);
          totals.records += records.length;
          totals.written += result.written;
          totals.identical += result.identical;
          totals.mismatches.push(...result.mismatches);
          totals.mutations += result.mutations;
          for (const tenantId of result.foldedTenants) totals.foldedTenants.add(tenantId);
          totals.failures.push(...result.failures);
          if (result.retryFrom !== undefined) {
            const failedAt = records.findIndex((record) => record.sequenceNumber === result.retryFrom);
            const before = records[failedAt - 1];
            if (before) setPosition(shardId, before.sequenceNumber);
            const tries = (attempts.get(result.retryFrom) ?? 0) + 1;
            attempts.set(result.retryFrom, tries);
            if (tries >= maxRecordAttempts) {
              await deadLetter(shardId, result.retryFrom, result.failures[0]?.reason ?? 'failed');
              attempts.delete(result.retryFrom);
              setPosition(shardId, result.retryFrom);
              totals.deadLettered++;
            }
            // Read again from the saved position on the next poll.
            break;
          }
          setPosition(shardId, (records.at(-1) as (typeof records)[number]).sequenceNumber);
        }
        if (!next) {
          state = { ...state, closed: [...state.closed, shardId] };
          stateChanged = true;
          break;
        }
        iterator = next;
        if (raw.length === 0) break;
      }
    }
    await saveState();
    if (totals.records > 0) {
      log(
        `audit stream: ${totals.records} records, ${totals.written} archived, ${totals.foldedTenants.size} tenants folded` +
          (totals.failures.length > 0 ? `, ${totals.failures.length} failed` : ''),
      );
    }
    return { ...totals, foldedTenants: [...totals.foldedTenants].sort() };
  };

  const runCheckpointsOnce = async (): Promise<CheckpointJobResult> => {
    const result = await runCheckpointJob(
      { stage: config.stage, clients, auditLog, now: () => new Date() },
      signer,
    );
    if (result.signed.length > 0 || result.failed.length > 0) {
      log(
        `audit checkpoints: ${result.signed.length} signed, ${result.failed.length} failed of ${result.tenants} tenants`,
      );
    }
    return result;
  };

  // One cycle at a time, whoever asks (a timer or a caller).
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const every = (intervalMs: number, name: string, work: () => Promise<unknown>) => {
    if (intervalMs === 0) return;
    const schedule = () => {
      if (stopped) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        exclusive(work)
          .catch((error: unknown) =>
            log(`audit ${name} failed: ${error instanceof Error ? error.message : String(error)}`),
          )
          .finally(schedule);
      }, intervalMs);
      timers.add(timer);
    };
    schedule();
  };
  every(streamIntervalMs, 'stream poll', pollStreamOnce);
  every(checkpointIntervalMs, 'checkpoint run', runCheckpointsOnce);

  const pollUntilCaughtUp = async (): Promise<StreamPollResult> => {
    const results: StreamPollResult[] = [];
    // A poll reads at most maxPagesPerShard pages per shard; go on until one finds nothing new.
    for (let round = 0; round < 20; round++) {
      const result = await pollStreamOnce();
      results.push(result);
      if (result.records === 0 || result.failures.length > 0) break;
    }
    return sumPolls(results);
  };

  return {
    archiveDir: options.archiveDir,
    pollStream: () => exclusive(pollStreamOnce),
    runCheckpoints: () => exclusive(runCheckpointsOnce),
    drain: () =>
      exclusive(async () => {
        const first = await pollUntilCaughtUp();
        const checkpoints = await runCheckpointsOnce();
        const second = await pollUntilCaughtUp();
        return { stream: sumPolls([first, second]), checkpoints };
      }),
    stop: async () => {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await queue;
      await saveState();
      streams.destroy();
      clients.platform().destroy();
    },
  };
}

function sumPolls(results: readonly StreamPollResult[]): StreamPollResult {
  return {
    records: results.reduce((sum, each) => sum + each.records, 0),
    written: results.reduce((sum, each) => sum + each.written, 0),
    identical: results.reduce((sum, each) => sum + each.identical, 0),
    mismatches: results.flatMap((each) => each.mismatches),
    mutations: results.reduce((sum, each) => sum + each.mutations, 0),
    foldedTenants: [...new Set(results.flatMap((each) => each.foldedTenants))].sort(),
    failures: results.flatMap((each) => each.failures),
    deadLettered: results.reduce((sum, each) => sum + each.deadLettered, 0),
  };
}
