/**
 * What route operations receive and return. Operations are plain async functions: the
 * middleware stack has already resolved the route, checked the permission, parsed and
 * validated the input, so `params`, `query` and `body` match the route's schemas.
 */
import type { Principal } from '#shared/auth/principal';
import type { RouteDefinition } from './routes';

export interface OperationRequest {
  readonly route: RouteDefinition;
  /** Undefined only on public routes. */
  readonly principal: Principal | undefined;
  readonly params: unknown;
  readonly query: unknown;
  readonly body: unknown;
  /** Request headers with lower-case names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly requestId: string;
  /** The validated Idempotency-Key of a POST, if the client sent one (API-3). */
  readonly idempotencyKey: string | undefined;
  /** An agent's stated reason for a change (AZ-4); required of agents on every write. */
  readonly agentReason: string | undefined;
}

export interface OperationResponse {
  /** Defaults to the route's success status. */
  readonly status?: number;
  /** Serialized as JSON unless `text` is given. */
  readonly body?: unknown;
  readonly text?: string;
  readonly headers?: Record<string, string>;
}

export type Operation = (request: OperationRequest) => Promise<OperationResponse>;

/** The principal of a signed-in route; the authorization middleware guarantees it. */
export function signedInPrincipal(request: OperationRequest): Principal {
  if (!request.principal) throw new Error(`route ${request.route.id} ran without a principal`);
  return request.principal;
}
