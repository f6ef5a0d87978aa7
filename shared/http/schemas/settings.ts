/** Tenant settings schemas (AZ-2: approval limits and dual approval). */
import { z } from 'zod';
import { minorUnits } from './common';

const memberId = z
  .string()
  .regex(/^usr_[A-Za-z0-9_-]{1,64}$|^key_[A-Za-z0-9_-]{1,64}$/, 'must be a member id');

export const settingsBody = z.strictObject({
  invoiceNumberPrefix: z.string().regex(/^[A-Z0-9-]{0,12}$/, 'must be up to 12 of A-Z, 0-9 and -'),
  approval: z.strictObject({
    dualApprovalThreshold: minorUnits,
    defaultApproverLimit: minorUnits.nullable(),
    approverLimits: z.record(memberId, minorUnits).refine((limits) => Object.keys(limits).length <= 500, {
      message: 'at most 500 individual limits',
    }),
  }),
});
export type SettingsBody = z.infer<typeof settingsBody>;

export const settingsResponse = settingsBody.extend({
  version: z.number().int(),
  updatedAt: z.string().optional(),
  updatedBy: z.string().optional(),
});
