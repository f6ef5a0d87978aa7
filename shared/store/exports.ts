/**
 * Export records (DAT-1) in the tenant's data table: `<tenantId>#export` / export id, sealed
 * like every data item (ENC-3); `version` and `status` stay readable for the conditions of
 * the worker's claim and progress updates. The stream of the data table carries keys only;
 * in AWS the insert of a record with an `exp_` sort key starts the export worker.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { tenantPrefix } from '#shared/tenancy/tenant-id';
import { tableName } from './tables';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export type ExportStatus = 'pending' | 'running' | 'complete' | 'failed';

export interface ExportRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly status: ExportStatus;
  /** The member who asked for it (pseudonymous identity id). */
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** Last change, the worker's heartbeat while running. */
  readonly updatedAt: string;
  readonly progress: { readonly done: number; readonly total: number };
  /** The stored message: where, how large, its SHA-256 (base64). */
  readonly archive?: { readonly objectKey: string; readonly bytes: number; readonly sha256: string };
  /** Why it failed, as a stable code (no internals). */
  readonly failure?: string;
  readonly version: number;
}

/** Sort keys of export records start with this (the stream filter of the worker relies on it). */
export const exportIdPrefix = 'exp_';

export class ExportStore {
  readonly #table: string;

  constructor(stage: string) {
    this.#table = tableName(stage, 'data');
  }

  item(record: ExportRecord): Record<string, unknown> {
    return {
      pk: partition(record.tenantId),
      sk: record.id,
      version: record.version,
      status: record.status,
      export: record,
    };
  }

  createWrite(record: ExportRecord): TransactItem {
    return {
      Put: {
        TableName: this.#table,
        Item: this.item(record),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /** Replaces the record only if it still has `expectedVersion`. */
  replaceWrite(record: ExportRecord, expectedVersion: number): TransactItem {
    return {
      Put: {
        TableName: this.#table,
        Item: this.item(record),
        ConditionExpression: 'attribute_exists(pk) AND #version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': expectedVersion },
      },
    };
  }

  /** A plain conditional replace (claim, progress); throws ConditionalCheckFailedException when it lost. */
  async replace(
    client: DynamoDBDocumentClient,
    record: ExportRecord,
    expectedVersion: number,
  ): Promise<void> {
    const { Put } = this.replaceWrite(record, expectedVersion);
    if (!Put) throw new Error('replaceWrite made no put');
    await client.send(new PutCommand(Put));
  }

  async get(client: DynamoDBDocumentClient, tenantId: string, id: string): Promise<ExportRecord | undefined> {
    const result = await client.send(
      new GetCommand({
        TableName: this.#table,
        Key: { pk: partition(tenantId), sk: id },
        ConsistentRead: true,
      }),
    );
    return result.Item?.export as ExportRecord | undefined;
  }
}

/** The data table partition of a tenant's export records. */
export function exportPartition(tenantId: string): string {
  return partition(tenantId);
}

function partition(tenantId: string): string {
  return `${tenantPrefix(tenantId)}export`;
}
