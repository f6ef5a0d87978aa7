/**
 * `npm run backup`: an encrypted snapshot of every table of the running local stack under
 * `<dataDir>/backups/` (BAK-2 locally). It signs a checkpoint of every tenant's log first,
 * so the snapshot's audit logs are covered by signatures the restore test can check.
 */
import * as path from 'node:path';
import { createCheckpointSigner } from '#shared/crypto/signing';
import { runCheckpointJob } from '#shared/services/checkpoint-job';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { runningStackConfig } from './running-stack';
import { localStage } from './settings';
import { writeSnapshot } from './snapshot';

async function main(): Promise<void> {
  const config = await runningStackConfig();
  const dataDir = config.localDataDir;
  const clients = new DataClients(config);
  const signed = await runCheckpointJob(
    { stage: localStage, clients, auditLog: new AuditLog(localStage), now: () => new Date() },
    createCheckpointSigner(config),
  );
  if (signed.failed.length > 0) {
    throw new Error(
      `checkpoints could not be signed for ${signed.failed.map((each) => each.tenantId).join(', ')}`,
    );
  }
  const raw = DataClients.rawClient(config);
  try {
    const { file, header } = await writeSnapshot(raw, localStage, dataDir);
    const counts = Object.entries(header.tables)
      .map(([table, count]) => `${table} ${count}`)
      .join(', ');
    console.log(`snapshot written: ${path.relative(process.cwd(), file)}`);
    console.log(
      `items: ${counts}; checkpoints signed for ${signed.signed.length} of ${signed.tenants} tenants`,
    );
  } finally {
    raw.destroy();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`backup failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
