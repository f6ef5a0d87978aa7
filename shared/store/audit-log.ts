/**
 * The audit log in DynamoDB. A business transaction adds `pendingEntryWrites` for its
 * entry: the entry itself (append-only audit table, conditional put) and a pending
 * marker in the head table. Nothing shared is touched, so writers never contend.
 *
 * `fold` is the cooperative group commit: it takes the pending markers of the tenant
 * and, in one transaction conditioned on the head's version, assigns them consecutive
 * sequence numbers, extends the RFC 9162 compact range kept in the head, stores every
 * subtree node the batch completes (put-only items, so proofs are O(log n) reads) and
 * removes the markers.
 * More writers mean bigger folds, not more conflicts. Whoever folds, every entry ends
 * up with exactly one sequence number; a crashed writer's entry is folded by the next
 * writer or the stream poller.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type AuditEntry, leafHash } from '#shared/audit/entry';
import { CompactRange, type NodeAddress } from '#shared/audit/merkle';
import { tenantPrefix } from '#shared/tenancy/tenant-id';
import { tableName } from './tables';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** DynamoDB's limit of items in one transaction. */
const maxTransactionItems = 100;
/** How often a writer looks for its sequence number, or tries to fold, before it gives up. */
const maxFoldAttempts = 40;
/** Batches one lease holder folds before it lets go. */
const maxFoldRounds = 8;
/** A lease outlives a normal fold by far; a crashed holder blocks others for at most this long. */
const foldLeaseMilliseconds = 3000;

export interface AuditHead {
  readonly size: number;
  readonly version: number;
  /** Compact-range frontier, largest subtree first. */
  readonly frontier: readonly Buffer[];
  readonly root: Buffer;
}

/** Sort key of a stored tree node: level, then index, both fixed width so they sort. */
export function nodeSortKey(address: NodeAddress): string {
  return `${String(address.level).padStart(2, '0')}:${String(address.index).padStart(16, '0')}`;
}

export interface StoredCheckpoint {
  readonly size: number;
  readonly root: Buffer;
  /** The C2SP signed note text. */
  readonly note: string;
  readonly signedAt: string;
}

export interface SequencedEntry {
  readonly seq: number;
  readonly entry: AuditEntry;
  readonly leafHash: Buffer;
}

const sizeWidth = 16;

export class AuditLog {
  readonly #auditTable: string;
  readonly #headTable: string;

  constructor(stage: string) {
    this.#auditTable = tableName(stage, 'audit');
    this.#headTable = tableName(stage, 'auditHead');
  }

