/**
 * Counterparty operations: domain rules from shared/domain, persistence through the
 * tenant-scoped store, one transaction per change with its audit entry (AUD-1). The
 * entry names the counterparty by id and carries a digest of its state: never its name,
 * address, VAT or tax id or IBAN (DAT-3).
 */
import type { Principal } from '#shared/auth/principal';
import type { RuntimeConfig } from '#shared/config/runtime';
import {
  type Counterparty,
  type CounterpartyInput,
  type CounterpartyKind,
  matchesKind,
  newCounterparty,
  revisedCounterparty,
} from '#shared/domain/counterparties';
import { MalformedRequestError, NotFoundError, PreconditionFailedError } from '#shared/domain/errors';
import { newId } from '#shared/domain/ids';
import { CounterpartyStore } from '#shared/store/counterparties';
import { requestFingerprint, type StoredResponse } from '#shared/store/idempotency';
import { auditEntryFor } from './audit-entries';
import { createServiceContext, type ServiceContext } from './context';

export interface CounterpartyContext extends ServiceContext {
  readonly counterparties: CounterpartyStore;
}

export function createCounterpartyContext(config: RuntimeConfig): CounterpartyContext {
  return { ...createServiceContext(config), counterparties: new CounterpartyStore(config.stage) };
}

interface ChangeRequest {
  readonly principal: Principal;
  readonly body: CounterpartyInput;
  readonly requestId: string;
  readonly agentReason: string | undefined;
}

export interface CreateCounterpartyCommand extends ChangeRequest {
  readonly idempotencyKey: string | undefined;
  /** Renders the response stored for replays, so a retry gets the same bytes. */
  readonly respond: (counterparty: Counterparty, auditEntryId: string) => StoredResponse;
}

export async function createCounterparty(
  context: CounterpartyContext,
  command: CreateCounterpartyCommand,
): Promise<StoredResponse> {
  const { principal, body, idempotencyKey } = command;
  const client = context.clients.forTenant(principal.tenantId);
  const fingerprint = requestFingerprint(principal.actorId, 'createCounterparty', body);

  const now = context.now();
  const counterparty = newCounterparty(body, newId('cp', now.getTime()), principal.actorId, now);
  const entry = auditEntryFor(
    { principal, requestId: command.requestId, agentReason: command.agentReason, inputs: body },
    {
      action: 'counterparty.create',
      target: { type: 'counterparty', id: counterparty.id },
      itemState: counterparty,
    },
    now,
  );
  const response = command.respond(counterparty, entry.id);
  const result = await context.mutations.commit(client, {
    tenantId: principal.tenantId,
    writes: [context.counterparties.createWrite(principal.tenantId, counterparty)],
    entry,
    ...(idempotencyKey === undefined
      ? {}
      : { idempotency: { key: idempotencyKey, record: { fingerprint, response } } }),
    now,
  });
  return result.kind === 'replayed' ? result.response : response;
}

export async function getCounterparty(
  context: CounterpartyContext,
  principal: Principal,
  id: string,
): Promise<Counterparty> {
  const counterparty = await context.counterparties.get(
    context.clients.forTenant(principal.tenantId),
    principal.tenantId,
    id,
  );
  // Another tenant's id is indistinguishable from one that never existed (AZ-3).
  if (!counterparty) throw new NotFoundError('No counterparty with this id.');
  return counterparty;
}

export interface UpdateCounterpartyCommand extends ChangeRequest {
  readonly id: string;
  /** The versions the request's If-Match names; the update applies only to one of them. */
  readonly ifMatch: readonly number[];
  readonly idempotencyKey: string | undefined;
  /** Renders the response stored for replays, so a retry gets the same bytes. */
  readonly respond: (counterparty: Counterparty, auditEntryId: string) => StoredResponse;
}

export async function updateCounterparty(
  context: CounterpartyContext,
  command: UpdateCounterpartyCommand,
): Promise<StoredResponse> {
  const { principal, idempotencyKey } = command;
  const client = context.clients.forTenant(principal.tenantId);
  const fingerprint = requestFingerprint(principal.actorId, 'updateCounterparty', {
    id: command.id,
    ifMatch: command.ifMatch,
    body: command.body,
  });
  // A retry of an update that already happened replays its answer, before If-Match is
  // checked against the version the update itself moved.
  if (idempotencyKey !== undefined) {
    const replayed = await context.mutations.replay(client, principal.tenantId, idempotencyKey, fingerprint);
    if (replayed) return replayed;
  }
  const current = await getCounterparty(context, principal, command.id);
  if (!command.ifMatch.includes(current.version)) {
    throw new PreconditionFailedError('The counterparty changed since you read it; read it again.', {
      currentVersion: current.version,
    });
  }

  const now = context.now();
  const counterparty = revisedCounterparty(current, command.body, principal.actorId, now);
  const entry = auditEntryFor(
    { principal, requestId: command.requestId, agentReason: command.agentReason, inputs: command.body },
    {
      action: 'counterparty.update',
      target: { type: 'counterparty', id: counterparty.id },
      itemState: counterparty,
    },
    now,
  );
  const response = command.respond(counterparty, entry.id);
  const result = await context.mutations.commit(client, {
    tenantId: principal.tenantId,
    writes: [context.counterparties.updateWrite(principal.tenantId, counterparty, current.version)],
    entry,
    ...(idempotencyKey === undefined
      ? {}
      : { idempotency: { key: idempotencyKey, record: { fingerprint, response } } }),
    now,
    // The one business write is conditioned on the version: a concurrent update won.
    conditionFailed: () =>
      new PreconditionFailedError('The counterparty changed since you read it; read it again.'),
  });
  return result.kind === 'replayed' ? result.response : response;
}

export interface CounterpartyListPage {
  readonly items: Counterparty[];
  readonly nextCursor: string | undefined;
}

export interface CounterpartyListQuery {
  readonly limit: number;
  readonly cursor: string | undefined;
  readonly kind?: CounterpartyKind;
}

export async function listCounterparties(
  context: CounterpartyContext,
  principal: Principal,
  query: CounterpartyListQuery,
): Promise<CounterpartyListPage> {
  const { tenantId } = principal;
  const { kind } = query;
  // The cursor is authenticated and bound to the tenant and to this filter: it cannot be
  // forged, nor replayed in another tenant or with another kind.
  const scope = `listCounterparties\n${kind ?? ''}`;
  const after =
    query.cursor === undefined ? undefined : await context.cursors.decode(tenantId, scope, query.cursor);
  if (after !== undefined && (typeof after !== 'string' || !counterpartyIdPattern.test(after))) {
    throw new MalformedRequestError('The cursor is not valid for this list.');
  }
  const page = await context.counterparties.list(context.clients.forTenant(tenantId), tenantId, {
    limit: query.limit,
    after,
    ...(kind === undefined
      ? {}
      : { accept: (counterparty: Counterparty) => matchesKind(counterparty, kind) }),
  });
  return {
    items: page.items,
    nextCursor:
      page.lastKey === undefined ? undefined : await context.cursors.encode(tenantId, scope, page.lastKey),
  };
}

const counterpartyIdPattern = /^cp_[0-9A-HJKMNP-TV-Z]{26}$/;
