import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { draftInvoice } from '#shared/domain/invoices';
import { lineAmounts } from '#shared/domain/money';
import type { CreateInvoiceBody } from '#shared/http/schemas/invoices';

describe('invoice arithmetic in integer minor units', () => {
  it('rounds each line half up to the minor unit', () => {
    expect(lineAmounts('1', 1000, 2000)).toEqual({ net: 1000, vat: 200 });
    expect(lineAmounts('0.5', 3, 0)).toEqual({ net: 2, vat: 0 }); // 1.5 → 2
    expect(lineAmounts('0.333333', 100, 0)).toEqual({ net: 33, vat: 0 });
    expect(lineAmounts('2.5', 199, 1900)).toEqual({ net: 498, vat: 95 }); // 497.5 → 498; 94.62 → 95
  });

  const line = fc.record({
    description: fc.constant('item'),
    quantity: fc
      .tuple(fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: 0, max: 999_999 }))
      .map(([whole, fraction]) => `${whole}.${String(fraction).padStart(6, '0')}`),
    unitPrice: fc.integer({ min: 0, max: 10_000_000 }),
    vatRate: fc.integer({ min: 0, max: 10_000 }),
  });

  it('totals are the exact sums of the lines and do not depend on line order', () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 30 }), (lines) => {
        const body: CreateInvoiceBody = { currency: 'EUR', lines };
        const now = new Date(0);
        const forward = draftInvoice(body, 'inv_x', 'usr_x', now);
        const reversed = draftInvoice({ ...body, lines: [...lines].reverse() }, 'inv_x', 'usr_x', now);
        expect(reversed.totals).toEqual(forward.totals);
        expect(forward.totals.net).toBe(forward.lines.reduce((sum, each) => sum + each.net, 0));
        expect(forward.totals.gross).toBe(forward.totals.net + forward.totals.vat);
        for (const each of forward.lines) expect(Number.isSafeInteger(each.net) && each.net >= 0).toBe(true);
      }),
    );
  });
});
