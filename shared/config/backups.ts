/**
 * What the backup jobs need to know (BAK-2, BAK-3), set by the stack as the `BACKUPS`
 * environment variable (JSON, nothing secret): the vaults whose freshness is watched and the
 * source tables the restore tests restore.
 */
import { type TableId, tableIds } from '#shared/store/tables';

/** A backup vault by region and name. */
export interface VaultRef {
  readonly region: string;
  readonly name: string;
}

export interface BackupSettings {
  /** The vault of the stage's own region, where the daily backups land. */
  readonly primaryVault: VaultRef;
  /**
   * The DR vault in the second region that receives a copy of every recovery point. The
   * freshness check reads it through the primary region's copy jobs (by this ARN), never
   * through the second region's API.
   */
  readonly drVault: VaultRef & { readonly arn: string };
  /** ARN of each table the restore testing selection restores. */
  readonly sourceTables: Readonly<Record<TableId, string>>;
}

/** The `vault` dimension of the freshness metric and its alarms: `<region>/<name>`. */
export function vaultDimension(vault: VaultRef): string {
  return `${vault.region}/${vault.name}`;
}

function isVault(value: unknown): value is VaultRef {
  const vault = value as Partial<VaultRef> | undefined;
  return typeof vault?.region === 'string' && typeof vault.name === 'string';
}

export function backupSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): BackupSettings {
  const value = env.BACKUPS;
  if (value === undefined || value === '') throw new Error('BACKUPS is not configured');
  const parsed = JSON.parse(value) as Partial<BackupSettings>;
  const tables = parsed.sourceTables as Record<string, unknown> | undefined;
  if (
    !isVault(parsed.primaryVault) ||
    !isVault(parsed.drVault) ||
    typeof parsed.drVault.arn !== 'string' ||
    !tables ||
    !tableIds.every((id) => typeof tables[id] === 'string')
  ) {
    throw new Error(
      'BACKUPS must be JSON with primaryVault, drVault (with its arn) and sourceTables for every table',
    );
  }
  return parsed as BackupSettings;
}
