/** Tenant lifecycle schemas (DAT-2). */
import { z } from 'zod';

export const terminationBody = z.strictObject({
  /** The tenant's id typed again: termination is never one stray click. */
  confirmTenantId: z.string().min(1).max(63),
});
export type TerminationBody = z.infer<typeof terminationBody>;

export const lifecycleView = z.strictObject({
  tenantId: z.string(),
  status: z.enum(['active', 'terminated', 'purged']),
  terminatedAt: z.string().optional(),
  exportableUntil: z.string().optional(),
});
