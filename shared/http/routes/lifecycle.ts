/**
 * Tenant lifecycle routes (DAT-2): the owner terminates the tenant, which turns read-only
 * at once and stays exportable for 30 days before the purge. Listed last in the route
 * table: a termination ends every other route's writes for that tenant.
 */
import { type RouteDefinition, signedIn, tenantPeople } from '../route-definition';
import { lifecycleView, terminationBody } from '../schemas/lifecycle';

export const lifecycleRoutes: readonly RouteDefinition[] = [
  {
    id: 'getTermination',
    method: 'GET',
    path: '/termination',
    group: 'lifecycle',
    summary: "The tenant's lifecycle: active, or terminated with the time and the end of the export window.",
    permission: 'settings:read',
    principals: signedIn,
    response: lifecycleView,
    successStatus: 200,
  },
  {
    id: 'terminateTenant',
    method: 'POST',
    path: '/termination',
    group: 'lifecycle',
    summary:
      'Terminate the tenant (owner only): read-only at once, exportable for 30 days, then purged and its key deleted.',
    permission: 'tenant:terminate',
    principals: tenantPeople,
    body: terminationBody,
    response: lifecycleView,
    successStatus: 202,
  },
];
