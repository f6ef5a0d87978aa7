/**
 * Invoices: pure domain logic with no AWS types. Totals are computed server-side in
 * integer minor units (see money.ts for the rounding rule).
 */
import type { CreateInvoiceBody } from '#shared/http/schemas/invoices';
import {
  ApprovalLimitError,
  ConflictError,
  InvalidTransitionError,
  MakerCheckerError,
  OverpaymentError,
} from './errors';
import { type CurrencyCode, lineAmounts, toSafeNumber } from './money';
import { approverLimit, invoiceNumber, requiredApprovals, type TenantSettings } from './settings';

export type InvoiceStatus = 'draft' | 'submitted' | 'approved' | 'issued' | 'paid' | 'void';

export interface InvoiceLine {
  readonly description: string;
  readonly quantity: string;
  readonly unitPrice: number;
  readonly vatRate: number;
  readonly net: number;
  readonly vat: number;
}

export interface Invoice {
  readonly id: string;
  readonly status: InvoiceStatus;
  readonly currency: CurrencyCode;
  readonly counterpartyId?: string;
  readonly reference?: string;
  readonly issueDate?: string;
  readonly dueDate?: string;
  readonly lines: readonly InvoiceLine[];
  readonly totals: { readonly net: number; readonly vat: number; readonly gross: number };
  readonly version: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly updatedAt?: string;
  readonly submittedAt?: string;
  readonly submittedBy?: string;
  /** Approvals of the current round; reset when the invoice goes back to draft. */
  readonly approvals: readonly { readonly by: string; readonly at: string }[];
  readonly rejection?: { readonly by: string; readonly at: string; readonly reason: string };
  /** Gap-free per tenant, assigned when the invoice is issued. */
  readonly number?: string;
  readonly sequence?: number;
  readonly issuedAt?: string;
  readonly issuedBy?: string;
  /** Sum of recorded payments, in minor units. */
  readonly paidAmount: number;
  readonly voided?: { readonly by: string; readonly at: string; readonly reason: string };
}

/** Who does something, and when. */
export interface Act {
  readonly actorId: string;
  readonly now: Date;
}

export function draftInvoice(input: CreateInvoiceBody, id: string, actorId: string, now: Date): Invoice {
  return {
    id,
    status: 'draft',
    ...contentOf(input),
    version: 1,
    createdAt: now.toISOString(),
    createdBy: actorId,
    approvals: [],
    paidAmount: 0,
  };
}

/** The parts of an invoice its author controls, with totals computed from the lines. */
function contentOf(input: CreateInvoiceBody) {
  const lines = input.lines.map((line) => ({
    description: line.description,
    quantity: line.quantity,
    unitPrice: line.unitPrice,
    vatRate: line.vatRate,
    ...lineAmounts(line.quantity, line.unitPrice, line.vatRate),
  }));
  const net = lines.reduce((sum, line) => sum + BigInt(line.net), 0n);
  const vat = lines.reduce((sum, line) => sum + BigInt(line.vat), 0n);
  return {
    currency: input.currency,
    ...(input.counterpartyId === undefined ? {} : { counterpartyId: input.counterpartyId }),
    ...(input.reference === undefined ? {} : { reference: input.reference }),
    ...(input.issueDate === undefined ? {} : { issueDate: input.issueDate }),
    ...(input.dueDate === undefined ? {} : { dueDate: input.dueDate }),
    lines,
    totals: { net: toSafeNumber(net), vat: toSafeNumber(vat), gross: toSafeNumber(net + vat) },
  };
}

function expectStatus(invoice: Invoice, allowed: readonly InvoiceStatus[], action: string): void {
  if (!allowed.includes(invoice.status)) {
    throw new InvalidTransitionError(`A ${invoice.status} invoice cannot be ${action}.`, {
      currentStatus: invoice.status,
    });
  }
}

function next(invoice: Invoice, act: Act, changes: Partial<Invoice>): Invoice {
  return { ...invoice, ...changes, version: invoice.version + 1, updatedAt: act.now.toISOString() };
}

