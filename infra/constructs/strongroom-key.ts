import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * Key administration without key use (ENC-4): account principals may manage the key
 * through IAM but none of these actions encrypts, decrypts or grants.
 */
export const keyAdministrationActions = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListKeyRotations',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:UpdateKeyDescription',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:EnableKeyRotation',
  'kms:DisableKeyRotation',
  'kms:RotateKeyOnDemand',
  'kms:RevokeGrant',
  'kms:RetireGrant',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
] as const;

/** Cryptographic use, allowed to account principals only through the named AWS services. */
export const keyUsageActions = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:DescribeKey',
] as const;

export interface StrongroomKeyProps {
  /** Stage that owns the key; keys are never shared between stages (INF-5). */
  readonly stage: string;
  /** What the key protects (`tables`, `logs`, ...); one key per purpose (ENC-4). */
  readonly purpose: string;
  /**
   * AWS services (endpoint prefix, e.g. `dynamodb`) through which account principals
   * may use the key; direct calls to KMS Encrypt or Decrypt are not allowed.
   * @default - no service may use the key on an account principal's behalf
   */
  readonly viaServices?: readonly string[];
  /**
   * Whether CloudWatch Logs may use the key for log groups of this account and region.
   * @default false
   */
  readonly allowCloudWatchLogs?: boolean;
  /**
   * Whether CloudWatch alarms of this account and region may use the key, to publish
   * notifications to a topic encrypted with it (INC-1).
   * @default false
   */
  readonly allowCloudWatchAlarms?: boolean;
}

/**
 * A symmetric customer-managed key with yearly rotation, a 30-day deletion window and
 * RETAIN, whose key policy separates administration from use (ENC-2, ENC-4).
 */
export class StrongroomKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: StrongroomKeyProps) {
    super(scope, id);
    if (!/^[a-z0-9-]+$/.test(props.stage)) {
      throw new Error(`strongroom key stage must match [a-z0-9-]+, got ${JSON.stringify(props.stage)}`);
    }
    if (!/^[a-z][a-z0-9-]*$/.test(props.purpose)) {
      throw new Error(
        `strongroom key purpose must match [a-z][a-z0-9-]*, got ${JSON.stringify(props.purpose)}`,
      );
    }
    const viaServices = props.viaServices ?? [];
    for (const service of viaServices) {
      if (!/^[a-z0-9-]+$/.test(service)) {
        throw new Error(
          `strongroom key via-service must be an endpoint prefix, got ${JSON.stringify(service)}`,
        );
      }
    }
    if (
      viaServices.length === 0 &&
      props.allowCloudWatchLogs !== true &&
      props.allowCloudWatchAlarms !== true
    ) {
      throw new Error(
        `strongroom key ${JSON.stringify(props.purpose)} has no user: give viaServices, allowCloudWatchLogs or allowCloudWatchAlarms`,
      );
    }

    const { account, region, partition } = Stack.of(this);
    const statements = [
      new iam.PolicyStatement({
        sid: 'KeyAdministrationWithoutUse',
        principals: [new iam.AccountRootPrincipal()],
        actions: [...keyAdministrationActions],
        resources: ['*'],
      }),
    ];
    if (viaServices.length > 0) {
      const serviceEndpoints = viaServices.map((service) => `${service}.${region}.amazonaws.com`);
      statements.push(
        new iam.PolicyStatement({
          sid: 'UseOnlyThroughServices',
          principals: [new iam.AccountRootPrincipal()],
          actions: [...keyUsageActions],
          resources: ['*'],
          conditions: { StringEquals: { 'kms:CallerAccount': account, 'kms:ViaService': serviceEndpoints } },
        }),
        new iam.PolicyStatement({
          sid: 'GrantsOnlyForServiceResources',
          principals: [new iam.AccountRootPrincipal()],
          actions: ['kms:CreateGrant'],
          resources: ['*'],
          conditions: {
            StringEquals: { 'kms:CallerAccount': account, 'kms:ViaService': serviceEndpoints },
            Bool: { 'kms:GrantIsForAWSResource': 'true' },
          },
        }),
      );
    }
    if (props.allowCloudWatchLogs === true) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'CloudWatchLogsOfThisAccountAndRegion',
          principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
          actions: [...keyUsageActions],
          resources: ['*'],
          conditions: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*`,
            },
          },
        }),
      );
    }

    if (props.allowCloudWatchAlarms === true) {
      // SNS asks KMS on the alarm's behalf; the conditions keep other accounts' alarms out.
      statements.push(
        new iam.PolicyStatement({
          sid: 'CloudWatchAlarmsOfThisAccountAndRegion',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: ['*'],
          conditions: {
            StringEquals: { 'aws:SourceAccount': account },
            ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
          },
        }),
      );
    }

    this.key = new kms.Key(this, 'Key', {
      alias: `alias/strongroom/${props.stage}/${props.purpose}`,
      description: `Strongroom ${props.stage}: ${props.purpose}`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new iam.PolicyDocument({ statements }),
    });
  }
}
