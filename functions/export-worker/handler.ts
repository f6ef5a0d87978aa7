/**
 * The export worker (DAT-1) in AWS: started by the data table's stream (keys only, filtered
 * to inserts of export records), it runs each export through shared/services/exports.ts with
 * the tenant's session (AZ-3), signs a fresh checkpoint for the audit bundle and writes the
 * encrypted archive to the exports bucket. A redelivered record finds the export claimed or
 * finished and does nothing; a failure of the worker itself is reported per record, so
 * Lambda retries it (and then sends its position to the dead-letter queue).
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { loadRuntimeConfig } from '#shared/config/runtime';
import { createCheckpointSigner } from '#shared/crypto/signing';
import { logger } from '#shared/observability/logger';
import { createServiceContext } from '#shared/services/context';
import { exportContext, exportJobOfStreamKeys, runExport } from '#shared/services/exports';
import { createExportArchives } from '#shared/store/export-archives';

const config = loadRuntimeConfig();
const base = createServiceContext(config);
const signer = createCheckpointSigner(config);
const context = exportContext(
  base,
  createExportArchives(config, (tenantId) => base.clients.tenantCredentials(tenantId)),
  () => undefined,
);

export async function handler(
  event: DynamoDBStreamEvent,
  lambdaContext: Context,
): Promise<DynamoDBBatchResponse> {
  logger.addContext(lambdaContext);
  for (const record of event.Records) {
    const job =
      record.eventName === 'INSERT'
        ? exportJobOfStreamKeys(record.dynamodb?.Keys?.pk?.S, record.dynamodb?.Keys?.sk?.S)
        : undefined;
    if (!job) continue;
    try {
      const outcome = await runExport(context, signer, job);
      logger.info('export run', { exportId: job.exportId, outcome });
    } catch (error) {
      logger.error('export worker failed; the record is retried', { exportId: job.exportId, error });
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
}
