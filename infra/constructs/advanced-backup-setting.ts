import { CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { acknowledge } from '../nag-suppressions';
import type { PrivateNetwork } from './private-network';
import { RouteFunction, type StageFunctionProps } from './route-function';

/** The setting function's handler module, relative to the project root. */
export const backupSettingsModule = 'functions/backup-settings/handler.ts';

/** What the setting function asks AWS Backup: account settings of its region, no resource-level permissions. */
export const regionSettingsActions = [
  'backup:DescribeRegionSettings',
  'backup:UpdateRegionSettings',
] as const;

export interface AdvancedBackupSettingProps extends StageFunctionProps {}

/** The function and the custom resource that turn the setting on in one region. */
export interface AdvancedBackupSetting {
  readonly function: RouteFunction;
  readonly resource: CustomResource;
}

const regionSettingsReason =
  'backup:UpdateRegionSettings and DescribeRegionSettings act on account-wide settings of the region and support no resource-level permissions; the policy holds only those two actions.';

/**
 * AWS Backup's advanced DynamoDB backup setting of the stack's own region (BAK-2), which
 * cross-region copies of DynamoDB backups need and CloudFormation has no resource for: a
 * custom resource (`Custom::DynamoDbAdvancedBackupSetting`) whose function calls AWS Backup
 * of its own region only. The platform stack adds one for the primary region and the DR
 * stack one for the second region, so no call crosses regions and, in a stage with a
 * private network, the function sits in the VPC like any other (INF-7): it needs the Backup
 * interface endpoint (`allowRegionSettings`) and the S3 gateway endpoint for CloudFormation's
 * presigned response URL (`CustomResourceResponses`). CloudFormation invokes the function
 * directly (no provider framework), so there is no CDK-made function outside the network.
 *
 * Children are added to `scope` itself (`SettingsFunction`, `AdvancedDynamoDbBackups`), so the
 * platform stack keeps the logical ids (and the fixed function name) it always had.
 */
export function addAdvancedBackupSetting(
  scope: Construct,
  props: AdvancedBackupSettingProps,
): AdvancedBackupSetting {
  const { region } = Stack.of(scope);
  const fn = new RouteFunction(scope, 'SettingsFunction', {
    stage: props.stage,
    projectRoot: props.projectRoot,
    environmentKey: props.environmentKey,
    logKey: props.logKey,
    logClass: 'security',
    name: 'backup-settings',
    entry: backupSettingsModule,
    description: `Strongroom ${props.stage}: turns on advanced DynamoDB backups in ${region}`,
    environment: props.environment,
    timeout: Duration.seconds(60),
    memorySize: 256,
  });
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'AccountBackupSettingsHaveNoResource',
      actions: [...regionSettingsActions],
      resources: ['*'],
    }),
  );
  acknowledge(fn.role, { rule: 'AwsSolutions-IAM5[Resource::*]', reason: regionSettingsReason });
  acknowledge(fn.tracingPolicy, {
    rule: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions; this policy holds only those two actions.',
  });
  const resource = new CustomResource(scope, 'AdvancedDynamoDbBackups', {
    serviceToken: fn.function.functionArn,
    resourceType: 'Custom::DynamoDbAdvancedBackupSetting',
    properties: { Region: region },
  });
  return { function: fn, resource };
}

/**
 * The Backup endpoint statement of the setting function: the two region-settings actions,
 * which name no resource, for that function's role only (INF-7).
 */
export function allowRegionSettings(network: PrivateNetwork, setting: AdvancedBackupSetting): void {
  network.allow('backup', {
    sid: 'RegionSettingsHaveNoResourceLevelPermissions',
    actions: [...regionSettingsActions],
    resources: ['*'],
    conditions: { ArnEquals: { 'aws:PrincipalArn': setting.function.role.roleArn } },
  });
}
