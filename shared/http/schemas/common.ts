/**
 * Schema building blocks shared by every area (API-1). Objects are strict (unknown fields rejected),
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

/** Paging of list routes: page size and an opaque cursor. */
export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(2048).optional(),
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
