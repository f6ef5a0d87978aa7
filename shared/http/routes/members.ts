/**
 * Members of the tenant (AZ-1, AUTH-6): owners and admins invite people with roles, change
 * roles, disable and remove them, never above their own roles (canGrant). Reading is open
 * to every principal with `member:read`; changes are made by people only.
 */
import { type RouteDefinition, signedIn, tenantPeople } from '../route-definition';
import {
  inviteMemberBody,
  memberIdParams,
  memberListQuery,
  memberListResponse,
  memberView,
  updateMemberBody,
} from '../schemas/members';

export const memberRoutes: readonly RouteDefinition[] = [
  {
    id: 'listMembers',
    method: 'GET',
    path: '/members',
    group: 'members',
    summary: 'Members of the tenant (active and disabled), in id order, one page at a time.',
    permission: 'member:read',
    principals: signedIn,
    query: memberListQuery,
    response: memberListResponse,
    successStatus: 200,
  },
  {
    id: 'getMember',
    method: 'GET',
    path: '/members/{id}',
    group: 'members',
    summary: 'One member of the tenant; the ETag carries its version.',
    permission: 'member:read',
    principals: signedIn,
    params: memberIdParams,
    response: memberView,
    successStatus: 200,
  },
  {
    id: 'inviteMember',
    method: 'POST',
    path: '/members',
    group: 'members',
    summary:
      'Invite a person by email with roles no higher than your own; the user pool sends the invitation.',
    permission: 'member:write',
    principals: tenantPeople,
    body: inviteMemberBody,
    response: memberView,
    successStatus: 201,
  },
  {
    id: 'updateMember',
    method: 'PATCH',
    path: '/members/{id}',
    group: 'members',
    summary: 'Change the roles or status (active, disabled) of another member; needs If-Match.',
    permission: 'member:write',
    principals: tenantPeople,
    params: memberIdParams,
    body: updateMemberBody,
    response: memberView,
    successStatus: 200,
  },
  {
    id: 'removeMember',
    method: 'DELETE',
    path: '/members/{id}',
    group: 'members',
    summary: 'Remove another member; their tokens stop working within the authorizer cache (60 s).',
    permission: 'member:write',
    principals: tenantPeople,
    params: memberIdParams,
    successStatus: 204,
  },
];
