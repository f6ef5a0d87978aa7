/**
 * The tenant registry (ENC-3, DAT-2): one record per tenant in the `tenants` table with its
 * status (active, terminated with time, purged), the reference of its KMS key, and its data
 * keys by version, stored only wrapped by that key. The key is the tenant's own partition
 * (`<tenantId>#tenant`), so a tenant session reads its own record and nobody else's, and
 * checks the status in every change; the guard and the tenant access role allow tenant
 * sessions reads only, so onboarding, termination and purge write it with their own client.
 * (Who onboarded a tenant, and when, is the identity work's onboarding record.)
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { TenantKeyRef } from '#shared/crypto/key-service';
import { isTenantId, tenantPrefix } from '#shared/tenancy/tenant-id';
import { tableName } from './tables';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export type TenantStatus = 'active' | 'terminated' | 'purged';

export interface TenantRecord {
  readonly tenantId: string;
  readonly status: TenantStatus;
  readonly keyRef: TenantKeyRef;
  /** The data key version new items are sealed under. */
  readonly currentKeyVersion: number;
  /** Wrapped data keys by version (the KMS ciphertext blob, or the local AES-GCM wrap). */
  readonly dataKeys: ReadonlyMap<number, Uint8Array>;
  readonly createdAt: string;
  /** When the owner terminated the tenant (DAT-2): read-only from then on. */
  readonly terminatedAt?: string;
  /** Pseudonymous id of who terminated it. */
  readonly terminatedBy?: string;
  /** Until when exports stay possible; the purge runs after it. */
  readonly exportableUntil?: string;
  readonly purgedAt?: string;
  /** When KMS deletes the tenant key for good (AWS); locally the key file is gone at purge. */
  readonly keyDeletionDate?: string;
  /** Optimistic concurrency of the record itself. */
  readonly version: number;
}

/** A conditional change of the record lost to another one: read it again. */
export class TenantRecordConflictError extends Error {
  readonly code = 'tenant-record-conflict';
  constructor(message: string) {
    super(message);
    this.name = 'TenantRecordConflictError';
  }
}

export function tenantRecordKey(tenantId: string): { pk: string; sk: string } {
  return { pk: `${tenantPrefix(tenantId)}tenant`, sk: 'registry' };
}

export class TenantRegistry {
  readonly #table: string;

  constructor(stage: string) {
    this.#table = tableName(stage, 'tenants');
  }

  get table(): string {
    return this.#table;
  }

  async get(client: DynamoDBDocumentClient, tenantId: string): Promise<TenantRecord | undefined> {
    const result = await client.send(
      new GetCommand({ TableName: this.#table, Key: tenantRecordKey(tenantId), ConsistentRead: true }),
    );
    return result.Item ? toRecord(result.Item) : undefined;
  }

  /** Stores a new record; false if the tenant already has one. */
  async create(client: DynamoDBDocumentClient, record: TenantRecord): Promise<boolean> {
    try {
      await client.send(
        new PutCommand({
          TableName: this.#table,
          Item: itemOf(record),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** Replaces the record if it is still at `expectedVersion`. */
  async replace(
    client: DynamoDBDocumentClient,
    record: TenantRecord,
    expectedVersion: number,
  ): Promise<void> {
    try {
      await client.send(new PutCommand(this.replaceWrite(record, expectedVersion).Put));
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') {
        throw new TenantRecordConflictError(`the registry record of ${record.tenantId} changed meanwhile`);
      }
      throw error;
    }
  }

  /** The transaction item of `replace`, to commit a status change with its audit entry. */
  replaceWrite(
    record: TenantRecord,
    expectedVersion: number,
  ): { Put: NonNullable<TransactItem['Put']> & { Item: Record<string, unknown> } } {
    return {
      Put: {
        TableName: this.#table,
        Item: itemOf(record),
        ConditionExpression: '#version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': expectedVersion },
      },
    };
  }

  /**
   * A transaction item that holds only while the tenant is active (or has no record: a
   * tenant the identity work set up before its keys): every business change carries it,
   * so termination makes the tenant read-only at once (DAT-2).
   */
  activeCheck(tenantId: string): TransactItem {
    return {
      ConditionCheck: {
        TableName: this.#table,
        Key: tenantRecordKey(tenantId),
        ConditionExpression: 'attribute_not_exists(pk) OR #status = :active',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':active': 'active' },
      },
    };
  }

  /** Every record (cross-tenant jobs only: purge, retention, backup validation). */
  async list(client: DynamoDBDocumentClient): Promise<TenantRecord[]> {
    const records: TenantRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({ TableName: this.#table, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      for (const item of page.Items ?? []) {
        if (item.sk === 'registry' && isTenantId(String(item.tenantId))) records.push(toRecord(item));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return records.sort((a, b) => (a.tenantId < b.tenantId ? -1 : 1));
  }
}

function itemOf(record: TenantRecord): Record<string, unknown> {
  return {
    ...tenantRecordKey(record.tenantId),
    ...record,
    keyRef: { ...record.keyRef },
    dataKeys: Object.fromEntries(
      [...record.dataKeys].map(([version, wrapped]) => [String(version), wrapped]),
    ),
  };
}

function toRecord(item: Record<string, unknown>): TenantRecord {
  const keys = (item.dataKeys ?? {}) as Record<string, Uint8Array>;
  const optional = (name: string) =>
    typeof item[name] === 'string' ? { [name]: item[name] as string } : ({} as Record<string, never>);
  const keyRef = item.keyRef as { keyId: string; replicaRegion?: string };
  return {
    tenantId: String(item.tenantId),
    status: item.status === 'terminated' || item.status === 'purged' ? item.status : 'active',
    keyRef: {
      keyId: String(keyRef.keyId),
      ...(typeof keyRef.replicaRegion === 'string' ? { replicaRegion: keyRef.replicaRegion } : {}),
    },
    currentKeyVersion: Number(item.currentKeyVersion),
    dataKeys: new Map(
      Object.entries(keys).map(([version, wrapped]) => [Number(version), new Uint8Array(wrapped)] as const),
    ),
    createdAt: String(item.createdAt),
    ...optional('terminatedAt'),
    ...optional('terminatedBy'),
    ...optional('exportableUntil'),
    ...optional('purgedAt'),
    ...optional('keyDeletionDate'),
    version: Number(item.version),
  };
}
