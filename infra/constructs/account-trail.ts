import { type CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { addAccessLogBucket } from './access-log-bucket';
import { EncryptedLogGroup, logRetention } from './encrypted-log-group';
import { keyAdministrationActions, StrongroomKey } from './strongroom-key';

/** The trail's name; the key and bucket policies name the trail by its ARN before it exists. */
export const trailName = 'strongroom-account-trail';

/** Name part of the account-level resources (bucket, key aliases, log group); never a stage name. */
export const accountScope = 'account';

export interface AccountTrailProps {
  /**
   * Stages whose tables and buckets get data events: every table named `strongroom-<stage>-*`
   * (shared/store/tables.ts) and every bucket named `strongroom-<stage>-*`.
   */
  readonly stages: readonly string[];
  /**
   * Regions whose tables are logged (the trail itself covers every region).
   * @default - the stack's region
   */
  readonly tableRegions?: readonly string[];
}

/**
 * The account's CloudTrail trail (INF-6): every region, management events and data events
 * on Strongroom's DynamoDB tables and S3 objects, log files encrypted with a customer-managed
 * key of their own (ENC-2, ENC-4) and digest files for log file validation, delivered to a
 * bucket of its own (TLS only, all public access blocked, versioned, Object Lock, server
 * access logs, RETAIN) and to a CloudWatch log group of the security class (LOG-2: 36 months).
 */
export class AccountTrail extends Construct {
  readonly trail: cloudtrail.CfnTrail;
  readonly trailArn: string;
  readonly key: kms.Key;
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly logGroup: EncryptedLogGroup;
  readonly logKey: StrongroomKey;
  readonly deliveryRole: iam.Role;

  constructor(scope: Construct, id: string, props: AccountTrailProps) {
    super(scope, id);
    if (props.stages.length === 0) throw new Error('the account trail needs at least one stage to log');
    for (const stage of props.stages) {
      if (!/^[a-z0-9-]+$/.test(stage)) {
        throw new Error(`account trail stage must match [a-z0-9-]+, got ${JSON.stringify(stage)}`);
      }
      // Buckets are matched by the prefix strongroom-<stage>-: a stage named like the trail's own
      // bucket would log the trail's writes to itself.
      if (stage === accountScope) {
        throw new Error(
          `a stage must not be named ${JSON.stringify(accountScope)}: the account baseline uses it`,
        );
      }
    }
    const stack = Stack.of(this);
    const { account, region, partition } = stack;
    const tableRegions = props.tableRegions ?? [region];
    this.trailArn = `arn:${partition}:cloudtrail:${region}:${account}:trail/${trailName}`;
    const fromThisTrail = { StringEquals: { 'aws:SourceArn': this.trailArn } };
    const securityLogDays = Number(logRetention.security);

    this.key = new kms.Key(this, 'Key', {
      alias: `alias/strongroom/${accountScope}/cloudtrail`,
      description: 'Strongroom account: CloudTrail log files',
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'KeyAdministrationWithoutUse',
            principals: [new iam.AccountRootPrincipal()],
            actions: [...keyAdministrationActions],
            resources: ['*'],
          }),
          new iam.PolicyStatement({
            sid: 'CloudTrailEncryptsThisTrailsLogs',
            principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
            actions: ['kms:GenerateDataKey'],
            resources: ['*'],
            conditions: {
              ...fromThisTrail,
              StringLike: {
                'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${partition}:cloudtrail:*:${account}:trail/*`,
              },
            },
          }),
          new iam.PolicyStatement({
            sid: 'CloudTrailDescribesTheKey',
            principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
            actions: ['kms:DescribeKey'],
            resources: ['*'],
            conditions: fromThisTrail,
          }),
          new iam.PolicyStatement({
            sid: 'AccountReadsLogFilesThroughS3',
            principals: [new iam.AccountRootPrincipal()],
            actions: ['kms:Decrypt'],
            resources: ['*'],
            conditions: {
              StringEquals: { 'kms:CallerAccount': account, 'kms:ViaService': `s3.${region}.amazonaws.com` },
              StringLike: {
                'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${partition}:cloudtrail:*:${account}:trail/*`,
              },
            },
          }),
        ],
      }),
    });

    this.accessLogs = addAccessLogBucket(
      this,
      'AccessLogs',
      `strongroom-${accountScope}-trail-logs-${account}-${region}`,
    );

    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: `strongroom-${accountScope}-trail-${account}-${region}`,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      // Log files are evidence: locked for their retention (governance mode: only a principal
      // explicitly granted s3:BypassGovernanceRetention, which nothing here is, can shorten it).
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.governance(Duration.days(securityLogDays)),
      lifecycleRules: [
        {
          id: 'SecurityLogRetention',
          expiration: Duration.days(securityLogDays + 1),
          noncurrentVersionExpiration: Duration.days(securityLogDays + 1),
        },
      ],
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'cloudtrail/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailChecksTheBucketAcl',
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['s3:GetBucketAcl'],
        resources: [this.bucket.bucketArn],
        conditions: fromThisTrail,
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailWritesThisAccountsLogs',
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`AWSLogs/${account}/*`)],
        conditions: {
          StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': this.trailArn },
        },
      }),
    );

    this.logKey = new StrongroomKey(this, 'LogKey', {
      stage: accountScope,
      purpose: 'cloudtrail-logs',
      allowCloudWatchLogs: true,
    });
    this.logGroup = new EncryptedLogGroup(this, 'Logs', {
      logGroupName: `/strongroom/${accountScope}/cloudtrail`,
      logClass: 'security',
      encryptionKey: this.logKey.key,
    });
    this.deliveryRole = new iam.Role(this, 'DeliveryRole', {
      assumedBy: new iam.ServicePrincipal('cloudtrail.amazonaws.com', {
        conditions: fromThisTrail,
      }),
      description: 'CloudTrail delivers the account trail to its CloudWatch log group',
    });
    const deliveryPolicy = new iam.Policy(this, 'DeliveryPolicy', {
      statements: [
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [this.logGroup.logGroup.logGroupArn],
        }),
      ],
    });
    this.deliveryRole.attachInlinePolicy(deliveryPolicy);

    const dataEvents = (
      type: string,
      prefixes: string[],
    ): cloudtrail.CfnTrail.AdvancedFieldSelectorProperty[] => [
      { field: 'eventCategory', equalTo: ['Data'] },
      { field: 'resources.type', equalTo: [type] },
      { field: 'resources.ARN', startsWith: prefixes },
    ];
    this.trail = new cloudtrail.CfnTrail(this, 'Trail', {
      trailName,
      isLogging: true,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableLogFileValidation: true,
      s3BucketName: this.bucket.bucketName,
      kmsKeyId: this.key.keyArn,
      cloudWatchLogsLogGroupArn: this.logGroup.logGroup.logGroupArn,
      cloudWatchLogsRoleArn: this.deliveryRole.roleArn,
      advancedEventSelectors: [
        { name: 'Management events', fieldSelectors: [{ field: 'eventCategory', equalTo: ['Management'] }] },
        {
          name: 'Strongroom DynamoDB tables',
          fieldSelectors: dataEvents(
            'AWS::DynamoDB::Table',
            tableRegions.flatMap((tableRegion) =>
              props.stages.map(
                (stage) => `arn:${partition}:dynamodb:${tableRegion}:${account}:table/strongroom-${stage}-`,
              ),
            ),
          ),
        },
        {
          name: 'Strongroom S3 objects',
          fieldSelectors: dataEvents(
            'AWS::S3::Object',
            props.stages.map((stage) => `arn:${partition}:s3:::strongroom-${stage}-`),
          ),
        },
      ],
    });
    // CloudTrail checks the bucket policy and the delivery role when the trail is created.
    const bucketPolicy = this.bucket.policy;
    if (bucketPolicy !== undefined)
      this.trail.addResourceDependency(bucketPolicy.node.defaultChild as CfnResource);
    this.trail.addResourceDependency(deliveryPolicy.node.defaultChild as CfnResource);
  }
}
