/**
 * Backup freshness (BAK-2, AUD-5): how old the newest usable backup is, in the primary
 * vault and in the DR vault, measured entirely through AWS Backup of the primary region
 * (so the check runs in the primary region's private network, INF-7):
 *
 * - primary: the newest completed recovery point of the primary vault;
 * - DR: the newest recovery point of the primary vault that a completed copy job has copied
 *   to the DR vault (ListCopyJobs in the source region, by destination vault ARN). Its age is
 *   the age of the data it holds: the source recovery point's creation, not the copy's end.
 *
 * A vault with nothing in the window reports the whole window, so its stale-backup alarm fires.
 */
import { type BackupSettings, vaultDimension } from '#shared/config/backups';
import type { BackupVaults } from '#shared/store/backup-vaults';

/** How far back the check looks, in hours, unless told otherwise. */
export const freshnessWindowHours = 72;

export interface BackupFreshnessContext {
  readonly settings: Pick<BackupSettings, 'primaryVault' | 'drVault'>;
  readonly vaults: BackupVaults;
  readonly now: () => Date;
  /** How far back recovery points and copy jobs are read, in hours. @default 72 */
  readonly windowHours?: number;
}

/** The age of one vault's newest backup, as the metric reports it. */
export interface VaultFreshness {
  /** `<region>/<name>`: the metric's and the alarm's `vault` dimension. */
  readonly vault: string;
  /** Hours since the newest backup was taken; the whole window when there is none. */
  readonly ageHours: number;
  /** The recovery point this age is of, when there is one. */
  readonly recoveryPointArn: string | undefined;
}

export async function measureBackupFreshness(context: BackupFreshnessContext): Promise<VaultFreshness[]> {
  const { primaryVault, drVault } = context.settings;
  const windowHours = context.windowHours ?? freshnessWindowHours;
  const now = context.now().getTime();
  const since = new Date(now - windowHours * 3_600_000);
  // Both reads go to the primary region: the DR vault is named only as the copies' destination.
  const points = await context.vaults.completedRecoveryPoints(primaryVault.region, primaryVault.name, since);
  const copies = await context.vaults.completedCopies(primaryVault.region, drVault.arn, since);
  const copied = new Set(copies.map((copy) => copy.sourceRecoveryPointArn));

  const freshness = (vault: string, candidates: typeof points): VaultFreshness => {
    let newest: (typeof points)[number] | undefined;
    for (const point of candidates) if (!newest || point.created > newest.created) newest = point;
    return {
      vault,
      ageHours: newest ? (now - newest.created.getTime()) / 3_600_000 : windowHours,
      recoveryPointArn: newest?.arn,
    };
  };
  return [
    freshness(vaultDimension(primaryVault), points),
    freshness(
      vaultDimension(drVault),
      points.filter((point) => copied.has(point.arn)),
    ),
  ];
}
