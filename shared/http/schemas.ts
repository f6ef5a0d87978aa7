/**
 * Request and response schemas (API-1). Objects are strict (unknown fields rejected),
 * strings and arrays are bounded, money is integer minor units.
 */
import { z } from 'zod';
import { currencyCodes } from '#shared/domain/money';

/** A string of bounded length that is well-formed Unicode (no lone surrogates). */
export function text(min: number, max: number) {
  return z
    .string()
    .min(min)
    .max(max)
    .refine((value) => value.isWellFormed(), { message: 'must be well-formed Unicode' });
}

/** Server-generated identifiers: a type prefix and 26 Crockford base32 characters. */
export const itemId = z.string().regex(/^[a-z]{2,4}_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a Strongroom id');

export const currencyCode = z.enum(currencyCodes);

/** An amount in the currency's minor units (for example cents): a non-negative safe integer. */
export const minorUnits = z.number().int().min(0).max(1_000_000_000_000);

/** A decimal quantity written as a string so it is exact: up to 9 integer and 6 fraction digits. */
export const quantity = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,8})(\.[0-9]{1,6})?$/, 'must be a decimal string such as "1" or "2.5"');

/** VAT rate in basis points: 2000 means 20%. */
export const vatRateBasisPoints = z.number().int().min(0).max(10_000);

export const isoDate = z.iso.date();

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

export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(2048).optional(),
});

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

export const healthResponse = z.strictObject({ status: z.literal('ok') });

export const problemResponse = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  code: z.string(),
  requestId: z.string().optional(),
});

/** Entry ids: the `aud_` prefix and a time-ordered id. */
export const auditEntryId = z.string().regex(/^aud_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be an audit entry id');

const base64Hash = z.string();
const treeSize = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

export const auditEntriesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(64).optional(),
  action: text(1, 64).optional(),
  actorId: text(1, 64).optional(),
  targetId: text(1, 64).optional(),
});

export const auditEntryView = z.strictObject({
  seq: z.number().int(),
  leafHash: base64Hash,
  entry: z.record(z.string(), z.unknown()),
});

export const auditEntryListResponse = z.strictObject({
  items: z.array(auditEntryView),
  nextCursor: z.string().optional(),
});

export const auditEntryParams = z.strictObject({ id: auditEntryId });
export const auditEntryQuery = z.strictObject({ treeSize: treeSize.optional() });

export const checkpointView = z.strictObject({
  size: z.number().int(),
  root: base64Hash,
  note: z.string(),
  signedAt: z.string(),
});

export const auditEntryWithProofResponse = z.strictObject({
  seq: z.number().int(),
  leafHash: base64Hash,
  entry: z.record(z.string(), z.unknown()),
  /** Canonical entry bytes (RFC 8785), base64: what the leaf hash covers. */
  entryBytes: z.string(),
  treeSize: z.number().int(),
  inclusionProof: z.array(base64Hash),
  checkpoint: checkpointView,
});

export const consistencyQuery = z.strictObject({ from: treeSize, to: treeSize.optional() });

export const consistencyResponse = z.strictObject({
  from: z.number().int(),
  to: z.number().int(),
  proof: z.array(base64Hash),
  checkpoint: checkpointView,
});

export const publishedKeysResponse = z.strictObject({
  keys: z.array(
    z.strictObject({
      keyName: z.string(),
      keyId: z.string(),
      algorithm: z.literal('ed25519'),
      publicKey: z.string(),
      verifierKey: z.string(),
      current: z.boolean(),
    }),
  ),
});
