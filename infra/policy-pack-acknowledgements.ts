/**
 * Acknowledgements of the policy packs that run as a report, not as a synth gate (INF-2):
 * cdk-nag's NIST 800-53 R5, PCI DSS 3.2.1 and HIPAA Security packs, and cfn-guard with the
 * Control Tower rules (`@cdklabs/cdk-validator-cfnguard`). AwsSolutions stays the synth gate,
 * with its acknowledgements in infra/nag-suppressions.ts.
 *
 * `npm run security-report` runs the packs on the synthesized app, matches every finding to
 * these entries and counts what is left per pack. Each entry names the rule, narrows it to
 * resource types and construct paths, and says why:
 * - `accepted`: the finding does not weaken a control here (a design decision, or a rule
 *   that cannot see what the template does); the reason says which control covers it.
 * - `open`: a real gap, tracked as planned work (the control it belongs to says so); it
 *   counts as an open finding in the report until fixed.
 * An entry that matches no finding is reported as stale.
 */

export type PolicyPackName = 'NIST.800.53.R5' | 'PCI.DSS.321' | 'HIPAA.Security' | 'cfn-guard';

export const nagReportPacks = ['NIST.800.53.R5', 'PCI.DSS.321', 'HIPAA.Security'] as const;
const nagPacks: readonly PolicyPackName[] = nagReportPacks;

export type Disposition = 'accepted' | 'open';

export interface PolicyPackAcknowledgement {
  /** Packs the entry applies to. */
  readonly packs: readonly PolicyPackName[];
  /** cdk-nag rule without its pack prefix (`IAMNoInlinePolicy`), or the cfn-guard rule name. */
  readonly rule: string;
  /**
   * CloudFormation types the entry is limited to.
   * @default - any type the rule reports
   */
  readonly resourceTypes?: readonly string[];
  /**
   * Construct paths (as `aws:cdk:path` shows them) the entry is limited to.
   * @default - any path
   */
  readonly constructPath?: RegExp;
  readonly disposition: Disposition;
  /** A short name for the kind of reason, for the report's summary. */
  readonly category: string;
  readonly reason: string;
  /** Controls the finding belongs to. */
  readonly controls: readonly string[];
}

const accessLogBucket = /\/(AccessLogs)\/Resource$/;
/** The audit archive and its DR-region replica: both kept by Object Lock. */
const auditArchiveBuckets = /\/AuditArchive(Replica)?\/Bucket\/Resource$/;
const auditArchiveReplica = /\/AuditArchiveReplica\/Bucket\/Resource$/;
const trailBucket = /\/Trail\/Bucket\/Resource$/;
const exportsBucket = /\/Exports\/Bucket\/Resource$/;
const pipelineArtifactBuckets =
  /\/(Pipeline\/Pipeline\/ArtifactsBucket|Default\/CrossRegionCodePipelineReplicationBucket)\/Resource$/;

