/**
 * Memberships of federated users (AUTH-4): at every sign-in through a tenant's identity
 * provider, the member record of the configured tenant follows the IdP's groups. A new
 * person becomes an active member; changed groups change the roles; a member the tenant
 * disabled or removed is refused (the tenant's decision wins over the IdP's groups).
 * Every change is audited in the tenant's log, actor the identity provider.
 */
import type { FederationProvider } from '#shared/auth/federation';
import { ForbiddenError } from '#shared/domain/errors';
import type { DataClients } from '#shared/store/dynamo';
import { identityIdOf, type Member, type MemberStore, versionOf } from '#shared/store/members';
import type { MutationWriter } from '#shared/store/mutation';
import { accessEntry } from './access-audit';

export interface FederationContext {
  readonly clients: Pick<DataClients, 'forTenant'>;
  readonly members: Pick<MemberStore, 'get' | 'write'>;
  readonly mutations: Pick<MutationWriter, 'commit'>;
  readonly now: () => Date;
}

export interface FederatedMemberRequest {
  readonly provider: FederationProvider;
  /** The pool's token issuer and the user's `sub`: the identity the membership is for. */
  readonly issuer: string;
  readonly subject: string;
  readonly roles: readonly string[];
  readonly requestId: string;
}

/** Makes the membership match the IdP; returns it, or throws ForbiddenError to refuse the sign-in. */
export async function syncFederatedMember(
  context: FederationContext,
  request: FederatedMemberRequest,
): Promise<Member> {
  const { tenantId } = request.provider;
  const client = context.clients.forTenant(tenantId);
  const identityId = identityIdOf(request.issuer, request.subject);
  const existing = await context.members.get(client, tenantId, identityId);
  if (existing && existing.status !== 'active') {
    throw new ForbiddenError(`The member is ${existing.status} in tenant ${tenantId}.`);
  }
  const roles = [...request.roles].sort();
  if (existing && [...existing.roles].sort().join(',') === roles.join(',')) return existing;
  const now = context.now();
  const member: Member = {
    tenantId,
    identityId,
    issuer: request.issuer,
    subject: request.subject,
    roles,
    status: 'active',
    createdAt: existing?.createdAt ?? now.toISOString(),
    version: existing ? versionOf(existing) + 1 : 1,
    ...(existing ? { updatedAt: now.toISOString() } : {}),
  };
  await context.mutations.commit(client, {
    tenantId,
    writes: [context.members.write(member, existing)],
    entry: accessEntry(
      {
        tenantId,
        actor: { id: `idp:${request.provider.name}`, kind: 'system' },
        action: existing ? 'member.federated-update' : 'member.federated-join',
        target: { type: 'member', id: identityId },
        outcome: 'success',
        requestId: request.requestId,
        detail: { roles, provider: request.provider.name },
        itemState: member,
      },
      now,
    ),
    now,
  });
  return member;
}
