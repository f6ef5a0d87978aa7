/**
 * Invoice operations: domain rules from shared/domain, persistence through the
 * tenant-scoped store, one transaction per change with its audit entry.
 */
import type { Principal } from '#shared/auth/principal';
import {
  ConflictError,
  ContentionError,
  CounterpartyNotFoundError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from '#shared/domain/errors';
import { newId } from '#shared/domain/ids';
import {
  type Act,
  approve,
  draftInvoice,
  editDraft,
  type Invoice,
  type InvoiceStatus,
  issue,
  recordPayment,
  reject,
  submit,
  voidInvoice,
} from '#shared/domain/invoices';
import type { Payment } from '#shared/domain/payments';
import type { CreateInvoiceBody } from '#shared/http/schemas/invoices';
import { CounterpartyStore } from '#shared/store/counterparties';
import { requestFingerprint, type StoredResponse } from '#shared/store/idempotency';
import { auditEntryFor } from './audit-entries';
import type { ServiceContext } from './context';

export interface CreateInvoiceCommand {
  readonly principal: Principal;
  readonly body: CreateInvoiceBody;
  readonly requestId: string;
  readonly idempotencyKey: string | undefined;
  readonly agentReason: string | undefined;
  /** Renders the response stored for replays, so a retry gets the same bytes. */
  readonly respond: (invoice: Invoice, auditEntryId: string) => StoredResponse;
}

export async function createInvoice(
  context: ServiceContext,
  command: CreateInvoiceCommand,
): Promise<StoredResponse> {
  const { principal, body, idempotencyKey } = command;
  const client = context.clients.forTenant(principal.tenantId);
  // No read before the write: a retry's transaction fails on the idempotency record's
  // condition and the stored response is replayed (MutationWriter.commit).
  const fingerprint = requestFingerprint(principal.actorId, 'createInvoice', body);

  const now = context.now();
  const invoice = draftInvoice(body, newId('inv', now.getTime()), principal.actorId, now);
  const entry = auditEntryFor(
    { principal, requestId: command.requestId, agentReason: command.agentReason, inputs: body },
    { action: 'invoice.create', target: { type: 'invoice', id: invoice.id }, itemState: invoice },
    now,
  );
  const response = command.respond(invoice, entry.id);
  const counterparty = counterpartyCheck(context, principal.tenantId, body.counterpartyId);
  const result = await context.mutations.commit(client, {
    tenantId: principal.tenantId,
    writes: [
      context.invoices.createWrite(principal.tenantId, invoice),
      ...(counterparty ? [counterparty.write] : []),
    ],
    ...(counterparty
      ? {
          conditionFailed: (failed: readonly number[]) =>
            failed.includes(1)
              ? counterparty.error()
              : new ConflictError('The resource changed or already exists; read it again and retry.'),
        }
      : {}),
    entry,
    ...(idempotencyKey === undefined
      ? {}
      : { idempotency: { key: idempotencyKey, record: { fingerprint, response } } }),
    now,
  });
  return result.kind === 'replayed' ? result.response : response;
}

export async function getInvoice(
  context: ServiceContext,
  principal: Principal,
  id: string,
): Promise<Invoice> {
  const invoice = await context.invoices.get(
    context.clients.forTenant(principal.tenantId),
    principal.tenantId,
    id,
  );
  // Another tenant's id is indistinguishable from one that never existed (AZ-3).
  if (!invoice) throw new NotFoundError('No invoice with this id.');
  return invoice;
}

export interface InvoiceListQuery {
  readonly limit: number;
  readonly cursor?: string;
  readonly status?: InvoiceStatus;
  readonly counterpartyId?: string;
  /** Creation-date range, inclusive (ISO dates). */
  readonly from?: string;
  readonly to?: string;
}

export interface InvoiceListPage {
  readonly items: Invoice[];
  readonly nextCursor: string | undefined;
}

/** Smallest and largest id created on a date range: ids start with their creation time. */
function idRange(from: string | undefined, to: string | undefined): { from: string; to: string } | undefined {
  if (from === undefined && to === undefined) return undefined;
  const start = from === undefined ? 0 : Date.parse(`${from}T00:00:00Z`);
  const end = to === undefined ? Date.now() + 86_400_000 : Date.parse(`${to}T23:59:59.999Z`);
  if (end < start) throw new ValidationError('The date range ends before it starts.');
  return {
    from: `${newId('inv', start).slice(0, 14)}0000000000000000`,
    to: `${newId('inv', end).slice(0, 14)}ZZZZZZZZZZZZZZZZ`,
  };
}

export async function listInvoices(
  context: ServiceContext,
  principal: Principal,
  query: InvoiceListQuery,
): Promise<InvoiceListPage> {
  const { tenantId } = principal;
  // The cursor is bound to the tenant and to this exact filter (API-3 of issue 3: not forgeable, not replayable).
  const scope = `listInvoices\n${JSON.stringify([query.status, query.counterpartyId, query.from, query.to])}`;
  const after =
    query.cursor === undefined
      ? undefined
      : ((await context.cursors.decode(tenantId, scope, query.cursor)) as Record<string, string>);
  const page = await context.invoices.list(
    context.clients.forTenant(tenantId),
    tenantId,
    {
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.counterpartyId === undefined ? {} : { counterpartyId: query.counterpartyId }),
      ...(query.from === undefined && query.to === undefined
        ? {}
        : { idRange: idRange(query.from, query.to) }),
    },
    query.limit,
    after,
  );
  return {
    items: page.items,
    nextCursor:
      page.lastKey === undefined ? undefined : await context.cursors.encode(tenantId, scope, page.lastKey),
  };
}

