/**
 * `npm run restore-test [snapshot]`: restores a snapshot (by default the newest under
 * `<dataDir>/backups/`) into a separate DynamoDB Local store and validates it against the
 * audit log: every tenant's log against its signed checkpoints, every invoice,
 * counterparty and settings item against the digest its last entry recorded (BAK-3
 * locally). Exit code 0 when it passes, 1 when it fails, naming what failed.
 */
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { defaultAllowedOrigins, defaultDataDir, localRegion } from './settings';
import { restoreTest } from './snapshot';

async function newestSnapshot(dataDir: string): Promise<string> {
  const folder = path.join(dataDir, 'backups');
  const files = (await readdir(folder).catch(() => [] as string[]))
    .filter((name) => name.startsWith('snapshot-') && name.endsWith('.bin'))
    .sort();
  const newest = files.at(-1);
  if (!newest) throw new Error(`no snapshot in ${folder}; run npm run backup first`);
  return path.join(folder, newest);
}

async function main(): Promise<number> {
  const dataDir = path.resolve(process.env.STRONGROOM_DATA_DIR ?? defaultDataDir);
  const file = process.argv[2] ? path.resolve(process.argv[2]) : await newestSnapshot(dataDir);
  console.log(`restoring ${path.relative(process.cwd(), file)} into a separate DynamoDB Local…`);
  const result = await restoreTest(file, dataDir, {
    region: localRegion,
    userPoolId: '',
    userPoolClientId: '',
    allowedOrigins: defaultAllowedOrigins,
  });
  for (const tenant of result.tenants) {
    const notes = [
      `${tenant.verifiedEntries} entries verified`,
      tenant.unsignedEntries > 0 ? `${tenant.unsignedEntries} after the last checkpoint` : undefined,
      `${tenant.checkedItems} items checked`,
      tenant.purged ? 'purged' : undefined,
      tenant.keyUnavailable ? 'key deleted since (items unreadable by design)' : undefined,
    ].filter((note) => note !== undefined);
    console.log(`  ${tenant.tenantId}: ${notes.join(', ')}`);
  }
  if (result.ok) {
    console.log(
      `restore test passed: ${result.tenants.length} tenants (snapshot of ${result.header.createdAt})`,
    );
    return 0;
  }
  console.error(`restore test FAILED (${result.failures.length}):`);
  for (const failure of result.failures) console.error(`  [${failure.kind}] ${failure.message}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const code = (error as { code?: string }).code;
    console.error(
      `restore test FAILED: ${error instanceof Error ? error.message : String(error)}${code ? ` (${code})` : ''}`,
    );
    process.exit(1);
  },
);
