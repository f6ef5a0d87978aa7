/**
 * Items of a local data folder written before their table was sealed (ENC-3): the members
 * table was sealed last, so a data folder from an earlier `npm start` holds people, API keys,
 * support grants and onboarding records with issuer, subject, roles and status in plain
 * attributes (and a folder from before sealing existed, data items too). The sealing clients
 * refuse such items on every read (item-sealing.ts), and must: a plain item could have been
 * written by anyone who reaches DynamoDB Local, bypassing the seal.
 *
 * So the runtime never seals them by itself. `npm start` refuses a folder of an older format
 * (data-format.ts) and names the one command that does: `npm run migrate` (migrate.ts), which
 * the developer runs once, with the stack stopped, and which lists every item it sealed.
 * Items that carry a seal AND attributes beside it were written around the seal: they are
 * reported and left alone, and the folder keeps its old format. Running it again changes
 * nothing.
 */
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { RuntimeConfig } from '#shared/config/runtime';
import { TenantKeyUnavailableError } from '#shared/crypto/key-service';
import { SealedItemError } from '#shared/crypto/seal';
import { DataClients, translateConfig } from '#shared/store/dynamo';
import { plainAttributesOf } from '#shared/store/item-sealing';
import { sealedAttribute, type TableId, tableIds, tableName, tables } from '#shared/store/tables';
import { ensureTables } from './bootstrap-tables';
import {
  LocalDataFormatError,
  localDataFormat,
  localDataFormatOf,
  markLocalDataFormat,
  migratableDataFormats,
} from './data-format';
import { startDynamoDbLocal } from './dynamodb-local';
import { findFreePort } from './ports';
import { readJsonFile } from './private-files';
import { processRuns } from './process-state';
import { dataLayout, localStage, localStoreConfig, loopbackHost, type RuntimeState } from './settings';

/** The tables whose items are sealed, in declaration order. */
export const sealedTableIds: readonly TableId[] = tableIds.filter((id) => tables[id].sealed !== undefined);

export interface LegacyItem {
  readonly table: TableId;
  readonly pk: string;
  readonly sk: string;
  /** Attributes outside the table's plain set: what the seal should hold. */
  readonly unsealed: readonly string[];
  /** Whether the item also carries a seal (then it was written around it, not before it). */
  readonly hasSeal: boolean;
}

type Item = Record<string, unknown>;

/** A document client without sealing or guard: it sees items exactly as stored. */
function rawDocumentClient(config: RuntimeConfig): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(DataClients.rawClient(config), translateConfig);
}

async function* storedItems(
  client: DynamoDBDocumentClient,
  table: string,
): AsyncGenerator<Item, void, undefined> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: table,
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    yield* page.Items ?? [];
    start = page.LastEvaluatedKey;
  } while (start);
}

function legacyOf(table: TableId, item: Item): LegacyItem | undefined {
  const definition = tables[table];
  const plain = plainAttributesOf(definition);
  const unsealed = Object.keys(item).filter((name) => name !== sealedAttribute && !plain.has(name));
  if (unsealed.length === 0) return undefined;
  return {
    table,
    pk: String(item[definition.partitionKey]),
    sk: String(item[definition.sortKey]),
    unsealed: unsealed.sort(),
    hasSeal: sealedAttribute in item,
  };
}

export interface LegacySealing {
  /** Items now sealed. */
  readonly sealed: readonly LegacyItem[];
  /** Items left as they were, and why. */
  readonly left: readonly { readonly item: LegacyItem; readonly reason: string }[];
}

/**
 * Seals every item written before its table was sealed: reads it raw and puts it again
 * through the sealing client (the tenant's current data key, bound to its tenant, table and
 * key), only if it still exists. Idempotent: a sealed item is never touched again.
 */
export async function sealLegacyItems(config: RuntimeConfig): Promise<LegacySealing> {
  const raw = rawDocumentClient(config);
  const clients = new DataClients(config);
  const sealed: LegacyItem[] = [];
  const left: { item: LegacyItem; reason: string }[] = [];
  try {
    for (const table of sealedTableIds) {
      const definition = tables[table];
      for await (const item of storedItems(raw, tableName(config.stage, table))) {
        const legacy = legacyOf(table, item);
        if (!legacy) continue;
        if (legacy.hasSeal) {
          left.push({
            item: legacy,
            reason: `it carries a seal and ${legacy.unsealed.join(', ')} beside it: written around the seal, not before it`,
          });
          continue;
        }
        try {
          await clients.platform().send(
            new PutCommand({
              TableName: tableName(config.stage, table),
              Item: item,
              ConditionExpression: 'attribute_exists(#pk)',
              ExpressionAttributeNames: { '#pk': definition.partitionKey },
            }),
          );
          sealed.push(legacy);
        } catch (error) {
          if (error instanceof SealedItemError || error instanceof TenantKeyUnavailableError) {
            left.push({ item: legacy, reason: error.message });
          } else if ((error as { name?: string }).name === 'ConditionalCheckFailedException') {
            left.push({ item: legacy, reason: 'deleted meanwhile' });
          } else {
            throw error;
          }
        }
      }
    }
    return { sealed, left };
  } finally {
    raw.destroy();
    clients.platform().destroy();
  }
}

export interface FolderMigration extends LegacySealing {
  /** The folder's format before, and after (the current one only when nothing was left). */
  readonly format: { readonly from: unknown; readonly to: unknown };
}

/**
 * `npm run migrate`: brings a data folder of an older format (data-format.ts) to the current
 * one by sealing its legacy items, with its own DynamoDB Local on a free port; so npm start
 * must not run on the folder (they would share its database file). The folder is marked with
 * the current format only when no item was left unsealed.
 */
export async function migrateDataFolder(
  dataDir: string,
  log: (message: string) => void = () => undefined,
): Promise<FolderMigration> {
  const layout = dataLayout(dataDir);
  const state = (await readJsonFile(layout.runtimeState)) as Partial<RuntimeState> | undefined;
  if (typeof state?.pid === 'number' && state.pid !== process.pid && (await processRuns(state.pid))) {
    throw new Error(`npm start runs on ${dataDir} (pid ${state.pid}); stop it, then migrate`);
  }
  const from = await localDataFormatOf(layout);
  const unchanged = { sealed: [], left: [], format: { from, to: from } };
  if (from === undefined) {
    log(`no DynamoDB Local data in ${layout.dynamodb}: nothing to migrate`);
    return unchanged;
  }
  if (from === localDataFormat) {
    log(`${dataDir} holds data format ${localDataFormat} already: nothing to migrate`);
    return unchanged;
  }
  if (typeof from !== 'number' || !migratableDataFormats.includes(from)) {
    throw new LocalDataFormatError(
      `${dataDir} holds data format ${JSON.stringify(from)}, which npm run migrate does not know; nothing in it was changed`,
    );
  }
  const dynamodb = await startDynamoDbLocal({
    dbPath: layout.dynamodb,
    port: await findFreePort(loopbackHost),
    warn: log,
  });
  let sealing: LegacySealing;
  try {
    const config = localStoreConfig(dynamodb.endpoint, dataDir);
    const tableClient = DataClients.rawClient(config);
    // As npm start would: tables missing from an old folder are created (empty), others kept.
    await ensureTables(tableClient, localStage).finally(() => tableClient.destroy());
    sealing = await sealLegacyItems(config);
  } finally {
    await dynamodb.stop();
  }
  if (sealing.left.length > 0) return { ...sealing, format: { from, to: from } };
  await markLocalDataFormat(layout);
  return { ...sealing, format: { from, to: localDataFormat } };
}
