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

const actAt = z.strictObject({ by: z.string(), at: z.string() });

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
  updatedAt: z.string().optional(),
  submittedAt: z.string().optional(),
  submittedBy: z.string().optional(),
  approvals: z.array(actAt),
  rejection: z.strictObject({ by: z.string(), at: z.string(), reason: z.string() }).optional(),
  number: z.string().optional(),
  sequence: z.number().int().optional(),
  issuedAt: z.string().optional(),
  issuedBy: z.string().optional(),
  paidAmount: z.number().int(),
  voided: z.strictObject({ by: z.string(), at: z.string(), reason: z.string() }).optional(),
  auditEntryId: z.string().optional(),
});

export const invoiceListResponse = z.strictObject({
  items: z.array(invoiceResponse),
  nextCursor: z.string().optional(),
});

export const invoiceListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(4096).optional(),
  status: invoiceStatus.optional(),
  counterpartyId: itemId.optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
});

/** Transitions that need no input take an optional comment (or no body at all). */
export const transitionBody = z.strictObject({ comment: text(1, 500).optional() }).optional();

export const reasonBody = z.strictObject({ reason: text(1, 500) });

export const paymentBody = z.strictObject({
  amount: minorUnits.min(1),
  receivedOn: isoDate,
  reference: text(1, 140).optional(),
});

export const paymentResponse = z.strictObject({
  id: itemId,
  invoiceId: itemId,
  amount: z.number().int(),
  currency: currencyCode,
  receivedOn: isoDate,
  reference: z.string().optional(),
  recordedAt: z.string(),
  recordedBy: z.string(),
});

export const paymentListResponse = z.strictObject({ items: z.array(paymentResponse) });

export const recordPaymentResponse = paymentResponse.extend({
  invoiceStatus: invoiceStatus,
  paidAmount: z.number().int(),
  auditEntryId: z.string(),
});
