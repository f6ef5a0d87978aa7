/**
 * The middy middlewares of every route handler, in the order the stack registers them:
 * route resolution and logging context, security headers, permission check, body
 * limit and strict JSON parsing, schema validation, and the problem-details mapper,
 * registered last so that it runs first on error.
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import { fromAuthorizerContext } from '#shared/auth/principal';
import { maxJsonDepth, maxRequestBodyBytes } from '#shared/config/product';
import {
  ForbiddenError,
  MalformedRequestError,
  NotFoundError,
  PayloadTooLargeError,
  StrongroomError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '#shared/domain/errors';
import { logger } from '#shared/observability/logger';
import { permissionsOf } from '#shared/rbac/permissions';
import { problem, problemResponse } from './problem';
import type { OperationRequest } from './request';
import { findRoute, type RouteGroup } from './routes';
import { securityHeaders as securityHeaderValues } from './security-headers';
import { parseStrictJson } from './strict-json';

/** The operation request as the middlewares build it up, per event. */
const operationRequests = new WeakMap<APIGatewayProxyEvent, OperationRequest>();

type Middleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error>;
type MiddyRequest = Parameters<NonNullable<Middleware['before']>>[0];

/** The operation request built for an event; the route handler's dispatch reads it. */
export function operationRequestOf(event: APIGatewayProxyEvent): OperationRequest {
  const operationRequest = operationRequests.get(event);
  if (!operationRequest) throw new Error('route context middleware did not run');
  return operationRequest;
}

function stateOf(request: MiddyRequest): { request: OperationRequest } {
  return { request: operationRequestOf(request.event) };
}

function replaceRequest(request: MiddyRequest, changes: Partial<OperationRequest>): void {
  operationRequests.set(request.event, { ...operationRequestOf(request.event), ...changes });
}

/** Resolves the route from the API Gateway resource and adds request and tenant ids to logs. */
export function routeContext(group: RouteGroup): Middleware {
  return {
    before: (request) => {
      const { event } = request;
      const route = findRoute(event.httpMethod, event.resource);
      if (!route || route.group !== group) throw new NotFoundError('No such resource.');
      const principal = fromAuthorizerContext(event.requestContext.authorizer);
      const requestId = event.requestContext.requestId;
      logger.appendKeys({
        requestId,
        route: route.id,
        tenantId: principal?.tenantId,
        actorId: principal?.actorId,
      });
      operationRequests.set(event, {
        route,
        principal,
        params: event.pathParameters ?? {},
        query: event.queryStringParameters ?? {},
        body: undefined,
        headers: event.headers ?? {},
        requestId,
        idempotencyKey: undefined,
        agentReason: undefined,
      });
    },
    after: () => logger.resetKeys(),
    onError: () => logger.resetKeys(),
  };
}

/** API-2 and ENC-1: the same headers on every response, errors included. */
export function securityHeaders(): Middleware {
  const add = (request: MiddyRequest) => {
    if (request.response) request.response.headers = { ...request.response.headers, ...securityHeaderValues };
  };
  return { after: add, onError: add };
}

/** AZ-1: default deny; the route's one permission must be granted to the principal's roles. */
export function authorization(): Middleware {
  return {
    before: (request) => {
      const { route, principal } = stateOf(request).request;
      if (route.permission === 'public') return;
      if (!principal) throw new UnauthorizedError('A valid access token or API key is required.');
      if (!route.principals.includes(principal.kind)) {
        throw new ForbiddenError(`A ${principal.kind} principal may not call ${route.id}.`);
      }
      if (!permissionsOf(principal.roles).has(route.permission)) {
        throw new ForbiddenError(`This action needs the ${route.permission} permission.`);
      }
    },
  };
}

const idempotencyKeyPattern = /^[\x21-\x7e]{1,128}$/;

/** Header in which agents state why they make a change (AZ-4). */
export const agentReasonHeader = 'x-strongroom-reason';

/**
 * API-3 and AZ-4 on writes: a well-formed Idempotency-Key when given, and from an agent
 * a stated reason, recorded in the audit entry with a digest of its inputs.
 */
