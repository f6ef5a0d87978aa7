/**
 * Counterparty items in the tenant's data table. The key is the tenant's partition and
 * the counterparty id, nothing else; the details (name, address, VAT and tax ids, IBAN)
 * travel in the one `counterparty` payload attribute, which the data-protection work
 * seals whole (ENC-3). No index attribute is written, so none can carry personal or
 * banking data (DAT-3). `version` stays beside the payload: it is no personal data, and
 * the conditional write of an update needs it readable (API-3).
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Counterparty } from '#shared/domain/counterparties';
import { tenantPrefix } from '#shared/tenancy/tenant-id';
import { tableName } from './tables';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface CounterpartyPage {
  readonly items: Counterparty[];
  /** Sort key to continue after, when more may follow. */
  readonly lastKey: string | undefined;
}

export interface CounterpartyListOptions {
  readonly limit: number;
  readonly after: string | undefined;
  /** Only items this accepts are returned; it sees the payload, so it runs here, not in DynamoDB. */
  readonly accept?: (counterparty: Counterparty) => boolean;
}

/** How many items one filtered query reads, and how many queries one filtered page may take. */
const filteredQuerySize = 100;
const maxQueriesPerPage = 5;

export class CounterpartyStore {
  readonly #table: string;

  constructor(stage: string) {
    this.#table = tableName(stage, 'data');
  }

  /** The item exactly as written: key attributes, version and the payload. */
  item(tenantId: string, counterparty: Counterparty): Record<string, unknown> {
    return {
      pk: partition(tenantId),
      sk: counterparty.id,
      version: counterparty.version,
      counterparty,
    };
  }

  createWrite(tenantId: string, counterparty: Counterparty): TransactItem {
    return {
      Put: {
        TableName: this.#table,
        Item: this.item(tenantId, counterparty),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /**
   * Replaces the item only if it still has the version the update was made from, so of
   * two updates from the same version exactly one commits (no lost update, API-3).
   */
  updateWrite(tenantId: string, counterparty: Counterparty, expectedVersion: number): TransactItem {
    return {
      Put: {
        TableName: this.#table,
        Item: this.item(tenantId, counterparty),
        ConditionExpression: 'attribute_exists(pk) AND #version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': expectedVersion },
      },
    };
  }

  /** A transaction item that holds only while the tenant has this counterparty: an invoice never names a missing one. */
  existsCheck(tenantId: string, id: string): TransactItem {
    return {
      ConditionCheck: {
        TableName: this.#table,
        Key: { pk: partition(tenantId), sk: id },
        ConditionExpression: 'attribute_exists(pk)',
      },
    };
  }

  /** Deletes the counterparty only if it is still at the version that was read (DAT-4 retention). */
  deleteWrite(tenantId: string, counterparty: Counterparty): TransactItem {
    return {
      Delete: {
        TableName: this.#table,
        Key: { pk: partition(tenantId), sk: counterparty.id },
        ConditionExpression: '#version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': counterparty.version },
      },
    };
  }

  async get(client: DynamoDBDocumentClient, tenantId: string, id: string): Promise<Counterparty | undefined> {
    const result = await client.send(
      new GetCommand({
        TableName: this.#table,
        Key: { pk: partition(tenantId), sk: id },
        ConsistentRead: true,
      }),
    );
    return result.Item?.counterparty as Counterparty | undefined;
  }

  /**
   * Newest first (ids are time-ordered). With a filter, reads on until the page is full,
   * the partition ends or `maxQueriesPerPage` queries were made; a page may then hold
   * fewer items than asked and still name where to continue.
   */
  async list(
    client: DynamoDBDocumentClient,
    tenantId: string,
    options: CounterpartyListOptions,
  ): Promise<CounterpartyPage> {
    const pk = partition(tenantId);
    const { limit, accept } = options;
    const items: Counterparty[] = [];
    let after = options.after;
    for (let query = 0; query < maxQueriesPerPage; query++) {
      const result = await client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ScanIndexForward: false,
          ConsistentRead: true,
          Limit: accept ? filteredQuerySize : limit - items.length,
          ...(after === undefined ? {} : { ExclusiveStartKey: { pk, sk: after } }),
        }),
      );
      const read = result.Items ?? [];
      const lastEvaluated = result.LastEvaluatedKey?.sk;
      for (const [index, item] of read.entries()) {
        const counterparty = item.counterparty as Counterparty;
        if (accept && !accept(counterparty)) continue;
        items.push(counterparty);
        if (items.length === limit) {
          const more = index < read.length - 1 || lastEvaluated !== undefined;
          return { items, lastKey: more ? counterparty.id : undefined };
        }
      }
      if (typeof lastEvaluated !== 'string') return { items, lastKey: undefined };
      after = lastEvaluated;
    }
    return { items, lastKey: after };
  }
}

function partition(tenantId: string): string {
  return `${tenantPrefix(tenantId)}counterparty`;
}
