/**
 * Backup freshness check (BAK-2, AUD-5): on a schedule, the age of the newest backup in the
 * primary vault and of the newest one copied to the DR vault, as `NewestRecoveryPointAgeHours`
 * per vault (shared/services/backup-freshness.ts). Both are read from AWS Backup of the
 * primary region (recovery points and copy jobs), through the VPC's Backup endpoint in a
 * private stage (INF-7). A vault without a backup in the window reports the whole window, so
 * the stale-backup alarm fires for it too.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { backupSettingsFromEnv } from '#shared/config/backups';
import { loadRuntimeConfig } from '#shared/config/runtime';
import { backupMetrics, metricNamespace, metricServices } from '#shared/observability/backup-metrics';
import { logger } from '#shared/observability/logger';
import { measureBackupFreshness } from '#shared/services/backup-freshness';
import { BackupVaults } from '#shared/store/backup-vaults';

const config = loadRuntimeConfig();
const settings = backupSettingsFromEnv();
const vaults = new BackupVaults();

export async function handler(
  _event: ScheduledEvent,
  lambdaContext: Context,
): Promise<Record<string, number>> {
  logger.addContext(lambdaContext);
  const measured = await measureBackupFreshness({ settings, vaults, now: () => new Date() });
  const ages: Record<string, number> = {};
  for (const { vault, ageHours } of measured) {
    ages[vault] = ageHours;
    const metrics = new Metrics({
      namespace: metricNamespace(config.stage),
      serviceName: metricServices.backupFreshness,
    });
    metrics.addDimension('vault', vault);
    metrics.addMetric(backupMetrics.newestRecoveryPointAge, MetricUnit.Count, ageHours);
    metrics.publishStoredMetrics();
  }
  logger.info('backup freshness', { ages });
  return ages;
}
