/**
 * The members table: the source of truth for who belongs to which tenant with which
 * roles (AUTH-6). The JWT proves issuer and subject; this table says the rest.
 *
 * Items of a tenant live under `<tenantId>#member` (people), `<tenantId>#apikey` (API
 * keys, see api-keys.ts) and `<tenantId>#supportgrant` (see support-grants.ts). Only
 * people and API keys carry `identityId`, so only they appear in the platform-scoped
 * `byIdentity` index that the authorizer reads.
 *
 * Every item is sealed (ENC-3, tables.ts): issuer, subject, roles and status travel in the
 * seal, so no condition can test them; what must hold at commit is read, checked and then
 * pinned by the item's plain `version`.
 */
import { createHash } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '#shared/domain/errors';
import { isTenantId, tenantPrefix } from '#shared/tenancy/tenant-id';
import { assertIndexMatchesKey } from './item-sealing';
import { tableName, tables } from './tables';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export type MemberStatus = 'active' | 'disabled' | 'removed';

export interface Member {
  readonly tenantId: string;
  /** Pseudonymous id of the identity (issuer + subject); the actor id in audit entries. */
  readonly identityId: string;
  readonly issuer: string;
  readonly subject: string;
  readonly roles: readonly string[];
  readonly status: MemberStatus;
  readonly createdAt: string;
  /** Optimistic concurrency (API-3): the ETag is `"v<version>"`. Items seeded before versions read as 1. */
  readonly version?: number;
  readonly updatedAt?: string;
  /** Who invited the member (an actor id), absent for seeded and onboarded owners. */
  readonly invitedBy?: string;
}

/** Identity ids: `usr_` and 32 base64url characters of a digest. */
export const identityIdPattern = /^usr_[A-Za-z0-9_-]{32}$/;

/** A stable pseudonymous id for an identity, so no email or name reaches logs or audit (DAT-3). */
export function identityIdOf(issuer: string, subject: string): string {
  const digest = createHash('sha256').update(`${issuer}\n${subject}`).digest('base64url');
  return `usr_${digest.slice(0, 32)}`;
}

export function memberKey(tenantId: string, identityId: string): { pk: string; sk: string } {
  return { pk: memberPartition(tenantId), sk: identityId };
}

function memberPartition(tenantId: string): string {
  return `${tenantPrefix(tenantId)}member`;
}

export function versionOf(member: Pick<Member, 'version'>): number {
  return member.version ?? 1;
}

export interface MemberPage {
  readonly items: Member[];
  /** Sort key of the last item read, when more may follow. */
  readonly lastKey: string | undefined;
}

export class MemberStore {
  readonly #table: string;
  readonly #identityIndex: string;

  constructor(stage: string) {
    this.#table = tableName(stage, 'members');
    const index = tables.members.indexes.find((each) => each.name === 'byIdentity');
    if (!index) throw new Error('members table has no byIdentity index');
    this.#identityIndex = index.name;
  }

  get table(): string {
    return this.#table;
  }

