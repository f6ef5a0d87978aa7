/**
 * The platform operator in a customer's tenant (AZ-5). An operator is a member of the
 * reserved `platform` tenant with the `operator` role; naming another tenant with
 * `x-strongroom-tenant` gets it in only while that tenant's owner has an active,
 * unexpired support grant, and then only with the grant's roles. Every request under a
 * grant is written to the tenant's own audit log before it is let through; if that
 * write fails, the request is refused (fail closed).
 *
 * Grants are read with the authorizer's platform role and cached at most 60 s, like
 * memberships: a revoked grant stops working within a minute, an expired one at once.
 */
import type { Principal } from '#shared/auth/principal';
import { supportGrantRoles } from '#shared/rbac/permissions';
import type { AccessAuditor } from '#shared/services/access-audit';
import type { DataClients } from '#shared/store/dynamo';
import { isGrantActive, type SupportGrant, type SupportGrantStore } from '#shared/store/support-grants';
import { TtlCache } from './ttl-cache';

export interface SupportAccessDependencies {
  readonly grants: Pick<SupportGrantStore, 'list'>;
  readonly clients: Pick<DataClients, 'platform'>;
  readonly auditor: AccessAuditor;
  readonly now: () => number;
  /** @default 60 s */
  readonly cacheTtlMs?: number;
}

export interface OperatorRequest {
  readonly operatorId: string;
  readonly tenantId: string;
  readonly method: string;
  readonly resource: string;
  readonly requestId: string;
}

export class SupportAccess {
  readonly #deps: SupportAccessDependencies;
  readonly #cache: TtlCache<SupportGrant[]>;

  constructor(deps: SupportAccessDependencies) {
    this.#deps = deps;
    this.#cache = new TtlCache(deps.cacheTtlMs ?? 60_000, deps.now);
  }

  /** The operator's principal in the tenant under an active grant, or undefined (deny). */
  async authorize(request: OperatorRequest): Promise<Principal | undefined> {
    const grants = await this.#cache.getOrLoad(request.tenantId, () =>
      this.#deps.grants.list(this.#deps.clients.platform(), request.tenantId),
    );
    const now = this.#deps.now();
    // The newest active grant wins; grants never add up.
    const grant = grants.find((each) => isGrantActive(each, now));
    if (grant === undefined) return undefined;
    await this.#deps.auditor.record({
      tenantId: request.tenantId,
      actor: { id: request.operatorId, kind: 'operator' },
      action: 'support.access',
      target: { type: 'supportGrant', id: grant.grantId },
      outcome: 'success',
      requestId: request.requestId,
      detail: { method: request.method, resource: request.resource, roles: [...grant.roles] },
    });
    return {
      kind: 'operator',
      actorId: request.operatorId,
      tenantId: request.tenantId,
      // Only roles a grant may give, whatever the stored item says (defence in depth).
      roles: grant.roles.filter((role) => (supportGrantRoles as readonly string[]).includes(role)),
      supportGrantId: grant.grantId,
    };
  }
}
