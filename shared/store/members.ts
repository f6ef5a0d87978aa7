/**
 * The members table: the source of truth for who belongs to which tenant with which
 * roles (AUTH-6). The JWT proves issuer and subject; this table says the rest.
 */
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { tenantPrefix } from '#shared/tenancy/tenant-id';
import { tableName, tables } from './tables';

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
}

/** A stable pseudonymous id for an identity, so no email or name reaches logs or audit (DAT-3). */
export function identityIdOf(issuer: string, subject: string): string {
  const digest = createHash('sha256').update(`${issuer}\n${subject}`).digest('base64url');
  return `usr_${digest.slice(0, 32)}`;
}

export function memberKey(tenantId: string, identityId: string): { pk: string; sk: string } {
  return { pk: `${tenantPrefix(tenantId)}member`, sk: identityId };
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

  /** Creates or replaces a membership (onboarding, seeding, the members API). */
  async put(client: DynamoDBDocumentClient, member: Member): Promise<void> {
    await client.send(
      new PutCommand({
        TableName: this.#table,
        Item: { ...memberKey(member.tenantId, member.identityId), ...member, roles: [...member.roles] },
      }),
    );
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
    return (result.Items ?? []).map(toMember);
  }
}

function toMember(item: Record<string, unknown>): Member {
  return {
    tenantId: String(item.tenantId),
    identityId: String(item.identityId),
    issuer: String(item.issuer),
    subject: String(item.subject),
    roles: Array.isArray(item.roles) ? item.roles.map(String) : [],
    status: item.status === 'active' || item.status === 'disabled' ? item.status : 'removed',
    createdAt: String(item.createdAt),
  };
}