const reasons = {
  inlinePolicies:
    'CDK grants write one AWS::IAM::Policy per role, attached to that role only and scoped to the resources the role uses (INF-2: one role per function). A customer-managed policy would be the same statements in a resource that could be attached to other roles; the least-privilege content is proven by the infra tests, not by the policy kind.',
  lambdaVpcDev:
    'The dev stage is configured without the private network (strongroom:stageSettings.dev.privateNetwork: false): it holds no production data, and keeping it cheap and simple is the point of the setting. Prod runs every function in isolated subnets behind VPC endpoints (INF-7, proven by the infra tests).',
  defaultSecurityGroup:
    "The VPC's default security group keeps its default rules because restricting it takes a CDK custom-resource Lambda that would run outside the VPC; nothing uses the default group: every function and every interface endpoint has a security group of its own (the infra tests prove each function's group and that no rule allows more than HTTPS to the endpoints).",
  pipelineArtifacts:
    "CDK Pipelines' artifact buckets (primary and DR-region replication) hold synthesized templates and function bundles that every pipeline run rebuilds from the repository, never customer data or records: they are KMS-encrypted under keys that only S3 may use for this account, block public access, deny non-TLS requests and are versioned; pipeline executions are recorded by CloudTrail. Earlier versions expire after 90 days; access logging, replication or Object Lock would keep copies of build outputs, not evidence.",
  codeBuildSource:
    "The pipeline's CodeBuild projects take their source from the pipeline's artifacts (source type CODEPIPELINE): no repository URL and no credentials are stored in a project; the repository is reached through the CodeConnections connection only.",
  lambdaConcurrency:
    'Request functions are bounded by API Gateway stage throttling and the WAF rate rule (AUTH-2); reserving concurrency per function would carve the account pool into fixed slices and throttle legitimate traffic first. The scheduled and stream jobs run one batch at a time by their trigger.',
  lambdaDlq:
    'API functions are invoked synchronously (API Gateway, the REQUEST authorizer): a dead-letter queue applies only to asynchronous invocations and would never receive anything. The stream consumer has an on-failure destination queue with an alarm (AUD-2); the checkpoint signer runs on a schedule every few minutes, so a failed run is retried by the next one and a stale checkpoint raises an alarm (AUD-5). The backup jobs are started by CloudFormation (the backup-settings custom resource, which fails the deployment), by a schedule (backup freshness) or by restore-job events (restore validation): a run that does not happen raises the stale-backup or restore-test-failed alarm (AUD-5, BAK-3).',
  apiCache:
    "API responses are tenant-specific and sent with Cache-Control: no-store (API-2); caching them in API Gateway would risk serving one caller another caller's data, so the stage cache is deliberately off.",
  apiClientCertificate:
    'The backend is Lambda through the AWS_PROXY integration, invoked with SigV4 by API Gateway; there is no HTTP backend to present a client certificate to. Clients reach the API over TLS 1.2+ with the enhanced security policy (ENC-1).',
  archiveReplicaReplication:
    "This bucket is itself the replica: the primary region's audit archive replicates every object into it, under Object Lock in compliance mode and the DR region's own key (AUD-2, BAK-2, ENC-5). Replicating the replica again would add a third copy in one of the same two EU regions.",
  logBucketReplication:
    'Server access log and trail buckets are evidence kept for 36 months in the primary region; replicating them adds a second copy of logs, not of data. CloudTrail log file integrity is protected by digest files (log file validation) and Object Lock instead.',
  sseS3ForAccessLogs:
    'S3 server access logging can only deliver to buckets with SSE-S3 (AES-256) default encryption, not SSE-KMS; these buckets hold access logs only (ENC-2 lists this exception).',
  keyGrantDeny:
    "Key policies allow kms:CreateGrant only with kms:GrantIsForAWSResource=true and kms:ViaService naming the key's services (statement GrantsOnlyForServiceResources), and no other statement allows it, so a grant for anything else is already denied; an explicit Deny statement would repeat that (ENC-4). Keys without service users allow no grants at all.",
  appLogRetention:
    'LOG-2 keeps application logs 6 months by design (data minimisation, DAT-3); access logs are kept 12 months and security logs 36 months. The Control Tower rule asks for one year on every log group.',
  lambdaPermissionSourceArn:
    "Every Lambda permission for API Gateway names the API's own execute-api ARN as SourceArn, built with Fn::Join from the API id; cfn-guard cannot evaluate intrinsic functions and reports the SourceArn as missing. The infra tests check the SourceArn of each permission.",
  logBucketLogging:
    'This bucket is the server access log destination itself; logging it to another bucket would only move the question one bucket further. Its contents are written by the S3 log delivery service only.',
  objectLockForAccessLogs:
    'Server access log buckets are not Object Lock buckets: S3 log delivery does not support destination buckets with a default Object Lock retention. The audit archive (AUD-2) and the CloudTrail bucket (INF-6) are locked.',
  eventNotifications:
    'No process consumes object events of these buckets: the archive is written by the audit stream consumer, which already knows every object it writes, and object-level access is recorded by the CloudTrail data events of the account baseline (INF-6).',
  archiveLifecycle:
    'Audit archive versions (and their DR-region replicas) are kept by Object Lock in compliance mode for the configured retention (AUD-2) and never expired by a lifecycle rule: the audit log is what proves, among other things, which records the retention job removed (DAT-4), so it outlives them.',
  guardDutyFeatures:
    "S3 protection is enabled through the detector's Features (S3_DATA_EVENTS), the current GuardDuty API; the Control Tower rule reads only the legacy DataSources.S3Logs property, and CloudFormation refuses a detector with both, while Lambda network-activity protection exists only as a feature.",
  publishedJwksRotation:
    "The published JWKS secret holds the user pool's public signing keys, nothing secret: Cognito owns those keys (it does not rotate a pool's signing keys), and the pipeline's publish step (npm run publish-jwks) writes the value again after every deployment of the stage. A Secrets Manager rotation function would have no credential to rotate; what protects the value is who may write it (of the stage's and pipeline's roles, the publish step only: infra/constructs/published-jwks.ts) and its own key (AUTH-6, INF-7).",
  pepperRotation:
    'The API-key pepper is versioned: rotation adds a version that becomes current while older versions keep verifying existing hashes until those keys are rotated (docs/runbooks/key-compromise.md). Rotation is a documented procedure today; a scheduled Secrets Manager rotation function that adds a version is planned (AUTH-5, SEC-1).',
  failureQueueDlq:
    'This queue is an on-failure destination (a dead-letter queue itself) of a stream consumer (the audit stream, the export worker): a second queue behind it would never receive anything; its depth raises an alarm on the incident topic (AUD-5).',
  exportsNotReplicated:
    "Tenant exports (DAT-1) are short-lived copies, encrypted with the AWS Encryption SDK under the tenant's key, that expire after 7 days; every byte in them is rebuilt from the tables (PITR, daily backups copied to the DR region) and the audit log (archive replicated to the DR region). A second copy in another region would only widen where a tenant's full data set lies, with no recovery value.",
  exportsNotLocked:
    "Tenant exports (DAT-1) must go: a lifecycle rule deletes them after 7 days, and a terminated tenant's data must be erasable (DAT-2). Object Lock would keep every tenant's full data set for its retention whatever the tenant asked; the records that must stay immutable are in the audit archive, which is locked.",
} as const;

