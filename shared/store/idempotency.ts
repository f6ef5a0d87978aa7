/**
 * Idempotency records (API-3): the key, a fingerprint of the request and the response
 * it produced, written in the same transaction as the change. A retry finds the record
 * and gets the stored response; the same key with another request is refused.
 */
import { createHash } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { canonicalBytes } from '#shared/audit/entry';
import { tenantPrefix } from '#shared/tenancy/tenant-id';
import { tableName } from './tables';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** How long a key is remembered: a day covers every sane retry policy. */
const retentionSeconds = 24 * 60 * 60;

export interface StoredResponse {
  readonly statusCode: number;
  readonly body: string;
  readonly headers: Record<string, string>;
}

export interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly response: StoredResponse;
}

/** What identifies a request for replay: who sent which operation with which body. */
export function requestFingerprint(actorId: string, operationId: string, body: unknown): string {
  return createHash('sha256')
    .update(`${actorId}\n${operationId}\n`)
    .update(canonicalBytes(body ?? null))
    .digest('base64');
}

export class IdempotencyStore {
  readonly #table: string;
  readonly stage: string;

  constructor(stage: string) {
    this.#table = tableName(stage, 'idempotency');
    this.stage = stage;
  }

  async find(
    client: DynamoDBDocumentClient,
    tenantId: string,
    key: string,
  ): Promise<IdempotencyRecord | undefined> {
    const result = await client.send(
      new GetCommand({ TableName: this.#table, Key: recordKey(tenantId, key), ConsistentRead: true }),
    );
    if (!result.Item) return undefined;
    return { fingerprint: String(result.Item.fingerprint), response: result.Item.response as StoredResponse };
  }

  /** The transaction item that stores the record; fails the transaction if the key is taken. */
  recordWrite(tenantId: string, key: string, record: IdempotencyRecord, now: Date): TransactItem {
    return {
      Put: {
        TableName: this.#table,
        Item: {
          ...recordKey(tenantId, key),
          ...record,
          createdAt: now.toISOString(),
          expiresAt: Math.floor(now.getTime() / 1000) + retentionSeconds,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }
}

function recordKey(tenantId: string, key: string): { pk: string; sk: string } {
  return { pk: `${tenantPrefix(tenantId)}idempotency`, sk: key };
}