/** A change to one existing invoice, as a route asks for it. */
export interface InvoiceChangeCommand {
  readonly principal: Principal;
  readonly invoiceId: string;
  readonly operationId: string;
  readonly requestId: string;
  readonly inputs: unknown;
  readonly idempotencyKey: string | undefined;
  readonly agentReason: string | undefined;
  /** The versions the client's If-Match names; required for edits and transitions. */
  readonly expectedVersions: readonly number[] | 'not-required';
  readonly respond: (invoice: Invoice, auditEntryId: string) => StoredResponse;
}

interface PlannedChange {
  readonly invoice: Invoice;
  readonly action: string;
  /** Further writes of the same transaction, after the invoice's own. */
  readonly writes?: readonly TransactItem[];
  /** Indexes (in `writes`) whose failed condition means "read again and retry". */
  readonly retryOnFailure?: readonly number[];
  /** The error for a failed condition of `writes[index]`, when it has one of its own. */
  readonly failureOf?: (index: number) => Error | undefined;
}

type TransactItem = Parameters<ServiceContext['mutations']['commit']>[1]['writes'][number];

class RetryChange extends Error {}

const maxChangeAttempts = 5;

/**
 * Reads the invoice, checks If-Match, lets `plan` apply the domain rule, and commits
 * the new state with its audit entry in one transaction conditioned on the version it
 * read, so concurrent changes never get lost (API-3).
 */
async function changeInvoice(
  context: ServiceContext,
  command: InvoiceChangeCommand,
  plan: (invoice: Invoice, act: Act) => Promise<PlannedChange>,
): Promise<StoredResponse> {
  const { principal, idempotencyKey } = command;
  const client = context.clients.forTenant(principal.tenantId);
  const fingerprint = requestFingerprint(principal.actorId, command.operationId, {
    id: command.invoiceId,
    inputs: command.inputs ?? null,
  });
  // A retry of a change that already happened replays its answer, before If-Match is
  // checked against a version the change itself moved.
  if (idempotencyKey !== undefined) {
    const replayed = await context.mutations.replay(client, principal.tenantId, idempotencyKey, fingerprint);
    if (replayed) return replayed;
  }
  for (let attempt = 1; ; attempt++) {
    const current = await context.invoices.get(client, principal.tenantId, command.invoiceId);
    if (!current) throw new NotFoundError('No invoice with this id.');
    if (command.expectedVersions !== 'not-required' && !command.expectedVersions.includes(current.version)) {
      throw new PreconditionFailedError('The invoice changed since you read it; read it again.', {
        currentVersion: current.version,
      });
    }
    const now = context.now();
    const planned = await plan(current, { actorId: principal.actorId, now });
    const entry = auditEntryFor(
      { principal, requestId: command.requestId, agentReason: command.agentReason, inputs: command.inputs },
      { action: planned.action, target: { type: 'invoice', id: current.id }, itemState: planned.invoice },
      now,
    );
    const response = command.respond(planned.invoice, entry.id);
    const extra = planned.writes ?? [];
    try {
      const result = await context.mutations.commit(client, {
        tenantId: principal.tenantId,
        writes: [
          context.invoices.replaceWrite(principal.tenantId, planned.invoice, current.version),
          ...extra,
        ],
        entry,
        ...(idempotencyKey === undefined
          ? {}
          : { idempotency: { key: idempotencyKey, record: { fingerprint, response } } }),
        now,
        conditionFailed: (failed) => {
          const retry = failed.some(
            (index) => index === 0 || (planned.retryOnFailure ?? []).includes(index - 1),
          );
          // Without If-Match (payments) a concurrent change is simply read again and re-checked.
          if (failed.includes(0) && command.expectedVersions !== 'not-required') {
            return new PreconditionFailedError('The invoice changed since you read it; read it again.');
          }
          const own = failed
            .map((index) => (index > 0 ? planned.failureOf?.(index - 1) : undefined))
            .find(Boolean);
          if (own) return own;
          return retry
            ? new RetryChange()
            : new ConflictError('The change conflicts with another one; retry it.');
        },
      });
      return result.kind === 'replayed' ? result.response : response;
    } catch (error) {
      if (!(error instanceof RetryChange)) throw error;
      if (attempt >= maxChangeAttempts)
        throw new ContentionError('The invoice is changing too often; retry.');
    }
  }
}

