/**
 * Invoice operations: domain rules from shared/domain, persistence through the
 * tenant-scoped store, one transaction per change with its audit entry.
 */
import type { Principal } from '#shared/auth/principal';
import { MalformedRequestError, NotFoundError } from '#shared/domain/errors';
import { newId } from '#shared/domain/ids';
import { draftInvoice, type Invoice } from '#shared/domain/invoices';
import type { CreateInvoiceBody } from '#shared/http/schemas/invoices';
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
  const result = await context.mutations.commit(client, {
    tenantId: principal.tenantId,
    writes: [context.invoices.createWrite(principal.tenantId, invoice)],
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

export interface InvoiceListPage {
  readonly items: Invoice[];
  readonly nextCursor: string | undefined;
}

const cursorPattern = /^[A-Za-z0-9_-]{1,200}$/;

export async function listInvoices(
  context: ServiceContext,
  principal: Principal,
  limit: number,
  cursor: string | undefined,
): Promise<InvoiceListPage> {
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const page = await context.invoices.list(
    context.clients.forTenant(principal.tenantId),
    principal.tenantId,
    limit,
    after,
  );
  return {
    items: page.items,
    nextCursor: page.lastKey === undefined ? undefined : encodeCursor(page.lastKey),
  };
}

// The cursor only names a position inside the caller's own partition: the partition
// key is always rebuilt from the verified tenant, so a cursor cannot reach another
// tenant. (Authenticated cursors come with the list filters.)
function encodeCursor(sortKey: string): string {
  return Buffer.from(sortKey, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const sortKey = cursorPattern.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!/^inv_[0-9A-HJKMNP-TV-Z]{26}$/.test(sortKey))
    throw new MalformedRequestError('The cursor is not valid.');
  return sortKey;
}
