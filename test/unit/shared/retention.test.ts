/**
 * The retention rules of DAT-4 as pure functions: the legal minimum by jurisdiction, the
 * refusal below it, the effective retention the job applies, and when a record expires.
 */
import { describe, expect, it } from 'vitest';
import { defaultMinimumRetentionYears, minimumRetentionYears } from '#shared/config/retention';
import type { Invoice } from '#shared/domain/invoices';
import {
  checkRetention,
  defaultSettings,
  effectiveRetentionYears,
  RetentionBelowMinimumError,
} from '#shared/domain/settings';
import { settingsBody } from '#shared/http/schemas/settings';
import { invoiceClosedAt, retentionExpiry } from '#shared/services/retention';

describe('[DAT-4] retention rules', () => {
  it('takes the legal minimum from the jurisdiction table, 10 years for any other or none', () => {
    expect(defaultMinimumRetentionYears).toBe(10);
    expect(minimumRetentionYears(null)).toBe(10);
    expect(minimumRetentionYears('DE')).toBe(10);
    expect(minimumRetentionYears('NL')).toBe(7);
    expect(minimumRetentionYears('BR')).toBe(10);
    expect(minimumRetentionYears('XX', { XX: 3 })).toBe(3);
  });

  it('refuses a retention below the minimum with the minimum named, and accepts it at or above', () => {
    expect(() => checkRetention({ jurisdiction: 'NL', financialRecordsYears: 7 })).not.toThrow();
    let refused: unknown;
    try {
      checkRetention({ jurisdiction: 'NL', financialRecordsYears: 6 });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(RetentionBelowMinimumError);
    expect(refused).toMatchObject({
      status: 422,
      code: 'retention-below-minimum',
      extensions: { minimumYears: 7, jurisdiction: 'NL' },
    });
    expect(() => checkRetention({ jurisdiction: null, financialRecordsYears: 9 })).toThrow(
      /at least 10 years/,
    );
  });

  it('keeps records at least the minimum in force, whatever was saved', () => {
    expect(effectiveRetentionYears(defaultSettings)).toBe(10);
    const saved = { ...defaultSettings, retention: { jurisdiction: 'NL', financialRecordsYears: 5 } };
    expect(effectiveRetentionYears(saved)).toBe(7);
    expect(
      effectiveRetentionYears({ ...saved, retention: { jurisdiction: 'NL', financialRecordsYears: 15 } }),
    ).toBe(15);
  });

  it('validates the shape: whole years from 1 to 100, a country code or null, retention optional', () => {
    const base = {
      invoiceNumberPrefix: 'INV-',
      approval: { dualApprovalThreshold: 1, defaultApproverLimit: null, approverLimits: {} },
    };
    expect(settingsBody.safeParse(base).success).toBe(true);
    for (const retention of [
      { jurisdiction: 'DE', financialRecordsYears: 10.5 },
      { jurisdiction: 'DE', financialRecordsYears: 0 },
      { jurisdiction: 'DE', financialRecordsYears: 101 },
      { jurisdiction: 'de', financialRecordsYears: 10 },
      { jurisdiction: 'DE', financialRecordsYears: 10, extra: true },
    ]) {
      expect(settingsBody.safeParse({ ...base, retention }).success, JSON.stringify(retention)).toBe(false);
    }
  });

  it('counts from the end of the calendar year a record closed', () => {
    expect(retentionExpiry('2026-01-01T00:00:00.000Z', 10).toISOString()).toBe('2037-01-01T00:00:00.000Z');
    expect(retentionExpiry('2026-12-31T23:59:59.999Z', 10).toISOString()).toBe('2037-01-01T00:00:00.000Z');
  });

  it('closes an invoice only when it is paid or void, at its last change', () => {
    const invoice = {
      id: 'inv_1',
      status: 'issued',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-02-01T00:00:00.000Z',
    } as unknown as Invoice;
    expect(invoiceClosedAt(invoice)).toBeUndefined();
    for (const status of ['draft', 'submitted', 'approved'] as const)
      expect(invoiceClosedAt({ ...invoice, status })).toBeUndefined();
    expect(invoiceClosedAt({ ...invoice, status: 'paid' })).toBe('2026-02-01T00:00:00.000Z');
    expect(
      invoiceClosedAt({
        ...invoice,
        status: 'void',
        voided: { by: 'x', at: '2026-03-01T00:00:00.000Z', reason: 'r' },
      }),
    ).toBe('2026-03-01T00:00:00.000Z');
  });
});
