/**
 * The route table: the single source of truth for the API (DESIGN.md). The CDK stack
 * builds API Gateway methods and one function per route group from it, the local
 * gateway dispatches from it, and the authorization tests iterate it.
 */
import type { RouteDefinition, RouteGroup } from './route-definition';
import { apiKeyRoutes } from './routes/api-keys';
import { auditRoutes } from './routes/audit';
import { counterpartyRoutes } from './routes/counterparties';
import { exportRoutes } from './routes/exports';
import { invoiceRoutes } from './routes/invoices';
import { lifecycleRoutes } from './routes/lifecycle';
import { memberRoutes } from './routes/members';
import { publicRoutes } from './routes/public';
import { settingsRoutes } from './routes/settings';
import { supportRoutes } from './routes/support';
import { tenantRoutes } from './routes/tenants';

export type { HttpMethod, PrincipalKind, RouteDefinition, RouteGroup } from './route-definition';

export const routes: readonly RouteDefinition[] = [
  ...publicRoutes,
  ...invoiceRoutes,
  ...settingsRoutes,
  ...auditRoutes,
  ...counterpartyRoutes,
  ...memberRoutes,
  ...apiKeyRoutes,
  ...supportRoutes,
  ...tenantRoutes,
  ...exportRoutes,
  // Last: a termination ends the writes of every route before it (the matrix relies on it).
  ...lifecycleRoutes,
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
