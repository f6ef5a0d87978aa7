/**
 * VAT identification numbers: normalisation and the format of each EU member state's
 * number (the VIES formats, with Greece's `EL` and Northern Ireland's `XI` prefixes),
 * plus the United Kingdom, Switzerland and Norway. Numbers with any other prefix only
 * need the general shape. The format check catches typing errors; whether a number is
 * registered is a question for VIES, which this offline check does not ask.
 */

const formats: Readonly<Record<string, RegExp>> = {
  AT: /^ATU\d{8}$/,
  BE: /^BE[01]\d{9}$/,
  BG: /^BG\d{9,10}$/,
  CY: /^CY\d{8}[A-Z]$/,
  CZ: /^CZ\d{8,10}$/,
  DE: /^DE\d{9}$/,
  DK: /^DK\d{8}$/,
  EE: /^EE\d{9}$/,
  EL: /^EL\d{9}$/,
  ES: /^ES[A-Z0-9]\d{7}[A-Z0-9]$/,
  FI: /^FI\d{8}$/,
  FR: /^FR[A-HJ-NP-Z0-9]{2}\d{9}$/,
  HR: /^HR\d{11}$/,
  HU: /^HU\d{8}$/,
  IE: /^IE(?:\d{7}[A-W][A-IW]?|\d[A-Z+*]\d{5}[A-W])$/,
  IT: /^IT\d{11}$/,
  LT: /^LT(?:\d{9}|\d{12})$/,
  LU: /^LU\d{8}$/,
  LV: /^LV\d{11}$/,
  MT: /^MT\d{8}$/,
  NL: /^NL\d{9}B\d{2}$/,
  PL: /^PL\d{10}$/,
  PT: /^PT\d{9}$/,
  RO: /^RO[1-9]\d{1,9}$/,
  SE: /^SE\d{10}01$/,
  SI: /^SI\d{8}$/,
  SK: /^SK\d{10}$/,
  XI: /^XI(?:\d{9}|\d{12}|GD\d{3}|HA\d{3})$/,
  GB: /^GB(?:\d{9}|\d{12}|GD\d{3}|HA\d{3})$/,
  CH: /^CHE\d{9}(?:MWST|TVA|IVA)?$/,
  NO: /^NO\d{9}(?:MVA)?$/,
};

/** Prefixes whose format is checked exactly. */
export const vatIdPrefixes: readonly string[] = Object.keys(formats);

/** Upper case, without the spaces, dots and hyphens people write numbers with. */
export function normalizeVatId(value: string): string {
  return value.replace(/[\s.-]+/g, '').toUpperCase();
}

/** Why a VAT id is invalid, or undefined when its format is right. Never echoes the value. */
export function vatIdProblem(value: string): string | undefined {
  const vatId = normalizeVatId(value);
  if (!/^[A-Z]{2}[A-Z0-9+*]{2,16}$/.test(vatId)) {
    return 'must be a VAT id: a two-letter prefix followed by letters and digits';
  }
  const prefix = vatId.slice(0, 2);
  if (prefix === 'GR') return 'Greek VAT ids use the EL prefix';
  const format = formats[prefix];
  if (format && !format.test(vatId)) return `does not have the format of a ${prefix} VAT id`;
  return undefined;
}

export function isValidVatId(value: string): boolean {
  return vatIdProblem(value) === undefined;
}
