/**
 * Restore-test validation (BAK-3): started by AWS Backup's "Restore Job State Change"
 * events of the restore testing plan. When the whole set of tables of a run is restored,
 * validates the copies against the audit log (shared/services/restore-validation.ts),
 * reports the result to AWS Backup for each job, publishes `RestoreValidationFailed`
 * (the alarm's metric) and appends an entry to the platform's audit log.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { backupSettingsFromEnv } from '#shared/config/backups';
import { loadRuntimeConfig } from '#shared/config/runtime';
import { createCheckpointSigner } from '#shared/crypto/signing';
import { newId } from '#shared/domain/ids';
import { backupMetrics, metricNamespace, metricServices } from '#shared/observability/backup-metrics';
import { logger } from '#shared/observability/logger';
import { platformTenantId } from '#shared/rbac/permissions';
import { onRestoreJobEvent, type RestoreJobEventDetail, summarize } from '#shared/services/restore-test-run';
import { validateRestoredTables } from '#shared/services/restore-validation';
import { AuditLog } from '#shared/store/audit-log';
import { BackupVaults } from '#shared/store/backup-vaults';
import { DataClients } from '#shared/store/dynamo';
import { IdempotencyStore } from '#shared/store/idempotency';
import { MutationWriter } from '#shared/store/mutation';

const config = loadRuntimeConfig();
const settings = backupSettingsFromEnv();
const signer = createCheckpointSigner(config);
const auditLog = new AuditLog(config.stage);
const live = new DataClients(config);
const mutations = new MutationWriter(auditLog, new IdempotencyStore(config.stage));
const vaults = new BackupVaults();
const metrics = new Metrics({
  namespace: metricNamespace(config.stage),
  serviceName: metricServices.restoreTests,
});

export async function handler(
  event: EventBridgeEvent<'Restore Job State Change', RestoreJobEventDetail>,
  lambdaContext: Context,
): Promise<void> {
  logger.addContext(lambdaContext);
  const outcome = await onRestoreJobEvent(
    {
      region: config.region,
      sourceTables: settings.sourceTables,
      vaults,
      now: () => new Date(),
      validate: async (tableNames) =>
        validateRestoredTables(
          {
            stage: config.stage,
            clients: new DataClients(config, { tableNames, keyring: { provisionMissing: false } }),
            auditLog,
          },
          await signer.publicKeys(),
        ),
    },
    event.detail,
  );
  if (outcome.kind !== 'validated') {
    logger.info('restore job event', { outcome: outcome.kind, restoreJobId: event.detail.restoreJobId });
    return;
  }
  const { result } = outcome;
  try {
    metrics.addMetric(backupMetrics.restoreValidationFailed, MetricUnit.Count, result.ok ? 0 : 1);
    metrics.addMetric(backupMetrics.restoreValidatedTenants, MetricUnit.Count, result.tenants.length);
  } finally {
    metrics.publishStoredMetrics();
  }
  const now = new Date();
  await mutations.commit(live.platform(), {
    tenantId: platformTenantId,
    writes: [],
    entry: {
      v: 1,
      id: newId('aud', now.getTime()),
      tenantId: platformTenantId,
      time: now.toISOString(),
      actor: { id: 'system:restore-test', kind: 'system' },
      action: 'backup.restore-test',
      target: { type: 'restore-test', id: outcome.jobs[0] ?? 'unknown' },
      outcome: result.ok ? 'success' : 'failure',
      requestId: lambdaContext.awsRequestId,
      detail: {
        tenants: result.tenants.length,
        failures: result.failures.length,
        jobs: [...outcome.jobs],
      },
    },
    now,
  });
  if (result.ok) logger.info(summarize(result), { jobs: outcome.jobs });
  else logger.error(summarize(result), { jobs: outcome.jobs });
}
