/** Counterparty routes: a thin middy handler over the counterparty service. */
import { loadRuntimeConfig } from '#shared/config/runtime';
import type { CounterpartyKind } from '#shared/domain/counterparties';
import { etagOf, ifMatchVersions } from '#shared/http/etag';
import { signedInPrincipal } from '#shared/http/request';
import { createRouteGroupHandler } from '#shared/http/route-handler';
import type { CounterpartyBody } from '#shared/http/schemas/counterparties';
import {
  createCounterparty,
  createCounterpartyContext,
  getCounterparty,
  listCounterparties,
  updateCounterparty,
} from '#shared/services/counterparties';

const context = createCounterpartyContext(loadRuntimeConfig());

export const handler = createRouteGroupHandler('counterparties', {
  createCounterparty: async (request) => {
    const stored = await createCounterparty(context, {
      principal: signedInPrincipal(request),
      body: request.body as CounterpartyBody,
      requestId: request.requestId,
      idempotencyKey: request.idempotencyKey,
      agentReason: request.agentReason,
      respond: (counterparty, auditEntryId) => ({
        statusCode: 201,
        headers: {
          'Content-Type': 'application/json',
          ETag: etagOf(counterparty.version),
          Location: `/counterparties/${counterparty.id}`,
        },
        body: JSON.stringify({ ...counterparty, auditEntryId }),
      }),
    });
    return { status: stored.statusCode, text: stored.body, headers: stored.headers };
  },

  listCounterparties: async (request) => {
    const { limit, cursor, kind } = request.query as {
      limit?: number;
      cursor?: string;
      kind?: CounterpartyKind;
    };
    const page = await listCounterparties(context, signedInPrincipal(request), {
      limit: limit ?? 25,
      cursor,
      ...(kind === undefined ? {} : { kind }),
    });
    return {
      body: { items: page.items, ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) },
    };
  },

  getCounterparty: async (request) => {
    const { id } = request.params as { id: string };
    const counterparty = await getCounterparty(context, signedInPrincipal(request), id);
    return { body: counterparty, headers: { ETag: etagOf(counterparty.version) } };
  },

  updateCounterparty: async (request) => {
    // 428 before anything is read: an update must say which version it was made from.
    const ifMatch = ifMatchVersions(request.headers['if-match']);
    const { id } = request.params as { id: string };
    const stored = await updateCounterparty(context, {
      principal: signedInPrincipal(request),
      id,
      ifMatch,
      body: request.body as CounterpartyBody,
      requestId: request.requestId,
      idempotencyKey: request.idempotencyKey,
      agentReason: request.agentReason,
      respond: (counterparty, auditEntryId) => ({
        statusCode: 200,
        headers: { 'Content-Type': 'application/json', ETag: etagOf(counterparty.version) },
        body: JSON.stringify({ ...counterparty, auditEntryId }),
      }),
    });
    return { status: stored.statusCode, text: stored.body, headers: stored.headers };
  },
});
