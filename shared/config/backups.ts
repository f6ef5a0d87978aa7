/**
 * What the backup jobs need to know (BAK-2, BAK-3), set by the stack as the `BACKUPS`
 * environment variable (JSON, nothing secret): the vaults to watch and the source tables
 * the restore tests restore.
 */
import { type TableId, tableIds } from '#shared/store/tables';

export interface BackupSettings {
  /** The vaults whose newest recovery point must be fresh: the primary and the DR copy. */
  readonly vaults: readonly { readonly region: string; readonly name: string }[];
  /** ARN of each table the restore testing selection restores. */
  readonly sourceTables: Readonly<Record<TableId, string>>;
  /** Regions whose advanced DynamoDB backup setting the stack turns on. */
  readonly regions: readonly string[];
}

export function backupSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): BackupSettings {
  const value = env.BACKUPS;
  if (value === undefined || value === '') throw new Error('BACKUPS is not configured');
  const parsed = JSON.parse(value) as Partial<BackupSettings>;
  const tables = parsed.sourceTables as Record<string, unknown> | undefined;
  if (
    !Array.isArray(parsed.vaults) ||
    !Array.isArray(parsed.regions) ||
    !tables ||
    !tableIds.every((id) => typeof tables[id] === 'string')
  ) {
    throw new Error('BACKUPS must be JSON with vaults, regions and sourceTables for every table');
  }
  return parsed as BackupSettings;
}
