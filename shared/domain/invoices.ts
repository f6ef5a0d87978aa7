/**
 * Invoices: pure domain logic with no AWS types. Totals are computed server-side in
 * integer minor units (see money.ts for the rounding rule).
 */
import type { CreateInvoiceBody } from '#shared/http/schemas/invoices';
import { type CurrencyCode, lineAmounts, toSafeNumber } from './money';

export type InvoiceStatus = 'draft' | 'submitted' | 'approved' | 'issued' | 'paid' | 'void';

export interface InvoiceLine {
  readonly description: string;
  readonly quantity: string;
  readonly unitPrice: number;
  readonly vatRate: number;
  readonly net: number;
  readonly vat: number;
}

export interface Invoice {
  readonly id: string;
  readonly status: InvoiceStatus;
  readonly currency: CurrencyCode;
  readonly counterpartyId?: string;
  readonly reference?: string;
  readonly issueDate?: string;
  readonly dueDate?: string;
  readonly lines: readonly InvoiceLine[];
  readonly totals: { readonly net: number; readonly vat: number; readonly gross: number };
  readonly version: number;
  readonly createdAt: string;
  readonly createdBy: string;
}

export function draftInvoice(input: CreateInvoiceBody, id: string, actorId: string, now: Date): Invoice {
  const lines = input.lines.map((line) => ({
    description: line.description,
    quantity: line.quantity,
    unitPrice: line.unitPrice,
    vatRate: line.vatRate,
    ...lineAmounts(line.quantity, line.unitPrice, line.vatRate),
  }));
  const net = lines.reduce((sum, line) => sum + BigInt(line.net), 0n);
  const vat = lines.reduce((sum, line) => sum + BigInt(line.vat), 0n);
  return {
    id,
    status: 'draft',
    currency: input.currency,
    ...(input.counterpartyId === undefined ? {} : { counterpartyId: input.counterpartyId }),
    ...(input.reference === undefined ? {} : { reference: input.reference }),
    ...(input.issueDate === undefined ? {} : { issueDate: input.issueDate }),
    ...(input.dueDate === undefined ? {} : { dueDate: input.dueDate }),
    lines,
    totals: { net: toSafeNumber(net), vat: toSafeNumber(vat), gross: toSafeNumber(net + vat) },
    version: 1,
    createdAt: now.toISOString(),
    createdBy: actorId,
  };
}
