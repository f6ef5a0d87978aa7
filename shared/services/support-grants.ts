/**
 * Support grants (AZ-5): the owner's time-boxed, scoped permission for the platform
 * operator. Creating and revoking are owner actions (`support:grant`), audited with the
 * roles and expiry; the operator's requests under a grant are audited by the authorizer.
 */
import type { Principal } from '#shared/auth/principal';
import { ForbiddenError, NotFoundError } from '#shared/domain/errors';
import { newId } from '#shared/domain/ids';
import type { CreateSupportGrantBody } from '#shared/http/schemas/support';
import { canGrantAll } from '#shared/rbac/permissions';
import { requestFingerprint, type StoredResponse } from '#shared/store/idempotency';
import { isGrantActive, type SupportGrant } from '#shared/store/support-grants';
import { auditEntryFor } from './audit-entries';
import type { IdentityContext } from './identity-context';

export interface SupportGrantView {
  readonly id: string;
  readonly roles: readonly string[];
  readonly status: 'active' | 'expired' | 'revoked';
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly revokedAt?: string;
  readonly version: number;
}

export function supportGrantView(grant: SupportGrant, now: number): SupportGrantView {
  return {
    id: grant.grantId,
    roles: grant.roles,
    status: grant.status === 'revoked' ? 'revoked' : isGrantActive(grant, now) ? 'active' : 'expired',
    createdAt: grant.createdAt,
    createdBy: grant.createdBy,
    expiresAt: grant.expiresAt,
    ...(grant.revokedAt === undefined ? {} : { revokedAt: grant.revokedAt }),
    version: grant.version,
  };
}

export interface SupportGrantCommand {
  readonly principal: Principal;
  readonly requestId: string;
  readonly idempotencyKey: string | undefined;
}

export async function createSupportGrant(
  context: IdentityContext,
  command: SupportGrantCommand & {
    readonly body: CreateSupportGrantBody;
    readonly respond: (grant: SupportGrant, auditEntryId: string) => StoredResponse;
  },
): Promise<StoredResponse> {
  const { principal, body } = command;
  if (!canGrantAll(principal.roles, body.roles)) {
    throw new ForbiddenError('You cannot grant a role whose permissions you do not hold yourself.');
  }
  const fingerprint = requestFingerprint(principal.actorId, 'createSupportGrant', body);
  const replayed = await replay(context, command, fingerprint);
  if (replayed) return replayed;
  const now = context.now();
  const grant: SupportGrant = {
    tenantId: principal.tenantId,
    grantId: newId('sgr', now.getTime()),
    roles: body.roles,
    status: 'active',
    createdAt: now.toISOString(),
    createdBy: principal.actorId,
    expiresAt: new Date(now.getTime() + body.durationMinutes * 60_000).toISOString(),
    version: 1,
  };
  return commit(context, command, {
    action: 'support.grant',
    grant,
    previous: undefined,
    fingerprint,
    now,
    respond: (entryId) => command.respond(grant, entryId),
  });
}

export async function revokeSupportGrant(
  context: IdentityContext,
  command: SupportGrantCommand & { readonly id: string },
): Promise<StoredResponse> {
  const { principal } = command;
  const fingerprint = requestFingerprint(principal.actorId, 'revokeSupportGrant', { id: command.id });
  const replayed = await replay(context, command, fingerprint);
  if (replayed) return replayed;
  const client = context.clients.forTenant(principal.tenantId);
  const current = await context.supportGrants.get(client, principal.tenantId, command.id);
  if (!current || current.status === 'revoked')
    throw new NotFoundError('No active support grant with this id.');
  const now = context.now();
  const grant: SupportGrant = {
    ...current,
    status: 'revoked',
    revokedAt: now.toISOString(),
    version: current.version + 1,
  };
  return commit(context, command, {
    action: 'support.revoke',
    grant,
    previous: current,
    fingerprint,
    now,
    respond: () => ({ statusCode: 204, headers: {}, body: '' }),
  });
}

export async function listSupportGrants(
  context: IdentityContext,
  principal: Principal,
): Promise<SupportGrant[]> {
  return context.supportGrants.list(context.clients.forTenant(principal.tenantId), principal.tenantId);
}

async function replay(
  context: IdentityContext,
  command: SupportGrantCommand,
  fingerprint: string,
): Promise<StoredResponse | undefined> {
  if (command.idempotencyKey === undefined) return undefined;
  return context.mutations.replay(
    context.clients.forTenant(command.principal.tenantId),
    command.principal.tenantId,
    command.idempotencyKey,
    fingerprint,
  );
}

async function commit(
  context: IdentityContext,
  command: SupportGrantCommand,
  change: {
    readonly action: 'support.grant' | 'support.revoke';
    readonly grant: SupportGrant;
    readonly previous: SupportGrant | undefined;
    readonly fingerprint: string;
    readonly now: Date;
    readonly respond: (auditEntryId: string) => StoredResponse;
  },
): Promise<StoredResponse> {
  const { principal } = command;
  const { grant } = change;
  const entry = {
    ...auditEntryFor(
      { principal, requestId: command.requestId, agentReason: undefined, inputs: null },
      { action: change.action, target: { type: 'supportGrant', id: grant.grantId }, itemState: grant },
      change.now,
    ),
    detail: { roles: [...grant.roles], expiresAt: grant.expiresAt, status: grant.status },
  };
  const response = change.respond(entry.id);
  const client = context.clients.forTenant(principal.tenantId);
  const result = await context.mutations.commit(client, {
    tenantId: principal.tenantId,
    writes: [
      context.supportGrants.write(grant, change.previous),
      await context.members.stillActive(client, principal.tenantId, principal.actorId, principal.roles),
    ],
    entry,
    ...(command.idempotencyKey === undefined
      ? {}
      : {
          idempotency: { key: command.idempotencyKey, record: { fingerprint: change.fingerprint, response } },
        }),
    now: change.now,
  });
  return result.kind === 'replayed' ? result.response : response;
}
