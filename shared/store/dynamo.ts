/**
 * DynamoDB clients. Request handlers reach data only through `tenantDocumentClient`,
 * which is bound to one tenant: locally the tenant guard checks every request, and
 * in AWS the client will carry the tenant access role's session (AZ-3) with the guard
 * kept as a second line. Cross-tenant jobs use `platformDocumentClient`.
 *
 * Both kinds seal what they write to sealed tables and open what they read (ENC-3,
 * item-sealing.ts), with the tenant's data keys from the `keyring`.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { RuntimeConfig } from '#shared/config/runtime';
import { createKeyService, type KeyService } from '#shared/crypto/key-service';
import { tenantPrefix } from '#shared/tenancy/tenant-id';
import { attachItemSealing, ItemSealer } from './item-sealing';
import { type TableId, tableName } from './tables';
import { assertTenantScoped, tableDefinitionsByName } from './tenant-guard';
import { TenantKeyring, type TenantKeyringOptions } from './tenant-keyring';
import { type SessionCredentials, TenantSessions } from './tenant-sessions';
import { TenantRegistry } from './tenants';

/** How every document client of the project marshals items. */
export const translateConfig = {
  marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  unmarshallOptions: { wrapNumbers: false },
};

function baseClientConfig(config: RuntimeConfig): DynamoDBClientConfig {
  if (config.mode === 'local') {
    return {
      region: config.region,
      endpoint: config.dynamoEndpoint,
      // DynamoDB Local ignores credentials but the SDK needs some to sign with.
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 3,
    };
  }
  return { region: config.region, maxAttempts: 3 };
}

export interface DataClientsOptions {
  /** @default createKeyService(config) */
  readonly keyService?: KeyService;
  readonly keyring?: TenantKeyringOptions;
  /**
   * Physical names to use instead of the stage's (`strongroom-<stage>-<id>`): a restore
   * test reads restored copies under the names AWS Backup gave them, with the same stores,
   * guard and sealing (which all keep seeing the stage's names).
   */
  readonly tableNames?: Readonly<Partial<Record<TableId, string>>>;
}

/** Renames tables on the wire, after the guard, and renames them back in the output. */
function attachTableRenaming(
  client: DynamoDBClient,
  stage: string,
  names: Readonly<Partial<Record<TableId, string>>>,
): void {
  const forward = new Map<string, string>();
  for (const [id, name] of Object.entries(names))
    if (name) forward.set(tableName(stage, id as TableId), name);
  if (forward.size === 0) return;
  const backward = new Map([...forward].map(([from, to]) => [to, from]));
  const rename = (name: unknown, map: Map<string, string>) =>
    typeof name === 'string' ? (map.get(name) ?? name) : name;
  const renameKeys = (record: unknown, map: Map<string, string>) =>
    record && typeof record === 'object'
      ? Object.fromEntries(Object.entries(record).map(([name, value]) => [rename(name, map), value]))
      : record;
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = { ...(args.input as Record<string, unknown>) };
      if ('TableName' in input) input.TableName = rename(input.TableName, forward);
      if ('RequestItems' in input) input.RequestItems = renameKeys(input.RequestItems, forward);
      if (Array.isArray(input.TransactItems)) {
        input.TransactItems = input.TransactItems.map((item: Record<string, Record<string, unknown>>) =>
          Object.fromEntries(
            Object.entries(item).map(([action, single]) => [
              action,
              { ...single, TableName: rename(single.TableName, forward) },
            ]),
          ),
        );
      }
      const result = await next({ ...args, input });
      const output = result.output as unknown as Record<string, unknown>;
      for (const field of ['Responses', 'UnprocessedItems', 'UnprocessedKeys']) {
        if (output[field] && !Array.isArray(output[field]))
          output[field] = renameKeys(output[field], backward);
      }
      return result;
    },
    { step: 'build', name: 'strongroomTableRenaming', priority: 'low' },
  );
}

export class DataClients {
  readonly #config: RuntimeConfig;
  readonly #options: DataClientsOptions;
  readonly #tenantClients = new Map<string, DynamoDBDocumentClient>();
  readonly #definitions;
  readonly #sealer: ItemSealer;
  #platform: DynamoDBDocumentClient | undefined;
  #keyring: TenantKeyring | undefined;
  readonly #sessions: TenantSessions | undefined;

  constructor(config: RuntimeConfig, options: DataClientsOptions = {}) {
    this.#config = config;
    this.#options = options;
    this.#definitions = tableDefinitionsByName(config.stage);
    this.#sealer = new ItemSealer(this.#definitions, () => this.keyring);
    this.#sessions =
      config.mode === 'aws' && config.tenantAccessRoleArn
        ? new TenantSessions(new STSClient({ region: config.region }), config.tenantAccessRoleArn)
        : undefined;
  }

  get stage(): string {
    return this.#config.stage;
  }

  /** The tenants' data keys (created on first use, so clients that never seal need no key service). */
  get keyring(): TenantKeyring {
    this.#keyring ??= new TenantKeyring(
      this.#options.keyService ?? createKeyService(this.#config),
      new TenantRegistry(this.#config.stage),
      () => this.platform(),
      { provisionMissing: this.#config.mode === 'local', ...this.#options.keyring },
    );
    return this.#keyring;
  }

  /** A document client that can only touch the tenant's own items. Cached per tenant. */
  forTenant(tenantId: string): DynamoDBDocumentClient {
    tenantPrefix(tenantId);
    const cached = this.#tenantClients.get(tenantId);
    if (cached) return cached;
    // AZ-3: in AWS, the tenant access role's session for this tenant (tenant-sessions.ts).
    const base = new DynamoDBClient({
      ...baseClientConfig(this.#config),
      ...(this.#sessions ? { credentials: this.#sessions.provider(tenantId) } : {}),
    });
    attachTableRenaming(base, this.#config.stage, this.#options.tableNames ?? {});
    const definitions = this.#definitions;
    base.middlewareStack.add(
      (next, context) => async (args) => {
        assertTenantScoped(context.commandName ?? '', args.input as never, tenantId, definitions);
        return next(args);
      },
      { step: 'build', name: 'strongroomTenantGuard', priority: 'high' },
    );
    const client = DynamoDBDocumentClient.from(base, translateConfig);
    attachItemSealing(client, this.#sealer);
    this.#tenantClients.set(tenantId, client);
    return client;
  }

  /**
   * The credentials of the tenant's session (AWS, AZ-3) for clients other than DynamoDB, such
   * as the presigner of export links; undefined where there are no tenant sessions (locally).
   */
  tenantCredentials(tenantId: string): (() => Promise<SessionCredentials>) | undefined {
    return this.#sessions?.provider(tenantId);
  }

  /** The client of cross-tenant jobs (identity lookup, onboarding, folding, purge). */
  platform(): DynamoDBDocumentClient {
    if (!this.#platform) {
      const base = new DynamoDBClient(baseClientConfig(this.#config));
      attachTableRenaming(base, this.#config.stage, this.#options.tableNames ?? {});
      this.#platform = DynamoDBDocumentClient.from(base, translateConfig);
      attachItemSealing(this.#platform, this.#sealer);
    }
    return this.#platform;
  }

  /** The raw client for table administration (local bootstrap only). */
  static rawClient(config: RuntimeConfig): DynamoDBClient {
    return new DynamoDBClient(baseClientConfig(config));
  }
}

/** The number of items in one partition of `table` (a physical table name), page by page. */
export async function countPartitionItems(
  client: DynamoDBDocumentClient,
  table: string,
  pk: string,
): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        Select: 'COUNT',
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}
