/**
 * The audit log in DynamoDB. A business transaction adds `pendingEntryWrites` for its
 * entry: the entry itself (append-only audit table, conditional put) and a pending
 * marker in the head table. Nothing shared is touched, so writers never contend.
 *
 * `fold` is the cooperative group commit: it takes every pending marker of the tenant
 * and, in one transaction conditioned on the head's version, assigns them consecutive
 * sequence numbers, records the sequence (put-only items) and removes the markers.
 * More writers mean bigger folds, not more conflicts. Whoever folds, every entry ends
 * up with exactly one sequence number; a crashed writer's entry is folded by the next
 * writer or the stream poller.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { type AuditEntry, leafHash } from '#shared/audit/entry';
import { tenantPrefix } from '#shared/tenancy/tenant-id';
import { tableName } from './tables';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Items per fold: each entry costs three transaction items and the head one (limit 100). */
const maxEntriesPerFold = 33;
const maxFoldAttempts = 20;
const sequenceWidth = 12;

export interface AuditHead {
  readonly size: number;
  readonly version: number;
}

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
    return { size: Number(result.Item?.size ?? 0), version: Number(result.Item?.version ?? 0) };
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

  /**
   * Folds pending entries until the given entry (or, without one, every entry pending
   * now) has a sequence number; returns that entry's sequence number.
   */
  async fold(
    client: DynamoDBDocumentClient,
    tenantId: string,
    entryId?: string,
  ): Promise<number | undefined> {
    for (let attempt = 0; attempt < maxFoldAttempts; attempt++) {
      const pending = await this.#pending(client, tenantId);
      const waitingFor = entryId === undefined ? undefined : pending.find((each) => each.entryId === entryId);
      if (pending.length === 0 || (entryId !== undefined && waitingFor === undefined)) {
        return entryId === undefined ? undefined : this.sequenceOf(client, tenantId, entryId);
      }
      const head = await this.head(client, tenantId);
      const batch = pending.slice(0, maxEntriesPerFold);
      try {
        await client.send(
          new TransactWriteCommand({ TransactItems: this.#foldItems(tenantId, head, batch) }),
        );
      } catch (error) {
        // Another writer folded first (head version moved or a marker is gone): look again.
        if (error instanceof TransactionCanceledException) continue;
        throw error;
      }
      if (entryId === undefined && pending.length <= maxEntriesPerFold) return undefined;
      const index = batch.findIndex((each) => each.entryId === entryId);
      if (index >= 0) return head.size + index;
    }
    // A sweep leaves the rest to the next fold; a writer waiting for its own entry reports it.
    if (entryId === undefined) return undefined;
    throw new Error(`audit fold for tenant ${tenantId} did not settle after ${maxFoldAttempts} attempts`);
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

  #foldItems(tenantId: string, head: AuditHead, batch: readonly { entryId: string; leafHash: string }[]) {
    const prefix = tenantPrefix(tenantId);
    const items: TransactItem[] = [
      {
        Update: {
          TableName: this.#headTable,
          Key: headKey(tenantId),
          UpdateExpression: 'SET #size = :size, #version = :next, updatedAt = :now',
          ConditionExpression: head.version === 0 ? 'attribute_not_exists(pk)' : '#version = :version',
          ExpressionAttributeNames: { '#size': 'size', '#version': 'version' },
          ExpressionAttributeValues: {
            ':size': head.size + batch.length,
            ':next': head.version + 1,
            ':now': new Date().toISOString(),
            ...(head.version === 0 ? {} : { ':version': head.version }),
          },
        },
      },
    ];
    batch.forEach((pending, index) => {
      const seq = head.size + index;
      items.push(
        {
          Put: {
            TableName: this.#auditTable,
            Item: { pk: `${prefix}seq`, sk: String(seq).padStart(sequenceWidth, '0'), seq, ...pending },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: this.#auditTable,
            Item: { pk: `${prefix}entryseq`, sk: pending.entryId, seq },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Delete: {
            TableName: this.#headTable,
            Key: { pk: `${prefix}pending`, sk: pending.entryId },
            ConditionExpression: 'attribute_exists(pk)',
          },
        },
      );
    });
    return items;
  }
}

function headKey(tenantId: string): { pk: string; sk: string } {
  return { pk: `${tenantPrefix(tenantId)}head`, sk: 'head' };
}
