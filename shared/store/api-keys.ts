/**
 * API keys (AUTH-5) in the members table: non-human principals of a tenant under
 * `<tenantId>#apikey`, keyed by key id. Like people they carry `identityId` (the key id),
 * so the authorizer finds a presented key through the platform-scoped `byIdentity`
 * index without knowing its tenant. The secret is never stored: only its HMAC under a
 * versioned pepper, and during a rotation the previous secret's hash until it lapses.
 *
 * Failed attempts are counted in windows under `<tenantId>#apikey-failures`
 * (`<key id>#<source id>#<window start>`), which expire through the table's TTL.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isTenantId, tenantPrefix } from '#shared/tenancy/tenant-id';
import { assertIndexMatchesKey } from './item-sealing';
import { tableName } from './tables';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export type ApiKeyKind = 'apiKey' | 'agent';
export type ApiKeyStatus = 'active' | 'revoked';

export interface StoredSecret {
  /** Base64 HMAC-SHA-256 of the key id and secret under the pepper version. */
  readonly secretHash: string;
  readonly pepperVersion: string;
}

export interface ApiKeyRecord extends StoredSecret {
  readonly tenantId: string;
  readonly keyId: string;
  readonly kind: ApiKeyKind;
  /** A label for people ("ERP sync"); never a secret. */
  readonly name: string;
  /** Its scopes: the roles it acts with. */
  readonly roles: readonly string[];
  readonly status: ApiKeyStatus;
  readonly createdAt: string;
  /** Actor id of whoever created it. */
  readonly createdBy: string;
  readonly expiresAt: string;
  /** The secret before the last rotation, accepted until `validUntil`. */
  readonly previous?: StoredSecret & { readonly validUntil: string };
  readonly rotatedAt?: string;
  readonly revokedAt?: string;
  readonly lastUsedAt?: string;
  readonly version: number;
}

export interface ApiKeyPage {
  readonly items: ApiKeyRecord[];
  readonly lastKey: string | undefined;
}

export class ApiKeyStore {
  readonly #table: string;

  constructor(stage: string) {
    this.#table = tableName(stage, 'members');
  }

  async get(
    client: DynamoDBDocumentClient,
    tenantId: string,
    keyId: string,
  ): Promise<ApiKeyRecord | undefined> {
    const result = await client.send(
      new GetCommand({ TableName: this.#table, Key: keyOf(tenantId, keyId), ConsistentRead: true }),
    );
    return result.Item ? toRecord(result.Item) : undefined;
  }

  async list(
    client: DynamoDBDocumentClient,
    tenantId: string,
    limit: number,
    after: string | undefined,
  ): Promise<ApiKeyPage> {
    const pk = partition(tenantId);
    const result = await client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ScanIndexForward: false,
        Limit: limit,
        ...(after === undefined ? {} : { ExclusiveStartKey: { pk, sk: after } }),
      }),
    );
    const lastKey = result.LastEvaluatedKey?.sk;
    return {
      items: (result.Items ?? []).map(toRecord),
      lastKey: typeof lastKey === 'string' ? lastKey : undefined,
    };
  }

  /** A new key (fails if the id exists) or the next version of `previous`. */
  write(record: ApiKeyRecord, previous: ApiKeyRecord | undefined): TransactItem {
    const Item = { ...keyOf(record.tenantId, record.keyId), identityId: record.keyId, ...record };
    if (previous === undefined) {
      return { Put: { TableName: this.#table, Item, ConditionExpression: 'attribute_not_exists(pk)' } };
    }
    return {
      Put: {
        TableName: this.#table,
        Item,
        ConditionExpression: '#version = :version',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':version': previous.version },
      },
    };
  }

  /**
   * The key with this id in whichever tenant holds it: the authorizer's cross-tenant
   * lookup through the identity index, with its own platform client.
   */
  async findById(platformClient: DynamoDBDocumentClient, keyId: string): Promise<ApiKeyRecord | undefined> {
    const result = await platformClient.send(
      new QueryCommand({
        TableName: this.#table,
        IndexName: 'byIdentity',
        KeyConditionExpression: 'identityId = :keyId',
        ExpressionAttributeValues: { ':keyId': keyId },
      }),
    );
    const items = (result.Items ?? []).filter((item) => item.kind === 'apiKey' || item.kind === 'agent');
    // Key ids are unique; two items would mean a forged one: trust neither.
    return items.length === 1 ? toRecord(items[0] as Record<string, unknown>) : undefined;
  }

  /**
   * Records use of a key at most once per `minIntervalMs`; changes nothing else, and
   * nothing at all if the key is gone.
   */
  async touch(
    client: DynamoDBDocumentClient,
    record: Pick<ApiKeyRecord, 'tenantId' | 'keyId'>,
    now: Date,
    minIntervalMs: number,
  ): Promise<boolean> {
    try {
      await client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keyOf(record.tenantId, record.keyId),
          UpdateExpression: 'SET lastUsedAt = :now',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :before)',
          ExpressionAttributeValues: {
            ':now': now.toISOString(),
            ':before': new Date(now.getTime() - minIntervalMs).toISOString(),
          },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /**
   * Counts one failed attempt for a key from a source in a window, and returns the count
   * so far. The item expires a day after its window.
   */
  async countFailure(
    client: DynamoDBDocumentClient,
    tenantId: string,
    keyId: string,
    sourceId: string,
    windowStart: number,
  ): Promise<number> {
    const result = await client.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: `${tenantPrefix(tenantId)}apikey-failures`, sk: `${keyId}#${sourceId}#${windowStart}` },
        UpdateExpression: 'ADD failures :one SET #ttl = if_not_exists(#ttl, :ttl)',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':one': 1, ':ttl': Math.floor(windowStart / 1000) + 86_400 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(result.Attributes?.failures ?? 1);
  }
}

function partition(tenantId: string): string {
  return `${tenantPrefix(tenantId)}apikey`;
}

function keyOf(tenantId: string, keyId: string): { pk: string; sk: string } {
  return { pk: partition(tenantId), sk: keyId };
}

function toRecord(item: Record<string, unknown>): ApiKeyRecord {
  const tenantId = String(item.tenantId);
  const keyId = String(item.keyId);
  // Tenant and identity id are plain index attributes: they must agree with the sealed key (ENC-3).
  assertIndexMatchesKey(
    'members',
    item,
    isTenantId(tenantId) && item.identityId === keyId ? keyOf(tenantId, keyId) : undefined,
  );
  const previous = item.previous as Record<string, unknown> | undefined;
  return {
    tenantId,
    keyId,
    kind: item.kind === 'agent' ? 'agent' : 'apiKey',
    name: String(item.name),
    roles: Array.isArray(item.roles) ? item.roles.map(String) : [],
    status: item.status === 'active' ? 'active' : 'revoked',
    createdAt: String(item.createdAt),
    createdBy: String(item.createdBy),
    expiresAt: String(item.expiresAt),
    secretHash: String(item.secretHash),
    pepperVersion: String(item.pepperVersion),
    ...(previous && typeof previous.secretHash === 'string'
      ? {
          previous: {
            secretHash: previous.secretHash,
            pepperVersion: String(previous.pepperVersion),
            validUntil: String(previous.validUntil),
          },
        }
      : {}),
    ...(typeof item.rotatedAt === 'string' ? { rotatedAt: item.rotatedAt } : {}),
    ...(typeof item.revokedAt === 'string' ? { revokedAt: item.revokedAt } : {}),
    ...(typeof item.lastUsedAt === 'string' ? { lastUsedAt: item.lastUsedAt } : {}),
    version: typeof item.version === 'number' ? item.version : 1,
  };
}
