/**
 * Tenant settings: one item per tenant, versioned for If-Match updates. The data clients
 * seal the `settings` payload (item-sealing.ts); `version` stays plain for the conditions.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { defaultSettings, type TenantSettings } from '#shared/domain/settings';
import { tenantPrefix } from '#shared/tenancy/tenant-id';
import { tableName } from './tables';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export class SettingsStore {
  readonly #table: string;

  constructor(stage: string) {
    this.#table = tableName(stage, 'data');
  }

  /** The tenant's settings, or the defaults (version 0) when never saved. */
  async get(client: DynamoDBDocumentClient, tenantId: string): Promise<TenantSettings> {
    const result = await client.send(
      new GetCommand({ TableName: this.#table, Key: key(tenantId), ConsistentRead: true }),
    );
    const stored = result.Item?.settings as TenantSettings | undefined;
    if (!stored) return defaultSettings;
    // Settings saved before retention existed (DAT-4) have the default retention.
    return stored.retention === undefined ? { ...stored, retention: defaultSettings.retention } : stored;
  }

  /** Replaces the settings if they are still at `expectedVersion`. */
  saveWrite(tenantId: string, settings: TenantSettings, expectedVersion: number): TransactItem {
    return {
      Put: {
        TableName: this.#table,
        Item: { ...key(tenantId), version: settings.version, settings },
        ...(expectedVersion === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#version = :expected',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':expected': expectedVersion },
            }),
      },
    };
  }

  /** A condition that the settings are still at `version` (used when a decision depended on them). */
  unchangedCheck(tenantId: string, version: number): TransactItem {
    return {
      ConditionCheck: {
        TableName: this.#table,
        Key: key(tenantId),
        ...(version === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#version = :expected',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':expected': version },
            }),
      },
    };
  }
}

function key(tenantId: string): { pk: string; sk: string } {
  return { pk: `${tenantPrefix(tenantId)}settings`, sk: 'settings' };
}
