/**
 * The local twin of the tenant access role's IAM policy (AZ-3). Every request a
 * tenant-scoped data client sends is checked here on the wire-level input, as IAM's
 * `dynamodb:LeadingKeys` condition would check it: each partition key, index keys
 * included, must begin with `<tenantId>#`; a request without one is refused (the
 * `Null` condition); Scan and PartiQL are never allowed; audit entries are put, get
 * and query only (AUD-2); the tenant registry is read-only.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type TableDefinition, type TableId, tableIds, tableName, tables } from './tables';

export class TenantGuardError extends Error {
  readonly code = 'tenant-guard-denied';
  constructor(message: string) {
    super(message);
    this.name = 'TenantGuardError';
  }
}

const allowedActions = new Set([
  'GetItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'QueryCommand',
  'BatchGetItemCommand',
  'BatchWriteItemCommand',
  'TransactGetItemsCommand',
  'TransactWriteItemsCommand',
  'ConditionCheckCommand',
]);

type Item = Record<string, AttributeValue>;

const singleItemActions: Readonly<Record<string, string>> = {
  GetItemCommand: 'Get',
  PutItemCommand: 'Put',
  UpdateItemCommand: 'Update',
  DeleteItemCommand: 'Delete',
  ConditionCheckCommand: 'ConditionCheck',
};

interface WireInput {
  readonly TableName?: string;
  readonly IndexName?: string;
  readonly Key?: Item;
  readonly Item?: Item;
  readonly KeyConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Item;
  readonly RequestItems?: Record<string, unknown>;
  readonly TransactItems?: readonly Record<string, WireInput | undefined>[];
}

export function tableDefinitionsByName(stage: string): ReadonlyMap<string, TableDefinition> {
  return new Map(tableIds.map((id: TableId) => [tableName(stage, id), tables[id]]));
}

export function assertTenantScoped(
  commandName: string,
  input: WireInput,
  tenantId: string,
  definitions: ReadonlyMap<string, TableDefinition>,
): void {
  if (!allowedActions.has(commandName))
    throw new TenantGuardError(`${commandName} is not allowed for tenant sessions`);
  const prefix = `${tenantId}#`;
  const table = (name: string | undefined): TableDefinition => {
    const definition = name === undefined ? undefined : definitions.get(name);
    if (!definition)
      throw new TenantGuardError(`table ${String(name)} is not reachable from a tenant session`);
    return definition;
  };
  const checkKey = (definition: TableDefinition, key: Item | undefined, what: string): void => {
    const value = key?.[definition.partitionKey]?.S;
    if (value === undefined || !value.startsWith(prefix)) {
      throw new TenantGuardError(`${what} on ${definition.id} outside tenant ${tenantId}`);
    }
  };
  const checkSingle = (action: string, single: WireInput): void => {
    const definition = table(single.TableName);
    if (definition.appendOnly && (action === 'Update' || action === 'Delete')) {
      throw new TenantGuardError(`${action} on append-only table ${definition.id} is not allowed`);
    }
    if (definition.tenantReadOnly && (action === 'Put' || action === 'Update' || action === 'Delete')) {
      throw new TenantGuardError(`${action} on ${definition.id} is for platform jobs only`);
    }
    checkKey(definition, action === 'Put' ? single.Item : single.Key, action);
  };

  const singleAction = singleItemActions[commandName];
  if (singleAction !== undefined) {
    checkSingle(singleAction, input);
    return;
  }
  switch (commandName) {
    case 'QueryCommand': {
      const definition = table(input.TableName);
      const index = input.IndexName
        ? definition.indexes.find((each) => each.name === input.IndexName)
        : undefined;
      if (input.IndexName && index?.scope !== 'tenant') {
        throw new TenantGuardError(`index ${input.IndexName} is not reachable from a tenant session`);
      }
      const partitionKey = index ? index.partitionKey : definition.partitionKey;
      const value = partitionKeyValue(input, partitionKey);
      if (value === undefined || !value.startsWith(prefix)) {
        throw new TenantGuardError(`Query on ${definition.id} outside tenant ${tenantId}`);
      }
      return;
    }
    case 'BatchGetItemCommand':
    case 'BatchWriteItemCommand': {
      for (const [name, request] of Object.entries(input.RequestItems ?? {})) {
        const definition = table(name);
        if (commandName === 'BatchGetItemCommand') {
          for (const key of (request as { Keys?: Item[] }).Keys ?? []) checkKey(definition, key, 'BatchGet');
        } else {
          if (definition.tenantReadOnly) {
            throw new TenantGuardError(`BatchWrite on ${definition.id} is for platform jobs only`);
          }
          for (const write of request as { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]) {
            if (write.DeleteRequest && definition.appendOnly) {
              throw new TenantGuardError(`Delete on append-only table ${definition.id} is not allowed`);
            }
            checkKey(definition, write.PutRequest?.Item ?? write.DeleteRequest?.Key, 'BatchWrite');
          }
        }
      }
      return;
    }
    case 'TransactGetItemsCommand':
    case 'TransactWriteItemsCommand': {
      for (const transactItem of input.TransactItems ?? []) {
        const [action, single] = Object.entries(transactItem)[0] ?? [];
        if (action === undefined || single === undefined)
          throw new TenantGuardError('empty transaction item');
        checkSingle(action, single);
      }
      return;
    }
  }
}

/** The value the key condition compares the partition key with, if it is a plain equality. */
function partitionKeyValue(input: WireInput, partitionKey: string): string | undefined {
  const expression = input.KeyConditionExpression;
  if (!expression) return undefined;
  for (const clause of expression.split(/\s+and\s+/i)) {
    const match = /^\(?\s*([#\w]+)\s*=\s*(:\w+)\s*\)?$/.exec(clause.trim());
    if (!match) continue;
    const [, rawName = '', valueRef = ''] = match;
    const name = rawName.startsWith('#') ? input.ExpressionAttributeNames?.[rawName] : rawName;
    if (name === partitionKey) return input.ExpressionAttributeValues?.[valueRef]?.S;
  }
  return undefined;
}
