/**
 * IBAN validation (ISO 13616): the registry's own examples pass, and every kind of
 * damage is caught. The property tests generate valid IBANs for every supported
 * country and show that one changed digit anywhere always makes them invalid.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatIban,
  ibanChecksumRemainder,
  ibanCountries,
  ibanLength,
  ibanProblem,
  isValidIban,
  normalizeIban,
} from '#shared/domain/iban';

/** Example IBANs published in the SWIFT IBAN registry, one per supported country. */
const registryExamples = [
  'AD1200012030200359100100',
  'AL47212110090000000235698741',
  'AT611904300234573201',
  'BA391290079401028494',
  'BE68539007547034',
  'BG80BNBG96611020345678',
  'CH9300762011623852957',
  'CY17002001280000001200527600',
  'CZ6508000000192000145399',
  'DE89370400440532013000',
  'DK5000400440116243',
  'EE382200221020145685',
  'ES9121000418450200051332',
  'FI2112345600000785',
  'FO6264600001631634',
  'FR1420041010050500013M02606',
  'GB29NWBK60161331926819',
  'GI75NWBK000000007099453',
  'GL8964710001000206',
  'GR1601101250000000012300695',
  'HR1210010051863000160',
  'HU42117730161111101800000000',
  'IE29AIBK93115212345678',
  'IS140159260076545510730339',
  'IT60X0542811101000000123456',
  'LI21088100002324013AA',
  'LT121000011101001000',
  'LU280019400644750000',
  'LV80BANK0000435195001',
  'MC5811222000010123456789030',
  'MD24AG000225100013104168',
  'ME25505000012345678951',
  'MK07250120000058984',
  'MT84MALT011000012345MTLCAST001S',
  'NL91ABNA0417164300',
  'NO9386011117947',
  'PL61109010140000071219812874',
  'PT50000201231234567890154',
  'RO49AAAA1B31007593840000',
  'RS35260005601001611379',
  'SE4550000000058398257466',
  'SI56263300012039086',
  'SK3112000000198742637541',
  'SM86U0322509800000000270100',
  'TR330006100519786457841326',
  'UA213223130000026007233566001',
  'VA59001123000012345678',
  'XK051212012345678906',
];

const euEeaGbCh = [
  'AT',
  'BE',
  'BG',
  'CY',
  'CZ',
  'DE',
  'DK',
  'EE',
  'ES',
  'FI',
  'FR',
  'GR',
  'HR',
  'HU',
  'IE',
  'IT',
  'LT',
  'LU',
  'LV',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SE',
  'SI',
  'SK',
  'IS',
  'LI',
  'NO',
  'GB',
  'CH',
];

describe('[API-1] IBAN validation (ISO 13616)', () => {
  it('knows the length of every EU, EEA, UK and Swiss IBAN', () => {
    for (const country of euEeaGbCh) expect(ibanLength(country), country).toBeGreaterThan(14);
    expect(ibanLength('DE')).toBe(22);
    expect(ibanLength('NO')).toBe(15);
    expect(ibanLength('MT')).toBe(31);
  });

  it.each(registryExamples)('accepts the registry example %s', (iban) => {
    expect(ibanProblem(iban)).toBeUndefined();
    expect(iban.length).toBe(ibanLength(iban.slice(0, 2)));
  });

  it('has an example for every supported country', () => {
    expect(new Set(registryExamples.map((iban) => iban.slice(0, 2)))).toEqual(new Set(ibanCountries));
  });

  it('normalises spaces and lower case to the electronic format', () => {
    expect(normalizeIban(' de89 3704 0044 0532 0130 00 ')).toBe('DE89370400440532013000');
    expect(isValidIban('de89 3704 0044 0532 0130 00')).toBe(true);
    expect(isValidIban('gb29\tnwbk 6016 1331 9268 19')).toBe(true);
    expect(formatIban('fr1420041010050500013m02606')).toBe('FR14 2004 1010 0505 0001 3M02 606');
  });

  it.each([
    ['a wrong checksum', 'DE89370400440532013001', 'checksum'],
    ['swapped check digits', 'DE98370400440532013000', 'checksum'],
    ['two adjacent digits swapped', 'DE89370400440532031000', 'checksum'],
    ['one character too many', 'DE893704004405320130000', 'length'],
    ['one character too few', 'DE8937040044053201300', 'length'],
    ['a Norwegian length for a German IBAN', 'DE9386011117947', 'length'],
    ['letters where the registry has digits', 'DE89370400440532O13000', 'bban-structure'],
    ['a country without IBAN', 'US64SVBKUS6S3300958879', 'unsupported-country'],
    ['check digits 00', 'DE00370400440532013000', 'check-digits'],
    ['check digits 99', 'DE99370400440532013000', 'check-digits'],
    ['punctuation', 'DE89-3704-0044-0532-0130-00', 'format'],
    ['an empty string', '', 'format'],
    ['digits only', '89370400440532013000', 'format'],
  ])('refuses %s', (_name, iban, problem) => {
    expect(ibanProblem(iban)).toBe(problem);
  });
});

