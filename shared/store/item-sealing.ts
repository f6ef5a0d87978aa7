/**
 * Sealed items (ENC-3), applied where no store can forget it: a middleware on the data
 * clients seals every item written to a sealed table (`tables.ts`: `sealed`) and opens
 * every item read from one. All attributes except the table and index keys, the TTL
 * attribute and the table's declared plain attributes become one AES-256-GCM ciphertext
 * in the `sealed` attribute (shared/crypto/seal.ts), bound to {tenant, table, pk, sk, key
 * version}; the tenant is the one the partition key names, which the tenant guard (and
 * IAM's LeadingKeys in AWS) already ties to the session.
 *
 * Because the payload is opaque to DynamoDB, expressions on sealed tables may name plain
 * attributes only: a condition or filter on a sealed attribute would silently never match,
 * and an update of one would write it in the clear, so both are refused here. Items read
 * with attributes outside the plain set and the seal are refused too (someone wrote them
 * around the seal).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type DataKey, openValue, SealedItemError, sealedKeyVersion, sealValue } from '#shared/crypto/seal';
import { isTenantId } from '#shared/tenancy/tenant-id';
import { sealedAttribute, type TableDefinition } from './tables';
import type { TenantKeyring } from './tenant-keyring';

type Item = Record<string, unknown>;

/** A program error: an expression names a sealed attribute. */
export class SealedExpressionError extends Error {
  readonly code = 'sealed-expression';
  constructor(message: string) {
    super(message);
    this.name = 'SealedExpressionError';
  }
}

interface SealedTable {
  readonly id: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly plain: ReadonlySet<string>;
}

const expressionWords = new Set([
  'and',
  'or',
  'not',
  'between',
  'in',
  'set',
  'remove',
  'add',
  'delete',
  'attribute_exists',
  'attribute_not_exists',
  'attribute_type',
  'begins_with',
  'contains',
  'size',
  'if_not_exists',
  'list_append',
]);

