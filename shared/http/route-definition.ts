/** The shape of a route in the route table (shared/http/routes.ts). */
import type { z } from 'zod';
import type { Permission } from '#shared/rbac/permissions';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route: Cognito users (members of the tenant), API keys, agent API keys,
 * the platform operator acting in a tenant under its owner's support grant (AZ-5), or anyone.
 */
export type PrincipalKind = 'user' | 'apiKey' | 'agent' | 'operator' | 'public';

/** A route group is one Lambda function: `functions/<group>/handler.ts` exporting `handler`. */
export type RouteGroup =
  | 'public'
  | 'invoices'
  | 'counterparties'
  | 'settings'
  | 'audit'
  | 'members'
  | 'api-keys'
  | 'support'
  | 'tenants'
  | 'exports'
  | 'lifecycle';

export interface RouteDefinition {
  /** Stable operation id, used as OpenAPI operationId and in logs. */
  readonly id: string;
  readonly method: HttpMethod;
  /** Path in API Gateway form, e.g. `/invoices/{id}`. */
  readonly path: string;
  readonly group: RouteGroup;
  readonly summary: string;
  /** The one permission this route needs, or `public` for unauthenticated routes (AZ-1). */
  readonly permission: Permission | 'public';
  readonly principals: readonly PrincipalKind[];
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  /** Response body schema for the success status. */
  readonly response?: z.ZodType;
  readonly successStatus: number;
  /** Whether the request must carry If-Match with the version it read (API-3). */
  readonly requiresIfMatch?: boolean;
  /** Content type of the success response. */
  readonly responseContentType?: string;
}

/**
 * Every authenticated principal; the route's permission then decides (an operator holds
 * only the roles of its support grant).
 */
export const signedIn: readonly PrincipalKind[] = ['user', 'apiKey', 'agent', 'operator'];

/** People of the tenant only: administration (members, keys, grants) is never done by a key or agent. */
export const tenantPeople: readonly PrincipalKind[] = ['user'];
