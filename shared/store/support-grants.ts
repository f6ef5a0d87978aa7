/**
 * Support grants (AZ-5) in the members table under `<tenantId>#supportgrant`: the owner's
 * time-boxed, scoped permission for the platform operator to act in the tenant. The
 * authorizer reads a tenant's grants with its own platform role when an operator names
 * the tenant; the tenant reads and changes them through its own tenant-scoped client.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { isTenantId, tenantPrefix } from '#shared/tenancy/tenant-id';
import { assertIndexMatchesKey } from './item-sealing';
import { tableName } from './tables';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface SupportGrant {
  readonly tenantId: string;
  readonly grantId: string;
  /** The roles the operator acts with under the grant. */
  readonly roles: readonly string[];
  readonly status: 'active' | 'revoked';
  readonly createdAt: string;
  /** Actor id of the owner who granted it. */
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly revokedAt?: string;
  readonly version: number;
}

/** Whether a grant lets the operator in at `now`. */
export function isGrantActive(grant: SupportGrant, now: number): boolean {
  return grant.status === 'active' && Date.parse(grant.expiresAt) > now;
}

export class SupportGrantStore {
  readonly #table: string;

  constructor(stage: string) {
    this.#table = tableName(stage, 'members');
  }

  async get(
    client: DynamoDBDocumentClient,
    tenantId: string,
    grantId: string,
  ): Promise<SupportGrant | undefined> {
    const result = await client.send(
      new GetCommand({ TableName: this.#table, Key: keyOf(tenantId, grantId), ConsistentRead: true }),
    );
    return result.Item ? toGrant(result.Item) : undefined;
  }

  /** Every grant of the tenant, newest first (a tenant has few). */
  async list(client: DynamoDBDocumentClient, tenantId: string, limit = 100): Promise<SupportGrant[]> {
    const result = await client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': partition(tenantId) },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (result.Items ?? []).map(toGrant);
  }

  write(grant: SupportGrant, previous: SupportGrant | undefined): TransactItem {
    const Item = { ...keyOf(grant.tenantId, grant.grantId), ...grant };
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
}

function partition(tenantId: string): string {
  return `${tenantPrefix(tenantId)}supportgrant`;
}

function keyOf(tenantId: string, grantId: string): { pk: string; sk: string } {
  return { pk: partition(tenantId), sk: grantId };
}

function toGrant(item: Record<string, unknown>): SupportGrant {
  const tenantId = String(item.tenantId);
  const grantId = String(item.grantId);
  // `tenantId` is a plain index attribute: it must agree with the sealed key (ENC-3).
  assertIndexMatchesKey('members', item, isTenantId(tenantId) ? keyOf(tenantId, grantId) : undefined);
  return {
    tenantId,
    grantId,
    roles: Array.isArray(item.roles) ? item.roles.map(String) : [],
    status: item.status === 'active' ? 'active' : 'revoked',
    createdAt: String(item.createdAt),
    createdBy: String(item.createdBy),
    expiresAt: String(item.expiresAt),
    ...(typeof item.revokedAt === 'string' ? { revokedAt: item.revokedAt } : {}),
    version: typeof item.version === 'number' ? item.version : 1,
  };
}
