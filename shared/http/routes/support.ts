/**
 * Support grants (AZ-5): the owner lets the platform operator act in the tenant, with
 * chosen roles, for a limited time; every operator request under it is audited in the
 * tenant's log. Auditors and admins can see the grants.
 */
import { type RouteDefinition, signedIn, tenantPeople } from '../route-definition';
import {
  createSupportGrantBody,
  supportGrantIdParams,
  supportGrantListResponse,
  supportGrantView,
} from '../schemas/support';

export const supportRoutes: readonly RouteDefinition[] = [
  {
    id: 'listSupportGrants',
    method: 'GET',
    path: '/support-grants',
    group: 'support',
    summary: "The tenant's support grants, newest first, with their state.",
    permission: 'support:read',
    principals: signedIn,
    response: supportGrantListResponse,
    successStatus: 200,
  },
  {
    id: 'createSupportGrant',
    method: 'POST',
    path: '/support-grants',
    group: 'support',
    summary: 'Let the platform operator act in the tenant with the given roles for a limited time.',
    permission: 'support:grant',
    principals: tenantPeople,
    body: createSupportGrantBody,
    response: supportGrantView,
    successStatus: 201,
  },
  {
    id: 'revokeSupportGrant',
    method: 'DELETE',
    path: '/support-grants/{id}',
    group: 'support',
    summary: 'End a support grant now; the operator is out within the authorizer cache (60 s).',
    permission: 'support:grant',
    principals: tenantPeople,
    params: supportGrantIdParams,
    successStatus: 204,
  },
];
