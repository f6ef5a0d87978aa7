/**
 * The scheduled purge of terminated tenants (DAT-2): once a day, purges every tenant whose
 * 30-day export window has ended (shared/services/lifecycle.ts, which `npm run purge` runs
 * locally): items deleted, tenant key scheduled for deletion (replica first), final audit
 * entry and checkpoint. A failure throws, so the run counts as an error and alarms; the purge
 * is safe to run again.
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import { loadRuntimeConfig } from '#shared/config/runtime';
import { createCheckpointSigner } from '#shared/crypto/signing';
import { logger } from '#shared/observability/logger';
import { createServiceContext } from '#shared/services/context';
import { purgeExpiredTenants } from '#shared/services/lifecycle';

const config = loadRuntimeConfig();
const context = createServiceContext(config);
const signer = createCheckpointSigner(config);

export async function handler(
  _event: ScheduledEvent,
  lambdaContext: Context,
): Promise<{ purged: readonly string[] }> {
  logger.addContext(lambdaContext);
  const results = await purgeExpiredTenants(context, { signer });
  for (const result of results) {
    logger.info('tenant purged', {
      tenantId: result.tenantId,
      deleted: result.deleted,
      keyDeletionDate: result.keyDeletionDate,
      finalEntryId: result.finalEntryId,
      checkpointSize: result.checkpoint?.size,
    });
  }
  logger.info('purge run', { purged: results.length });
  return { purged: results.map((result) => result.tenantId) };
}
