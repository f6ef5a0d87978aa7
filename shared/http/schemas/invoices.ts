/** Invoice request and response schemas (API-1): money in integer minor units. */
import { z } from 'zod';
import { currencyCode, isoDate, itemId, minorUnits, quantity, text, vatRateBasisPoints } from './common';

export const invoiceLineInput = z.strictObject({
  description: text(1, 500),
  quantity,
  unitPrice: minorUnits,
  vatRate: vatRateBasisPoints,
});

export const createInvoiceBody = z.strictObject({
  currency: currencyCode,
  counterpartyId: itemId.optional(),
  reference: text(1, 140).optional(),
  issueDate: isoDate.optional(),
  dueDate: isoDate.optional(),
  lines: z.array(invoiceLineInput).min(1).max(200),
});
export type CreateInvoiceBody = z.infer<typeof createInvoiceBody>;

export const invoiceIdParams = z.strictObject({ id: itemId });

export const invoiceStatus = z.enum(['draft', 'submitted', 'approved', 'issued', 'paid', 'void']);

export const invoiceTotals = z.strictObject({
  net: z.number().int(),
  vat: z.number().int(),
  gross: z.number().int(),
});

export const invoiceResponse = z.strictObject({
  id: itemId,
  status: invoiceStatus,
  currency: currencyCode,
  counterpartyId: itemId.optional(),
  reference: z.string().optional(),
  issueDate: isoDate.optional(),
  dueDate: isoDate.optional(),
  lines: z.array(
    z.strictObject({
      description: z.string(),
      quantity: z.string(),
      unitPrice: z.number().int(),
      vatRate: z.number().int(),
      net: z.number().int(),
      vat: z.number().int(),
    }),
  ),
  totals: invoiceTotals,
  version: z.number().int(),
  createdAt: z.string(),
  createdBy: z.string(),
  auditEntryId: z.string().optional(),
});

export const invoiceListResponse = z.strictObject({
  items: z.array(invoiceResponse),
  nextCursor: z.string().optional(),
});
