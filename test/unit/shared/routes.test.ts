import { describe, expect, it } from 'vitest';
import { findRoute, matchPath, routes } from '#shared/http/routes';
import { isPermission, permissionsOf, roles } from '#shared/rbac/permissions';

describe('[AZ-1] the route table', () => {
  it('gives every route one permission from the catalogue, or marks it public', () => {
    for (const route of routes) {
      expect(route.permission === 'public' || isPermission(route.permission), route.id).toBe(true);
    }
  });

  it('has unique operation ids and unique method+path pairs', () => {
    expect(new Set(routes.map((route) => route.id)).size).toBe(routes.length);
    expect(new Set(routes.map((route) => `${route.method} ${route.path}`)).size).toBe(routes.length);
  });

  it('declares a body schema exactly for routes that take one', () => {
    for (const route of routes) {
      if (route.method === 'GET') expect(route.body, route.id).toBeUndefined();
      if (route.method === 'POST') expect(route.body, route.id).toBeDefined();
    }
  });

  it('matches concrete paths to templates', () => {
    expect(matchPath('/invoices/inv_1')).toEqual([{ resource: '/invoices/{id}', params: { id: 'inv_1' } }]);
    expect(matchPath('/invoices/')).toEqual([]);
    expect(findRoute('POST', '/invoices')?.id).toBe('createInvoice');
    expect(findRoute('DELETE', '/invoices')).toBeUndefined();
  });
});

describe('[AZ-4] the default roles', () => {
  it('never lets an agent approve, pay, export or administer', () => {
    const agent = permissionsOf(['agent']);
    for (const forbidden of [
      'invoice:approve',
      'invoice:issue',
      'payment:create',
      'export:create',
      'member:write',
      'apikey:write',
      'settings:write',
      'tenant:terminate',
      'support:grant',
    ] as const) {
      expect(agent.has(forbidden), forbidden).toBe(false);
    }
  });

  it('keeps the auditor read-only and grants nothing for unknown roles', () => {
    expect([...permissionsOf(['auditor'])].every((permission) => permission.endsWith(':read'))).toBe(true);
    expect(permissionsOf(['root', 'superuser']).size).toBe(0);
    expect(roles.owner.length).toBeGreaterThan(roles.admin.length);
  });
});
