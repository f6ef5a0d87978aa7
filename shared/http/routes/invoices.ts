/**
 * Invoice routes: drafts, the approval workflow (each transition its own route and
 * permission) and payments. Edits and transitions need If-Match; every POST honours
 * Idempotency-Key.
 */
import { type RouteDefinition, signedIn } from '../route-definition';
import {
  createInvoiceBody,
  invoiceIdParams,
  invoiceListQuery,
  invoiceListResponse,
  invoiceResponse,
  paymentBody,
  paymentListResponse,
  reasonBody,
  recordPaymentResponse,
  transitionBody,
} from '../schemas/invoices';

const people = signedIn.filter((kind) => kind === 'user' || kind === 'apiKey');

function transition(
  id: string,
  verb: string,
  permission: RouteDefinition['permission'],
  summary: string,
  body: RouteDefinition['body'] = transitionBody,
): RouteDefinition {
  return {
    id,
    method: 'POST',
    path: `/invoices/{id}/${verb}`,
    group: 'invoices',
    summary,
    permission,
    principals: people,
    params: invoiceIdParams,
    body,
    response: invoiceResponse,
    successStatus: 200,
    requiresIfMatch: true,
  };
}

export const invoiceRoutes: readonly RouteDefinition[] = [
  {
    id: 'createInvoice',
    method: 'POST',
    path: '/invoices',
    group: 'invoices',
    summary: 'Create a draft invoice; totals are computed by the server.',
    permission: 'invoice:create',
    principals: signedIn,
    body: createInvoiceBody,
    response: invoiceResponse,
    successStatus: 201,
  },
  {
    id: 'listInvoices',
    method: 'GET',
    path: '/invoices',
    group: 'invoices',
    summary: 'List invoices, newest first, filtered by status, counterparty and creation date.',
    permission: 'invoice:read',
    principals: signedIn,
    query: invoiceListQuery,
    response: invoiceListResponse,
    successStatus: 200,
  },
  {
    id: 'getInvoice',
    method: 'GET',
    path: '/invoices/{id}',
    group: 'invoices',
    summary: 'Read one invoice; the ETag carries its version.',
    permission: 'invoice:read',
    principals: signedIn,
    params: invoiceIdParams,
    response: invoiceResponse,
    successStatus: 200,
  },
  {
    id: 'editInvoice',
    method: 'PUT',
    path: '/invoices/{id}',
    group: 'invoices',
    summary: 'Replace the content of a draft invoice.',
    permission: 'invoice:create',
    principals: signedIn,
    params: invoiceIdParams,
    body: createInvoiceBody,
    response: invoiceResponse,
    successStatus: 200,
    requiresIfMatch: true,
  },
  transition('submitInvoice', 'submit', 'invoice:submit', 'Submit a draft for approval (maker).'),
  transition(
    'approveInvoice',
    'approve',
    'invoice:approve',
    'Approve a submitted invoice (checker: not its maker or submitter, within the approval limit; two approvers above the threshold).',
  ),
  transition(
    'rejectInvoice',
    'reject',
    'invoice:approve',
    'Send a submitted invoice back to draft with a reason (checker).',
    reasonBody,
  ),
  transition(
    'issueInvoice',
    'issue',
    'invoice:issue',
    'Issue an approved invoice under the next gap-free number.',
  ),
  transition(
    'voidInvoice',
    'void',
    'invoice:void',
    'Void an invoice without payments, with a reason.',
    reasonBody,
  ),
  {
    id: 'recordPayment',
    method: 'POST',
    path: '/invoices/{id}/payments',
    group: 'invoices',
    summary: 'Record a payment against an issued invoice (partial allowed, overpayment refused).',
    permission: 'payment:create',
    principals: people,
    params: invoiceIdParams,
    body: paymentBody,
    response: recordPaymentResponse,
    successStatus: 201,
  },
  {
    id: 'listPayments',
    method: 'GET',
    path: '/invoices/{id}/payments',
    group: 'invoices',
    summary: 'The payments recorded against an invoice.',
    permission: 'payment:read',
    principals: signedIn,
    params: invoiceIdParams,
    response: paymentListResponse,
    successStatus: 200,
  },
];
