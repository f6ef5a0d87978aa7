/** Support-grant and onboarding schemas (AZ-5). */
import { z } from 'zod';
import { supportGrantRoles } from '#shared/rbac/permissions';

export const supportGrantId = z.string().regex(/^sgr_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a support grant id');
export const supportGrantIdParams = z.strictObject({ id: supportGrantId });

export const createSupportGrantBody = z.strictObject({
  /** The roles the operator may act with: reading, a maker's or a checker's; never administration. */
  roles: z
    .array(z.enum(supportGrantRoles))
    .min(1)
    .max(supportGrantRoles.length)
    .refine((list) => new Set(list).size === list.length, { message: 'must not repeat a role' }),
  /** How long the grant lasts: 15 minutes to 7 days. */
  durationMinutes: z
    .number()
    .int()
    .min(15)
    .max(7 * 24 * 60),
});
export type CreateSupportGrantBody = z.infer<typeof createSupportGrantBody>;

export const supportGrantView = z.strictObject({
  id: supportGrantId,
  roles: z.array(z.string()),
  status: z.enum(['active', 'expired', 'revoked']),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().optional(),
  version: z.number().int(),
  auditEntryId: z.string().optional(),
});

export const supportGrantListResponse = z.strictObject({ items: z.array(supportGrantView) });

export const createTenantBody = z.strictObject({
  /** `[a-z0-9-]+`, at most 63 characters, not reserved. */
  tenantId: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must match [a-z0-9-]+'),
  /** Where the owner's invitation goes; not stored by Strongroom (DAT-3). */
  ownerEmail: z.email().max(254),
});
export type CreateTenantBody = z.infer<typeof createTenantBody>;

export const tenantView = z.strictObject({
  tenantId: z.string(),
  status: z.literal('active'),
  createdAt: z.string(),
  /** The owner's member id. */
  ownerId: z.string(),
  keys: z.record(z.string(), z.string()),
});
