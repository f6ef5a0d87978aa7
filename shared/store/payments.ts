/** Payments recorded against invoices; keyed by invoice so an invoice's payments are one query. */
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Payment } from '#shared/domain/payments';
import { tenantPrefix } from '#shared/tenancy/tenant-id';
import { tableName } from './tables';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export class PaymentStore {
  readonly #table: string;

  constructor(stage: string) {
    this.#table = tableName(stage, 'data');
  }

  createWrite(tenantId: string, payment: Payment): TransactItem {
    return {
      Put: {
        TableName: this.#table,
        Item: { pk: `${tenantPrefix(tenantId)}payment`, sk: `${payment.invoiceId}#${payment.id}`, payment },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /** Deletes a payment that still exists (DAT-4 retention removes an invoice's payments with it). */
  deleteWrite(tenantId: string, payment: Payment): TransactItem {
    return {
      Delete: {
        TableName: this.#table,
        Key: { pk: `${tenantPrefix(tenantId)}payment`, sk: `${payment.invoiceId}#${payment.id}` },
        ConditionExpression: 'attribute_exists(pk)',
      },
    };
  }

  async listForInvoice(
    client: DynamoDBDocumentClient,
    tenantId: string,
    invoiceId: string,
  ): Promise<Payment[]> {
    const payments: Payment[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const result = await client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :invoice)',
          ExpressionAttributeValues: {
            ':pk': `${tenantPrefix(tenantId)}payment`,
            ':invoice': `${invoiceId}#`,
          },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      payments.push(...(result.Items ?? []).map((item) => item.payment as Payment));
      start = result.LastEvaluatedKey;
    } while (start);
    return payments;
  }
}
