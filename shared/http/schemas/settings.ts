/** Tenant settings schemas (AZ-2: approval limits and dual approval; DAT-4: retention). */
import { z } from 'zod';
import { maximumRetentionYears } from '#shared/config/retention';
import { minorUnits } from './common';
import { countryCode } from './counterparties';

const memberId = z
  .string()
  .regex(/^usr_[A-Za-z0-9_-]{1,64}$|^key_[A-Za-z0-9_-]{1,64}$/, 'must be a member id');

/** DAT-4: the legal minimum of the jurisdiction is checked by the service (a 422 naming it). */
export const retentionSettings = z
  .strictObject({
    jurisdiction: countryCode.nullable().meta({
      description: 'Jurisdiction whose retention law applies; null: none declared (10-year minimum).',
    }),
    financialRecordsYears: z.number().int().min(1).max(maximumRetentionYears).meta({
      description: 'Years closed financial records are kept, from the end of the year they closed.',
    }),
  })
  .meta({ id: 'RetentionSettings' });

export const settingsBody = z.strictObject({
  invoiceNumberPrefix: z.string().regex(/^[A-Z0-9-]{0,12}$/, 'must be up to 12 of A-Z, 0-9 and -'),
  approval: z.strictObject({
    dualApprovalThreshold: minorUnits,
    defaultApproverLimit: minorUnits.nullable(),
    approverLimits: z.record(memberId, minorUnits).refine((limits) => Object.keys(limits).length <= 500, {
      message: 'at most 500 individual limits',
    }),
  }),
  /** Absent: the current retention stays (clients written before DAT-4 keep working). */
  retention: retentionSettings.optional(),
});
export type SettingsBody = z.infer<typeof settingsBody>;

export const settingsResponse = settingsBody.extend({
  retention: retentionSettings,
  version: z.number().int(),
  updatedAt: z.string().optional(),
  updatedBy: z.string().optional(),
});