/** A valid IBAN for a country: a BBAN of the registry structure and computed check digits. */
function validIban(country: string, bban: string): string {
  const checkDigits = 98 - ibanChecksumRemainder(`${country}00${bban}`);
  return `${country}${String(checkDigits).padStart(2, '0')}${bban}`;
}

/** Valid IBANs of every supported country: the example's BBAN shape, new random characters. */
const anyValidIban = fc.constantFrom(...registryExamples).chain((example) =>
  fc
    .tuple(
      ...[...example.slice(4)].map((character) =>
        /[0-9]/.test(character)
          ? fc.constantFrom(...'0123456789')
          : // Keep letters as letters: some structures allow only letters there.
            fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
      ),
    )
    .map((characters) => validIban(example.slice(0, 2), characters.join(''))),
);

describe('[API-1] IBAN checksum properties', () => {
  it('generated IBANs are valid', () => {
    fc.assert(
      fc.property(anyValidIban, (iban) => {
        expect(ibanProblem(iban)).toBeUndefined();
      }),
    );
  });

  it('changing any single digit of a valid IBAN makes it invalid', () => {
    fc.assert(
      fc.property(anyValidIban, fc.nat(), fc.integer({ min: 1, max: 9 }), (iban, positionSeed, shift) => {
        const digitPositions = [...iban].flatMap((character, index) =>
          index >= 2 && /[0-9]/.test(character) ? [index] : [],
        );
        const position = digitPositions[positionSeed % digitPositions.length] ?? 2;
        const changed = String((Number(iban[position]) + shift) % 10);
        const damaged = iban.slice(0, position) + changed + iban.slice(position + 1);
        expect(damaged).not.toBe(iban);
        expect(isValidIban(damaged)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('every single-digit change of each registry example is caught, exhaustively', () => {
    for (const iban of registryExamples) {
      for (let position = 2; position < iban.length; position++) {
        if (!/[0-9]/.test(iban[position] ?? '')) continue;
        for (let digit = 0; digit <= 9; digit++) {
          if (String(digit) === iban[position]) continue;
          const damaged = iban.slice(0, position) + digit + iban.slice(position + 1);
          expect(isValidIban(damaged), damaged).toBe(false);
        }
      }
    }
  });

  it('spaces and case never change the verdict', () => {
    fc.assert(
      fc.property(anyValidIban, fc.array(fc.boolean(), { minLength: 34, maxLength: 34 }), (iban, flags) => {
        const messy = [...iban]
          .map((character, index) => {
            const cased = flags[index] ? character.toLowerCase() : character;
            return index % 4 === 3 ? `${cased} ` : cased;
          })
          .join('');
        expect(normalizeIban(messy)).toBe(iban);
        expect(isValidIban(messy)).toBe(true);
      }),
    );
  });
});
