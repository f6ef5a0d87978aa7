/**
 * Counterparties without a database: VAT id formats, the request schema's refusals,
 * normalisation and versions in the domain, If-Match parsing, and the item the store
 * writes, whose key attributes carry ids only (ENC-3, DAT-3).
 */
import { describe, expect, it } from 'vitest';
import { matchesKind, newCounterparty, revisedCounterparty } from '#shared/domain/counterparties';
import { PreconditionRequiredError, ValidationError } from '#shared/domain/errors';
import { isValidVatId, normalizeVatId, vatIdProblem } from '#shared/domain/vat-id';
import { etagOf, ifMatchVersions } from '#shared/http/etag';
import { counterpartyBody, counterpartyListQuery } from '#shared/http/schemas/counterparties';
import { CounterpartyStore } from '#shared/store/counterparties';
import { tables } from '#shared/store/tables';

const supplier = {
  kind: 'supplier' as const,
  name: ' Müller & Söhne GmbH ',
  address: { lines: ['Hauptstraße 1 '], city: 'Berlin', postalCode: '10115', country: 'DE' },
  vatId: 'de 123.456.789',
  iban: 'de89 3704 0044 0532 0130 00',
  taxId: '27/123/45678',
};

describe('[API-1] VAT ids', () => {
  it.each([
    'ATU12345678',
    'BE0123456789',
    'DE123456789',
    'EL123456789',
    'ESA12345678',
    'FR40303265045',
    'IE1234567T',
    'IE1234567TW',
    'IE1A23456T',
    'IT12345678901',
    'NL123456789B01',
    'PL1234567890',
    'SE123456789001',
    'XI123456789',
    'GB123456789',
    'CHE-123.456.789 MWST',
    'NO 123 456 789 MVA',
    'de 123 456 789',
  ])('accepts %s', (vatId) => {
    expect(vatIdProblem(vatId)).toBeUndefined();
  });

  it.each([
    ['DE12345678', 'does not have the format of a DE VAT id'],
    ['AT12345678', 'does not have the format of a AT VAT id'],
    ['NL123456789A01', 'does not have the format of a NL VAT id'],
    ['SE123456789012', 'does not have the format of a SE VAT id'],
    ['GR123456789', 'Greek VAT ids use the EL prefix'],
    ['123456789', 'must be a VAT id: a two-letter prefix followed by letters and digits'],
  ])('refuses %s', (vatId, problem) => {
    expect(vatIdProblem(vatId)).toBe(problem);
    expect(isValidVatId(vatId)).toBe(false);
  });

  it('normalises case and separators', () => {
    expect(normalizeVatId('che-123.456.789 mwst')).toBe('CHE123456789MWST');
  });
});

describe('[API-1] the counterparty request schema', () => {
  it('accepts a complete supplier and a minimal customer', () => {
    expect(counterpartyBody.safeParse(supplier).success).toBe(true);
    const minimal = {
      kind: 'customer',
      name: 'ACME',
      address: { lines: ['1 Main St'], city: 'Dublin', country: 'IE' },
    };
    expect(counterpartyBody.safeParse(minimal).success).toBe(true);
  });

  it.each([
    ['an invalid IBAN', { iban: 'DE89370400440532013001' }, ['iban'], 'IBAN fails the ISO 13616 checksum'],
    ['an IBAN of the wrong length', { iban: 'DE8937040044053201300' }, ['iban'], 'IBAN has the wrong length'],
    ['a malformed VAT id', { vatId: 'DE12' }, ['vatId'], 'VAT id'],
    [
      'an unknown country',
      { address: { ...supplier.address, country: 'XX' } },
      ['address', 'country'],
      'must be an ISO 3166-1 alpha-2 country code in upper case',
    ],
    ['a lower-case country', { address: { ...supplier.address, country: 'de' } }, ['address', 'country'], ''],
    ['no address line', { address: { ...supplier.address, lines: [] } }, ['address', 'lines'], ''],
    [
      'five address lines',
      { address: { ...supplier.address, lines: Array(5).fill('x') } },
      ['address', 'lines'],
      '',
    ],
    ['an unknown kind', { kind: 'partner' }, ['kind'], ''],
    ['an empty name', { name: '' }, ['name'], ''],
    ['a lone surrogate in the name', { name: 'A\udfffB' }, ['name'], 'well-formed'],
    ['an unknown field', { bic: 'DEUTDEFF' }, [], ''],
    ['a control character in the tax id', { taxId: '12\n34' }, ['taxId'], ''],
  ])('refuses %s and names the field', (_name, change, path, message) => {
    const result = counterpartyBody.safeParse({ ...supplier, ...change });
    expect(result.success).toBe(false);
    const issue = result.error?.issues[0];
    expect(issue?.path).toEqual(path);
    expect(issue?.message).toContain(message);
  });

  it('never echoes the rejected IBAN or VAT id in its messages', () => {
    const iban = 'DE89370400440532013001';
    const result = counterpartyBody.safeParse({ ...supplier, iban, vatId: 'DE12' });
    expect(JSON.stringify(result.error?.issues)).not.toContain(iban);
    expect(JSON.stringify(result.error?.issues)).not.toContain('DE12"');
  });

  it('takes kind, limit and cursor in the list query, nothing else', () => {
    expect(counterpartyListQuery.safeParse({ kind: 'customer', limit: '10' }).success).toBe(true);
    expect(counterpartyListQuery.safeParse({ kind: 'partner' }).success).toBe(false);
    expect(counterpartyListQuery.safeParse({ name: 'ACME' }).success).toBe(false);
  });
});

