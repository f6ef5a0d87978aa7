/** API-key routes: a thin middy handler over the API-key service (AUTH-5). */
import { loadRuntimeConfig } from '#shared/config/runtime';
import type { OperationResponse } from '#shared/http/request';
import { signedInPrincipal } from '#shared/http/request';
import { createRouteGroupHandler } from '#shared/http/route-handler';
import type { CreateApiKeyBody, RotateApiKeyBody } from '#shared/http/schemas/api-keys';
import {
  apiKeyView,
  createApiKey,
  getApiKey,
  type IssueResult,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
} from '#shared/services/api-keys';
import { createIdentityContext } from '#shared/services/identity-context';

const context = createIdentityContext(loadRuntimeConfig());

const etag = (version: number) => `"v${version}"`;

function issuedResponse(status: number, result: IssueResult): OperationResponse {
  if (result.kind === 'replayed') {
    const { statusCode, headers, body } = result.response;
    return { status: statusCode, headers, text: body };
  }
  const { view, key, auditEntryId } = result.issued;
  return {
    status,
    // The one response with the secret; API-2's `Cache-Control: no-store` keeps it out of caches.
    body: { ...view, key, auditEntryId },
    headers: { ETag: etag(view.version), Location: `/api-keys/${view.id}` },
  };
}

export const handler = createRouteGroupHandler('api-keys', {
  listApiKeys: async (request) => {
    const { limit, cursor } = request.query as { limit?: number; cursor?: string };
    const page = await listApiKeys(context, signedInPrincipal(request), limit ?? 50, cursor);
    return {
      body: {
        items: page.items.map(apiKeyView),
        ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
      },
    };
  },

  getApiKey: async (request) => {
    const { id } = request.params as { id: string };
    const record = await getApiKey(context, signedInPrincipal(request), id);
    return { body: apiKeyView(record), headers: { ETag: etag(record.version) } };
  },

  createApiKey: async (request) =>
    issuedResponse(
      201,
      await createApiKey(context, {
        principal: signedInPrincipal(request),
        body: request.body as CreateApiKeyBody,
        requestId: request.requestId,
        idempotencyKey: request.idempotencyKey,
      }),
    ),

  rotateApiKey: async (request) => {
    const { id } = request.params as { id: string };
    return issuedResponse(
      200,
      await rotateApiKey(context, {
        principal: signedInPrincipal(request),
        id,
        body: request.body as RotateApiKeyBody,
        requestId: request.requestId,
        idempotencyKey: request.idempotencyKey,
      }),
    );
  },

  revokeApiKey: async (request) => {
    const { id } = request.params as { id: string };
    const stored = await revokeApiKey(context, {
      principal: signedInPrincipal(request),
      id,
      requestId: request.requestId,
      idempotencyKey: request.idempotencyKey,
    });
    return {
      status: stored.statusCode,
      headers: stored.headers,
      ...(stored.body === '' ? {} : { text: stored.body }),
    };
  },
});
