import { Stack } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { tenantTagKey } from '#shared/crypto/key-service';
import { exportObjectPrefix } from '#shared/store/export-archives';
import { tableIds } from '#shared/store/tables';
import { allowRegionSettings } from './advanced-backup-setting';
import type { AuditArchiveBucket } from './audit-archive-bucket';
import { archivePrefix } from './audit-archive-bucket';
import type { AuditSigningKeys } from './audit-signing-keys';
import { copyJobActions, type StrongroomBackups } from './backups';
import { type DataTables, itemReadActions, itemWriteActions } from './data-tables';
import type { ExportBucket } from './export-bucket';
import { invitationActions } from './identity-grants';
import type { PrivateNetwork } from './private-network';

/** Tenant key use through the KMS endpoint: data keys, the DR replica, crypto-shredding (ENC-4, DAT-2). */
export const tenantKeyEndpointActions = [
  'kms:GenerateDataKey',
  'kms:Decrypt',
  'kms:ReplicateKey',
  'kms:ScheduleKeyDeletion',
] as const;

/** X-Ray writes and sampling; X-Ray has no resource-level permissions, so its policy names actions only. */
export const xrayEndpointActions = [
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
] as const;

/** What the restore validation asks AWS Backup (no resource-level permissions). */
export const restoreJobActions = [
  'backup:ListRestoreJobs',
  'backup:DescribeRestoreJob',
  'backup:PutRestoreValidationResult',
] as const;

export interface StageEndpointPoliciesProps {
  /** Stage whose resources the policies name (tag values, log group prefix). */
  readonly stage: string;
  /** The network whose endpoints get the policies. */
  readonly network: PrivateNetwork;
  /** The stage's tables and their indexes (DynamoDB endpoint). */
  readonly dataTables: DataTables;
  /** The audit archive (S3 endpoint). */
  readonly archive: AuditArchiveBucket;
  /** The exports bucket (S3 endpoint): the export worker puts finished exports there (DAT-1). */
  readonly exportBucket: ExportBucket;
  /** The checkpoint signing keys (KMS endpoint). */
  readonly signingKeys: AuditSigningKeys;
  /** ARNs of the stage's Secrets Manager secrets that functions read (Secrets Manager endpoint). */
  readonly secretArns: readonly string[];
  /** The role that tenant sessions assume (STS endpoint). */
  readonly tenantAccessRole: iam.IRole;
  /** The stage's user pool (Cognito endpoint). */
  readonly userPool: cognito.IUserPool;
  /**
   * The backups: the restore validation reads restored copies and its restore jobs, the
   * freshness check recovery points and copy jobs, the setting function the region setting
   * (DynamoDB, Backup endpoints).
   */
  readonly backups: StrongroomBackups;
  /** The DR region, whose KMS endpoint lets the purge schedule tenant key replicas for deletion. */
  readonly drRegion: string;
}

/**
 * The endpoint policies of a private stage (INF-7): each endpoint lets our account's
 * principals reach our own resources only, so stolen credentials of this account, or of any
 * other, cannot move data through the endpoints to someone else's table, bucket, key or
 * secret. IAM still decides what each function may do; the endpoint is the network perimeter.
 *
 * - DynamoDB: item actions (and Scan, for the jobs that cross tenants) on the stage's tables
 *   and indexes, by ARN.
 * - S3: the archive's `tenants/` objects, the exports bucket's `tenants/` objects, and CloudFormation's custom-resource response bucket
 *   of the region (presigned URLs, signed by CloudFormation, hence any account).
 * - KMS: Sign and GetPublicKey on the audit signing keys by ARN; tenant keys are created at
 *   run time, so they are named by their stage tag (and must carry a tenant tag), and creating
 *   one requires the stage tag in the request. The DR region's KMS (cross-region endpoint):
 *   ScheduleKeyDeletion of tenant key replicas of this stage only (DAT-2).
 * - Secrets Manager: GetSecretValue on the stage's secrets, by ARN.
 * - STS: AssumeRole and TagSession on the tenant access role.
 * - CloudWatch Logs: streams of the stage's log groups (`/strongroom/<stage>/`).
 * - X-Ray: writes and sampling on `*`: X-Ray has no resource-level permissions (documented
 *   exception); the policy still limits the actions and the principal account.
 * - Cognito: AdminGetUser and AdminCreateUser on the stage's pool.
 * - Backup: the restore jobs the validation reads and reports on, the copy jobs the
 *   freshness check reads, and the region settings the setting function writes: these
 *   actions have no resource-level permissions, so each statement names the one role that
 *   uses it instead; recovery points of the primary vault by the vault's ARN. The restored
 *   copies (names AWS Backup picks at run time) are readable through the DynamoDB endpoint
 *   by the validation's role only.
 */
