/**
 * Platform routes: onboarding by the platform operator. A cross-tenant job with a role of
 * its own in AWS (the registry, the new tenant's owner and first audit entry).
 */
import { loadRuntimeConfig } from '#shared/config/runtime';
import { signedInPrincipal } from '#shared/http/request';
import { createRouteGroupHandler } from '#shared/http/route-handler';
import type { CreateTenantBody } from '#shared/http/schemas/support';
import { createIdentityContext } from '#shared/services/identity-context';
import { onboardTenant } from '#shared/services/onboarding';
import { tenantKeyProvisioner } from '#shared/store/tenant-keyring';

const identity = createIdentityContext(loadRuntimeConfig());
// The tenant's KMS key, first data key and registry record, before the onboarding transaction.
const context = { ...identity, keys: tenantKeyProvisioner(identity.clients.keyring) };

export const handler = createRouteGroupHandler('tenants', {
  createTenant: async (request) => {
    const principal = signedInPrincipal(request);
    const body = request.body as CreateTenantBody;
    const stored = await onboardTenant(context, {
      tenantId: body.tenantId,
      ownerEmail: body.ownerEmail,
      actor: { id: principal.actorId, kind: 'operator' },
      requestId: request.requestId,
      idempotencyKey: request.idempotencyKey,
      respond: (tenant, owner) => ({
        statusCode: 201,
        headers: { 'Content-Type': 'application/json', Location: `/tenants/${tenant.tenantId}` },
        body: JSON.stringify({
          tenantId: tenant.tenantId,
          status: tenant.status,
          createdAt: tenant.createdAt,
          ownerId: owner.identityId,
          keys: tenant.keys,
        }),
      }),
    });
    return { status: stored.statusCode, text: stored.body, headers: stored.headers };
  },
});
