/**
 * Counterparties: the customers and suppliers a tenant invoices and pays. Pure domain
 * logic with no AWS types. Names, addresses, VAT and tax ids and IBANs are personal or
 * banking data: they live only in the item's payload, never in keys, indexes, audit
 * entries or logs (ENC-3, DAT-3).
 */
import { normalizeIban } from './iban';
import { normalizeVatId } from './vat-id';

export const counterpartyKinds = ['customer', 'supplier', 'both'] as const;
export type CounterpartyKind = (typeof counterpartyKinds)[number];

export interface PostalAddress {
  /** Street, number, building: one to four lines. */
  readonly lines: readonly string[];
  readonly city: string;
  readonly postalCode?: string;
  /** ISO 3166-1 alpha-2. */
  readonly country: string;
}

/** What a client sends to create a counterparty or to replace its details (validated). */
export interface CounterpartyInput {
  readonly kind: CounterpartyKind;
  readonly name: string;
  readonly address: PostalAddress;
  readonly vatId?: string | undefined;
  readonly iban?: string | undefined;
  readonly taxId?: string | undefined;
}

export interface Counterparty {
  readonly id: string;
  readonly kind: CounterpartyKind;
  readonly name: string;
  readonly address: PostalAddress;
  /** Normalised: upper case, no separators. */
  readonly vatId?: string;
  /** Electronic format: upper case, no spaces. */
  readonly iban?: string;
  readonly taxId?: string;
  readonly version: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/** The details of a counterparty as stored: trimmed and normalised. */
function details(input: CounterpartyInput) {
  const { address } = input;
  return {
    kind: input.kind,
    name: input.name.trim(),
    address: {
      lines: address.lines.map((line) => line.trim()),
      city: address.city.trim(),
      ...(address.postalCode === undefined ? {} : { postalCode: address.postalCode.trim().toUpperCase() }),
      country: address.country,
    },
    ...(input.vatId === undefined ? {} : { vatId: normalizeVatId(input.vatId) }),
    ...(input.iban === undefined ? {} : { iban: normalizeIban(input.iban) }),
    ...(input.taxId === undefined ? {} : { taxId: input.taxId.trim() }),
  };
}

export function newCounterparty(
  input: CounterpartyInput,
  id: string,
  actorId: string,
  now: Date,
): Counterparty {
  const time = now.toISOString();
  return {
    id,
    ...details(input),
    version: 1,
    createdAt: time,
    createdBy: actorId,
    updatedAt: time,
    updatedBy: actorId,
  };
}

/** The counterparty with its details replaced by the input, one version later. */
export function revisedCounterparty(
  current: Counterparty,
  input: CounterpartyInput,
  actorId: string,
  now: Date,
): Counterparty {
  return {
    id: current.id,
    ...details(input),
    version: current.version + 1,
    createdAt: current.createdAt,
    createdBy: current.createdBy,
    updatedAt: now.toISOString(),
    updatedBy: actorId,
  };
}

/** The `kind` list filter: customers include those that are both, and so do suppliers. */
export function matchesKind(counterparty: Counterparty, kind: CounterpartyKind | undefined): boolean {
  if (kind === undefined || counterparty.kind === kind) return true;
  return counterparty.kind === 'both';
}