/** Attribute names an expression reads or writes (path elements included, conservatively). */
export function expressionAttributeNames(
  expression: string,
  names: Readonly<Record<string, string>> | undefined,
): string[] {
  const found: string[] = [];
  for (const token of expression.match(/[#:]?[A-Za-z_][A-Za-z0-9_]*/g) ?? []) {
    if (token.startsWith(':')) continue;
    if (token.startsWith('#')) {
      const name = names?.[token];
      if (name === undefined) throw new SealedExpressionError(`expression name ${token} is not defined`);
      found.push(name);
    } else if (!expressionWords.has(token.toLowerCase())) {
      found.push(token);
    }
  }
  return found;
}

/**
 * Index attributes are plain, so the seal does not cover them; only the item's key is bound.
 * Where a store derives an index attribute from the key (the members table: `tenantId` from
 * the partition, `identityId` from the sort key), it checks that the item as read still
 * agrees with its own key, so nobody can point a sealed item at another tenant or identity
 * by rewriting a plain attribute. `expected` is the key the item's plain attributes imply.
 */
export function assertIndexMatchesKey(
  table: string,
  item: Readonly<Record<string, unknown>>,
  expected: { readonly pk: string; readonly sk: string } | undefined,
): void {
  if (expected !== undefined && item.pk === expected.pk && item.sk === expected.sk) return;
  throw new SealedItemError(
    'sealed-item-index-mismatch',
    `item ${String(item.pk)}/${String(item.sk)} in table ${table}: its index attributes name another item`,
  );
}

/**
 * The attributes a sealed table keeps in the clear: its keys, its index keys, its TTL
 * attribute and the plain attributes it declares. Everything else travels in the seal.
 */
export function plainAttributesOf(definition: TableDefinition): ReadonlySet<string> {
  return new Set([
    definition.partitionKey,
    definition.sortKey,
    ...definition.indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
    ...(definition.timeToLiveAttribute ? [definition.timeToLiveAttribute] : []),
    ...(definition.sealed?.plainAttributes ?? []),
  ]);
}

export class ItemSealer {
  readonly #tables: ReadonlyMap<string, SealedTable>;
  readonly #keyring: () => TenantKeyring;

  /** `definitions` maps physical table names to their declarations. */
  constructor(definitions: ReadonlyMap<string, TableDefinition>, keyring: () => TenantKeyring) {
    const sealed = new Map<string, SealedTable>();
    for (const [name, definition] of definitions) {
      if (!definition.sealed) continue;
      sealed.set(name, {
        id: definition.id,
        partitionKey: definition.partitionKey,
        sortKey: definition.sortKey,
        plain: plainAttributesOf(definition),
      });
    }
    this.#tables = sealed;
    this.#keyring = keyring;
  }

  isSealed(tableName: string | undefined): boolean {
    return tableName !== undefined && this.#tables.has(tableName);
  }

  #binding(table: SealedTable, item: Item) {
    const pk = item[table.partitionKey];
    const sk = item[table.sortKey];
    if (typeof pk !== 'string' || typeof sk !== 'string') {
      throw new SealedItemError('sealed-item-malformed', `an item of ${table.id} has no string key`);
    }
    const tenantId = pk.slice(0, pk.indexOf('#'));
    if (!isTenantId(tenantId)) {
      throw new SealedItemError('sealed-item-malformed', `an item of ${table.id} has no tenant in its key`);
    }
    return { tenantId, table: table.id, pk, sk };
  }

  /** The item as stored: plain attributes and the sealed payload. */
  async seal(tableName: string | undefined, item: Item): Promise<Item> {
    const table = tableName === undefined ? undefined : this.#tables.get(tableName);
    if (!table) return item;
    if (sealedAttribute in item) {
      throw new SealedItemError(
        'sealed-item-malformed',
        `an item for ${table.id} already carries "${sealedAttribute}"`,
      );
    }
    const stored: Item = {};
    const payload: Item = {};
    let hasPayload = false;
    for (const [name, value] of Object.entries(item)) {
      if (value === undefined) continue;
      if (table.plain.has(name)) stored[name] = value;
      else {
        payload[name] = value;
        hasPayload = true;
      }
    }
    if (!hasPayload) return stored;
    const binding = this.#binding(table, item);
    const key = await this.#keyring().currentKey(binding.tenantId);
    stored[sealedAttribute] = sealValue(key, binding, payload);
    return stored;
  }

  /** The item as the store wrote it. */
  async open(tableName: string | undefined, item: Item): Promise<Item> {
    const table = tableName === undefined ? undefined : this.#tables.get(tableName);
    if (!table) return item;
    const opened: Item = {};
    let sealed: unknown;
    for (const [name, value] of Object.entries(item)) {
      if (name === sealedAttribute) sealed = value;
      else if (table.plain.has(name)) opened[name] = value;
      else {
        const where = `${String(item[table.partitionKey])}/${String(item[table.sortKey])}`;
        throw new SealedItemError(
          'sealed-item-unsealed-attributes',
          `item ${where} in table ${table.id} has attribute "${name}" outside its seal`,
        );
      }
    }
    if (sealed === undefined) return opened;
    const binding = this.#binding(table, item);
    if (!(sealed instanceof Uint8Array)) {
      throw new SealedItemError(
        'sealed-item-malformed',
        `the seal of an item in ${table.id} is not binary`,
        binding,
      );
    }
    const version = sealedKeyVersion(sealed, binding);
    let key: DataKey;
    try {
      key = await this.#keyring().keyVersion(binding.tenantId, version);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const unavailable = new SealedItemError(
        'sealed-item-key-unavailable',
        `item ${binding.pk}/${binding.sk} in table ${table.id}: no key to open it (${reason})`,
        binding,
      );
      (unavailable as Error).cause = error;
      throw unavailable;
    }
    const payload = openValue(key, binding, sealed);
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      throw new SealedItemError(
        'sealed-item-malformed',
        `the payload of ${binding.pk}/${binding.sk} is not an object`,
        binding,
      );
    }
    return { ...(payload as Item), ...opened };
  }

  /** Refuses expressions that name sealed attributes on a sealed table. */
  checkExpressions(tableName: string | undefined, input: Readonly<Record<string, unknown>>): void {
    const table = tableName === undefined ? undefined : this.#tables.get(tableName);
    if (!table) return;
    for (const field of [
      'ConditionExpression',
      'UpdateExpression',
      'FilterExpression',
      'ProjectionExpression',
      'KeyConditionExpression',
    ] as const) {
      const expression = input[field];
      if (typeof expression !== 'string' || expression === '') continue;
      const names = input.ExpressionAttributeNames as Record<string, string> | undefined;
      for (const name of expressionAttributeNames(expression, names)) {
        if (!table.plain.has(name)) {
          throw new SealedExpressionError(
            `${field} on sealed table ${table.id} names "${name}", which is sealed; only ${[...table.plain].join(', ')} are plain`,
          );
        }
      }
    }
  }
}

type Input = Record<string, unknown> & { TableName?: string };

