/** Members API schemas (AZ-1): people of the tenant, their roles and status. Emails only go in. */
import { z } from 'zod';
import { personRoles } from '#shared/rbac/permissions';
import { identityIdPattern } from '#shared/store/members';

export const personRole = z.enum(personRoles);

/** One to five distinct person roles (integration and agent roles belong to API keys). */
export const personRoleList = z
  .array(personRole)
  .min(1)
  .max(personRoles.length)
  .refine((list) => new Set(list).size === list.length, { message: 'must not repeat a role' });

export const memberId = z.string().regex(identityIdPattern, 'must be a member id');

export const memberIdParams = z.strictObject({ id: memberId });

export const inviteMemberBody = z.strictObject({
  /** Where Cognito sends the invitation; never stored by Strongroom (DAT-3). */
  email: z.email().max(254),
  roles: personRoleList,
});
export type InviteMemberBody = z.infer<typeof inviteMemberBody>;

export const updateMemberBody = z
  .strictObject({
    roles: personRoleList.optional(),
    status: z.enum(['active', 'disabled']).optional(),
  })
  .refine((body) => body.roles !== undefined || body.status !== undefined, {
    message: 'must change roles, status or both',
  });
export type UpdateMemberBody = z.infer<typeof updateMemberBody>;

export const memberView = z.strictObject({
  id: memberId,
  roles: z.array(z.string()),
  status: z.enum(['active', 'disabled']),
  createdAt: z.string(),
  updatedAt: z.string().optional(),
  version: z.number().int(),
  auditEntryId: z.string().optional(),
});

export const memberListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(200).optional(),
});

export const memberListResponse = z.strictObject({
  items: z.array(memberView),
  nextCursor: z.string().optional(),
});
