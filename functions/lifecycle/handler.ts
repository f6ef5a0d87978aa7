/** Tenant lifecycle routes (DAT-2): a thin middy handler over the lifecycle service. */
import { loadRuntimeConfig } from '#shared/config/runtime';
import { signedInPrincipal } from '#shared/http/request';
import { createRouteGroupHandler } from '#shared/http/route-handler';
import type { TerminationBody } from '#shared/http/schemas/lifecycle';
import { createServiceContext } from '#shared/services/context';
import { tenantLifecycle, terminateTenant } from '#shared/services/lifecycle';

const context = createServiceContext(loadRuntimeConfig());

export const handler = createRouteGroupHandler('lifecycle', {
  getTermination: async (request) => ({
    body: await tenantLifecycle(context, signedInPrincipal(request).tenantId),
  }),

  terminateTenant: async (request) => ({
    body: await terminateTenant(context, {
      principal: signedInPrincipal(request),
      requestId: request.requestId,
      confirmTenantId: (request.body as TerminationBody).confirmTenantId,
    }),
  }),
});