/** Replaces the content of a draft. */
export function editDraft(invoice: Invoice, input: CreateInvoiceBody, act: Act): Invoice {
  expectStatus(invoice, ['draft'], 'edited');
  const { counterpartyId: _c, reference: _r, issueDate: _i, dueDate: _d, ...kept } = invoice;
  return next(kept as Invoice, act, contentOf(input));
}

export function submit(invoice: Invoice, act: Act): Invoice {
  expectStatus(invoice, ['draft'], 'submitted');
  return next(invoice, act, {
    status: 'submitted',
    submittedAt: act.now.toISOString(),
    submittedBy: act.actorId,
    approvals: [],
  });
}

/** AZ-2: the checker is neither maker nor submitter. */
function expectChecker(invoice: Invoice, act: Act, action: string): void {
  if (act.actorId === invoice.createdBy || act.actorId === invoice.submittedBy) {
    throw new MakerCheckerError(`Whoever created or submitted an invoice cannot ${action} it.`);
  }
}

/**
 * AZ-2: maker-checker, the approver's limit, and two distinct approvers from the
 * tenant's threshold. The invoice is approved once enough approvals are in.
 */
export function approve(invoice: Invoice, act: Act, settings: TenantSettings): Invoice {
  expectStatus(invoice, ['submitted'], 'approved');
  expectChecker(invoice, act, 'approve');
  if (invoice.approvals.some((approval) => approval.by === act.actorId)) {
    throw new ConflictError('You have already approved this invoice; a second approver is needed.');
  }
  const limit = approverLimit(settings, act.actorId);
  if (invoice.totals.gross > limit) {
    throw new ApprovalLimitError(`This invoice is above your approval limit of ${limit} minor units.`);
  }
  const approvals = [...invoice.approvals, { by: act.actorId, at: act.now.toISOString() }];
  const approved = approvals.length >= requiredApprovals(settings, invoice.totals.gross);
  return next(invoice, act, { approvals, status: approved ? 'approved' : 'submitted' });
}

/** Sends a submitted invoice back to draft with the checker's reason. */
export function reject(invoice: Invoice, act: Act, reason: string): Invoice {
  expectStatus(invoice, ['submitted'], 'rejected');
  expectChecker(invoice, act, 'reject');
  return next(invoice, act, {
    status: 'draft',
    approvals: [],
    rejection: { by: act.actorId, at: act.now.toISOString(), reason },
  });
}

/** Issues an approved invoice under the next number of the tenant's gap-free sequence. */
export function issue(invoice: Invoice, act: Act, settings: TenantSettings, sequence: number): Invoice {
  expectStatus(invoice, ['approved'], 'issued');
  return next(invoice, act, {
    status: 'issued',
    sequence,
    number: invoiceNumber(settings, sequence),
    issuedAt: act.now.toISOString(),
    issuedBy: act.actorId,
    issueDate: invoice.issueDate ?? act.now.toISOString().slice(0, 10),
  });
}

/** Voids an invoice that has not been paid, or not yet issued. */
export function voidInvoice(invoice: Invoice, act: Act, reason: string): Invoice {
  expectStatus(invoice, ['draft', 'submitted', 'approved', 'issued'], 'voided');
  if (invoice.paidAmount > 0) {
    throw new InvalidTransitionError('An invoice with recorded payments cannot be voided.', {
      currentStatus: invoice.status,
    });
  }
  return next(invoice, act, {
    status: 'void',
    voided: { by: act.actorId, at: act.now.toISOString(), reason },
  });
}

/** Records a payment against an issued invoice; the invoice turns paid when settled. */
export function recordPayment(invoice: Invoice, act: Act, amount: number): Invoice {
  expectStatus(invoice, ['issued'], 'paid');
  const outstanding = invoice.totals.gross - invoice.paidAmount;
  if (amount > outstanding) {
    throw new OverpaymentError(`The payment exceeds the outstanding amount of ${outstanding} minor units.`, {
      outstanding,
    });
  }
  const paidAmount = invoice.paidAmount + amount;
  return next(invoice, act, { paidAmount, status: paidAmount === invoice.totals.gross ? 'paid' : 'issued' });
}
