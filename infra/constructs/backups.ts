import { type CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { type BackupSettings, vaultDimension } from '#shared/config/backups';
import { backupMetrics, metricServices } from '#shared/observability/backup-metrics';
import { metricNamespace } from '#shared/observability/metrics';
import { type TableId, tableIds } from '#shared/store/tables';
import { acknowledge } from '../nag-suppressions';
import { addAdvancedBackupSetting, backupSettingsModule } from './advanced-backup-setting';
import type { DataTables } from './data-tables';
import type { IncidentTopic } from './incident-topic';
import { RouteFunction, type StageFunctionProps } from './route-function';
import { StrongroomKey } from './strongroom-key';

/** Shortest retention of any recovery point, in both regions (BAK-2). */
export const backupRetention = Duration.days(35);

/** Handler modules of the backup jobs, relative to the project root. */
export const backupModules = {
  restoreValidation: 'functions/restore-validation/handler.ts',
  freshness: 'functions/backup-freshness/handler.ts',
  settings: backupSettingsModule,
} as const;

/** What the freshness check asks AWS Backup about copies: no resource-level permissions. */
export const copyJobActions = ['backup:ListCopyJobs'] as const;

/** The DR vault's name in the second region (dr-vault-stack.ts), referenced by a fixed ARN. */
export function drVaultName(stage: string): string {
  return `strongroom-${stage}-dr`;
}

export interface StrongroomBackupsProps extends StageFunctionProps {
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
 * region's key); the advanced DynamoDB backup setting of this region, which those copies need,
 * set by a custom resource (the DR stack sets its own region's); a restore testing plan whose
 * restore-job events start the validation function (restored tables against the audit log,
 * result reported to AWS Backup, metric, audit entry); a scheduled freshness check of both
 * vaults through this region's recovery points and copy jobs; alarms for a failed restore test
 * and for stale backups. Every function calls AWS Backup of this region only, so in a private
 * stage all of them run in the VPC (INF-7).
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
      primaryVault: { region, name: `strongroom-${stage}-primary` },
      drVault: { region: props.drRegion, name: drVaultName(stage), arn: this.drVaultArn },
      sourceTables: Object.fromEntries(
        tableIds.map((table) => [table, dataTables.tables[table].tableArn]),
      ) as Record<TableId, string>,
    };
    const environment = { ...props.environment, BACKUPS: stack.toJsonString(settings) };

    // The advanced DynamoDB backup setting of this region: CloudFormation has no resource for it.
    const setting = addAdvancedBackupSetting(this, { ...functionProps, environment });
    this.settingsFunction = setting.function;
    this.advancedDynamoDbSetting = setting.resource;
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
    this.restoreTestingSelection.addResourceDependency(this.restoreTestingPlan);

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
      description: `Strongroom ${stage}: age of the newest backup in the primary vault and of the newest copied to the DR vault`,
      environment,
      timeout: Duration.seconds(60),
      memorySize: 256,
    });
    // Both read in this region: the DR vault only as the destination of this region's copy jobs.
    this.freshnessFunction.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListRecoveryPointsOfThePrimaryVault',
        actions: ['backup:ListRecoveryPointsByBackupVault'],
        resources: [this.vault.backupVaultArn],
      }),
    );
    this.freshnessFunction.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CopyJobsHaveNoResourceLevelPermissions',
        actions: [...copyJobActions],
        resources: ['*'],
      }),
    );
    acknowledge(this.freshnessFunction.role, {
      rule: 'AwsSolutions-IAM5[Resource::*]',
      reason: reasons.copyJobs,
    });
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
    const watched = [
      {
        id: 'Primary',
        vault: settings.primaryVault,
        what: `the newest recovery point in ${settings.primaryVault.name} (${region})`,
      },
      {
        id: 'Dr',
        vault: settings.drVault,
        what: `the newest recovery point copied to ${settings.drVault.name} (${props.drRegion}), as the completed copy jobs of ${region} show`,
      },
    ];
    this.staleBackupAlarms = watched.map(({ id: alarmId, vault, what }) =>
      new cloudwatch.Metric({
        namespace,
        metricName: backupMetrics.newestRecoveryPointAge,
        dimensionsMap: { service: metricServices.backupFreshness, vault: vaultDimension(vault) },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.hours(1),
      }).createAlarm(this, `StaleBackups-${alarmId}`, {
        alarmName: `strongroom-${stage}-backups-stale-${alarmId.toLowerCase()}`,
        alarmDescription: `BAK-2: ${what} is older than ${staleAfter} hours, or the freshness check stopped reporting. Runbook: docs/runbooks/restore.md`,
        threshold: staleAfter,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    );
    props.incidents.notify(this.restoreTestAlarm, ...this.staleBackupAlarms);

    for (const fn of [this.validationFunction, this.freshnessFunction]) {
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
  copyJobs:
    'backup:ListCopyJobs supports no resource-level permissions; the statement holds only that action, which lists copy jobs of this account and region (no data access). Recovery points are listed on the primary vault by ARN.',
  restoreJobs:
    'ListRestoreJobs, DescribeRestoreJob and PutRestoreValidationResult support no resource-level permissions for restore jobs; the policy holds only those three actions.',
  restoredCopies:
    "Restore tests create tables whose names AWS Backup picks at run time; the validation function may only read items (no writes, no deletes) of this account's tables in this region, and only while AWS Backup keeps the copies.",
  tenantKeysByTag:
    'Tenant keys are created at onboarding, so their ARNs are not known to the stack; the statement allows only Decrypt, only on keys tagged with this stage and only for tenant data keys (encryption context purpose=tenant-data-key).',
} as const;