export function writeHeaders(): Middleware {
  return {
    before: (request) => {
      const { route, headers, principal } = stateOf(request).request;
      if (route.method === 'GET') return;
      const idempotencyKey = headers['idempotency-key'];
      if (idempotencyKey !== undefined && !idempotencyKeyPattern.test(idempotencyKey)) {
        throw new ValidationError('Idempotency-Key must be 1 to 128 visible ASCII characters.');
      }
      const reason = headers[agentReasonHeader]?.trim();
      if (principal?.kind === 'agent' && (reason === undefined || reason === '' || reason.length > 1000)) {
        throw new ValidationError(
          `An agent must state its reason in ${agentReasonHeader} (1 to 1000 characters).`,
        );
      }
      replaceRequest(request, {
        idempotencyKey,
        agentReason: principal?.kind === 'agent' ? reason : undefined,
      });
    },
  };
}

const jsonContentType = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** API-1: bounded size, JSON only, strictly parsed; routes without a body refuse one. */
export function jsonBody(): Middleware {
  return {
    before: (request) => {
      const { event } = request;
      const { route, headers } = stateOf(request).request;
      const raw = event.body ?? '';
      const size = Buffer.byteLength(raw, event.isBase64Encoded ? 'base64' : 'utf8');
      if (size > maxRequestBodyBytes) {
        throw new PayloadTooLargeError(`The request body exceeds ${maxRequestBodyBytes} bytes.`);
      }
      if (!route.body) {
        if (size > 0) throw new MalformedRequestError('This operation takes no request body.');
        return;
      }
      // No body at all: the route's schema decides whether that is allowed.
      if (size === 0) return;
      if (!jsonContentType.test(headers['content-type'] ?? '')) {
        throw new UnsupportedMediaTypeError('The request body must be application/json.');
      }
      let text: string;
      try {
        text = event.isBase64Encoded ? strictUtf8.decode(Buffer.from(raw, 'base64')) : raw;
      } catch {
        throw new MalformedRequestError('The request body is not valid UTF-8.');
      }
      replaceRequest(request, { body: parseStrictJson(text, maxJsonDepth) });
    },
  };
}

/** API-1: path parameters, query and body against the route's zod schemas (unknown fields refused). */
export function validation(): Middleware {
  return {
    before: (request) => {
      const { event } = request;
      const current = stateOf(request).request;
      for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
        if ((values?.length ?? 0) > 1)
          throw new ValidationError(`The query parameter ${name} is given more than once.`);
      }
      const params = parse('path', current.route.params, current.params);
      const query = parse('query', current.route.query, current.query);
      const body = current.route.body ? parse('body', current.route.body, current.body) : undefined;
      replaceRequest(request, { params, query, body });
    },
  };
}

function parse(where: 'path' | 'query' | 'body', schema: z.ZodType | undefined, value: unknown): unknown {
  if (!schema) {
    const empty =
      value === undefined || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
    if (!empty) throw new ValidationError(`This operation takes no ${where} parameters.`);
    return value;
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.slice(0, 20).map((issue) => ({
    in: where,
    pointer: `/${issue.path.map((part) => String(part).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`,
    detail: issue.message,
  }));
  throw new ValidationError(`The request ${where} does not match the schema.`, { errors });
}

/**
 * One mapper from errors to RFC 9457 responses. Named errors below 500 show their
 * message; anything else is logged and answered with a generic 500 with no internals.
 */
export function problemDetails(): Middleware {
  return {
    onError: (request) => {
      const { error } = request;
      const requestId = request.event.requestContext?.requestId;
      if (error instanceof StrongroomError && error.status < 500) {
        // One structured line per refusal, so denials can be counted per route and tenant
        // (AUD-5); request and tenant ids come from the logger's keys, no request data.
        logger.info('request refused', { status: error.status, code: error.code });
        request.response = problemResponse(
          problem(error.status, error.code, error.message, { ...error.extensions, requestId }),
        );
        return;
      }
      if (error instanceof StrongroomError) {
        logger.warn('request failed', { code: error.code });
        request.response = problemResponse(problem(error.status, error.code, undefined, { requestId }), {
          'Retry-After': '1',
        });
        return;
      }
      logger.error('unhandled error', { error });
      request.response = problemResponse(
        problem(500, 'internal-error', 'An internal error occurred.', { requestId }),
      );
    },
  };
}
