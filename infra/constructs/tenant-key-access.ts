import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { exportKeyPurpose, tenantTagKey } from '#shared/crypto/key-service';
import { acknowledge } from '../nag-suppressions';
import type { DataTables } from './data-tables';
import type { RouteFunction } from './route-function';

export interface TenantKeyAccessProps {
  /** Stage whose tenant keys these are: every tenant key carries `strongroom:stage=<stage>`. */
  readonly stage: string;
  /** The DR region that holds each tenant key's replica (ENC-5). */
  readonly drRegion: string;
  /** The tables: sealing functions read the tenant registry and check the tenant's status in it. */
  readonly dataTables: DataTables;
  /** Functions that seal and open tenant items: they unwrap data keys (Decrypt) and nothing else. */
  readonly sealing: readonly RouteFunction[];
  /** Functions that onboard tenants: they create tenant keys, replicate them and make the first data key. */
  readonly onboarding: readonly RouteFunction[];
  /**
   * KMS waiting period before a scheduled tenant-key deletion completes.
   * @default 30
   */
  readonly deletionWindowDays?: number;
}

/**
 * IAM for the tenants' own KMS keys (ENC-3, ENC-4), which onboarding creates at run time,
 * so no statement can name them: every statement is limited by the keys' tags instead. A
 * sealing function may only Decrypt, only keys tagged with its stage, only for tenant data
 * keys (encryption context purpose). Onboarding may create keys only with the stage and
 * tenant tags and nothing else, multi-Region and symmetric, replicate and tag them in the DR
 * region, and make data keys. Deleting keys (`grantDeletion`) belongs to the purge alone.
 * Each tenant key's own policy (shared/crypto/key-service.ts) separates administration from
 * use again, and requires the tenant in the encryption context.
 */
export class TenantKeyAccess extends Construct {
  readonly stage: string;
  /** TENANT_KEYS for the functions that create or delete tenant keys (KmsKeyService settings). */
  readonly settingsValue: string;
  readonly #keyArns: readonly string[];
  readonly #dataTables: DataTables;
  readonly #primaryKeys: string;
  readonly #replicaKeys: string;

