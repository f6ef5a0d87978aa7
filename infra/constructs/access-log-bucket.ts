import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { logRetention } from './encrypted-log-group';

/**
 * A bucket that receives S3 server access logs of one other bucket (LOG-2): SSE-S3, because
 * server access logging delivers only to buckets with SSE-S3 default encryption (ENC-2 lists
 * this exception); all public access blocked, TLS 1.2+ only, versioned, kept on stack
 * deletion, and the logs expire after the security class's retention (36 months).
 * A plain s3.Bucket under `id` in `scope`, so the logical ids of existing buckets stay.
 */
export function addAccessLogBucket(scope: Construct, id: string, bucketName: string): s3.Bucket {
  return new s3.Bucket(scope, id, {
    bucketName,
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
        expiration: Duration.days(Number(logRetention.security)),
        noncurrentVersionExpiration: Duration.days(1),
      },
    ],
  });
}
