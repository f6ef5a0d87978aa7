/** Invoice routes. */
import { type RouteDefinition, signedIn } from '../route-definition';
import { pageQuery } from '../schemas/common';
import {
  createInvoiceBody,
  invoiceIdParams,
  invoiceListResponse,
  invoiceResponse,
} from '../schemas/invoices';

export const invoiceRoutes: readonly RouteDefinition[] = [
  {
    id: 'createInvoice',
    method: 'POST',
    path: '/invoices',
    group: 'invoices',
    summary: 'Create a draft invoice.',
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
    summary: 'List invoices, newest first, one page at a time.',
    permission: 'invoice:read',
    principals: signedIn,
    query: pageQuery,
    response: invoiceListResponse,
    successStatus: 200,
  },
  {
    id: 'getInvoice',
    method: 'GET',
    path: '/invoices/{id}',
    group: 'invoices',
    summary: 'Read one invoice.',
    permission: 'invoice:read',
    principals: signedIn,
    params: invoiceIdParams,
    response: invoiceResponse,
    successStatus: 200,
  },
];
