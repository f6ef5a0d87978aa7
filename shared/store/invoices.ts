/** Invoice items in the tenant's data table. Keys carry ids only, never personal data. */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Invoice } from '#shared/domain/invoices';
import { tenantPrefix } from '#shared/tenancy/tenant-id';
import { tableName } from './tables';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface InvoicePage {
  readonly items: Invoice[];
  /** Sort key of the last item read, when more may follow. */
  readonly lastKey: string | undefined;
}

export class InvoiceStore {
  readonly #table: string;

  constructor(stage: string) {
    this.#table = tableName(stage, 'data');
  }

  createWrite(tenantId: string, invoice: Invoice): TransactItem {
    return {
      Put: {
        TableName: this.#table,
        Item: { pk: partition(tenantId), sk: invoice.id, invoice },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  async get(client: DynamoDBDocumentClient, tenantId: string, id: string): Promise<Invoice | undefined> {
    const result = await client.send(
      new GetCommand({
        TableName: this.#table,
        Key: { pk: partition(tenantId), sk: id },
        ConsistentRead: true,
      }),
    );
    return result.Item?.invoice as Invoice | undefined;
  }

  /** Newest first: invoice ids are time-ordered. */
  async list(
    client: DynamoDBDocumentClient,
    tenantId: string,
    limit: number,
    after: string | undefined,
  ): Promise<InvoicePage> {
    const pk = partition(tenantId);
    const result = await client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ScanIndexForward: false,
        Limit: limit,
        ...(after === undefined ? {} : { ExclusiveStartKey: { pk, sk: after } }),
      }),
    );
    const lastKey = result.LastEvaluatedKey?.sk;
    return {
      items: (result.Items ?? []).map((item) => item.invoice as Invoice),
      lastKey: typeof lastKey === 'string' ? lastKey : undefined,
    };
  }
}

function partition(tenantId: string): string {
  return `${tenantPrefix(tenantId)}invoice`;
}
