/**
 * IBAN (ISO 13616): normalisation, the country's length and BBAN structure from the
 * SWIFT IBAN registry, and the ISO 7064 MOD 97-10 checksum. Pure functions, no I/O.
 *
 * The table covers the EU and EEA, the United Kingdom, Switzerland, the European
 * microstates and territories with their own IBAN (AD, FO, GI, GL, MC, SM, VA) and the
 * other European registry countries; an IBAN of any other country is refused.
 */

/**
 * BBAN structure per country in the registry's notation: `n` digits, `a` upper-case
 * letters, `c` upper-case letters or digits, each with its count. The IBAN length is
 * 4 (country code and check digits) plus the BBAN length.
 */
const bbanStructures = {
  AD: '4n4n12c',
  AL: '8n16c',
  AT: '5n11n',
  BA: '3n3n8n2n',
  BE: '3n7n2n',
  BG: '4a4n2n8c',
  CH: '5n12c',
  CY: '3n5n16c',
  CZ: '4n6n10n',
  DE: '8n10n',
  DK: '4n9n1n',
  EE: '2n14n',
  ES: '4n4n1n1n10n',
  FI: '3n11n',
  FO: '4n9n1n',
  FR: '5n5n11c2n',
  GB: '4a6n8n',
  GI: '4a15c',
  GL: '4n9n1n',
  GR: '3n4n16c',
  HR: '7n10n',
  HU: '3n4n1n15n1n',
  IE: '4a6n8n',
  IS: '4n2n6n10n',
  IT: '1a5n5n12c',
  LI: '5n12c',
  LT: '5n11n',
  LU: '3n13c',
  LV: '4a13c',
  MC: '5n5n11c2n',
  MD: '2c18c',
  ME: '3n13n2n',
  MK: '3n10c2n',
  MT: '4a5n18c',
  NL: '4a10n',
  NO: '4n6n1n',
  PL: '8n16n',
  PT: '4n4n11n2n',
  RO: '4a16c',
  RS: '3n13n2n',
  SE: '3n16n1n',
  SI: '5n8n2n',
  SK: '4n6n10n',
  SM: '1a5n5n12c',
  TR: '5n1n16c',
  UA: '6n19c',
  VA: '3n15n',
  XK: '4n10n2n',
} as const;

export type IbanCountry = keyof typeof bbanStructures;

const characterClasses: Readonly<Record<string, string>> = { n: '[0-9]', a: '[A-Z]', c: '[A-Z0-9]' };

interface CountrySpec {
  readonly length: number;
  readonly bban: RegExp;
}

const specs: ReadonlyMap<string, CountrySpec> = new Map(
  Object.entries(bbanStructures).map(([country, structure]) => {
    let length = 4;
    let pattern = '';
    for (const [, count, kind] of structure.matchAll(/(\d+)([nac])/g)) {
      length += Number(count);
      pattern += `${characterClasses[kind ?? '']}{${count}}`;
    }
    return [country, { length, bban: new RegExp(`^${pattern}$`) }];
  }),
);

/** IBAN length per supported country, from the registry. */
export function ibanLength(country: string): number | undefined {
  return specs.get(country)?.length;
}

export const ibanCountries = Object.keys(bbanStructures) as IbanCountry[];

/**
 * The electronic format: spaces (and the other white space people paste) removed,
 * letters upper-cased. `de89 3704 0044 0532 0130 00` becomes `DE89370400440532013000`.
 */
export function normalizeIban(value: string): string {
  return value.replace(/\s+/g, '').toUpperCase();
}

/** The four-character groups of the paper format: `DE89 3704 0044 0532 0130 00`. */
export function formatIban(iban: string): string {
  return normalizeIban(iban).replace(/(.{4})(?=.)/g, '$1 ');
}

/** ISO 7064 MOD 97-10 over the IBAN with its first four characters moved to the end. */
export function ibanChecksumRemainder(iban: string): number {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const character of rearranged) {
    const code = character.charCodeAt(0);
    // Digits count as themselves, letters as 10 (A) to 35 (Z).
    const value = code >= 65 ? code - 55 : code - 48;
    remainder = (remainder * (value >= 10 ? 100 : 10) + value) % 97;
  }
  return remainder;
}

export type IbanProblem =
  | 'format'
  | 'unsupported-country'
  | 'length'
  | 'bban-structure'
  | 'check-digits'
  | 'checksum';

const problemMessages: Readonly<Record<IbanProblem, string>> = {
  format: 'must be an IBAN: two letters, two check digits and up to 30 letters or digits',
  'unsupported-country': 'must be an IBAN of a country in the IBAN registry that Strongroom supports',
  length: 'has the wrong length for its country',
  'bban-structure': "does not have its country's account number structure",
  'check-digits': 'has impossible check digits',
  checksum: 'fails the ISO 13616 checksum',
};

/** Why a (normalised) IBAN is invalid, or undefined when it is valid. */
export function ibanProblem(value: string): IbanProblem | undefined {
  const iban = normalizeIban(value);
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$/.test(iban)) return 'format';
  const spec = specs.get(iban.slice(0, 2));
  if (!spec) return 'unsupported-country';
  if (iban.length !== spec.length) return 'length';
  if (!spec.bban.test(iban.slice(4))) return 'bban-structure';
  // ISO 7064 check digits are 98 minus a remainder, so 00, 01 and 99 never occur.
  const checkDigits = Number(iban.slice(2, 4));
  if (checkDigits < 2 || checkDigits > 98) return 'check-digits';
  if (ibanChecksumRemainder(iban) !== 1) return 'checksum';
  return undefined;
}

/** A human-readable reason for an IBAN problem, for validation errors (never echoes the value). */
export function ibanProblemMessage(problem: IbanProblem): string {
  return problemMessages[problem];
}

export function isValidIban(value: string): boolean {
  return ibanProblem(value) === undefined;
}