  constructor(scope: Construct, id: string, props: TenantKeyAccessProps) {
    super(scope, id);
    const { stage } = props;
    const { account, region, partition } = Stack.of(this);
    this.stage = stage;
    this.#primaryKeys = `arn:${partition}:kms:${region}:${account}:key/*`;
    this.#replicaKeys = `arn:${partition}:kms:${props.drRegion}:${account}:key/*`;
    this.#keyArns = [this.#primaryKeys, this.#replicaKeys];
    const ofThisStage = { 'aws:ResourceTag/strongroom:stage': stage };
    this.settingsValue = JSON.stringify({
      account,
      partition,
      replicaRegion: props.drRegion,
      deletionWindowDays: props.deletionWindowDays ?? 30,
    });

    this.#dataTables = props.dataTables;
    for (const fn of props.sealing) this.grantDataKeyUse(fn);

    for (const fn of props.onboarding) {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'CreateTenantKeysWithStageAndTenantTagsOnly',
          actions: ['kms:CreateKey'],
          resources: ['*'],
          conditions: {
            StringEquals: {
              'aws:RequestTag/strongroom:stage': stage,
              'kms:KeySpec': 'SYMMETRIC_DEFAULT',
              'kms:KeyUsage': 'ENCRYPT_DECRYPT',
            },
            Bool: { 'kms:MultiRegion': 'true' },
            'ForAllValues:StringEquals': { 'aws:TagKeys': [tenantTagKey, 'strongroom:stage'] },
            Null: { [`aws:RequestTag/${tenantTagKey}`]: 'false' },
          },
        }),
      );
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'TagNewTenantKeysOfThisStage',
          actions: ['kms:TagResource'],
          resources: this.#keyArns.slice(),
          conditions: {
            StringEquals: { 'aws:RequestTag/strongroom:stage': stage },
            'ForAllValues:StringEquals': { 'aws:TagKeys': [tenantTagKey, 'strongroom:stage'] },
          },
        }),
      );
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReplicateTenantKeysOfThisStage',
          // PutKeyPolicy: KMS checks that the creator could set the policy it gives (lockout check).
          actions: ['kms:ReplicateKey', 'kms:PutKeyPolicy', 'kms:DescribeKey'],
          resources: [this.#primaryKeys],
          conditions: { StringEquals: ofThisStage },
        }),
      );
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'CreateReplicasInTheDrRegion',
          actions: ['kms:CreateKey', 'kms:PutKeyPolicy'],
          resources: [this.#replicaKeys],
          conditions: { StringEquals: { 'aws:RequestTag/strongroom:stage': stage } },
        }),
      );
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'FirstDataKeyOfNewTenants',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [this.#primaryKeys],
          conditions: {
            StringEquals: { ...ofThisStage, 'kms:EncryptionContext:purpose': 'tenant-data-key' },
          },
        }),
      );
      // Onboarding writes the new tenant's registry record (tenant sessions never can).
      props.dataTables.grantItemReadWrite(fn.role, 'tenants');
      fn.function.addEnvironment('TENANT_KEYS', this.settingsValue);
      this.#acknowledgeKeys(fn.role);
      acknowledge(fn.role, { rule: 'AwsSolutions-IAM5[Resource::*]', reason: reasons.createKey });
    }
  }

  /**
   * The export worker (DAT-1): data keys of export messages only (GenerateDataKey under the
   * export purpose, which each tenant key's policy also requires to name the tenant), on this
   * stage's tenant keys. Decrypting exports is the tenant's business, not the platform's.
   */
  grantExportEncryption(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ExportMessagesWithTenantKeysOfThisStage',
        actions: ['kms:GenerateDataKey'],
        resources: [this.#primaryKeys],
        conditions: {
          StringEquals: {
            'aws:ResourceTag/strongroom:stage': this.stage,
            'kms:EncryptionContext:purpose': exportKeyPurpose,
          },
        },
      }),
    );
    this.#acknowledgeKeys(role);
  }

  /**
   * A function that seals and opens tenant items: Decrypt of this stage's tenant keys for
   * tenant data keys only, reads of the registry and the active-tenant check of every change.
   */
  grantDataKeyUse(fn: RouteFunction): void {
    this.grantDataKeyOpening(fn);
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CheckTenantStatus',
        actions: ['dynamodb:ConditionCheckItem'],
        resources: this.#dataTables.resourceArns('tenants', []),
      }),
    );
  }

  /**
   * A function that opens tenant items but changes none (the authorizer, ENC-3: members, API
   * keys and support grants are sealed): Decrypt of this stage's tenant keys for tenant data
   * keys only, and reads of the registry that holds them wrapped. No status check: it commits
   * no business change.
   */
  grantDataKeyOpening(fn: RouteFunction): void {
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'UnwrapTenantDataKeysOfThisStage',
        actions: ['kms:Decrypt'],
        resources: [this.#primaryKeys],
        conditions: {
          StringEquals: {
            'aws:ResourceTag/strongroom:stage': this.stage,
            'kms:EncryptionContext:purpose': 'tenant-data-key',
          },
        },
      }),
    );
    // The registry holds the wrapped data keys that Decrypt unwraps.
    this.#dataTables.grantItemRead(fn.role, 'tenants');
    this.#acknowledgeKeys(fn.role);
  }

  /** The purge: schedules deletion of this stage's tenant keys (primary and replica), nothing else. */
  grantDeletion(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ScheduleDeletionOfTenantKeysOfThisStage',
        actions: ['kms:ScheduleKeyDeletion'],
        resources: this.#keyArns.slice(),
        conditions: { StringEquals: { 'aws:ResourceTag/strongroom:stage': this.stage } },
      }),
    );
    this.#acknowledgeKeys(role);
  }

  #acknowledgeKeys(role: iam.IRole): void {
    for (const arn of this.#keyArns) {
      acknowledge(role, { rule: `AwsSolutions-IAM5[Resource::${arn}]`, reason: reasons.tenantKeysByTag });
    }
  }
}

const reasons = {
  tenantKeysByTag:
    "Tenant keys are created at onboarding, so their ARNs are unknown to the stack; every statement on them is limited to keys tagged with this stage (aws:ResourceTag or aws:RequestTag), and use to the tenant-data-key encryption context; each key's own policy requires the tenant's id in the encryption context.",
  createKey:
    'kms:CreateKey authorizes on no resource; the statement allows it only with the stage and tenant tags and no other tag, only multi-Region symmetric encryption keys.',
} as const;
