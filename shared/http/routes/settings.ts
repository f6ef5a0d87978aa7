/** Tenant settings routes: owners and admins tune the approval workflow (AZ-2). */
import { type RouteDefinition, signedIn } from '../route-definition';
import { settingsBody, settingsResponse } from '../schemas/settings';

export const settingsRoutes: readonly RouteDefinition[] = [
  {
    id: 'getSettings',
    method: 'GET',
    path: '/settings',
    group: 'settings',
    summary: "The tenant's settings; the ETag carries their version.",
    permission: 'settings:read',
    principals: signedIn,
    response: settingsResponse,
    successStatus: 200,
  },
  {
    id: 'updateSettings',
    method: 'PUT',
    path: '/settings',
    group: 'settings',
    summary: 'Replace the tenant settings: invoice number prefix, approval limits, dual-approval threshold.',
    permission: 'settings:write',
    principals: ['user'],
    body: settingsBody,
    response: settingsResponse,
    successStatus: 200,
    requiresIfMatch: true,
  },
];
