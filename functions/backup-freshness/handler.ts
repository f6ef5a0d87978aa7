/**
 * Backup freshness check (BAK-2, AUD-5): on a schedule, the age of the newest completed
 * recovery point in the primary vault and in the DR vault of the second region, as
 * `NewestRecoveryPointAgeHours` per vault. A vault without a recovery point in the window
 * reports the whole window, so the stale-backup alarm fires for it too.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { backupSettingsFromEnv } from '#shared/config/backups';
import { loadRuntimeConfig } from '#shared/config/runtime';
import { backupMetrics, metricNamespace, metricServices } from '#shared/observability/backup-metrics';
import { logger } from '#shared/observability/logger';
import { BackupVaults } from '#shared/store/backup-vaults';

const config = loadRuntimeConfig();
const settings = backupSettingsFromEnv();
const vaults = new BackupVaults();
const windowHours = 72;

export async function handler(
  _event: ScheduledEvent,
  lambdaContext: Context,
): Promise<Record<string, number>> {
  logger.addContext(lambdaContext);
  const now = Date.now();
  const ages: Record<string, number> = {};
  for (const vault of settings.vaults) {
    const newest = await vaults.newestRecoveryPoint(
      vault.region,
      vault.name,
      new Date(now - windowHours * 3_600_000),
    );
    ages[`${vault.region}/${vault.name}`] = newest ? (now - newest.getTime()) / 3_600_000 : windowHours;
  }
  for (const [vault, hours] of Object.entries(ages)) {
    const metrics = new Metrics({
      namespace: metricNamespace(config.stage),
      serviceName: metricServices.backupFreshness,
    });
    metrics.addDimension('vault', vault);
    metrics.addMetric(backupMetrics.newestRecoveryPointAge, MetricUnit.Count, hours);
    metrics.publishStoredMetrics();
  }
  logger.info('backup freshness', { ages });
  return ages;
}