export class StageEndpointPolicies extends Construct {
  constructor(scope: Construct, id: string, props: StageEndpointPoliciesProps) {
    super(scope, id);
    if (!/^[a-z0-9-]+$/.test(props.stage)) {
      throw new Error(`endpoint policies stage must match [a-z0-9-]+, got ${JSON.stringify(props.stage)}`);
    }
    if (props.secretArns.length === 0) {
      throw new Error('endpoint policies need the stage secrets functions read, got none');
    }
    const { network, dataTables } = props;
    const { partition, region, account } = Stack.of(this);

    network.allow('dynamodb', {
      sid: 'StageTablesAndIndexes',
      actions: [...new Set([...itemReadActions, ...itemWriteActions, 'dynamodb:Scan'])],
      resources: tableIds.flatMap((tableId) =>
        dataTables.resourceArns(
          tableId,
          dataTables.definitions[tableId].indexes.map((index) => index.name),
        ),
      ),
    });

    network.allow('s3', {
      sid: 'AuditArchiveObjects',
      actions: ['s3:PutObject', 's3:GetObject'],
      resources: [props.archive.bucket.arnForObjects(`${archivePrefix}*`)],
    });
    network.allow('s3', {
      sid: 'ExportObjects',
      actions: ['s3:PutObject', 's3:GetObject'],
      resources: [props.exportBucket.bucket.arnForObjects(`${exportObjectPrefix}*`)],
    });
    allowCustomResourceResponses(network);

    network.allow('kms', {
      sid: 'AuditSigningKeys',
      actions: ['kms:Sign', 'kms:GetPublicKey'],
      resources: props.signingKeys.versions.map(({ key }) => key.keyArn),
    });
    network.allow('kms', {
      sid: 'TenantKeysOfThisStage',
      actions: [...tenantKeyEndpointActions],
      resources: [`arn:${partition}:kms:${region}:${account}:key/*`],
      conditions: {
        StringEquals: { 'aws:ResourceTag/strongroom:stage': props.stage },
        Null: { [`aws:ResourceTag/${tenantTagKey}`]: 'false' },
      },
    });
    // CreateKey names no resource (the key does not exist yet): the request's tags must.
    const tenantRequestTags = {
      StringEquals: { 'aws:RequestTag/strongroom:stage': props.stage },
      Null: { [`aws:RequestTag/${tenantTagKey}`]: 'false' },
    };
    network.allow('kms', {
      sid: 'CreateTenantKeysOfThisStage',
      actions: ['kms:CreateKey'],
      resources: ['*'],
      conditions: tenantRequestTags,
    });
    network.allow('kms', {
      sid: 'TagTenantKeysAtCreation',
      actions: ['kms:TagResource'],
      resources: [`arn:${partition}:kms:${region}:${account}:key/*`],
      conditions: tenantRequestTags,
    });

    if (network.crossRegionEndpoints['kms-dr'] !== undefined) {
      network.allow('kms-dr', {
        sid: 'TenantKeyReplicasOfThisStage',
        actions: ['kms:ScheduleKeyDeletion'],
        resources: [`arn:${partition}:kms:${props.drRegion}:${account}:key/*`],
        conditions: {
          StringEquals: { 'aws:ResourceTag/strongroom:stage': props.stage },
          Null: { [`aws:ResourceTag/${tenantTagKey}`]: 'false' },
        },
      });
    }

    network.allow('secretsmanager', {
      sid: 'StageSecrets',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [...props.secretArns],
    });

    network.allow('sts', {
      sid: 'TenantSessions',
      actions: ['sts:AssumeRole', 'sts:TagSession'],
      resources: [props.tenantAccessRole.roleArn],
    });

    network.allow('logs', {
      sid: 'StageLogGroups',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [`arn:${partition}:logs:${region}:${account}:log-group:/strongroom/${props.stage}/*`],
    });

    allowTraces(network);

    network.allow('cognito-idp', {
      sid: 'StageUserPool',
      actions: [...invitationActions],
      resources: [props.userPool.userPoolArn],
    });

    const validation = { ArnEquals: { 'aws:PrincipalArn': props.backups.validationFunction.role.roleArn } };
    network.allow('dynamodb', {
      sid: 'RestoredCopiesForTheValidation',
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan'],
      resources: [`arn:${partition}:dynamodb:${region}:${account}:table/*`],
      conditions: validation,
    });
    network.allow('backup', {
      sid: 'RestoreJobsHaveNoResourceLevelPermissions',
      actions: [...restoreJobActions],
      resources: ['*'],
      conditions: validation,
    });
    network.allow('backup', {
      sid: 'RecoveryPointsOfThePrimaryVault',
      actions: ['backup:ListRecoveryPointsByBackupVault'],
      resources: [props.backups.vault.backupVaultArn],
    });
    network.allow('backup', {
      sid: 'CopyJobsHaveNoResourceLevelPermissions',
      actions: [...copyJobActions],
      resources: ['*'],
      conditions: { ArnEquals: { 'aws:PrincipalArn': props.backups.freshnessFunction.role.roleArn } },
    });
    allowRegionSettings(network, {
      function: props.backups.settingsFunction,
      resource: props.backups.advancedDynamoDbSetting,
    });
  }
}

/**
 * The S3 gateway endpoint statement for custom resources in the network: PutObject on the
 * region's CloudFormation response bucket, where CloudFormation's presigned response URLs
 * point (`https://cloudformation-custom-resource-response-<region without dashes>.s3...`).
 * CloudFormation signs those URLs with its own credentials, so the statement cannot name our
 * account; it names the one bucket and the one action.
 */
export function allowCustomResourceResponses(network: PrivateNetwork): void {
  const { partition, region } = Stack.of(network);
  network.allow('s3', {
    sid: 'CustomResourceResponses',
    actions: ['s3:PutObject'],
    resources: [`arn:${partition}:s3:::${customResourceResponseBucket(region)}/*`],
    anyAccount: true,
  });
}

/** CloudFormation's bucket for custom-resource responses in a region. */
export function customResourceResponseBucket(region: string): string {
  return `cloudformation-custom-resource-response-${region.replace(/-/g, '')}`;
}

/** The X-Ray endpoint statement: writes and sampling on `*`, X-Ray has no resource-level permissions. */
export function allowTraces(network: PrivateNetwork): void {
  network.allow('xray', {
    sid: 'TracesHaveNoResourceLevelPermissions',
    actions: [...xrayEndpointActions],
    resources: ['*'],
  });
}
