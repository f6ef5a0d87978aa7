/**
 * Creates the tables of `shared/store/tables.ts` in DynamoDB Local, idempotently: keys,
 * global secondary indexes, streams (new images) and TTL, as the CDK constructs declare
 * them. A table that exists gains what the declaration added since (an index, a stream,
 * TTL); a changed key schema cannot be migrated and asks for a reset.
 */
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  ResourceNotFoundException,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { type TableDefinition, tableIds, tableName, tables } from '#shared/store/tables';

const waitSeconds = 30;

export async function ensureTables(client: DynamoDBClient, stage: string): Promise<string[]> {
  return Promise.all(
    tableIds.map(async (id) => {
      const definition = tables[id];
      const name = tableName(stage, id);
      const existing = await describe(client, name);
      if (existing) await reconcile(client, name, definition, existing);
      else await create(client, name, definition);
      await ensureTimeToLive(client, name, definition);
      return name;
    }),
  );
}

async function describe(client: DynamoDBClient, name: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

function attributeDefinitions(definition: TableDefinition): AttributeDefinition[] {
  const names = new Set([
    definition.partitionKey,
    definition.sortKey,
    ...definition.indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ]);
  // Every key attribute of Strongroom is a string (tenant-prefixed ids, ISO dates).
  return [...names].map((name) => ({ AttributeName: name, AttributeType: 'S' }));
}

function indexSpecification(index: TableDefinition['indexes'][number]): GlobalSecondaryIndex {
  return {
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' },
      { AttributeName: index.sortKey, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'ALL' },
  };
}

async function create(client: DynamoDBClient, name: string, definition: TableDefinition): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: attributeDefinitions(definition),
      KeySchema: [
        { AttributeName: definition.partitionKey, KeyType: 'HASH' },
        { AttributeName: definition.sortKey, KeyType: 'RANGE' },
      ],
      ...(definition.indexes.length > 0
        ? { GlobalSecondaryIndexes: definition.indexes.map(indexSpecification) }
        : {}),
      ...(definition.stream
        ? { StreamSpecification: { StreamEnabled: true, StreamViewType: streamViewType(definition) } }
        : {}),
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: waitSeconds }, { TableName: name });
}

async function reconcile(
  client: DynamoDBClient,
  name: string,
  definition: TableDefinition,
  existing: TableDescription,
): Promise<void> {
  const key = (existing.KeySchema ?? []).map((part) => `${part.KeyType}:${part.AttributeName}`).join(',');
  const expected = `HASH:${definition.partitionKey},RANGE:${definition.sortKey}`;
  if (key !== expected) {
    throw new Error(
      `table ${name} has key ${key}, the declaration says ${expected}; delete .strongroom/ to reset`,
    );
  }
  const present = new Set((existing.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  for (const index of definition.indexes) {
    if (present.has(index.name)) continue;
    await client.send(
      new UpdateTableCommand({
        TableName: name,
        AttributeDefinitions: attributeDefinitions(definition),
        GlobalSecondaryIndexUpdates: [{ Create: indexSpecification(index) }],
      }),
    );
    await waitUntilTableExists({ client, maxWaitTime: waitSeconds }, { TableName: name });
  }
  if (definition.stream && !existing.StreamSpecification?.StreamEnabled) {
    await client.send(
      new UpdateTableCommand({
        TableName: name,
        StreamSpecification: { StreamEnabled: true, StreamViewType: streamViewType(definition) },
      }),
    );
  }
}

async function ensureTimeToLive(
  client: DynamoDBClient,
  name: string,
  definition: TableDefinition,
): Promise<void> {
  if (!definition.timeToLiveAttribute) return;
  const current = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
  const status = current.TimeToLiveDescription?.TimeToLiveStatus;
  if (status === 'ENABLED' || status === 'ENABLING') return;
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { AttributeName: definition.timeToLiveAttribute, Enabled: true },
    }),
  );
}

function streamViewType(definition: TableDefinition): 'KEYS_ONLY' | 'NEW_IMAGE' {
  return definition.streamKeysOnly ? 'KEYS_ONLY' : 'NEW_IMAGE';
}
