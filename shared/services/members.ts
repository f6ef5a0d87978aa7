/**
 * The members API (AZ-1, AUTH-6, AUD-1): owners and admins invite people into their own
 * tenant, change their roles, disable and remove them.
 *
 * - Tenant: always the caller's, from the authorizer's verified context; another tenant's
 *   member ids are simply not found (the tenant-scoped client cannot reach them anyway).
 * - Roles: nobody grants a role above their own (`canGrant`), and nobody changes a member
 *   who holds a role above their own (an admin cannot demote, disable or remove an owner).
 * - Nobody changes their own membership, so a tenant always keeps an owner.
 * - Every change is one transaction with its audit entry (roles and status in `detail`,
 *   pseudonymous ids only) and a condition that the caller is still an active member
 *   with the roles they acted with: a removed admin whose token the authorizer still
 *   honours from its 60 s cache commits nothing.
 */
import type { Principal } from '#shared/auth/principal';
import {
  ConflictError,
  ForbiddenError,
  MalformedRequestError,
  NotFoundError,
  PreconditionFailedError,
  PreconditionRequiredError,
  ValidationError,
} from '#shared/domain/errors';
import type { InviteMemberBody, UpdateMemberBody } from '#shared/http/schemas/members';
import { canGrantAll } from '#shared/rbac/permissions';
import { requestFingerprint, type StoredResponse } from '#shared/store/idempotency';
import { identityIdOf, identityIdPattern, type Member, versionOf } from '#shared/store/members';
import { auditEntryFor } from './audit-entries';
import type { IdentityContext } from './identity-context';

/** What clients see of a member: no issuer, subject or email. */
export interface MemberView {
  readonly id: string;
  readonly roles: readonly string[];
  readonly status: 'active' | 'disabled';
  readonly createdAt: string;
  readonly updatedAt?: string;
  readonly version: number;
}

export function memberView(member: Member): MemberView {
  return {
    id: member.identityId,
    roles: member.roles,
    status: member.status === 'active' ? 'active' : 'disabled',
    createdAt: member.createdAt,
    ...(member.updatedAt === undefined ? {} : { updatedAt: member.updatedAt }),
    version: versionOf(member),
  };
}

export function memberEtag(member: Member): string {
  return `"v${versionOf(member)}"`;
}

/** The common part of every change request. */
export interface MemberCommand {
  readonly principal: Principal;
  readonly requestId: string;
  readonly idempotencyKey: string | undefined;
}

export interface InviteMemberCommand extends MemberCommand {
  readonly body: InviteMemberBody;
  readonly respond: (member: Member, auditEntryId: string) => StoredResponse;
}

export async function inviteMember(
  context: IdentityContext,
  command: InviteMemberCommand,
): Promise<StoredResponse> {
  const { principal, body } = command;
  if (!canGrantAll(principal.roles, body.roles)) {
    throw new ForbiddenError('You cannot grant a role whose permissions you do not hold yourself.');
  }
  const client = context.clients.forTenant(principal.tenantId);
  const fingerprint = requestFingerprint(principal.actorId, 'inviteMember', body);
  if (command.idempotencyKey !== undefined) {
    const replayed = await context.mutations.replay(
      client,
      principal.tenantId,
      command.idempotencyKey,
      fingerprint,
    );
    if (replayed) return replayed;
  }

  const { subject } = await context.directory().ensureUser(body.email);
  const identityId = identityIdOf(context.issuer, subject);
  if (identityId === principal.actorId) throw new ConflictError('You are already a member of this tenant.');
  const existing = await context.members.get(client, principal.tenantId, identityId);
  if (existing && existing.status !== 'removed') {
    throw new ConflictError('This person is already a member of the tenant; change their roles instead.');
  }
  const now = context.now();
  const member: Member = {
    tenantId: principal.tenantId,
    identityId,
    issuer: context.issuer,
    subject,
    roles: body.roles,
    status: 'active',
    createdAt: now.toISOString(),
    version: existing ? versionOf(existing) + 1 : 1,
    invitedBy: principal.actorId,
  };
  return commitChange(context, command, {
    action: 'member.invite',
    member,
    previous: existing,
    fingerprint,
    respond: (entryId) => command.respond(member, entryId),
    now,
  });
}

export interface UpdateMemberCommand extends MemberCommand {
  readonly id: string;
  readonly body: UpdateMemberBody;
  readonly ifMatch: string | undefined;
  readonly respond: (member: Member, auditEntryId: string) => StoredResponse;
}

export async function updateMember(
  context: IdentityContext,
  command: UpdateMemberCommand,
): Promise<StoredResponse> {
  const { principal, body } = command;
  const expectedVersion = ifMatchVersion(command.ifMatch);
  const client = context.clients.forTenant(principal.tenantId);
  const fingerprint = requestFingerprint(principal.actorId, 'updateMember', { id: command.id, body });
  if (command.idempotencyKey !== undefined) {
    const replayed = await context.mutations.replay(
      client,
      principal.tenantId,
      command.idempotencyKey,
      fingerprint,
    );
    if (replayed) return replayed;
  }
  const target = await changeableMember(context, principal, command.id);
  if (body.roles !== undefined && !canGrantAll(principal.roles, body.roles)) {
    throw new ForbiddenError('You cannot grant a role whose permissions you do not hold yourself.');
  }
  if (versionOf(target) !== expectedVersion) {
    throw new PreconditionFailedError('The member changed since you read it; read it again.');
  }
  const now = context.now();
  const member: Member = {
    ...target,
    roles: body.roles ?? target.roles,
    status: body.status ?? target.status,
    version: versionOf(target) + 1,
    updatedAt: now.toISOString(),
  };
  return commitChange(context, command, {
    action: 'member.update',
    member,
    previous: target,
    fingerprint,
    respond: (entryId) => command.respond(member, entryId),
    now,
  });
}

