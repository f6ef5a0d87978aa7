/**
 * Names of Strongroom's own CloudWatch metrics, shared by the functions that publish them
 * and the alarms the CDK stack builds on them (AUD-5). Each stage publishes under its own
 * namespace, so dev and prod never mix (INF-5). Powertools metrics add a `service`
 * dimension with the publishing function's service name.
 */

/** The CloudWatch namespace of a stage's metrics: `Strongroom/<stage>`. */
export function metricNamespace(stage: string): string {
  if (!/^[a-z0-9-]+$/.test(stage))
    throw new Error(`metric stage must match [a-z0-9-]+, got ${JSON.stringify(stage)}`);
  return `Strongroom/${stage}`;
}

/** Service names (the `service` dimension) of the jobs that publish metrics. */
export const metricServices = {
  auditStream: 'audit-stream',
  checkpointSigner: 'checkpoint-signer',
} as const;

/** Metrics of the audit stream consumer (folding and archiving). */
export const auditStreamMetrics = {
  /** An archive object already exists with different content: an overwrite was attempted (AUD-2). */
  archiveMismatch: 'ArchiveMismatch',
  /** Objects written to the archive. */
  archiveWritten: 'ArchiveWritten',
  /** Objects already in the archive with identical content (retries, replays). */
  archiveIdentical: 'ArchiveIdentical',
  /** Tenants folded because the stream saw new entries of theirs. */
  tenantsFolded: 'TenantsFolded',
  /** MODIFY or REMOVE events on the append-only audit table: something bypassed AUD-2. */
  auditTableMutations: 'AuditTableMutations',
  /** Records that failed and are retried (then dead-lettered). */
  recordFailures: 'RecordFailures',
} as const;

/** Metrics of the scheduled checkpoint signer. */
export const checkpointMetrics = {
  tenants: 'CheckpointTenants',
  signed: 'CheckpointsSigned',
  failures: 'CheckpointFailures',
  /** Age of the oldest entry no signed checkpoint covers yet, after the run (0 when all are covered). */
  oldestUnsignedEntryAge: 'OldestUnsignedEntryAgeSeconds',
} as const;

/** Metrics the API's access log yields through metric filters (no service dimension). */
export const apiMetrics = {
  /** Requests answered 403 (authorization denied), from the access log (AUD-5). */
  authorizationDenials: 'AuthorizationDenials',
  /** Requests answered 401 (no or bad credentials), from the access log (AUD-5). */
  authenticationFailures: 'AuthenticationFailures',
} as const;
