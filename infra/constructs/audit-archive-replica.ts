import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { addAccessLogBucket } from './access-log-bucket';
import { StrongroomKey } from './strongroom-key';

/** What the replica's key protects; its alias is `alias/strongroom/<stage>/<purpose>`. */
export const auditArchiveReplicaKeyPurpose = 'audit-archive-replica';

/**
 * The replica bucket's name, known to both regions without a cross-region reference: the
 * primary archive's replication rule names it before the DR stack's outputs could exist.
 */
export function auditArchiveReplicaBucketName(stage: string, account: string, region: string): string {
  return `strongroom-${stage}-audit-replica-${account}-${region}`;
}

/** The replica key's alias; replication names the key by alias for the same reason. */
export function auditArchiveReplicaKeyAlias(stage: string): string {
  return `alias/strongroom/${stage}/${auditArchiveReplicaKeyPurpose}`;
}

export interface AuditArchiveReplicaProps {
  /** Stage whose audit archive the bucket receives (INF-5). */
  readonly stage: string;
  /** Days each replicated object version stays locked in compliance mode, as in the primary archive. */
  readonly retentionDays: number;
}

/**
 * The audit archive's copy in the second EU region (AUD-2, BAK-2): the primary archive
 * replicates every object under `tenants/` into this bucket, re-encrypted under a key that
 * lives in this region (ENC-5). Object Lock in compliance mode with the primary's retention,
 * versioned, all public access blocked, TLS 1.2+ only, kept on stack deletion, with server
 * access logs in a bucket of its own. Nothing writes here but S3 replication.
 */
export class AuditArchiveReplica extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly encryptionKey: StrongroomKey;

  constructor(scope: Construct, id: string, props: AuditArchiveReplicaProps) {
    super(scope, id);
    if (!/^[a-z0-9-]+$/.test(props.stage)) {
      throw new Error(
        `audit archive replica stage must match [a-z0-9-]+, got ${JSON.stringify(props.stage)}`,
      );
    }
    if (!Number.isInteger(props.retentionDays) || props.retentionDays < 1 || props.retentionDays > 36_500) {
      throw new Error(
        `audit archive replica retention must be 1 to 36500 days, got ${JSON.stringify(props.retentionDays)}`,
      );
    }
    const { account, region } = Stack.of(this);

    this.encryptionKey = new StrongroomKey(this, 'Key', {
      stage: props.stage,
      purpose: auditArchiveReplicaKeyPurpose,
      viaServices: ['s3'],
    });

    this.accessLogs = addAccessLogBucket(
      this,
      'AccessLogs',
      `strongroom-${props.stage}-audit-replica-logs-${account}-${region}`,
    );

    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: auditArchiveReplicaBucketName(props.stage, account, region),
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(props.retentionDays)),
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'audit-replica/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
