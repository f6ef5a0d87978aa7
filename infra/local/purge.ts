/**
 * `npm run purge [-- --now <ISO time>]`: the retention purge on demand (DAT-2). Purges every
 * terminated tenant of the running local stack whose 30-day export window has ended at
 * `--now` (default: the current time): deletes its items, deletes its key file, appends the
 * final audit entry and signs the final checkpoint. `--now` lets you see a purge without
 * waiting 30 days; it only moves the purge's own clock.
 */
import { createCheckpointSigner } from '#shared/crypto/signing';
import { createServiceContext } from '#shared/services/context';
import { purgeExpiredTenants } from '#shared/services/lifecycle';
import { runningStackConfig } from './running-stack';

async function main(): Promise<void> {
  const config = await runningStackConfig();
  const at = process.argv.indexOf('--now');
  const now = at >= 0 ? new Date(process.argv[at + 1] ?? '') : new Date();
  if (Number.isNaN(now.getTime())) throw new Error('usage: npm run purge -- [--now <ISO time>]');
  const context = { ...createServiceContext(config), now: () => now };
  const purged = await purgeExpiredTenants(context, { signer: createCheckpointSigner(config) });
  if (purged.length === 0) console.log(`no terminated tenant is due for purging at ${now.toISOString()}`);
  for (const result of purged) {
    const counts = Object.entries(result.deleted)
      .map(([table, count]) => `${table} ${count}`)
      .join(', ');
    console.log(
      `purged ${result.tenantId}: deleted ${counts}; key deleted; final entry ${result.finalEntryId}`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`purge failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
