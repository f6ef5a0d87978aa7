/** Invoice routes: a thin middy handler over the invoice service. */
import { loadRuntimeConfig } from '#shared/config/runtime';
import type { Invoice, InvoiceStatus } from '#shared/domain/invoices';
import { etagOf, ifMatchVersions } from '#shared/http/etag';
import { type OperationRequest, signedInPrincipal } from '#shared/http/request';
import { createRouteGroupHandler } from '#shared/http/route-handler';
import type { CreateInvoiceBody } from '#shared/http/schemas/invoices';
import { createServiceContext } from '#shared/services/context';
import {
  approveInvoice,
  createInvoice,
  editInvoice,
  getInvoice,
  type InvoiceChangeCommand,
  issueInvoice,
  listInvoicePayments,
  listInvoices,
  type PaymentInput,
  recordInvoicePayment,
  rejectInvoice,
  submitInvoice,
  voidInvoiceCommand,
} from '#shared/services/invoices';
import type { StoredResponse } from '#shared/store/idempotency';

const context = createServiceContext(loadRuntimeConfig());

/** The stored response of a change: the invoice with its new ETag and the audit entry id. */
function invoiceResponse(statusCode: number) {
  return (invoice: Invoice, auditEntryId: string): StoredResponse => ({
    statusCode,
    headers: {
      'Content-Type': 'application/json',
      ETag: etagOf(invoice.version),
      ...(statusCode === 201 ? { Location: `/invoices/${invoice.id}` } : {}),
    },
    body: JSON.stringify({ ...invoice, auditEntryId }),
  });
}

function changeCommand(request: OperationRequest): InvoiceChangeCommand {
  const { id } = request.params as { id: string };
  return {
    principal: signedInPrincipal(request),
    invoiceId: id,
    operationId: request.route.id,
    requestId: request.requestId,
    inputs: request.body,
    idempotencyKey: request.idempotencyKey,
    agentReason: request.agentReason,
    expectedVersions: request.route.requiresIfMatch
      ? ifMatchVersions(request.headers['if-match'])
      : 'not-required',
    respond: invoiceResponse(request.route.successStatus),
  };
}

const reply = (stored: StoredResponse) => ({
  status: stored.statusCode,
  text: stored.body,
  headers: stored.headers,
});

export const handler = createRouteGroupHandler('invoices', {
  createInvoice: async (request) =>
    reply(
      await createInvoice(context, {
        principal: signedInPrincipal(request),
        body: request.body as CreateInvoiceBody,
        requestId: request.requestId,
        idempotencyKey: request.idempotencyKey,
        agentReason: request.agentReason,
        respond: invoiceResponse(201),
      }),
    ),

  getInvoice: async (request) => {
    const { id } = request.params as { id: string };
    const invoice = await getInvoice(context, signedInPrincipal(request), id);
    return { body: invoice, headers: { ETag: etagOf(invoice.version) } };
  },

  listInvoices: async (request) => {
    const query = request.query as {
      limit?: number;
      cursor?: string;
      status?: InvoiceStatus;
      counterpartyId?: string;
      from?: string;
      to?: string;
    };
    const page = await listInvoices(context, signedInPrincipal(request), {
      ...query,
      limit: query.limit ?? 25,
    });
    return {
      body: { items: page.items, ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) },
    };
  },

  editInvoice: async (request) =>
    reply(await editInvoice(context, changeCommand(request), request.body as CreateInvoiceBody)),
  submitInvoice: async (request) => reply(await submitInvoice(context, changeCommand(request))),
  approveInvoice: async (request) => reply(await approveInvoice(context, changeCommand(request))),
  rejectInvoice: async (request) =>
    reply(await rejectInvoice(context, changeCommand(request), (request.body as { reason: string }).reason)),
  issueInvoice: async (request) => reply(await issueInvoice(context, changeCommand(request))),
  voidInvoice: async (request) =>
    reply(
      await voidInvoiceCommand(context, changeCommand(request), (request.body as { reason: string }).reason),
    ),

  recordPayment: async (request) => {
    const { respond: _invoiceView, ...command } = changeCommand(request);
    const stored = await recordInvoicePayment(
      context,
      {
        ...command,
        respond: (payment, invoice, auditEntryId) => ({
          statusCode: 201,
          // The invoice moved too: its new ETag lets the client continue without a read.
          headers: { 'Content-Type': 'application/json', ETag: etagOf(invoice.version) },
          body: JSON.stringify({
            ...payment,
            invoiceStatus: invoice.status,
            paidAmount: invoice.paidAmount,
            auditEntryId,
          }),
        }),
      },
      request.body as PaymentInput,
    );
    return reply(stored);
  },

  listPayments: async (request) => {
    const { id } = request.params as { id: string };
    return { body: { items: await listInvoicePayments(context, signedInPrincipal(request), id) } };
  },
});
