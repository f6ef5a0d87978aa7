/**
 * The user pool's pre-token-generation trigger (V2_0) for federated sign-in (AUTH-3,
 * AUTH-4). Pool users pass through untouched (Cognito's own MFA applies to them). A user
 * of a tenant's OIDC or SAML identity provider gets tokens only if the IdP asserted MFA
 * and one of their IdP groups maps to a role; the tenant's member record then follows
 * the groups. Throwing refuses the sign-in: Cognito issues no token.
 *
 * Configuration comes from the stack (FEDERATION_PROVIDERS: names, tenants, group → role
 * maps, MFA values; nothing secret). The pool id and region come from the event, so the
 * function does not reference the pool that references it.
 */
import { randomUUID } from 'node:crypto';
import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { federatedSignIn, parseFederationProviders, providerNameOf } from '#shared/auth/federation';
import { loadRuntimeConfig } from '#shared/config/runtime';
import { ForbiddenError } from '#shared/domain/errors';
import { logger } from '#shared/observability/logger';
import { syncFederatedMember } from '#shared/services/federation';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { IdempotencyStore } from '#shared/store/idempotency';
import { MemberStore } from '#shared/store/members';
import { MutationWriter } from '#shared/store/mutation';

export function createFederationTrigger(options: {
  readonly providers: unknown;
  readonly clients: DataClients;
  readonly stage: string;
  readonly now?: () => Date;
}) {
  const providers = parseFederationProviders(options.providers);
  const context = {
    clients: options.clients,
    members: new MemberStore(options.stage),
    mutations: new MutationWriter(new AuditLog(options.stage), new IdempotencyStore(options.stage)),
    now: options.now ?? (() => new Date()),
  };
  return async function preTokenGeneration(
    event: PreTokenGenerationV2TriggerEvent,
  ): Promise<PreTokenGenerationV2TriggerEvent> {
    const attributes = event.request.userAttributes;
    if (providerNameOf(attributes) === undefined) return event;
    const decision = federatedSignIn(providers, attributes);
    if (!decision.allowed) {
      // The reason names the provider and tenant only; no claim values, no email (DAT-3).
      logger.warn('federated sign-in refused', { reason: decision.reason, trigger: event.triggerSource });
      throw new Error(`Sign-in refused: ${decision.reason}.`);
    }
    const subject = attributes.sub;
    if (!subject) throw new Error('Sign-in refused: the user has no subject.');
    try {
      await syncFederatedMember(context, {
        provider: decision.provider,
        issuer: `https://cognito-idp.${event.region}.amazonaws.com/${event.userPoolId}`,
        subject,
        roles: decision.roles,
        requestId: `cognito-${randomUUID()}`,
      });
    } catch (error) {
      if (!(error instanceof ForbiddenError)) throw error;
      logger.warn('federated sign-in refused', { reason: error.message });
      throw new Error('Sign-in refused: the membership is not active.');
    }
    return event;
  };
}

const config = loadRuntimeConfig();

export const handler = createFederationTrigger({
  providers: JSON.parse(process.env.FEDERATION_PROVIDERS ?? '[]'),
  clients: new DataClients(config),
  stage: config.stage,
});
