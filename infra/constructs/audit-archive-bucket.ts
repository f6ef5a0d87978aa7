import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { addAccessLogBucket } from './access-log-bucket';
import { auditArchiveReplicaBucketName, auditArchiveReplicaKeyAlias } from './audit-archive-replica';

/** Objects of the archive live under this prefix (shared/audit/archive.ts: `tenants/<tenant>/...`). */
export const archivePrefix = 'tenants/';

export interface AuditArchiveBucketProps {
  /** Stage that owns the archive; part of the bucket names (INF-5). */
  readonly stage: string;
  /** Days each object version stays locked in compliance mode: nobody, root included, can delete it earlier. */
  readonly retentionDays: number;
  /** Customer-managed key of the archive objects (ENC-2). */
  readonly encryptionKey: kms.IKey;
  /**
   * Second EU region whose `AuditArchiveReplica` (the DR stack) receives a copy of every
   * archive object, re-encrypted under that region's replica key (AUD-2, BAK-2, ENC-5).
   * @default - no replication
   */
  readonly replicaRegion?: string;
}

/** Id of the replication rule, a dimension of its CloudWatch metrics. */
export const archiveReplicationRuleId = 'AuditArchiveToDrRegion';

/**
 * The audit archive (AUD-2): an S3 bucket with Object Lock in compliance mode and a
 * default retention, versioned, encrypted with a customer-managed key (bucket keys on),
 * all public access blocked, TLS 1.2+ only, kept on stack deletion, with server access
 * logs in a log bucket of its own (LOG-2: security class, 36 months). Writers use
 * conditional puts, so an overwrite is refused, and if it ever happened the locked
 * earlier version would still be there.
 */
