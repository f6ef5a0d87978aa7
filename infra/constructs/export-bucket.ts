import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { exportObjectPrefix } from '#shared/store/export-archives';
import { addAccessLogBucket } from './access-log-bucket';
import { tenantSessionTag } from './tenant-access-role';

export interface ExportBucketProps {
  /** Stage that owns the bucket; part of the bucket names (INF-5). */
  readonly stage: string;
  /** Customer-managed key of the export objects, used through S3 only (ENC-2). */
  readonly encryptionKey: kms.IKey;
  /**
   * Days an export stays downloadable before the lifecycle rule deletes it; the tenant can
   * start a new one at any time (its key and data are still there).
   * @default 7
   */
  readonly expirationDays?: number;
}

/**
 * The exports bucket (DAT-1): finished tenant exports, each already an AWS Encryption SDK
 * message under the tenant's own key, stored again under a customer-managed key (SSE-KMS,
 * bucket keys on), all public access blocked, TLS 1.2+ only, versioned, kept on stack
 * deletion (RETAIN) and emptied by a lifecycle rule after `expirationDays`; server access
 * logs go to a log bucket of its own (LOG-2: security class). The worker writes
 * `tenants/<tenantId>/<exportId>.esdk`; a tenant session reads only its own tenant's prefix,
 * which is what an S3 presigned download link signed with that session can reach.
 */
export class ExportBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: ExportBucketProps) {
    super(scope, id);
    if (!/^[a-z0-9-]+$/.test(props.stage)) {
      throw new Error(`export bucket stage must match [a-z0-9-]+, got ${JSON.stringify(props.stage)}`);
    }
    const expirationDays = props.expirationDays ?? 7;
    if (!Number.isInteger(expirationDays) || expirationDays < 1 || expirationDays > 90) {
      throw new Error(`export expiration must be 1 to 90 days, got ${JSON.stringify(expirationDays)}`);
    }
    this.encryptionKey = props.encryptionKey;
    const { account, region } = Stack.of(this);

    this.accessLogs = addAccessLogBucket(
      this,
      'AccessLogs',
      `strongroom-${props.stage}-exports-logs-${account}-${region}`,
    );

    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: `strongroom-${props.stage}-exports-${account}-${region}`,
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'exports/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'ExportsExpire',
          expiration: Duration.days(expirationDays),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
  }

  /** The export worker: puts new exports under `tenants/` (never deletes, lists or reads), through S3 with the key. */
  grantExportWrite(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject'],
      resourceArns: [this.bucket.arnForObjects(`${exportObjectPrefix}*`)],
    });
    this.encryptionKey.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
    return grant;
  }

  /**
   * Tenant sessions (AZ-3): get objects under `tenants/<own tenant id>/` only, named by the
   * session's tenant tag, so a presigned link signed by one tenant's session opens nothing else.
   */
  grantTenantRead(tenantAccessRole: iam.IRole): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee: tenantAccessRole,
      actions: ['s3:GetObject'],
      resourceArns: [
        this.bucket.arnForObjects(`${exportObjectPrefix}\${aws:PrincipalTag/${tenantSessionTag}}/*`),
      ],
    });
    this.encryptionKey.grant(tenantAccessRole, 'kms:Decrypt');
    return grant;
  }
}
