/**
 * The route table: the single source of truth for the API (DESIGN.md). The CDK stack
 * builds API Gateway methods and one function per route group from it, the local
 * gateway dispatches from it, and the authorization tests iterate it.
 */
import type { z } from 'zod';
import type { Permission } from '#shared/rbac/permissions';
import * as schemas from './schemas';

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

const signedIn: readonly PrincipalKind[] = ['user', 'apiKey', 'agent'];

export const routes: readonly RouteDefinition[] = [
  {
    id: 'getHealth',
    method: 'GET',
    path: '/health',
    group: 'public',
    summary: 'Liveness of the API.',
    permission: 'public',
    principals: ['public'],
    response: schemas.healthResponse,
    successStatus: 200,
  },
  {
    id: 'getSecurityTxt',
    method: 'GET',
    path: '/.well-known/security.txt',
    group: 'public',
    summary: 'RFC 9116 security contact information.',
    permission: 'public',
    principals: ['public'],
    successStatus: 200,
    responseContentType: 'text/plain; charset=utf-8',
  },
  {
    id: 'createInvoice',
    method: 'POST',
    path: '/invoices',
    group: 'invoices',
    summary: 'Create a draft invoice.',
    permission: 'invoice:create',
    principals: signedIn,
    body: schemas.createInvoiceBody,
    response: schemas.invoiceResponse,
    successStatus: 201,
  },
  {
    id: 'listInvoices',
    method: 'GET',
    path: '/invoices',
    group: 'invoices',
    summary: 'List invoices, newest first, one page at a time.',
    permission: 'invoice:read',
    principals: signedIn,
    query: schemas.pageQuery,
    response: schemas.invoiceListResponse,
    successStatus: 200,
  },
  {
    id: 'getInvoice',
    method: 'GET',
    path: '/invoices/{id}',
    group: 'invoices',
    summary: 'Read one invoice.',
    permission: 'invoice:read',
    principals: signedIn,
    params: schemas.invoiceIdParams,
    response: schemas.invoiceResponse,
    successStatus: 200,
  },
  {
    id: 'listAuditEntries',
    method: 'GET',
    path: '/audit/entries',
    group: 'audit',
    summary: 'Audit entries in log order, filtered by action, actor or target, one page at a time (AUD-4).',
    permission: 'audit:read',
    principals: signedIn,
    query: schemas.auditEntriesQuery,
    response: schemas.auditEntryListResponse,
    successStatus: 200,
  },
  {
    id: 'getAuditEntry',
    method: 'GET',
    path: '/audit/entries/{id}',
    group: 'audit',
    summary: 'One audit entry with its RFC 9162 inclusion proof against a signed checkpoint (AUD-3).',
    permission: 'audit:read',
    principals: signedIn,
    params: schemas.auditEntryParams,
    query: schemas.auditEntryQuery,
    response: schemas.auditEntryWithProofResponse,
    successStatus: 200,
  },
  {
    id: 'getConsistencyProof',
    method: 'GET',
    path: '/audit/consistency',
    group: 'audit',
    summary: 'RFC 9162 consistency proof between two tree sizes, up to the latest signed checkpoint (AUD-3).',
    permission: 'audit:read',
    principals: signedIn,
    query: schemas.consistencyQuery,
    response: schemas.consistencyResponse,
    successStatus: 200,
  },
  {
    id: 'getLatestCheckpoint',
    method: 'GET',
    path: '/audit/checkpoints/latest',
    group: 'audit',
    summary: "The latest signed checkpoint of the tenant's audit log (C2SP signed note).",
    permission: 'audit:read',
    principals: signedIn,
    response: schemas.checkpointView,
    successStatus: 200,
  },
  {
    id: 'getAuditKeys',
    method: 'GET',
    path: '/audit/keys',
    group: 'audit',
    summary: 'The published checkpoint signing keys, current and previous, for verifiers.',
    permission: 'audit:read',
    principals: signedIn,
    response: schemas.publishedKeysResponse,
    successStatus: 200,
  },
];

export const routeGroups: readonly RouteGroup[] = [...new Set(routes.map((route) => route.group))];

/** The handler module of a route group, relative to the project root. */
export function handlerModule(group: RouteGroup): string {
  return `functions/${group}/handler.ts`;
}

/** The authorizer's module, relative to the project root. */
export const authorizerModule = 'functions/authorizer/handler.ts';

export function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

const byKey = new Map(routes.map((route) => [routeKey(route.method, route.path), route]));

/** The route declared for an API Gateway method and resource path, if any. */
export function findRoute(method: string, resourcePath: string): RouteDefinition | undefined {
  return byKey.get(routeKey(method, resourcePath));
}

/** Routes whose path template matches a concrete path, with the extracted path parameters. */
export function matchPath(
  concretePath: string,
): { readonly resource: string; readonly params: Record<string, string> }[] {
  const matches: { resource: string; params: Record<string, string> }[] = [];
  const seen = new Set<string>();
  for (const route of routes) {
    if (seen.has(route.path)) continue;
    const params = matchTemplate(route.path, concretePath);
    if (params) {
      seen.add(route.path);
      matches.push({ resource: route.path, params });
    }
  }
  return matches;
}

function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const templateParts = template.split('/');
  const pathParts = path.split('/');
  if (templateParts.length !== pathParts.length) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < templateParts.length; index++) {
    const expected = templateParts[index] ?? '';
    const actual = pathParts[index] ?? '';
    const name = /^\{(\w+)\}$/.exec(expected)?.[1];
    if (name !== undefined) {
      if (actual === '') return undefined;
      params[name] = actual;
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return params;
}

// A route without a permission or principals fails at import time, so the build fails (AZ-1).
for (const route of routes) {
  if (!route.permission) throw new Error(`route ${route.id} declares no permission`);
  if (route.principals.length === 0) throw new Error(`route ${route.id} allows no principal kind`);
  if ((route.permission === 'public') !== route.principals.includes('public')) {
    throw new Error(`route ${route.id}: public permission and public principal must go together`);
  }
}
