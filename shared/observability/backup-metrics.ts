/**
 * Metrics of the backup jobs (BAK-2, BAK-3, AUD-5), in the stage's namespace
 * (metrics.ts), each with the publishing job's `service` dimension.
 */
import { metricNamespace } from './metrics';

export { metricNamespace };

export const metricServices = {
  restoreTests: 'restore-tests',
  backupFreshness: 'backup-freshness',
} as const;

export const backupMetrics = {
  /** 1 when a restore test's validation failed, 0 when it passed (the alarm's metric). */
  restoreValidationFailed: 'RestoreValidationFailed',
  restoreValidatedTenants: 'RestoreValidatedTenants',
  /** Hours since the newest completed recovery point of a vault (dimension `vault`). */
  newestRecoveryPointAge: 'NewestRecoveryPointAgeHours',
} as const;
