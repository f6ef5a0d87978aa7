/**
 * Counterparty request and response schemas (API-1). IBANs are checked with the ISO 13616
 * checksum and their country's length, VAT ids with their country's format; errors name
 * the field and the rule, never the value.
 */
import { z } from 'zod';
import { counterpartyKinds } from '#shared/domain/counterparties';
import { countryCodes } from '#shared/domain/countries';
import { ibanProblem, ibanProblemMessage } from '#shared/domain/iban';
import { vatIdProblem } from '#shared/domain/vat-id';
import { pageQuery, text } from './common';

export const counterpartyId = z
  .string()
  .regex(/^cp_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a counterparty id')
  .meta({ description: 'Counterparty id: `cp_` and 26 Crockford base32 characters.' });

export const counterpartyKind = z.enum(counterpartyKinds);

export const countryCode = z
  .enum(countryCodes, { error: 'must be an ISO 3166-1 alpha-2 country code in upper case' })
  .meta({ id: 'CountryCode', description: 'ISO 3166-1 alpha-2 country code, upper case.' });

export const iban = z
  .string()
  .max(50)
  .superRefine((value, context) => {
    const problem = ibanProblem(value);
    if (problem) context.addIssue({ code: 'custom', message: `IBAN ${ibanProblemMessage(problem)}` });
  })
  .meta({
    description:
      'IBAN (ISO 13616) with a valid checksum and its country’s length; spaces and lower case are accepted and normalised to the electronic format.',
    examples: ['DE89 3704 0044 0532 0130 00'],
  });

export const vatId = z
  .string()
  .max(30)
  .superRefine((value, context) => {
    const problem = vatIdProblem(value);
    if (problem) context.addIssue({ code: 'custom', message: `VAT id ${problem}` });
  })
  .meta({
    description:
      'VAT identification number with its country prefix (EL for Greece, XI for Northern Ireland); the format of EU, GB, CH and NO numbers is checked. Normalised to upper case without separators.',
    examples: ['DE123456789'],
  });

export const postalAddress = z.strictObject({
  lines: z.array(text(1, 100)).min(1).max(4),
  city: text(1, 100),
  postalCode: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9 -]{0,14}$/, 'must be a postal code of letters, digits, spaces and hyphens')
    .optional(),
  country: countryCode,
});

/** The details of a counterparty: the body of POST /counterparties and PUT /counterparties/{id}. */
export const counterpartyBody = z.strictObject({
  kind: counterpartyKind,
  name: text(1, 200),
  address: postalAddress,
  vatId: vatId.optional(),
  iban: iban.optional(),
  taxId: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9 ./-]{0,39}$/,
      'must be a tax id of letters, digits, spaces, dots, slashes and hyphens',
    )
    .optional(),
});
export type CounterpartyBody = z.infer<typeof counterpartyBody>;

export const counterpartyIdParams = z.strictObject({ id: counterpartyId });

export const counterpartyListQuery = pageQuery.extend({
  kind: counterpartyKind
    .optional()
    .meta({ description: 'Only customers (including those that are both), suppliers, or both.' }),
});

export const counterpartyResponse = z.strictObject({
  id: counterpartyId,
  kind: counterpartyKind,
  name: z.string(),
  address: z.strictObject({
    lines: z.array(z.string()),
    city: z.string(),
    postalCode: z.string().optional(),
    country: z.string(),
  }),
  vatId: z.string().optional(),
  iban: z.string().optional(),
  taxId: z.string().optional(),
  version: z.number().int(),
  createdAt: z.string(),
  createdBy: z.string(),
  updatedAt: z.string(),
  updatedBy: z.string(),
  /** Present on the responses of changes: the audit entry written with the change. */
  auditEntryId: z.string().optional(),
});

export const counterpartyListResponse = z.strictObject({
  items: z.array(counterpartyResponse),
  nextCursor: z.string().optional(),
});
