/** Invoice routes: a thin middy handler over the invoice service. */
import { loadRuntimeConfig } from '#shared/config/runtime';
import type { Invoice } from '#shared/domain/invoices';
import { signedInPrincipal } from '#shared/http/request';
import { createRouteGroupHandler } from '#shared/http/route-handler';
import type { CreateInvoiceBody } from '#shared/http/schemas/invoices';
import { createServiceContext } from '#shared/services/context';
import { createInvoice, getInvoice, listInvoices } from '#shared/services/invoices';

const context = createServiceContext(loadRuntimeConfig());

function etag(invoice: Invoice): string {
  return `"v${invoice.version}"`;
}

export const handler = createRouteGroupHandler('invoices', {
  createInvoice: async (request) => {
    const stored = await createInvoice(context, {
      principal: signedInPrincipal(request),
      body: request.body as CreateInvoiceBody,
      requestId: request.requestId,
      idempotencyKey: request.idempotencyKey,
      agentReason: request.agentReason,
      respond: (invoice, auditEntryId) => ({
        statusCode: 201,
        headers: {
          'Content-Type': 'application/json',
          ETag: etag(invoice),
          Location: `/invoices/${invoice.id}`,
        },
        body: JSON.stringify({ ...invoice, auditEntryId }),
      }),
    });
    return { status: stored.statusCode, text: stored.body, headers: stored.headers };
  },

  getInvoice: async (request) => {
    const { id } = request.params as { id: string };
    const invoice = await getInvoice(context, signedInPrincipal(request), id);
    return { body: invoice, headers: { ETag: etag(invoice) } };
  },

  listInvoices: async (request) => {
    const { limit, cursor } = request.query as { limit?: number; cursor?: string };
    const page = await listInvoices(context, signedInPrincipal(request), limit ?? 25, cursor);
    return {
      body: { items: page.items, ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) },
    };
  },
});
