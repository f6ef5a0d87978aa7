/**
 * Invoice items in the tenant's data table. Keys and index attributes carry ids and
 * states only, never personal or banking data (ENC-3): the status index (gsi1) and the
 * counterparty index (gsi2) both sort by invoice id, which is creation-time ordered.
 * The data clients seal the `invoice` payload (item-sealing.ts); `status` and `version`
 * stay plain beside it for the status filter and the If-Match condition.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Invoice, InvoiceStatus } from '#shared/domain/invoices';
import { tenantPrefix } from '#shared/tenancy/tenant-id';
import { tableName } from './tables';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface InvoiceFilter {
  readonly status?: InvoiceStatus;
  readonly counterpartyId?: string;
  /** Inclusive sort-key bounds derived from a creation-date range. */
  readonly idRange?: { readonly from: string; readonly to: string };
}

export interface InvoicePage {
  readonly items: Invoice[];
  /** Key of the last item read, when more may follow. */
  readonly lastKey: Record<string, string> | undefined;
}

export class InvoiceStore {
  readonly #table: string;

  constructor(stage: string) {
    this.#table = tableName(stage, 'data');
  }

  #item(tenantId: string, invoice: Invoice) {
    const prefix = tenantPrefix(tenantId);
    return {
      pk: `${prefix}invoice`,
      sk: invoice.id,
      gsi1pk: `${prefix}invoice-status#${invoice.status}`,
      gsi1sk: invoice.id,
      ...(invoice.counterpartyId === undefined
        ? {}
        : { gsi2pk: `${prefix}invoice-counterparty#${invoice.counterpartyId}`, gsi2sk: invoice.id }),
      status: invoice.status,
      version: invoice.version,
      invoice,
    };
  }

  createWrite(tenantId: string, invoice: Invoice): TransactItem {
    return {
      Put: {
        TableName: this.#table,
        Item: this.#item(tenantId, invoice),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /** Replaces the invoice if it is still at `expectedVersion` (no lost update). */
  replaceWrite(tenantId: string, invoice: Invoice, expectedVersion: number): TransactItem {
    return {
      Put: {
        TableName: this.#table,
        Item: this.#item(tenantId, invoice),
        ConditionExpression: '#version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': expectedVersion },
      },
    };
  }

  /**
   * Deletes the invoice only if it is still exactly the state that was read (same version
   * and status): a retried or concurrent removal fails its condition and removes nothing.
   */
  deleteWrite(tenantId: string, invoice: Invoice): TransactItem {
    return {
      Delete: {
        TableName: this.#table,
        Key: { pk: `${tenantPrefix(tenantId)}invoice`, sk: invoice.id },
        ConditionExpression: '#version = :expected AND #status = :status',
        ExpressionAttributeNames: { '#version': 'version', '#status': 'status' },
        ExpressionAttributeValues: { ':expected': invoice.version, ':status': invoice.status },
      },
    };
  }

  async get(client: DynamoDBDocumentClient, tenantId: string, id: string): Promise<Invoice | undefined> {
    const result = await client.send(
      new GetCommand({
        TableName: this.#table,
        Key: { pk: `${tenantPrefix(tenantId)}invoice`, sk: id },
        ConsistentRead: true,
      }),
    );
    return result.Item?.invoice as Invoice | undefined;
  }

  /** The last number of the tenant's gap-free invoice sequence (0 before the first). */
  async currentSequence(client: DynamoDBDocumentClient, tenantId: string): Promise<number> {
    const result = await client.send(
      new GetCommand({ TableName: this.#table, Key: sequenceKey(tenantId), ConsistentRead: true }),
    );
    return Number(result.Item?.sequence ?? 0);
  }

  /** Moves the sequence from `current` to `current + 1`, failing if another issue took it first. */
  nextSequenceWrite(tenantId: string, current: number): TransactItem {
    return {
      Update: {
        TableName: this.#table,
        Key: sequenceKey(tenantId),
        UpdateExpression: 'SET #sequence = :next',
        ExpressionAttributeNames: { '#sequence': 'sequence' },
        ...(current === 0
          ? {
              ConditionExpression: 'attribute_not_exists(pk)',
              ExpressionAttributeValues: { ':next': 1 },
            }
          : {
              ConditionExpression: '#sequence = :current',
              ExpressionAttributeValues: { ':next': current + 1, ':current': current },
            }),
      },
    };
  }

  /** Newest first, filtered by status, counterparty and creation-date range. */
  async list(
    client: DynamoDBDocumentClient,
    tenantId: string,
    filter: InvoiceFilter,
    limit: number,
    after: Record<string, string> | undefined,
  ): Promise<InvoicePage> {
    const prefix = tenantPrefix(tenantId);
    const [index, partitionKey, sortKey, partition] =
      filter.counterpartyId !== undefined
        ? ['gsi2', 'gsi2pk', 'gsi2sk', `${prefix}invoice-counterparty#${filter.counterpartyId}`]
        : filter.status !== undefined
          ? ['gsi1', 'gsi1pk', 'gsi1sk', `${prefix}invoice-status#${filter.status}`]
          : [undefined, 'pk', 'sk', `${prefix}invoice`];
    const input: QueryCommandInput = {
      TableName: this.#table,
      ...(index === undefined ? { ConsistentRead: true } : { IndexName: index }),
      KeyConditionExpression: `${partitionKey} = :pk${filter.idRange ? ` AND ${sortKey} BETWEEN :from AND :to` : ''}`,
      ExpressionAttributeValues: {
        ':pk': partition,
        ...(filter.idRange ? { ':from': filter.idRange.from, ':to': filter.idRange.to } : {}),
        ...(filter.counterpartyId !== undefined && filter.status !== undefined
          ? { ':status': filter.status }
          : {}),
      },
      ...(filter.counterpartyId !== undefined && filter.status !== undefined
        ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } }
        : {}),
      ScanIndexForward: false,
      Limit: limit,
      ...(after === undefined ? {} : { ExclusiveStartKey: after }),
    };
    const result = await client.send(new QueryCommand(input));
    return {
      items: (result.Items ?? []).map((item) => item.invoice as Invoice),
      lastKey: result.LastEvaluatedKey as Record<string, string> | undefined,
    };
  }
}

function sequenceKey(tenantId: string): { pk: string; sk: string } {
  return { pk: `${tenantPrefix(tenantId)}invoice-sequence`, sk: 'sequence' };
}