export function editInvoice(context: ServiceContext, command: InvoiceChangeCommand, body: CreateInvoiceBody) {
  const counterparty = counterpartyCheck(context, command.principal.tenantId, body.counterpartyId);
  return changeInvoice(context, command, async (invoice, act) => ({
    invoice: editDraft(invoice, body, act),
    action: 'invoice.edit',
    ...(counterparty ? { writes: [counterparty.write], failureOf: () => counterparty.error() } : {}),
  }));
}

/**
 * The condition that the tenant has the counterparty an invoice names, checked in the
 * invoice's own transaction (so a counterparty removed a moment before is caught too), and
 * the error when it does not.
 */
function counterpartyCheck(
  context: ServiceContext,
  tenantId: string,
  counterpartyId: string | undefined,
): { write: TransactItem; error: () => CounterpartyNotFoundError } | undefined {
  if (counterpartyId === undefined) return undefined;
  return {
    write: new CounterpartyStore(context.config.stage).existsCheck(tenantId, counterpartyId),
    error: () =>
      new CounterpartyNotFoundError('The invoice names a counterparty this tenant does not have.', {
        counterpartyId,
      }),
  };
}

export function submitInvoice(context: ServiceContext, command: InvoiceChangeCommand) {
  return changeInvoice(context, command, async (invoice, act) => ({
    invoice: submit(invoice, act),
    action: 'invoice.submit',
  }));
}

export function approveInvoice(context: ServiceContext, command: InvoiceChangeCommand) {
  return changeInvoice(context, command, async (invoice, act) => {
    const settings = await context.settings.get(
      context.clients.forTenant(command.principal.tenantId),
      command.principal.tenantId,
    );
    const approved = approve(invoice, act, settings);
    return {
      invoice: approved,
      action: approved.status === 'approved' ? 'invoice.approve' : 'invoice.approve.partial',
      // The decision used these settings (limits, threshold): they must not change under it.
      writes: [context.settings.unchangedCheck(command.principal.tenantId, settings.version)],
      retryOnFailure: [0],
    };
  });
}

export function rejectInvoice(context: ServiceContext, command: InvoiceChangeCommand, reason: string) {
  return changeInvoice(context, command, async (invoice, act) => ({
    invoice: reject(invoice, act, reason),
    action: 'invoice.reject',
  }));
}

export function issueInvoice(context: ServiceContext, command: InvoiceChangeCommand) {
  const { tenantId } = command.principal;
  return changeInvoice(context, command, async (invoice, act) => {
    const client = context.clients.forTenant(tenantId);
    const [settings, sequence] = await Promise.all([
      context.settings.get(client, tenantId),
      context.invoices.currentSequence(client, tenantId),
    ]);
    return {
      invoice: issue(invoice, act, settings, sequence + 1),
      action: 'invoice.issue',
      // The number is taken in the same transaction: two issues never share one, and none is skipped.
      writes: [context.invoices.nextSequenceWrite(tenantId, sequence)],
      retryOnFailure: [0],
    };
  });
}

export function voidInvoiceCommand(context: ServiceContext, command: InvoiceChangeCommand, reason: string) {
  return changeInvoice(context, command, async (invoice, act) => ({
    invoice: voidInvoice(invoice, act, reason),
    action: 'invoice.void',
  }));
}

export interface PaymentInput {
  readonly amount: number;
  readonly receivedOn: string;
  readonly reference?: string;
}

export interface RecordPaymentCommand extends Omit<InvoiceChangeCommand, 'respond'> {
  readonly respond: (payment: Payment, invoice: Invoice, auditEntryId: string) => StoredResponse;
}

/**
 * Records a payment. Concurrent payments are serialised by the invoice's version (a
 * loser reads again and re-checks the outstanding amount), so the balance never goes
 * negative and the invoice turns paid exactly when settled.
 */
export function recordInvoicePayment(
  context: ServiceContext,
  command: RecordPaymentCommand,
  input: PaymentInput,
) {
  const { tenantId } = command.principal;
  let payment: Payment | undefined;
  return changeInvoice(
    context,
    {
      ...command,
      respond: (invoice, auditEntryId) => {
        if (!payment) throw new Error('the payment was not planned');
        return command.respond(payment, invoice, auditEntryId);
      },
    },
    async (invoice, act) => {
      payment = {
        id: newId('pay', act.now.getTime()),
        invoiceId: invoice.id,
        amount: input.amount,
        currency: invoice.currency,
        receivedOn: input.receivedOn,
        ...(input.reference === undefined ? {} : { reference: input.reference }),
        recordedAt: act.now.toISOString(),
        recordedBy: act.actorId,
      };
      return {
        invoice: recordPayment(invoice, act, input.amount),
        action: 'invoice.payment',
        writes: [context.payments.createWrite(tenantId, payment)],
      };
    },
  );
}

export async function listInvoicePayments(context: ServiceContext, principal: Principal, invoiceId: string) {
  const client = context.clients.forTenant(principal.tenantId);
  const invoice = await context.invoices.get(client, principal.tenantId, invoiceId);
  if (!invoice) throw new NotFoundError('No invoice with this id.');
  return context.payments.listForInvoice(client, principal.tenantId, invoiceId);
}
