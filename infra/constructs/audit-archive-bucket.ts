import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { logRetention } from './encrypted-log-group';

/** Objects of the archive live under this prefix (shared/audit/archive.ts: `tenants/<tenant>/...`). */
export const archivePrefix = 'tenants/';

export interface AuditArchiveBucketProps {
  /** Stage that owns the archive; part of the bucket names (INF-5). */
  readonly stage: string;
  /** Days each object version stays locked in compliance mode: nobody, root included, can delete it earlier. */
  readonly retentionDays: number;
  /** Customer-managed key of the archive objects (ENC-2). */
  readonly encryptionKey: kms.IKey;
}

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
    this.encryptionKey = props.encryptionKey;
    const { account, region } = Stack.of(this);
    const securityLogDays = Number(logRetention.security);

    // S3 server access logging delivers only to buckets with SSE-S3 default encryption.
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      bucketName: `strongroom-${props.stage}-audit-archive-logs-${account}-${region}`,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'SecurityLogRetention',
          expiration: Duration.days(securityLogDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
    });

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
    });
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