describe('counterparty domain', () => {
  const now = new Date('2026-03-01T10:00:00.000Z');
  const created = newCounterparty(
    counterpartyBody.parse(supplier),
    'cp_01HZY0000000000000000000AB',
    'usr_a',
    now,
  );

  it('normalises what it stores: trimmed text, electronic IBAN, compact VAT id', () => {
    expect(created).toMatchObject({
      name: 'Müller & Söhne GmbH',
      address: { lines: ['Hauptstraße 1'], city: 'Berlin', postalCode: '10115', country: 'DE' },
      iban: 'DE89370400440532013000',
      vatId: 'DE123456789',
      version: 1,
      createdBy: 'usr_a',
      updatedBy: 'usr_a',
    });
  });

  it('replaces the details one version later, keeping who created it', () => {
    const later = new Date('2026-03-02T10:00:00.000Z');
    const { iban: _iban, ...withoutIban } = supplier;
    const revised = revisedCounterparty(created, { ...withoutIban, kind: 'both' }, 'usr_b', later);
    expect(revised).toMatchObject({
      id: created.id,
      kind: 'both',
      version: 2,
      createdAt: created.createdAt,
      createdBy: 'usr_a',
      updatedAt: later.toISOString(),
      updatedBy: 'usr_b',
    });
    expect(revised).not.toHaveProperty('iban');
  });

  it('filters customers and suppliers, counting "both" as either', () => {
    const of = (kind: 'customer' | 'supplier' | 'both') => ({ ...created, kind });
    expect(matchesKind(of('both'), 'customer')).toBe(true);
    expect(matchesKind(of('both'), 'supplier')).toBe(true);
    expect(matchesKind(of('customer'), 'supplier')).toBe(false);
    expect(matchesKind(of('supplier'), 'both')).toBe(false);
    expect(matchesKind(of('supplier'), undefined)).toBe(true);
  });
});

describe('[API-3] If-Match', () => {
  it('reads the versions of strong tags', () => {
    expect(etagOf(3)).toBe('"v3"');
    expect(ifMatchVersions('"v3"')).toEqual([3]);
    expect(ifMatchVersions(' "v3", "v4" ')).toEqual([3, 4]);
    // Weak tags and foreign tags match nothing: the update then ends in 412.
    expect(ifMatchVersions('W/"v3"')).toEqual([]);
    expect(ifMatchVersions('"abc"')).toEqual([]);
  });

  it('is required (428), names a version (428 for *) and must be well-formed (400)', () => {
    expect(() => ifMatchVersions(undefined)).toThrow(PreconditionRequiredError);
    expect(() => ifMatchVersions('  ')).toThrow(PreconditionRequiredError);
    expect(() => ifMatchVersions('*')).toThrow(PreconditionRequiredError);
    expect(() => ifMatchVersions('v3')).toThrow(ValidationError);
    expect(() => ifMatchVersions('"v3" "v4"')).toThrow(ValidationError);
  });
});

describe('[ENC-3][DAT-3] the stored item keeps personal and banking data out of keys', () => {
  const store = new CounterpartyStore('unit');
  const counterparty = newCounterparty(
    counterpartyBody.parse(supplier),
    'cp_01HZY0000000000000000000AB',
    'usr_a',
    new Date(),
  );
  const item = store.item('t1', counterparty);

  it('writes the key, the version and one payload attribute, and no index attribute', () => {
    expect(Object.keys(item).sort()).toEqual(['counterparty', 'pk', 'sk', 'version']);
    expect(item).toMatchObject({ pk: 't1#counterparty', sk: counterparty.id, version: 1 });
    const indexAttributes = tables.data.indexes.flatMap((index) => [index.partitionKey, index.sortKey]);
    for (const attribute of indexAttributes) expect(item).not.toHaveProperty(attribute);
  });

  it('keeps every detail out of the key attributes', () => {
    const keys = `${item.pk} ${item.sk}`;
    for (const secret of [
      counterparty.iban,
      counterparty.vatId,
      counterparty.taxId,
      counterparty.name,
      'Berlin',
    ]) {
      expect(keys).not.toContain(secret);
    }
  });

  it('conditions an update on the version it was made from', () => {
    const write = store.updateWrite('t1', { ...counterparty, version: 2 }, 1);
    expect(write.Put?.ConditionExpression).toBe('attribute_exists(pk) AND #version = :expected');
    expect(write.Put?.ExpressionAttributeValues).toEqual({ ':expected': 1 });
  });
});
