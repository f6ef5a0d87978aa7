import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { BackupSettings } from '#shared/config/backups';
import { backupMetrics, metricServices } from '#shared/observability/backup-metrics';
import { metricNamespace } from '#shared/observability/metrics';
import { type TableId, tableIds } from '#shared/store/tables';
import { acknowledge } from '../nag-suppressions';
import type { DataTables } from './data-tables';
import type { IncidentTopic } from './incident-topic';
import { RouteFunction } from './route-function';
import { StrongroomKey } from './strongroom-key';

/** Shortest retention of any recovery point, in both regions (BAK-2). */
export const backupRetention = Duration.days(35);

/** Handler modules of the backup jobs, relative to the project root. */
export const backupModules = {
  restoreValidation: 'functions/restore-validation/handler.ts',
  freshness: 'functions/backup-freshness/handler.ts',
  settings: 'functions/backup-settings/handler.ts',
} as const;

/**
 * Why two backup functions stay outside a stage's private network (INF-7): both call AWS
 * Backup in the DR region too, and PrivateLink reaches AWS Backup in the VPC's own region only.
 */
export const privateNetworkExemptions = {
  settings:
    'Deploy-time custom resource only: CloudFormation invokes it to turn on the advanced DynamoDB backup setting in both regions; AWS Backup of the DR region has no endpoint that the primary region VPC can reach (PrivateLink reaches AWS Backup in its own region only). It holds backup:UpdateRegionSettings and DescribeRegionSettings only, no data access.',
  freshness:
    "Hourly check of the newest recovery point in both vaults: the DR vault's AWS Backup API is in the second region, out of reach of the primary region's VPC endpoints. It holds backup:ListRecoveryPointsByBackupVault on the two vault ARNs only, no data access. Tracked: read the DR copies through the primary region's copy jobs (ListCopyJobs) and move it into the network.",
} as const;

/** The DR vault's name in the second region (dr-vault-stack.ts), referenced by a fixed ARN. */
export function drVaultName(stage: string): string {
  return `strongroom-${stage}-dr`;
}

export interface StrongroomBackupsProps {
  /** Stage whose tables are backed up. */
  readonly stage: string;
  /** Project root with package.json and the handler modules. */
  readonly projectRoot: string;
  /** Runtime configuration shared by every function; nothing secret. */
  readonly environment: Readonly<Record<string, string>>;
  /** Customer-managed key of the functions' environment (ENC-2). */
  readonly environmentKey: kms.IKey;
  /** Customer-managed key of their log groups (ENC-2). */
  readonly logKey: kms.IKey;
  /** The tables backed up and restored. */
  readonly dataTables: DataTables;
  /** The second EU region, whose DR vault receives the copies under its own key (ENC-5). */
  readonly drRegion: string;
  /** Where the failed-restore-test and stale-backup alarms go (INC-1). */
  readonly incidents: IncidentTopic;
  /**
   * When the daily backup starts.
   * @default 03:00 UTC
   */
  readonly schedule?: events.Schedule;
  /**
   * How long recovery points are kept, in both regions; at least 35 days.
   * @default Duration.days(35)
   */
  readonly retention?: Duration;
  /**
   * When the restore testing plan restores and validates the tables.
   * @default weekly, Mondays 05:00 UTC
   */
  readonly restoreTestSchedule?: string;
  /**
   * Age of the newest recovery point (hours) at which backups count as stale.
   * @default 26
   */
  readonly staleAfterHours?: number;
}

/**
 * Backups of one stage (BAK-1 … BAK-3, ENC-4, ENC-5): a primary vault under a backup key
 * of its own (vault lock, no manual deletion), a daily plan keeping recovery points 35 days
 * and copying each to the DR vault in the second EU region (re-encrypted there under that
 * region's key); the account's advanced DynamoDB backup setting, which those copies need,
 * set in both regions by a custom resource; a restore testing plan whose restore-job events
 * start the validation function (restored tables against the audit log, result reported to
 * AWS Backup, metric, audit entry); a scheduled freshness check of both vaults; alarms for a
 * failed restore test and for stale backups.
 */
