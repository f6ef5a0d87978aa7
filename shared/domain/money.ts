/**
 * ISO 4217 currencies Strongroom accepts, with their minor-unit exponent.
 * Amounts are always integers in minor units; nothing here uses floating point.
 */
export const currencyExponents = {
  EUR: 2,
  GBP: 2,
  USD: 2,
  CHF: 2,
  SEK: 2,
  NOK: 2,
  DKK: 2,
  PLN: 2,
  CZK: 2,
  HUF: 2,
  RON: 2,
  BGN: 2,
  ISK: 0,
  JPY: 0,
  CAD: 2,
  AUD: 2,
  KWD: 3,
  BHD: 3,
} as const;

export type CurrencyCode = keyof typeof currencyExponents;

export const currencyCodes = Object.keys(currencyExponents) as [CurrencyCode, ...CurrencyCode[]];

const quantityScale = 1_000_000n;

/** Divide with rounding half away from zero (amounts here are never negative). */
function divideRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  return (numerator * 2n + denominator) / (denominator * 2n);
}

/** Parses a decimal quantity string ("2.5") into millionths, exactly. */
export function quantityToMillionths(quantity: string): bigint {
  const [whole = '0', fraction = ''] = quantity.split('.');
  return BigInt(whole) * quantityScale + BigInt(fraction.padEnd(6, '0'));
}

export interface LineAmounts {
  readonly net: number;
  readonly vat: number;
}

/**
 * Rounding rule (documented in the API): each line's net is quantity × unit price
 * rounded half up to the minor unit; each line's VAT is net × rate rounded half up;
 * invoice totals are the sums of the rounded line amounts.
 */
export function lineAmounts(quantity: string, unitPrice: number, vatRateBasisPoints: number): LineAmounts {
  const net = divideRoundHalfUp(quantityToMillionths(quantity) * BigInt(unitPrice), quantityScale);
  const vat = divideRoundHalfUp(net * BigInt(vatRateBasisPoints), 10_000n);
  return { net: toSafeNumber(net), vat: toSafeNumber(vat) };
}

export function toSafeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new RangeError('amount exceeds the largest safe integer');
  return Number(value);
}
