/**
 * Platform routes: the platform operator (a member of the reserved `platform` tenant with
 * the `operator` role) onboards tenants. No tenant role holds `tenant:create`.
 */
import { type RouteDefinition, tenantPeople } from '../route-definition';
import { createTenantBody, tenantView } from '../schemas/support';

export const tenantRoutes: readonly RouteDefinition[] = [
  {
    id: 'createTenant',
    method: 'POST',
    path: '/tenants',
    group: 'tenants',
    summary:
      "Onboard a tenant: register its id, invite its owner, start its audit log (the tenant's keys come from the KeyService).",
    permission: 'tenant:create',
    principals: tenantPeople,
    body: createTenantBody,
    response: tenantView,
    successStatus: 201,
  },
];
