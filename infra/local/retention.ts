/**
 * `npm run retention [-- --now <ISO time>] [--tenant <id>]`: the retention job on demand
 * (DAT-4), against the running local stack. Removes every active tenant's records whose
 * retention has expired at `--now` (default: the current time), each with its audit entry
 * (shared/services/retention.ts says what expires). `--now` only moves the job's own clock,
 * so you can watch records expire without waiting ten years; `--tenant` limits the run to
 * one tenant.
 */
import { createServiceContext } from '#shared/services/context';
import { runRetention } from '#shared/services/retention';
import { runningStackConfig } from './running-stack';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? (process.argv[at + 1] ?? '') : undefined;
}

async function main(): Promise<void> {
  const config = await runningStackConfig();
  const at = option('--now');
  const now = at === undefined ? new Date() : new Date(at);
  const tenant = option('--tenant');
  if (Number.isNaN(now.getTime()) || tenant === '') {
    throw new Error('usage: npm run retention -- [--now <ISO time>] [--tenant <tenant id>]');
  }
  const context = { ...createServiceContext(config), now: () => now };
  const result = await runRetention(context, tenant === undefined ? {} : { tenantIds: [tenant] });
  for (const each of result.tenants) {
    const counts = (
      [
        ['invoice', 'invoices'],
        ['counterparty', 'counterparties'],
      ] as const
    ).map(([type, plural]) => `${each.removed.filter((removal) => removal.type === type).length} ${plural}`);
    console.log(
      `${each.tenantId}: kept ${each.retentionYears} years; removed ${counts.join(', ')}${each.removed.length > 0 ? ' (each with its audit entry)' : ''}`,
    );
  }
  if (result.tenants.length === 0) console.log('no active tenant to apply retention to');
  for (const failure of result.failed) console.error(`${failure.tenantId}: failed (${failure.code})`);
  console.log(`retention applied at ${result.at}`);
  if (result.failed.length > 0) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(`retention failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