export class AuditArchiveBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly encryptionKey: kms.IKey;
  /** The role S3 replicates with, when a replica region is given. */
  readonly replicationRole?: iam.Role;
  /** The replica's objects the role may write, when a replica region is given. */
  readonly replicaObjectsArn?: string;
  /** The replica region's keys, of which the role may use only the replica key (by alias). */
  readonly replicaKeysArn?: string;
  /** Objects that failed to replicate to the DR region (AUD-5), when a replica region is given. */
  readonly replicationFailures?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: AuditArchiveBucketProps) {
    super(scope, id);
    if (!/^[a-z0-9-]+$/.test(props.stage)) {
      throw new Error(`audit archive stage must match [a-z0-9-]+, got ${JSON.stringify(props.stage)}`);
    }
    if (!Number.isInteger(props.retentionDays) || props.retentionDays < 1 || props.retentionDays > 36_500) {
      throw new Error(
        `audit archive retention must be 1 to 36500 days, got ${JSON.stringify(props.retentionDays)}`,
      );
    }
    if (props.replicaRegion !== undefined && props.replicaRegion === Stack.of(this).region) {
      throw new Error(
        `audit archive replica region must differ from the archive's, got ${JSON.stringify(props.replicaRegion)}`,
      );
    }
    this.encryptionKey = props.encryptionKey;
    const { account, region, partition } = Stack.of(this);

    this.accessLogs = addAccessLogBucket(
      this,
      'AccessLogs',
      `strongroom-${props.stage}-audit-archive-logs-${account}-${region}`,
    );

    const replication =
      props.replicaRegion === undefined ? undefined : this.#replication(props.stage, props.replicaRegion);
    this.replicationRole = replication?.replicationRole;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: `strongroom-${props.stage}-audit-archive-${account}-${region}`,
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(props.retentionDays)),
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'audit-archive/',
      removalPolicy: RemovalPolicy.RETAIN,
      ...replication,
    });

    if (this.replicationRole !== undefined && props.replicaRegion !== undefined) {
      this.replicaObjectsArn = `arn:${partition}:s3:::${auditArchiveReplicaBucketName(props.stage, account, props.replicaRegion)}/${archivePrefix}*`;
      this.replicaKeysArn = `arn:${partition}:kms:${props.replicaRegion}:${account}:key/*`;
      this.#grantReplication(this.replicationRole, props.stage, props.replicaRegion);
      const replicaName = auditArchiveReplicaBucketName(props.stage, account, props.replicaRegion);
      this.replicationFailures = new cloudwatch.Metric({
        namespace: 'AWS/S3',
        metricName: 'OperationsFailedReplication',
        dimensionsMap: {
          SourceBucket: this.bucket.bucketName,
          DestinationBucket: replicaName,
          RuleId: archiveReplicationRuleId,
        },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(5),
      }).createAlarm(this, 'ReplicationFailures', {
        alarmName: `strongroom-${props.stage}-audit-archive-replication-failures`,
        alarmDescription:
          'AUD-2, BAK-2: audit archive objects failed to replicate to the DR region; the locked originals are in the primary archive.',
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
  }

  /**
   * One rule: every object under `tenants/` with its Object Lock retention, never a delete
   * marker, re-encrypted under the replica region's key; metrics on for the failure alarm.
   * The role is our own, so its policy is exactly `#grantReplication`'s.
   */
  #replication(
    stage: string,
    replicaRegion: string,
  ): { readonly replicationRole: iam.Role; readonly replicationRules: s3.ReplicationRule[] } {
    const { account, partition } = Stack.of(this);
    const role = new iam.Role(this, 'ReplicationRole', {
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': account } },
      }),
      description: `Strongroom ${stage}: replicates the audit archive to ${replicaRegion}`,
    });
    const replica = s3.Bucket.fromBucketAttributes(this, 'ReplicaBucket', {
      bucketName: auditArchiveReplicaBucketName(stage, account, replicaRegion),
      region: replicaRegion,
      account,
    });
    // Replication takes the destination key by ARN or alias ARN; the alias is known here.
    const replicaKey = kms.Key.fromKeyArn(
      this,
      'ReplicaKey',
      `arn:${partition}:kms:${replicaRegion}:${account}:${auditArchiveReplicaKeyAlias(stage)}`,
    );
    return {
      replicationRole: role,
      replicationRules: [
        {
          id: archiveReplicationRuleId,
          destination: replica,
          kmsKey: replicaKey,
          sseKmsEncryptedObjects: true,
          deleteMarkerReplication: false,
          filter: { prefix: archivePrefix },
          metrics: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
          priority: 1,
        },
      ],
    };
  }

  /**
   * Read the archive's versions with their retention and legal hold, write replicas into the
   * replica bucket; decrypt with the archive key and encrypt with the replica key, each only
   * through S3 in its own region. No delete anywhere.
   */
  #grantReplication(role: iam.Role, stage: string, replicaRegion: string): void {
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadReplicationConfiguration',
        actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        resources: [this.bucket.bucketArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadArchiveVersions',
        actions: [
          's3:GetObjectVersionForReplication',
          's3:GetObjectVersionAcl',
          's3:GetObjectVersionTagging',
          's3:GetObjectRetention',
          's3:GetObjectLegalHold',
        ],
        resources: [this.bucket.arnForObjects(`${archivePrefix}*`)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteReplicas',
        actions: ['s3:ReplicateObject', 's3:ReplicateTags'],
        resources: [this.replicaObjectsArn ?? ''],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptArchiveThroughS3',
        actions: ['kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptReplicasThroughS3',
        actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [this.replicaKeysArn ?? ''],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${replicaRegion}.amazonaws.com` },
          'ForAnyValue:StringEquals': { 'kms:ResourceAliases': [auditArchiveReplicaKeyAlias(stage)] },
        },
      }),
    );
  }

  /**
   * What the archiver needs and nothing more: put and get objects under `tenants/`
   * (conditional puts, then a read to compare), and the archive key through S3 only.
   * No delete, no retention or legal-hold changes, no listing.
   */
  grantArchiveWrite(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject', 's3:GetObject'],
      resourceArns: [this.bucket.arnForObjects(`${archivePrefix}*`)],
    });
    this.encryptionKey.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
    return grant;
  }
}