export class StrongroomBackups extends Construct {
  readonly vaultKey: StrongroomKey;
  readonly vault: backup.BackupVault;
  readonly drVaultArn: string;
  readonly plan: backup.BackupPlan;
  readonly selection: backup.BackupSelection;
  readonly settingsFunction: RouteFunction;
  readonly advancedDynamoDbSetting: CustomResource;
  readonly restoreTestingPlan: backup.CfnRestoreTestingPlan;
  readonly restoreTestingSelection: backup.CfnRestoreTestingSelection;
  readonly restoreRole: iam.Role;
  readonly validationFunction: RouteFunction;
  readonly restoreEvents: events.Rule;
  readonly freshnessFunction: RouteFunction;
  readonly freshnessSchedule: events.Rule;
  readonly restoreTestAlarm: cloudwatch.Alarm;
  readonly staleBackupAlarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: StrongroomBackupsProps) {
    super(scope, id);
    const { stage, dataTables } = props;
    const retention = props.retention ?? backupRetention;
    if (retention.toDays() < backupRetention.toDays()) {
      throw new Error(`backup retention must be at least 35 days, got ${retention.toHumanString()}`);
    }
    const stack = Stack.of(this);
    const { account, region, partition } = stack;
    if (props.drRegion === region)
      throw new Error('the DR region must differ from the primary region (BAK-2)');

    // ENC-4: a key of its own for this region's backups, usable only through AWS Backup.
    this.vaultKey = new StrongroomKey(this, 'VaultKey', {
      stage,
      purpose: 'backups',
      viaServices: ['backup'],
    });
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: `strongroom-${stage}-primary`,
      encryptionKey: this.vaultKey.key,
      removalPolicy: RemovalPolicy.RETAIN,
      blockRecoveryPointDeletion: true,
      lockConfiguration: { minRetention: backupRetention },
    });
    this.drVaultArn = `arn:${partition}:backup:${props.drRegion}:${account}:backup-vault:${drVaultName(stage)}`;
    const drVault = backup.BackupVault.fromBackupVaultArn(this, 'DrVault', this.drVaultArn);

    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: `strongroom-${stage}`,
      backupVault: this.vault,
      backupPlanRules: [
        new backup.BackupPlanRule({
          ruleName: 'daily-copy-to-dr',
          scheduleExpression: props.schedule ?? events.Schedule.cron({ minute: '0', hour: '3' }),
          startWindow: Duration.hours(1),
          completionWindow: Duration.hours(8),
          deleteAfter: retention,
          copyActions: [{ destinationBackupVault: drVault, deleteAfter: retention }],
        }),
      ],
    });
    const tableArns = tableIds.map((table) => dataTables.tables[table].tableArn);
    this.selection = this.plan.addSelection('Tables', {
      backupSelectionName: `strongroom-${stage}-tables`,
      resources: tableArns.map((arn) => backup.BackupResource.fromArn(arn)),
      allowRestores: true,
    });
    const backupRole = this.selection.grantPrincipal as iam.IRole;
    acknowledge(
      backupRole,
      {
        rule: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
        reason: reasons.backupServiceRole,
      },
      {
        rule: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores]',
        reason: reasons.backupServiceRole,
      },
    );

    const functionProps = {
      stage,
      projectRoot: props.projectRoot,
      environmentKey: props.environmentKey,
      logKey: props.logKey,
      logClass: 'security' as const,
    };
    const settings: BackupSettings = {
      vaults: [
        { region, name: `strongroom-${stage}-primary` },
        { region: props.drRegion, name: drVaultName(stage) },
      ],
      sourceTables: Object.fromEntries(
        tableIds.map((table) => [table, dataTables.tables[table].tableArn]),
      ) as Record<TableId, string>,
      regions: [region, props.drRegion],
    };
    const environment = { ...props.environment, BACKUPS: stack.toJsonString(settings) };

    // The advanced DynamoDB backup setting, in both regions: CloudFormation has no resource for it.
    this.settingsFunction = new RouteFunction(this, 'SettingsFunction', {
      ...functionProps,
      name: 'backup-settings',
      entry: backupModules.settings,
      description: `Strongroom ${stage}: turns on advanced DynamoDB backups in ${region} and ${props.drRegion}`,
      environment,
      outsidePrivateNetwork: privateNetworkExemptions.settings,
      timeout: Duration.seconds(60),
      memorySize: 256,
    });
    this.settingsFunction.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AccountBackupSettingsHaveNoResource',
        actions: ['backup:UpdateRegionSettings', 'backup:DescribeRegionSettings'],
        resources: ['*'],
      }),
    );
    acknowledge(this.settingsFunction.role, {
      rule: 'AwsSolutions-IAM5[Resource::*]',
      reason: reasons.regionSettings,
    });
    this.advancedDynamoDbSetting = new CustomResource(this, 'AdvancedDynamoDbBackups', {
      serviceToken: this.settingsFunction.function.functionArn,
      resourceType: 'Custom::DynamoDbAdvancedBackupSetting',
      properties: { Regions: [region, props.drRegion] },
    });
    this.plan.node.addDependency(this.advancedDynamoDbSetting);

    // Restore tests (BAK-3): AWS Backup restores every table from the latest recovery point.
    this.restoreRole = new iam.Role(this, 'RestoreTestingRole', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: `Strongroom ${stage}: AWS Backup restores tables for restore tests`,
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForRestores'),
      ],
    });
    acknowledge(this.restoreRole, {
      rule: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores]',
      reason: reasons.backupServiceRole,
    });
    this.restoreTestingPlan = new backup.CfnRestoreTestingPlan(this, 'RestoreTestingPlan', {
      restoreTestingPlanName: `strongroom_${stage.replace(/-/g, '_')}_restore_tests`,
      scheduleExpression: props.restoreTestSchedule ?? 'cron(0 5 ? * MON *)',
      scheduleExpressionTimezone: 'Etc/UTC',
      startWindowHours: 4,
      recoveryPointSelection: {
        algorithm: 'LATEST_WITHIN_WINDOW',
        includeVaults: [this.vault.backupVaultArn],
        recoveryPointTypes: ['SNAPSHOT'],
        selectionWindowDays: 7,
      },
    });
    this.restoreTestingSelection = new backup.CfnRestoreTestingSelection(this, 'RestoreTestingSelection', {
      restoreTestingPlanName: this.restoreTestingPlan.restoreTestingPlanName,
      restoreTestingSelectionName: `strongroom_${stage.replace(/-/g, '_')}_tables`,
      protectedResourceType: 'DynamoDB',
      iamRoleArn: this.restoreRole.roleArn,
      protectedResourceArns: tableArns,
      // The validation reports within this window; AWS Backup deletes the copies after it.
      validationWindowHours: 4,
    });
    this.restoreTestingSelection.addDependency(this.restoreTestingPlan);

    this.validationFunction = new RouteFunction(this, 'ValidationFunction', {
      ...functionProps,
      name: 'restore-validation',
      entry: backupModules.restoreValidation,
      description: `Strongroom ${stage}: validates restore-test copies against the audit log`,
      environment,
      timeout: Duration.minutes(15),
      memorySize: 1024,
    });
    const validationRole = this.validationFunction.role;
    validationRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RestoreJobsOfThePlan',
        actions: ['backup:ListRestoreJobs', 'backup:DescribeRestoreJob', 'backup:PutRestoreValidationResult'],
        resources: ['*'],
      }),
    );
    // The restored copies: names AWS Backup chooses at run time, in this account and region.
    validationRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRestoredCopies',
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan'],
        resources: [`arn:${partition}:dynamodb:${region}:${account}:table/*`],
      }),
    );
    dataTables.grantTableKey(validationRole, 'read');
    // Its entry in the platform's log.
    dataTables.grantItemReadWrite(validationRole, 'audit');
    dataTables.grantItemReadWrite(validationRole, 'auditHead');
    dataTables.grantItemRead(validationRole, 'tenants');
    // Data keys of every tenant of this stage, to open restored items (ENC-3).
    validationRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'UnwrapDataKeysOfThisStage',
        actions: ['kms:Decrypt'],
        resources: [`arn:${partition}:kms:${region}:${account}:key/*`],
        conditions: {
          StringEquals: {
            'aws:ResourceTag/strongroom:stage': stage,
            'kms:EncryptionContext:purpose': 'tenant-data-key',
          },
        },
      }),
    );
    acknowledge(
      validationRole,
      { rule: 'AwsSolutions-IAM5[Resource::*]', reason: reasons.restoreJobs },
      {
        rule: `AwsSolutions-IAM5[Resource::arn:${partition}:dynamodb:${region}:${account}:table/*]`,
        reason: reasons.restoredCopies,
      },
      {
        rule: `AwsSolutions-IAM5[Resource::arn:${partition}:kms:${region}:${account}:key/*]`,
        reason: reasons.tenantKeysByTag,
      },
    );
    this.restoreEvents = new events.Rule(this, 'RestoreJobEvents', {
      ruleName: `strongroom-${stage}-restore-test-jobs`,
      description: `Strongroom ${stage}: restore jobs of the restore testing plan start the validation`,
      eventPattern: {
        source: ['aws.backup'],
        detailType: ['Restore Job State Change'],
        detail: { status: ['COMPLETED'], restoreTestingPlanArn: [{ exists: true }] as never },
      },
      targets: [new targets.LambdaFunction(this.validationFunction.function, { retryAttempts: 2 })],
    });

    this.freshnessFunction = new RouteFunction(this, 'FreshnessFunction', {
      ...functionProps,
      name: 'backup-freshness',
      entry: backupModules.freshness,
      description: `Strongroom ${stage}: age of the newest recovery point in both vaults`,
      environment,
      outsidePrivateNetwork: privateNetworkExemptions.freshness,
      timeout: Duration.seconds(60),
      memorySize: 256,
    });
    this.freshnessFunction.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListRecoveryPointsOfBothVaults',
        actions: ['backup:ListRecoveryPointsByBackupVault'],
        resources: [this.vault.backupVaultArn, this.drVaultArn],
      }),
    );
    this.freshnessSchedule = new events.Rule(this, 'FreshnessSchedule', {
      ruleName: `strongroom-${stage}-backup-freshness`,
      description: `Strongroom ${stage}: check that both vaults hold a recent recovery point`,
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(this.freshnessFunction.function, { retryAttempts: 1 })],
    });

    // Alarms (AUD-5, INC-1).
    const namespace = metricNamespace(stage);
    this.restoreTestAlarm = new cloudwatch.Metric({
      namespace,
      metricName: backupMetrics.restoreValidationFailed,
      dimensionsMap: { service: metricServices.restoreTests },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.hours(1),
    }).createAlarm(this, 'RestoreTestFailed', {
      alarmName: `strongroom-${stage}-restore-test-failed`,
      alarmDescription:
        'BAK-3: a restore test restored tables that do not match the audit log (or could not be validated). Runbook: docs/runbooks/restore.md',
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const staleAfter = props.staleAfterHours ?? 26;
    this.staleBackupAlarms = settings.vaults.map((vault) =>
      new cloudwatch.Metric({
        namespace,
        metricName: backupMetrics.newestRecoveryPointAge,
        dimensionsMap: { service: metricServices.backupFreshness, vault: `${vault.region}/${vault.name}` },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.hours(1),
      }).createAlarm(this, `StaleBackups-${vault.region === region ? 'Primary' : 'Dr'}`, {
        alarmName: `strongroom-${stage}-backups-stale-${vault.region === region ? 'primary' : 'dr'}`,
        alarmDescription: `BAK-2: the newest recovery point in ${vault.name} (${vault.region}) is older than ${staleAfter} hours, or the freshness check stopped reporting. Runbook: docs/runbooks/restore.md`,
        threshold: staleAfter,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    );
    props.incidents.notify(this.restoreTestAlarm, ...this.staleBackupAlarms);

    for (const fn of [this.settingsFunction, this.validationFunction, this.freshnessFunction]) {
      acknowledge(fn.tracingPolicy, {
        rule: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions; this policy holds only those two actions.',
      });
    }
  }
}

const reasons = {
  backupServiceRole:
    "AWS Backup's service-role policies are the documented way to let AWS Backup back up and restore DynamoDB tables (with their KMS keys and tags); the role is assumable by backup.amazonaws.com only and selects this stage's tables by exact ARN.",
  regionSettings:
    'backup:UpdateRegionSettings and DescribeRegionSettings act on account-wide settings and support no resource-level permissions; the policy holds only those two actions.',
  restoreJobs:
    'ListRestoreJobs, DescribeRestoreJob and PutRestoreValidationResult support no resource-level permissions for restore jobs; the policy holds only those three actions.',
  restoredCopies:
    "Restore tests create tables whose names AWS Backup picks at run time; the validation function may only read items (no writes, no deletes) of this account's tables in this region, and only while AWS Backup keeps the copies.",
  tenantKeysByTag:
    'Tenant keys are created at onboarding, so their ARNs are not known to the stack; the statement allows only Decrypt, only on keys tagged with this stage and only for tenant data keys (encryption context purpose=tenant-data-key).',
} as const;