  /** Creates or replaces a membership unconditionally (seeding only). */
  async put(client: DynamoDBDocumentClient, member: Member): Promise<void> {
    await client.send(new PutCommand({ TableName: this.#table, Item: itemOf(member) }));
  }

  /** One membership of the tenant, read consistently. */
  async get(
    client: DynamoDBDocumentClient,
    tenantId: string,
    identityId: string,
  ): Promise<Member | undefined> {
    const result = await client.send(
      new GetCommand({ TableName: this.#table, Key: memberKey(tenantId, identityId), ConsistentRead: true }),
    );
    return result.Item ? toMember(result.Item) : undefined;
  }

  /** The tenant's members in id order, one page at a time. */
  async list(
    client: DynamoDBDocumentClient,
    tenantId: string,
    limit: number,
    after: string | undefined,
  ): Promise<MemberPage> {
    const pk = memberPartition(tenantId);
    const result = await client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        Limit: limit,
        ...(after === undefined ? {} : { ExclusiveStartKey: { pk, sk: after } }),
      }),
    );
    const lastKey = result.LastEvaluatedKey?.sk;
    return {
      items: (result.Items ?? []).map(toMember),
      lastKey: typeof lastKey === 'string' ? lastKey : undefined,
    };
  }

  /**
   * The write of a membership: a new one (`previous` undefined: fails if one exists) or
   * the next version of `previous` (fails if someone changed it meanwhile).
   */
  write(member: Member, previous: Member | undefined): TransactItem {
    const Item = itemOf(member);
    if (previous === undefined) {
      return { Put: { TableName: this.#table, Item, ConditionExpression: 'attribute_not_exists(pk)' } };
    }
    return { Put: { TableName: this.#table, Item, ...stillVersion(versionOf(previous)) } };
  }

  /**
   * A transaction item that holds only while the member is still active with exactly
   * these roles: an administrator removed or demoted a moment ago (whose token the
   * authorizer may still honour from its 60 s cache) cannot commit a change.
   *
   * Status and roles are sealed, so they are read here (consistently) and checked; the item
   * then holds only while the membership is still the version read. A membership that is no
   * longer active with these roles, or one that changes before the commit, commits nothing:
   * a ConflictError (409) either way, as when the condition itself failed.
   */
  async stillActive(
    client: DynamoDBDocumentClient,
    tenantId: string,
    identityId: string,
    roleList: readonly string[],
  ): Promise<TransactItem> {
    const member = await this.get(client, tenantId, identityId);
    if (member?.status !== 'active' || !sameRoles(member.roles, roleList)) {
      throw new ConflictError('Your membership changed since this request was authorized; nothing changed.');
    }
    return {
      ConditionCheck: {
        TableName: this.#table,
        Key: memberKey(tenantId, identityId),
        ...stillVersion(versionOf(member)),
      },
    };
  }

  /** Every tenant membership of an identity; read by the authorizer with its platform client. */
  async findByIdentity(client: DynamoDBDocumentClient, identityId: string): Promise<Member[]> {
    const result = await client.send(
      new QueryCommand({
        TableName: this.#table,
        IndexName: this.#identityIndex,
        KeyConditionExpression: 'identityId = :identityId',
        ExpressionAttributeValues: { ':identityId': identityId },
        ConsistentRead: false,
      }),
    );
    return (result.Items ?? []).filter((item) => item.kind === undefined).map(toMember);
  }
}

/** The condition that an existing membership is still at `expected` (items seeded before versions read as 1). */
function stillVersion(expected: number) {
  return {
    ConditionExpression:
      expected === 1
        ? 'attribute_exists(pk) AND (attribute_not_exists(#version) OR #version = :version)'
        : '#version = :version',
    ExpressionAttributeNames: { '#version': 'version' },
    ExpressionAttributeValues: { ':version': expected },
  };
}

/** The same roles in the same order, as the list comparison of a condition would have it. */
function sameRoles(stored: readonly string[], acting: readonly string[]): boolean {
  return stored.length === acting.length && stored.every((role, index) => role === acting[index]);
}

function itemOf(member: Member): Record<string, unknown> {
  return { ...memberKey(member.tenantId, member.identityId), ...member, roles: [...member.roles] };
}

function toMember(item: Record<string, unknown>): Member {
  const tenantId = String(item.tenantId);
  const identityId = String(item.identityId);
  // The index attributes must agree with the key the seal is bound to (ENC-3).
  assertIndexMatchesKey('members', item, isTenantId(tenantId) ? memberKey(tenantId, identityId) : undefined);
  return {
    tenantId,
    identityId,
    issuer: String(item.issuer),
    subject: String(item.subject),
    roles: Array.isArray(item.roles) ? item.roles.map(String) : [],
    status: item.status === 'active' || item.status === 'disabled' ? item.status : 'removed',
    createdAt: String(item.createdAt),
    version: typeof item.version === 'number' ? item.version : 1,
    ...(typeof item.updatedAt === 'string' ? { updatedAt: item.updatedAt } : {}),
    ...(typeof item.invitedBy === 'string' ? { invitedBy: item.invitedBy } : {}),
  };
}