export interface RemoveMemberCommand extends MemberCommand {
  readonly id: string;
}

export async function removeMember(
  context: IdentityContext,
  command: RemoveMemberCommand,
): Promise<StoredResponse> {
  const { principal } = command;
  const client = context.clients.forTenant(principal.tenantId);
  const fingerprint = requestFingerprint(principal.actorId, 'removeMember', { id: command.id });
  if (command.idempotencyKey !== undefined) {
    const replayed = await context.mutations.replay(
      client,
      principal.tenantId,
      command.idempotencyKey,
      fingerprint,
    );
    if (replayed) return replayed;
  }
  const target = await changeableMember(context, principal, command.id);
  const now = context.now();
  const member: Member = {
    ...target,
    status: 'removed',
    version: versionOf(target) + 1,
    updatedAt: now.toISOString(),
  };
  return commitChange(context, command, {
    action: 'member.remove',
    member,
    previous: target,
    fingerprint,
    respond: () => ({ statusCode: 204, headers: {}, body: '' }),
    now,
  });
}

export async function getMember(context: IdentityContext, principal: Principal, id: string): Promise<Member> {
  const member = identityIdPattern.test(id)
    ? await context.members.get(context.clients.forTenant(principal.tenantId), principal.tenantId, id)
    : undefined;
  // Removed members and other tenants' members look the same: not found (AZ-3).
  if (!member || member.status === 'removed') throw new NotFoundError('No member with this id.');
  return member;
}

export interface MemberListPage {
  readonly items: Member[];
  readonly nextCursor: string | undefined;
}

export async function listMembers(
  context: IdentityContext,
  principal: Principal,
  limit: number,
  cursor: string | undefined,
): Promise<MemberListPage> {
  // The cursor only names a position inside the caller's own partition: the partition
  // key is rebuilt from the verified tenant, so a cursor cannot reach another tenant.
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const page = await context.members.list(
    context.clients.forTenant(principal.tenantId),
    principal.tenantId,
    limit,
    after,
  );
  return {
    items: page.items.filter((member) => member.status !== 'removed'),
    nextCursor: page.lastKey === undefined ? undefined : Buffer.from(page.lastKey).toString('base64url'),
  };
}

function decodeCursor(cursor: string): string {
  const sortKey = /^[A-Za-z0-9_-]{1,100}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  if (!identityIdPattern.test(sortKey)) throw new MalformedRequestError('The cursor is not valid.');
  return sortKey;
}

/** A member the caller may change: someone else, present, holding no role above the caller's. */
async function changeableMember(context: IdentityContext, principal: Principal, id: string): Promise<Member> {
  const target = await getMember(context, principal, id);
  if (target.identityId === principal.actorId) {
    throw new ForbiddenError('You cannot change your own membership; ask another owner or admin.');
  }
  if (!canGrantAll(principal.roles, target.roles)) {
    throw new ForbiddenError('This member holds a role whose permissions you do not hold yourself.');
  }
  return target;
}

/** The version an `If-Match` header names (`"v<version>"`); 428 without one, 412 for one that is not ours. */
export function ifMatchVersion(header: string | undefined): number {
  if (header === undefined || header.trim() === '') {
    throw new PreconditionRequiredError('This change needs If-Match with the ETag of the version you read.');
  }
  if (header.length > 200) throw new ValidationError('If-Match is too long.');
  const match = /^\s*"v([1-9][0-9]{0,14})"\s*$/.exec(header);
  if (!match) throw new PreconditionFailedError('If-Match names no current version of this member.');
  return Number(match[1]);
}

interface Change {
  readonly action: 'member.invite' | 'member.update' | 'member.remove';
  readonly member: Member;
  readonly previous: Member | undefined;
  readonly fingerprint: string;
  readonly respond: (auditEntryId: string) => StoredResponse;
  readonly now: Date;
}

async function commitChange(
  context: IdentityContext,
  command: MemberCommand,
  change: Change,
): Promise<StoredResponse> {
  const { principal } = command;
  const { member, now } = change;
  const entry = {
    ...auditEntryFor(
      { principal, requestId: command.requestId, agentReason: undefined, inputs: null },
      { action: change.action, target: { type: 'member', id: member.identityId }, itemState: member },
      now,
    ),
    detail: { roles: [...member.roles], status: member.status },
  };
  const response = change.respond(entry.id);
  const client = context.clients.forTenant(principal.tenantId);
  const result = await context.mutations.commit(client, {
    tenantId: principal.tenantId,
    writes: [
      context.members.write(member, change.previous),
      await context.members.stillActive(client, principal.tenantId, principal.actorId, principal.roles),
    ],
    entry,
    ...(command.idempotencyKey === undefined
      ? {}
      : {
          idempotency: { key: command.idempotencyKey, record: { fingerprint: change.fingerprint, response } },
        }),
    now,
    // API-3: a change or removal whose member moved on since the version in If-Match was read
    // (a concurrent change committed first) is a stale If-Match, as when it is read stale.
    conditionFailed: (failed) =>
      change.action !== 'member.invite' && failed.includes(0) && !failed.includes(1)
        ? new PreconditionFailedError('The member changed since you read it; read it again.')
        : new ConflictError('The resource changed or already exists; read it again and retry.'),
  });
  return result.kind === 'replayed' ? result.response : response;
}
