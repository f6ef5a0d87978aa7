/**
 * The scheduled checkpoint signer (AUD-3, AUD-5): every few minutes, signs a checkpoint
 * of every tenant whose head moved (shared/services/checkpoint-job.ts, which the local
 * poller runs too) and publishes how it went; an alarm watches the age of the oldest
 * entry that no signed checkpoint covers.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { loadRuntimeConfig } from '#shared/config/runtime';
import { createCheckpointSigner } from '#shared/crypto/signing';
import { logger } from '#shared/observability/logger';
import { checkpointMetrics, metricNamespace, metricServices } from '#shared/observability/metrics';
import { type CheckpointJobResult, runCheckpointJob } from '#shared/services/checkpoint-job';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';

const config = loadRuntimeConfig();
const signer = createCheckpointSigner(config);
const context = {
  stage: config.stage,
  clients: new DataClients(config),
  auditLog: new AuditLog(config.stage),
  now: () => new Date(),
};
const metrics = new Metrics({
  namespace: metricNamespace(config.stage),
  serviceName: metricServices.checkpointSigner,
});

export async function handler(_event: ScheduledEvent, lambdaContext: Context): Promise<CheckpointJobResult> {
  logger.addContext(lambdaContext);
  try {
    const result = await runCheckpointJob(context, signer);
    metrics.addMetric(checkpointMetrics.tenants, MetricUnit.Count, result.tenants);
    metrics.addMetric(checkpointMetrics.signed, MetricUnit.Count, result.signed.length);
    metrics.addMetric(checkpointMetrics.failures, MetricUnit.Count, result.failed.length);
    metrics.addMetric(
      checkpointMetrics.oldestUnsignedEntryAge,
      MetricUnit.Seconds,
      result.oldestUnsignedEntryAgeSeconds,
    );
    logger.info('checkpoint run', {
      tenants: result.tenants,
      signed: result.signed.length,
      unchanged: result.unchanged,
      failed: result.failed.length,
      oldestUnsignedEntryAgeSeconds: result.oldestUnsignedEntryAgeSeconds,
    });
    return result;
  } finally {
    metrics.publishStoredMetrics();
  }
}
