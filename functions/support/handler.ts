/** Support-grant routes (AZ-5): a thin middy handler over the support-grant service. */
import { loadRuntimeConfig } from '#shared/config/runtime';
import { signedInPrincipal } from '#shared/http/request';
import { createRouteGroupHandler } from '#shared/http/route-handler';
import type { CreateSupportGrantBody } from '#shared/http/schemas/support';
import { createIdentityContext } from '#shared/services/identity-context';
import {
  createSupportGrant,
  listSupportGrants,
  revokeSupportGrant,
  supportGrantView,
} from '#shared/services/support-grants';

const context = createIdentityContext(loadRuntimeConfig());

export const handler = createRouteGroupHandler('support', {
  listSupportGrants: async (request) => {
    const grants = await listSupportGrants(context, signedInPrincipal(request));
    const now = context.now().getTime();
    return { body: { items: grants.map((grant) => supportGrantView(grant, now)) } };
  },

  createSupportGrant: async (request) => {
    const stored = await createSupportGrant(context, {
      principal: signedInPrincipal(request),
      body: request.body as CreateSupportGrantBody,
      requestId: request.requestId,
      idempotencyKey: request.idempotencyKey,
      respond: (grant, auditEntryId) => ({
        statusCode: 201,
        headers: { 'Content-Type': 'application/json', Location: `/support-grants/${grant.grantId}` },
        body: JSON.stringify({ ...supportGrantView(grant, Date.parse(grant.createdAt)), auditEntryId }),
      }),
    });
    return { status: stored.statusCode, text: stored.body, headers: stored.headers };
  },

  revokeSupportGrant: async (request) => {
    const { id } = request.params as { id: string };
    const stored = await revokeSupportGrant(context, {
      principal: signedInPrincipal(request),
      id,
      requestId: request.requestId,
      idempotencyKey: request.idempotencyKey,
    });
    return { status: stored.statusCode, headers: stored.headers };
  },
});
