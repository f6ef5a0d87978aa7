/** Tenant export schemas (DAT-1). */
import { z } from 'zod';

export const exportParams = z.strictObject({
  id: z.string().regex(/^exp_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be an export id'),
});

/** POST /exports takes no options: the export is always the whole tenant. */
export const startExportBody = z.strictObject({}).optional();

export const exportView = z.strictObject({
  id: z.string(),
  status: z.enum(['pending', 'running', 'complete', 'failed']),
  progress: z.strictObject({ done: z.number().int().min(0), total: z.number().int().min(0) }),
  requestedAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  encryptionContext: z.record(z.string(), z.string()),
  bytes: z.number().int().optional(),
  sha256: z.string().optional(),
  failure: z.string().optional(),
  auditEntryId: z.string().optional(),
  download: z
    .strictObject({
      url: z.string(),
      expiresAt: z.string(),
    })
    .optional(),
});
