/** The shape of a route in the route table (shared/http/routes.ts). */
import type { z } from 'zod';
import type { Permission } from '#shared/rbac/permissions';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who may call a route: Cognito users, API keys, agent API keys, or anyone. */
export type PrincipalKind = 'user' | 'apiKey' | 'agent' | 'public';

/** A route group is one Lambda function: `functions/<group>/handler.ts` exporting `handler`. */
export type RouteGroup = 'public' | 'invoices' | 'audit';

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
  /** Content type of the success response. */
  readonly responseContentType?: string;
}

export const signedIn: readonly PrincipalKind[] = ['user', 'apiKey', 'agent'];
