/**
 * Consumer of the audit table's stream (AUD-2): folds tenants whose new entries it sees
 * and archives entries, log positions and checkpoints to the Object Lock bucket, through
 * shared/services/audit-stream.ts (the local poller runs the same code). Failed records
 * are reported as a partial batch response, so Lambda retries from the first of them
 * (and after its retries, sends the batch's position to the dead-letter queue).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { loadRuntimeConfig } from '#shared/config/runtime';
import { logger } from '#shared/observability/logger';
import { auditStreamMetrics, metricNamespace, metricServices } from '#shared/observability/metrics';
import { processAuditStream, type RawStreamRecord, toAuditStreamRecord } from '#shared/services/audit-stream';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { S3ArchiveSink } from '#shared/store/s3-archive';

const config = loadRuntimeConfig();
const bucket = process.env.AUDIT_ARCHIVE_BUCKET;
if (!bucket) throw new Error('missing environment variable AUDIT_ARCHIVE_BUCKET');
const context = {
  clients: new DataClients(config),
  auditLog: new AuditLog(config.stage),
  archive: new S3ArchiveSink(new S3Client({ region: config.region, maxAttempts: 3 }), bucket),
};
const metrics = new Metrics({
  namespace: metricNamespace(config.stage),
  serviceName: metricServices.auditStream,
});

export async function handler(
  event: DynamoDBStreamEvent,
  lambdaContext: Context,
): Promise<DynamoDBBatchResponse> {
  logger.addContext(lambdaContext);
  try {
    const records = event.Records.map((record) => toAuditStreamRecord(record as RawStreamRecord));
    const result = await processAuditStream(context, records);
    metrics.addMetric(auditStreamMetrics.archiveWritten, MetricUnit.Count, result.written);
    metrics.addMetric(auditStreamMetrics.archiveIdentical, MetricUnit.Count, result.identical);
    metrics.addMetric(auditStreamMetrics.archiveMismatch, MetricUnit.Count, result.mismatches.length);
    metrics.addMetric(auditStreamMetrics.auditTableMutations, MetricUnit.Count, result.mutations);
    metrics.addMetric(auditStreamMetrics.tenantsFolded, MetricUnit.Count, result.foldedTenants.length);
    metrics.addMetric(auditStreamMetrics.recordFailures, MetricUnit.Count, result.failures.length);
    if (result.failures.length > 0) {
      logger.error('audit stream batch has failed records; retrying from the first', {
        retryFrom: result.retryFrom,
        failures: result.failures,
      });
    }
    return {
      batchItemFailures: result.retryFrom === undefined ? [] : [{ itemIdentifier: result.retryFrom }],
    };
  } finally {
    metrics.publishStoredMetrics();
  }
}