export const policyPackAcknowledgements: readonly PolicyPackAcknowledgement[] = [
  {
    packs: nagPacks,
    rule: 'IAMNoInlinePolicy',
    resourceTypes: ['AWS::IAM::Policy', 'AWS::IAM::Role'],
    disposition: 'accepted',
    category: 'CDK grants are per-role policies',
    reason: reasons.inlinePolicies,
    controls: ['INF-2'],
  },
  // Prod has no function outside its private network: only dev, by configuration.
  ...(['LambdaInsideVPC', 'lambda_inside_vpc_check'] as const).map((rule) => ({
    packs: rule === 'LambdaInsideVPC' ? nagPacks : (['cfn-guard'] as readonly PolicyPackName[]),
    rule,
    resourceTypes: ['AWS::Lambda::Function'],
    constructPath: /^strongroom-dev\//,
    disposition: 'accepted' as const,
    category: 'Dev stage without the private network, by configuration',
    reason: reasons.lambdaVpcDev,
    controls: ['INF-7'],
  })),
  {
    packs: nagPacks,
    rule: 'VPCDefaultSecurityGroupClosed',
    resourceTypes: ['AWS::EC2::VPC'],
    constructPath: /\/Network\/Vpc\/Resource$/,
    disposition: 'accepted',
    category: 'Default security group unused',
    reason: reasons.defaultSecurityGroup,
    controls: ['INF-7'],
  },
  ...(['S3BucketReplicationEnabled', 'S3BucketLoggingEnabled'] as const).map((rule) => ({
    packs: nagPacks,
    rule,
    resourceTypes: ['AWS::S3::Bucket'],
    constructPath: pipelineArtifactBuckets,
    disposition: 'accepted' as const,
    category: 'Pipeline artifacts are rebuilt build outputs',
    reason: reasons.pipelineArtifacts,
    controls: ['INF-8'],
  })),
  ...(['s3_bucket_logging_enabled_check', 's3_bucket_object_lock_enabled_check'] as const).map((rule) => ({
    packs: ['cfn-guard'] as const,
    rule,
    resourceTypes: ['AWS::S3::Bucket'],
    constructPath: pipelineArtifactBuckets,
    disposition: 'accepted' as const,
    category: 'Pipeline artifacts are rebuilt build outputs',
    reason: reasons.pipelineArtifacts,
    controls: ['INF-8'],
  })),
  {
    packs: ['PCI.DSS.321', 'HIPAA.Security'],
    rule: 'CodeBuildProjectSourceRepoUrl',
    resourceTypes: ['AWS::CodeBuild::Project'],
    constructPath: /^strongroom-pipeline\/Pipeline\//,
    disposition: 'accepted',
    category: 'Source from the pipeline, no repository URL',
    reason: reasons.codeBuildSource,
    controls: ['INF-8'],
  },
  {
    packs: nagPacks,
    rule: 'LambdaConcurrency',
    resourceTypes: ['AWS::Lambda::Function'],
    disposition: 'accepted',
    category: 'Concurrency bounded by API throttling',
    reason: reasons.lambdaConcurrency,
    controls: ['AUTH-2'],
  },
  {
    packs: nagPacks,
    rule: 'LambdaDLQ',
    resourceTypes: ['AWS::Lambda::Function'],
    disposition: 'accepted',
    category: 'Synchronous invocation: a DLQ never fires',
    reason: reasons.lambdaDlq,
    controls: ['AUD-2', 'AUD-5'],
  },
  {
    packs: nagPacks,
    rule: 'APIGWCacheEnabledAndEncrypted',
    resourceTypes: ['AWS::ApiGateway::Stage'],
    disposition: 'accepted',
    category: 'Tenant data is never cached',
    reason: reasons.apiCache,
    controls: ['API-2'],
  },
  {
    packs: nagPacks,
    rule: 'APIGWSSLEnabled',
    resourceTypes: ['AWS::ApiGateway::Stage'],
    disposition: 'accepted',
    category: 'Lambda backend: no client certificate applies',
    reason: reasons.apiClientCertificate,
    controls: ['ENC-1'],
  },
  {
    packs: nagPacks,
    rule: 'S3BucketReplicationEnabled',
    resourceTypes: ['AWS::S3::Bucket'],
    constructPath: auditArchiveReplica,
    disposition: 'accepted',
    category: 'The DR-region replica of the audit archive is a replication target',
    reason: reasons.archiveReplicaReplication,
    controls: ['BAK-2', 'AUD-2'],
  },
  {
    packs: nagPacks,
    rule: 'S3BucketReplicationEnabled',
    resourceTypes: ['AWS::S3::Bucket'],
    constructPath: new RegExp(`${accessLogBucket.source}|${trailBucket.source}`),
    disposition: 'accepted',
    category: 'Log buckets are not replicated',
    reason: reasons.logBucketReplication,
    controls: ['LOG-2', 'INF-6'],
  },
  {
    packs: nagPacks,
    rule: 'S3DefaultEncryptionKMS',
    resourceTypes: ['AWS::S3::Bucket'],
    constructPath: accessLogBucket,
    disposition: 'accepted',
    category: 'S3 access logs require SSE-S3',
    reason: reasons.sseS3ForAccessLogs,
    controls: ['ENC-2'],
  },
  {
    packs: ['cfn-guard'],
    rule: 's3_bucket_default_encryption_kms_check',
    resourceTypes: ['AWS::S3::Bucket'],
    constructPath: accessLogBucket,
    disposition: 'accepted',
    category: 'S3 access logs require SSE-S3',
    reason: reasons.sseS3ForAccessLogs,
    controls: ['ENC-2'],
  },
  {
    packs: nagPacks,
    rule: 'SecretsManagerRotationEnabled',
    resourceTypes: ['AWS::SecretsManager::Secret'],
    constructPath: /\/PublishedJwks\/Secret$/,
    disposition: 'accepted',
    category: 'Public keys republished by the pipeline, nothing to rotate',
    reason: reasons.publishedJwksRotation,
    controls: ['AUTH-6', 'INF-7'],
  },
  {
    packs: nagPacks,
    rule: 'SecretsManagerRotationEnabled',
    resourceTypes: ['AWS::SecretsManager::Secret'],
    constructPath: /\/ApiKeyPepper\//,
    disposition: 'open',
    category: 'Pepper rotation by procedure (scheduled rotation planned)',
    reason: reasons.pepperRotation,
    controls: ['AUTH-5', 'SEC-1'],
  },
  {
    packs: ['cfn-guard'],
    rule: 'kms_create_grant_aws_service_check',
    resourceTypes: ['AWS::KMS::Key'],
    disposition: 'accepted',
    category: 'Grants already limited to AWS resources',
    reason: reasons.keyGrantDeny,
    controls: ['ENC-4'],
  },
  {
    packs: ['cfn-guard'],
    rule: 'cloudwatch_log_group_retention_period_check',
    resourceTypes: ['AWS::Logs::LogGroup'],
    disposition: 'accepted',
    category: 'LOG-2 retention classes',
    reason: reasons.appLogRetention,
    controls: ['LOG-2', 'DAT-3'],
  },
  {
    packs: ['cfn-guard'],
    rule: 'lambda_function_public_access_prohibited_check',
    resourceTypes: ['AWS::Lambda::Permission'],
    disposition: 'accepted',
    category: 'False positive: SourceArn is an intrinsic',
    reason: reasons.lambdaPermissionSourceArn,
    controls: ['INF-2'],
  },
  {
    packs: ['cfn-guard'],
    rule: 's3_bucket_logging_enabled_check',
    resourceTypes: ['AWS::S3::Bucket'],
    constructPath: accessLogBucket,
    disposition: 'accepted',
    category: 'Log destination buckets',
    reason: reasons.logBucketLogging,
    controls: ['LOG-2'],
  },
  {
    packs: ['cfn-guard'],
    rule: 's3_bucket_object_lock_enabled_check',
    resourceTypes: ['AWS::S3::Bucket'],
    constructPath: accessLogBucket,
    disposition: 'accepted',
    category: 'Log destination buckets',
    reason: reasons.objectLockForAccessLogs,
    controls: ['LOG-2'],
  },
  {
    packs: ['cfn-guard'],
    rule: 's3_event_notifications_enabled_check',
    resourceTypes: ['AWS::S3::Bucket'],
    disposition: 'accepted',
    category: 'No consumer for object events',
    reason: reasons.eventNotifications,
    controls: ['INF-6'],
  },
  {
    packs: ['cfn-guard'],
    rule: 's3_lifecycle_policy_check',
    resourceTypes: ['AWS::S3::Bucket'],
    constructPath: auditArchiveBuckets,
    disposition: 'accepted',
    category: 'Archive kept by Object Lock',
    reason: reasons.archiveLifecycle,
    controls: ['AUD-2', 'DAT-4'],
  },
  {
    packs: ['cfn-guard'],
    rule: 's3_version_lifecycle_policy_check',
    resourceTypes: ['AWS::S3::Bucket'],
    constructPath: auditArchiveBuckets,
    disposition: 'accepted',
    category: 'Archive kept by Object Lock',
    reason: reasons.archiveLifecycle,
    controls: ['AUD-2', 'DAT-4'],
  },
  {
    packs: ['cfn-guard'],
    rule: 'guardduty_s3_protection_enabled_check',
    resourceTypes: ['AWS::GuardDuty::Detector'],
    disposition: 'accepted',
    category: 'False positive: S3 protection as a detector feature',
    reason: reasons.guardDutyFeatures,
    controls: ['INF-6'],
  },
  {
    packs: ['cfn-guard'],
    rule: 'sqs_dlq_check',
    resourceTypes: ['AWS::SQS::Queue'],
    constructPath: /\/(AuditStream|ExportWorker)\/DeadLetters\/Resource$/,
    disposition: 'accepted',
    category: 'The queue is a dead-letter queue',
    reason: reasons.failureQueueDlq,
    controls: ['AUD-2', 'DAT-1'],
  },
  {
    packs: nagPacks,
    rule: 'S3BucketReplicationEnabled',
    resourceTypes: ['AWS::S3::Bucket'],
    constructPath: exportsBucket,
    disposition: 'accepted',
    category: 'Tenant exports expire after 7 days and are rebuilt from replicated sources',
    reason: reasons.exportsNotReplicated,
    controls: ['DAT-1', 'BAK-2'],
  },
  {
    packs: ['cfn-guard'],
    rule: 's3_bucket_object_lock_enabled_check',
    resourceTypes: ['AWS::S3::Bucket'],
    constructPath: exportsBucket,
    disposition: 'accepted',
    category: 'Tenant exports must be deletable',
    reason: reasons.exportsNotLocked,
    controls: ['DAT-1', 'DAT-2'],
  },
];
