/**
 * Onboarding records: one item per onboarded tenant under the reserved `platform` tenant's
 * partition of the members table (`platform#onboarding`, keyed by tenant id), written once at
 * onboarding: the tenant id is taken, by whom, when, and what the key provisioning
 * reported. The tenant's keys themselves live in the data-protection work's registry,
 * which the onboarding service reaches through its `TenantKeyProvisioner` seam.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { platformTenantId } from '#shared/rbac/permissions';
import { tenantPrefix } from '#shared/tenancy/tenant-id';
import { assertIndexMatchesKey } from './item-sealing';
import { tableName } from './tables';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface OnboardingRecord {
  readonly tenantId: string;
  readonly status: 'active';
  readonly createdAt: string;
  /** Actor id of the operator (or the onboarding command) that created it. */
  readonly createdBy: string;
  /** The tenant's keys as the KeyService reported them at onboarding. */
  readonly keys: Readonly<Record<string, string>>;
}

export class OnboardingRecords {
  readonly #table: string;

  constructor(stage: string) {
    this.#table = tableName(stage, 'members');
  }

  /** Registers a new tenant; the transaction fails if the id is taken. */
  createWrite(record: OnboardingRecord): TransactItem {
    return {
      Put: {
        TableName: this.#table,
        Item: { ...keyOf(record.tenantId), ...record, keys: { ...record.keys } },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /** Records a tenant that exists without onboarding (the local demo tenants); keeps an existing record. */
  async ensure(platformClient: DynamoDBDocumentClient, record: OnboardingRecord): Promise<void> {
    try {
      await platformClient.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...keyOf(record.tenantId), ...record, keys: { ...record.keys } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  async get(platformClient: DynamoDBDocumentClient, tenantId: string): Promise<OnboardingRecord | undefined> {
    const result = await platformClient.send(
      new GetCommand({ TableName: this.#table, Key: keyOf(tenantId), ConsistentRead: true }),
    );
    if (!result.Item) return undefined;
    // `tenantId` is a plain index attribute: it must agree with the sealed key (ENC-3).
    assertIndexMatchesKey('members', result.Item, keyOf(String(result.Item.tenantId)));
    return {
      tenantId: String(result.Item.tenantId),
      status: 'active',
      createdAt: String(result.Item.createdAt),
      createdBy: String(result.Item.createdBy),
      keys: (result.Item.keys as Record<string, string> | undefined) ?? {},
    };
  }
}

function keyOf(tenantId: string): { pk: string; sk: string } {
  return { pk: `${tenantPrefix(platformTenantId)}onboarding`, sk: tenantId };
}
