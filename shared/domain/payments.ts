/** A payment received against an issued invoice, in the invoice's currency. */
import type { CurrencyCode } from './money';

export interface Payment {
  readonly id: string;
  readonly invoiceId: string;
  readonly amount: number;
  readonly currency: CurrencyCode;
  /** The date the money arrived (ISO date). */
  readonly receivedOn: string;
  readonly reference?: string;
  readonly recordedAt: string;
  readonly recordedBy: string;
}