  /** The transaction items that record an entry as pending; add them to the business transaction. */
  pendingEntryWrites(entry: AuditEntry): TransactItem[] {
    const prefix = tenantPrefix(entry.tenantId);
    const hash = leafHash(entry).toString('base64');
    return [
      {
        Put: {
          TableName: this.#auditTable,
          Item: { pk: `${prefix}entry`, sk: entry.id, entry, leafHash: hash },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Put: {
          TableName: this.#headTable,
          Item: { pk: `${prefix}pending`, sk: entry.id, leafHash: hash },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ];
  }

  async head(client: DynamoDBDocumentClient, tenantId: string): Promise<AuditHead> {
    const result = await client.send(
      new GetCommand({ TableName: this.#headTable, Key: headKey(tenantId), ConsistentRead: true }),
    );
    const size = Number(result.Item?.size ?? 0);
    const frontier = ((result.Item?.frontier as string[] | undefined) ?? []).map((hash) =>
      Buffer.from(hash, 'base64'),
    );
    return {
      size,
      version: Number(result.Item?.version ?? 0),
      frontier,
      root: new CompactRange(size, frontier).root(),
    };
  }

  /** One entry with the leaf hash recorded when it was written. */
  async getEntry(
    client: DynamoDBDocumentClient,
    tenantId: string,
    entryId: string,
  ): Promise<{ entry: AuditEntry; leafHash: Buffer } | undefined> {
    const result = await client.send(
      new GetCommand({
        TableName: this.#auditTable,
        Key: { pk: `${tenantPrefix(tenantId)}entry`, sk: entryId },
        ConsistentRead: true,
      }),
    );
    if (!result.Item) return undefined;
    return {
      entry: result.Item.entry as AuditEntry,
      leafHash: Buffer.from(String(result.Item.leafHash), 'base64'),
    };
  }

  /** The sequence number of an entry, once it is folded. */
  async sequenceOf(
    client: DynamoDBDocumentClient,
    tenantId: string,
    entryId: string,
  ): Promise<number | undefined> {
    const result = await client.send(
      new GetCommand({
        TableName: this.#auditTable,
        Key: { pk: `${tenantPrefix(tenantId)}entryseq`, sk: entryId },
        ConsistentRead: true,
      }),
    );
    return result.Item === undefined ? undefined : Number(result.Item.seq);
  }

  /** Stores a signed checkpoint; a checkpoint for a size is written once and never replaced. */
  async putCheckpoint(
    client: DynamoDBDocumentClient,
    tenantId: string,
    checkpoint: StoredCheckpoint,
  ): Promise<void> {
    await client.send(
      new PutCommand({
        TableName: this.#auditTable,
        Item: {
          pk: `${tenantPrefix(tenantId)}checkpoint`,
          sk: String(checkpoint.size).padStart(sizeWidth, '0'),
          size: checkpoint.size,
          root: checkpoint.root.toString('base64'),
          note: checkpoint.note,
          signedAt: checkpoint.signedAt,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async latestCheckpoint(
    client: DynamoDBDocumentClient,
    tenantId: string,
  ): Promise<StoredCheckpoint | undefined> {
    const result = await client.send(
      new QueryCommand({
        TableName: this.#auditTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${tenantPrefix(tenantId)}checkpoint` },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = result.Items?.[0];
    return item ? toCheckpoint(item) : undefined;
  }

  async checkpointAt(
    client: DynamoDBDocumentClient,
    tenantId: string,
    size: number,
  ): Promise<StoredCheckpoint | undefined> {
    const result = await client.send(
      new GetCommand({
        TableName: this.#auditTable,
        Key: { pk: `${tenantPrefix(tenantId)}checkpoint`, sk: String(size).padStart(sizeWidth, '0') },
        ConsistentRead: true,
      }),
    );
    return result.Item ? toCheckpoint(result.Item) : undefined;
  }

  async checkpoints(client: DynamoDBDocumentClient, tenantId: string): Promise<StoredCheckpoint[]> {
    const checkpoints: StoredCheckpoint[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const result = await client.send(
        new QueryCommand({
          TableName: this.#auditTable,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `${tenantPrefix(tenantId)}checkpoint` },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      checkpoints.push(...(result.Items ?? []).map(toCheckpoint));
      start = result.LastEvaluatedKey;
    } while (start);
    return checkpoints;
  }

  /** Stored tree nodes by address, read in batches. */
  async nodes(
    client: DynamoDBDocumentClient,
    tenantId: string,
    addresses: readonly NodeAddress[],
  ): Promise<Map<string, Buffer>> {
    const pk = `${tenantPrefix(tenantId)}node`;
    const keys = [...new Set(addresses.map(nodeSortKey))];
    const found = new Map<string, Buffer>();
    for (const item of await this.#batchGet(
      client,
      keys.map((sk) => ({ pk, sk })),
    )) {
      found.set(String(item.sk), Buffer.from(String(item.hash), 'base64'));
    }
    return found;
  }

  /** Entries in log order from `fromSeq`, at most `limit` of them. */
  async entriesFrom(
    client: DynamoDBDocumentClient,
    tenantId: string,
    fromSeq: number,
    limit: number,
  ): Promise<SequencedEntry[]> {
    const prefix = tenantPrefix(tenantId);
    const leaves = await client.send(
      new QueryCommand({
        TableName: this.#auditTable,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': `${prefix}node`,
          ':from': nodeSortKey({ level: 0, index: fromSeq }),
          ':to': nodeSortKey({ level: 0, index: Number.MAX_SAFE_INTEGER }),
        },
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    const sequenced = (leaves.Items ?? []).map((item) => ({
      seq: Number(item.seq),
      entryId: String(item.entryId),
      leafHash: Buffer.from(String(item.hash), 'base64'),
    }));
    const entries = new Map<string, AuditEntry>();
    const keys = sequenced.map((each) => ({ pk: `${prefix}entry`, sk: each.entryId }));
    for (const item of await this.#batchGet(client, keys))
      entries.set(String(item.sk), item.entry as AuditEntry);
    return sequenced.map((each) => {
      const entry = entries.get(each.entryId);
      if (!entry) throw new Error(`audit entry ${each.entryId} at ${each.seq} is missing`);
      return { seq: each.seq, entry, leafHash: each.leafHash };
    });
  }

  /** Consistent batch reads from the audit table, 100 keys a request, retrying unprocessed keys. */
  async #batchGet(client: DynamoDBDocumentClient, keys: readonly Record<string, string>[]) {
    const items: Record<string, unknown>[] = [];
    for (let offset = 0; offset < keys.length; offset += 100) {
      let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined =
        {
          [this.#auditTable]: { Keys: keys.slice(offset, offset + 100), ConsistentRead: true },
        };
      while (request && Object.keys(request).length > 0) {
        const result = await client.send(new BatchGetCommand({ RequestItems: request }));
        items.push(...(result.Responses?.[this.#auditTable] ?? []));
        request = result.UnprocessedKeys as typeof request;
      }
    }
    return items;
  }

  /**
   * Folds pending entries until the given entry (or, without one, every entry pending
   * now) has a sequence number; returns that entry's sequence number.
   */
  async fold(
    client: DynamoDBDocumentClient,
    tenantId: string,
    entryId?: string,
  ): Promise<number | undefined> {
    const owner = randomUUID();
    for (let attempt = 0; attempt < maxFoldAttempts; attempt++) {
      if (attempt > 0 && entryId !== undefined) {
        const seq = await this.sequenceOf(client, tenantId, entryId);
        if (seq !== undefined) return seq;
      }
      const leaseUntil = await this.#acquireLease(client, tenantId, owner);
      if (leaseUntil !== undefined) {
        let released = false;
        try {
          const folded = await this.#foldPending(client, tenantId, entryId, leaseUntil);
          released = folded.leaseReleased;
          return folded.seq;
        } finally {
          if (!released) await this.#releaseLease(client, tenantId, owner);
        }
      }
      // Someone else is folding, and will fold our entry with the rest: a sweep leaves
      // it to them; a writer waits a moment and looks for its sequence number.
      if (entryId === undefined) return undefined;
      await backoff(attempt);
    }
    throw new Error(`audit fold for tenant ${tenantId} did not settle after ${maxFoldAttempts} attempts`);
  }

  /**
   * The lease holder folds whatever is pending, batch after batch, so concurrent writers
   * wait for one fold instead of racing each other with transactions bound to fail.
   * The lease only reduces contention; correctness rests on the fold's own conditions.
   */
  async #foldPending(
    client: DynamoDBDocumentClient,
    tenantId: string,
    entryId: string | undefined,
    leaseUntil: number,
  ): Promise<{ seq: number | undefined; leaseReleased: boolean }> {
    let mine: number | undefined;
    for (let round = 0; round < maxFoldRounds; round++) {
      // Read concurrently: in whichever order the two reads land, a stale view fails the
      // fold's conditions (head version, marker still there) and the loop reads again.
      const [head, pending] = await Promise.all([
        this.head(client, tenantId),
        this.#pending(client, tenantId),
      ]);
      if (pending.length === 0) break;
      // A fold that takes every entry pending when it read lets go of the lease in the head
      // update itself, saving the release and a last read that would most likely find
      // nothing: whatever became pending since, its writer folds (or the stream does). Not
      // near the lease's end: by then another folder may hold a lease of its own.
      const releasing = Date.now() < leaseUntil - foldLeaseMilliseconds / 2;
      const { items, batch } = this.#foldItems(tenantId, head, pending, releasing);
      try {
        await client.send(new TransactWriteCommand({ TransactItems: items }));
      } catch (error) {
        // A sweep without the lease, or a lease that ran out, folded first: read again.
        if (!(error instanceof TransactionCanceledException)) throw error;
        await backoff(round);
        continue;
      }
      const index = batch.findIndex((each) => each.entryId === entryId);
      if (index >= 0) mine = head.size + index;
      if (releasing && batch.length === pending.length) return { seq: mine, leaseReleased: true };
    }
    if (entryId === undefined) return { seq: undefined, leaseReleased: false };
    return { seq: mine ?? (await this.sequenceOf(client, tenantId, entryId)), leaseReleased: false };
  }

  /** Takes the fold lease; returns when it runs out, or undefined when someone else holds it. */
  async #acquireLease(
    client: DynamoDBDocumentClient,
    tenantId: string,
    owner: string,
  ): Promise<number | undefined> {
    const now = Date.now();
    try {
      await client.send(
        new UpdateCommand({
          TableName: this.#headTable,
          Key: headKey(tenantId),
          UpdateExpression: 'SET foldLeaseOwner = :owner, foldLeaseUntil = :until',
          ConditionExpression: 'attribute_not_exists(foldLeaseUntil) OR foldLeaseUntil < :now',
          ExpressionAttributeValues: { ':owner': owner, ':until': now + foldLeaseMilliseconds, ':now': now },
        }),
      );
      return now + foldLeaseMilliseconds;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async #releaseLease(client: DynamoDBDocumentClient, tenantId: string, owner: string): Promise<void> {
    try {
      await client.send(
        new UpdateCommand({
          TableName: this.#headTable,
          Key: headKey(tenantId),
          UpdateExpression: 'SET foldLeaseUntil = :zero',
          ConditionExpression: 'foldLeaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner, ':zero': 0 },
        }),
      );
    } catch (error) {
      // Another folder took over after our lease ran out: nothing of ours to release.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async #pending(
    client: DynamoDBDocumentClient,
    tenantId: string,
  ): Promise<{ entryId: string; leafHash: string }[]> {
    const result = await client.send(
      new QueryCommand({
        TableName: this.#headTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${tenantPrefix(tenantId)}pending` },
        ConsistentRead: true,
        Limit: 1000,
      }),
    );
    // Entry ids are time-ordered, so folding in id order keeps the log close to wall-clock order.
    return (result.Items ?? [])
      .map((item) => ({ entryId: String(item.sk), leafHash: String(item.leafHash) }))
      .sort((a, b) => (a.entryId < b.entryId ? -1 : 1));
  }

  /**
   * The transaction of one fold: as many pending entries, in order, as fit in one
   * transaction; with `releaseLease`, and when they all fit, the head update also lets go
   * of the fold lease.
   */
  #foldItems(
    tenantId: string,
    head: AuditHead,
    pending: readonly { entryId: string; leafHash: string }[],
    releaseLease: boolean,
  ) {
    const prefix = tenantPrefix(tenantId);
    const range = new CompactRange(head.size, head.frontier);
    const entryItems: TransactItem[] = [];
    const batch: { entryId: string; leafHash: string }[] = [];
    for (const each of pending) {
      const seq = range.size;
      const probe = new CompactRange(range.size, range.frontier);
      const nodes = probe.append(Buffer.from(each.leafHash, 'base64'));
      // Three items per entry plus its completed nodes above the leaf, and one for the head.
      if (entryItems.length + 2 + nodes.length + 1 > maxTransactionItems) break;
      range.append(Buffer.from(each.leafHash, 'base64'));
      batch.push(each);
      for (const node of nodes) {
        entryItems.push({
          Put: {
            TableName: this.#auditTable,
            Item: {
              pk: `${prefix}node`,
              sk: nodeSortKey(node),
              hash: node.hash.toString('base64'),
              ...(node.level === 0 ? { seq, entryId: each.entryId } : {}),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        });
      }
      entryItems.push(
        {
          Put: {
            TableName: this.#auditTable,
            Item: { pk: `${prefix}entryseq`, sk: each.entryId, seq },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Delete: {
            TableName: this.#headTable,
            Key: { pk: `${prefix}pending`, sk: each.entryId },
            ConditionExpression: 'attribute_exists(pk)',
          },
        },
      );
    }
    const release = releaseLease && batch.length === pending.length;
    const headUpdate: TransactItem = {
      Update: {
        TableName: this.#headTable,
        Key: headKey(tenantId),
        UpdateExpression: `SET #size = :size, #version = :next, frontier = :frontier, #root = :root, updatedAt = :now${
          release ? ', foldLeaseUntil = :released' : ''
        }`,
        ConditionExpression: head.version === 0 ? 'attribute_not_exists(#version)' : '#version = :version',
        ExpressionAttributeNames: { '#size': 'size', '#version': 'version', '#root': 'root' },
        ExpressionAttributeValues: {
          ...(release ? { ':released': 0 } : {}),
          ':size': range.size,
          ':next': head.version + 1,
          ':frontier': range.frontier.map((hash) => hash.toString('base64')),
          ':root': range.root().toString('base64'),
          ':now': new Date().toISOString(),
          ...(head.version === 0 ? {} : { ':version': head.version }),
        },
      },
    };
    return { items: [headUpdate, ...entryItems], batch };
  }
}

/** Full-jitter exponential backoff: up to 5, 10, 20, 40, then 80 ms. */
function backoff(attempt: number): Promise<void> {
  const ceiling = 5 * 2 ** Math.min(attempt, 4);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

function toCheckpoint(item: Record<string, unknown>): StoredCheckpoint {
  return {
    size: Number(item.size),
    root: Buffer.from(String(item.root), 'base64'),
    note: String(item.note),
    signedAt: String(item.signedAt),
  };
}

function headKey(tenantId: string): { pk: string; sk: string } {
  return { pk: `${tenantPrefix(tenantId)}head`, sk: 'head' };
}