/** Adds sealing to a document client (every command it sends, both ways). */
export function attachItemSealing(client: DynamoDBDocumentClient, sealer: ItemSealer): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      const input = args.input as Input;
      const sealedInput = await sealInput(sealer, command, input);
      const result = await next(sealedInput === input ? args : { ...args, input: sealedInput });
      await openOutput(sealer, command, input, result.output as Record<string, unknown>);
      return result;
    },
    { step: 'initialize', name: 'strongroomItemSealing', priority: 'low' },
  );
}

async function sealInput(sealer: ItemSealer, command: string, input: Input): Promise<Input> {
  switch (command) {
    case 'PutItemCommand':
      if (!sealer.isSealed(input.TableName)) return input;
      sealer.checkExpressions(input.TableName, input);
      return { ...input, Item: await sealer.seal(input.TableName, input.Item as Item) };
    case 'UpdateItemCommand':
    case 'DeleteItemCommand':
    case 'GetItemCommand':
    case 'QueryCommand':
    case 'ScanCommand':
      sealer.checkExpressions(input.TableName, input);
      return input;
    case 'BatchGetItemCommand': {
      for (const [table, request] of Object.entries((input.RequestItems ?? {}) as Record<string, Input>)) {
        sealer.checkExpressions(table, request);
      }
      return input;
    }
    case 'BatchWriteItemCommand': {
      const requests = (input.RequestItems ?? {}) as Record<string, { PutRequest?: { Item: Item } }[]>;
      if (!Object.keys(requests).some((table) => sealer.isSealed(table))) return input;
      const sealed: Record<string, unknown[]> = {};
      for (const [table, writes] of Object.entries(requests)) {
        sealed[table] = await Promise.all(
          writes.map(async (write) =>
            write.PutRequest
              ? { PutRequest: { Item: await sealer.seal(table, write.PutRequest.Item) } }
              : write,
          ),
        );
      }
      return { ...input, RequestItems: sealed };
    }
    case 'TransactGetItemsCommand':
      return input;
    case 'TransactWriteItemsCommand': {
      const items = (input.TransactItems ?? []) as Record<string, Input>[];
      const sealed = await Promise.all(
        items.map(async (transactItem) => {
          const [action, single] = Object.entries(transactItem)[0] ?? [];
          if (action === undefined || single === undefined || !sealer.isSealed(single.TableName)) {
            return transactItem;
          }
          sealer.checkExpressions(single.TableName, single);
          if (action !== 'Put') return transactItem;
          return { Put: { ...single, Item: await sealer.seal(single.TableName, single.Item as Item) } };
        }),
      );
      return { ...input, TransactItems: sealed };
    }
    case 'ExecuteStatementCommand':
    case 'BatchExecuteStatementCommand':
    case 'ExecuteTransactionCommand':
      throw new SealedExpressionError(`${command} cannot seal or open items: use item actions`);
    default:
      return input;
  }
}

async function openOutput(
  sealer: ItemSealer,
  command: string,
  input: Input,
  output: Record<string, unknown> | undefined,
): Promise<void> {
  if (!output) return;
  const table = input.TableName;
  switch (command) {
    case 'GetItemCommand':
      if (output.Item) output.Item = await sealer.open(table, output.Item as Item);
      return;
    case 'QueryCommand':
    case 'ScanCommand':
      if (Array.isArray(output.Items) && sealer.isSealed(table)) {
        output.Items = await Promise.all((output.Items as Item[]).map((item) => sealer.open(table, item)));
      }
      return;
    case 'PutItemCommand':
    case 'UpdateItemCommand':
    case 'DeleteItemCommand':
      if (output.Attributes) output.Attributes = await sealer.open(table, output.Attributes as Item);
      return;
    case 'BatchGetItemCommand': {
      const responses = (output.Responses ?? {}) as Record<string, Item[]>;
      for (const [name, items] of Object.entries(responses)) {
        if (sealer.isSealed(name))
          responses[name] = await Promise.all(items.map((item) => sealer.open(name, item)));
      }
      return;
    }
    case 'TransactGetItemsCommand': {
      const requests = (input.TransactItems ?? []) as { Get?: Input }[];
      const responses = (output.Responses ?? []) as { Item?: Item }[];
      await Promise.all(
        responses.map(async (response, index) => {
          const name = requests[index]?.Get?.TableName;
          if (response?.Item) response.Item = await sealer.open(name, response.Item);
        }),
      );
      return;
    }
    default:
      return;
  }
}
