/**
 * The caller as the authorizer established it. The authorizer passes it to route
 * handlers through the API Gateway authorizer context (string values only).
 */
import type { PrincipalKind } from '#shared/http/routes';

export interface Principal {
  readonly kind: Exclude<PrincipalKind, 'public'>;
  /** Pseudonymous member id or API key id (never an email: DAT-3). */
  readonly actorId: string;
  readonly tenantId: string;
  readonly roles: readonly string[];
  /** For an operator: the owner's support grant it acts under (AZ-5). */
  readonly supportGrantId?: string;
}

/** The flat authorizer context API Gateway forwards (values must be strings). */
export interface AuthorizerContext {
  readonly kind: string;
  readonly actorId: string;
  readonly tenantId: string;
  /** Roles joined with commas. */
  readonly roles: string;
  /** Only for operators under a support grant. */
  readonly supportGrantId?: string;
}

export function toAuthorizerContext(principal: Principal): AuthorizerContext {
  return {
    kind: principal.kind,
    actorId: principal.actorId,
    tenantId: principal.tenantId,
    roles: principal.roles.join(','),
    ...(principal.supportGrantId === undefined ? {} : { supportGrantId: principal.supportGrantId }),
  };
}

const principalKinds = new Set(['user', 'apiKey', 'agent', 'operator']);

/** Reads the principal back from the authorizer context; undefined when absent or malformed. */
export function fromAuthorizerContext(
  context: Record<string, unknown> | null | undefined,
): Principal | undefined {
  if (!context) return undefined;
  const { kind, actorId, tenantId, roles, supportGrantId } = context;
  if (typeof kind !== 'string' || !principalKinds.has(kind)) return undefined;
  if (typeof actorId !== 'string' || actorId === '') return undefined;
  if (typeof tenantId !== 'string' || !/^[a-z0-9-]+$/.test(tenantId)) return undefined;
  if (typeof roles !== 'string') return undefined;
  // An operator without its grant is no principal at all: it never reaches a handler.
  if (kind === 'operator' && (typeof supportGrantId !== 'string' || supportGrantId === '')) return undefined;
  return {
    kind: kind as Principal['kind'],
    actorId,
    tenantId,
    roles: roles.split(',').filter((role) => role !== ''),
    ...(kind === 'operator' ? { supportGrantId: supportGrantId as string } : {}),
  };
}
