/**
 * The scheduled retention job (DAT-4): once a day, removes every active tenant's records
 * whose retention has expired, each with its audit entry (shared/services/retention.ts, which
 * `npm run retention` runs locally). Logs ids and counts only (DAT-3). A tenant whose run
 * failed makes the invocation fail after the others ran, so it counts as an error and alarms.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import { loadRuntimeConfig } from '#shared/config/runtime';
import { logger } from '#shared/observability/logger';
import { createServiceContext } from '#shared/services/context';
import { runRetention } from '#shared/services/retention';

const context = createServiceContext(loadRuntimeConfig());

export async function handler(
  _event: ScheduledEvent,
  lambdaContext: Context,
): Promise<{ tenants: number; removed: number }> {
  logger.addContext(lambdaContext);
  const result = await runRetention(context);
  for (const tenant of result.tenants) {
    if (tenant.removed.length === 0) continue;
    logger.info('retention applied', {
      tenantId: tenant.tenantId,
      retentionYears: tenant.retentionYears,
      invoices: tenant.removed.filter((removal) => removal.type === 'invoice').length,
      counterparties: tenant.removed.filter((removal) => removal.type === 'counterparty').length,
    });
  }
  const removed = result.tenants.reduce((sum, tenant) => sum + tenant.removed.length, 0);
  logger.info('retention run', { at: result.at, tenants: result.tenants.length, removed });
  if (result.failed.length > 0) {
    logger.error('retention failed for some tenants', { failed: result.failed });
    throw new Error(`retention failed for ${result.failed.length} tenant(s); the others ran`);
  }
  return { tenants: result.tenants.length, removed };
}
