/**
 * REQUEST authorizer for every non-public route. A Cognito access token, verified by
 * aws-jwt-verify's CognitoJwtVerifier, proves issuer and subject (AUTH-6); the members
 * table, cached for at most 60 s, says which tenant, roles and status. API keys plug in
 * at `authenticate` (AUTH-5, a later issue).
 */

import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { type Principal, toAuthorizerContext } from '#shared/auth/principal';
import { memberCacheTtlSeconds } from '#shared/config/product';
import { loadRuntimeConfig } from '#shared/config/runtime';
import { logger } from '#shared/observability/logger';
import { DataClients } from '#shared/store/dynamo';
import { identityIdOf, type Member, MemberStore } from '#shared/store/members';

/** What the authorizer needs of a JWT verifier; CognitoJwtVerifier satisfies it. */
export interface AccessTokenVerifier {
  verify(token: string): Promise<{ iss: string; sub: string }>;
}

export interface AuthorizerDependencies {
  readonly verifier: AccessTokenVerifier;
  readonly clients: Pick<DataClients, 'platform'>;
  readonly members: Pick<MemberStore, 'findByIdentity'>;
  /** Milliseconds since the epoch; injectable for cache tests. */
  readonly now?: () => number;
}

/** Header that names the tenant when a person belongs to more than one. */
export const tenantHeader = 'x-strongroom-tenant';

const maxCachedIdentities = 10_000;

export function createAuthorizerHandler(deps: AuthorizerDependencies) {
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { members: Member[]; expiresAt: number }>();

  async function membershipsOf(identityId: string): Promise<Member[]> {
    const cached = cache.get(identityId);
    if (cached && cached.expiresAt > now()) return cached.members;
    const members = await deps.members.findByIdentity(deps.clients.platform(), identityId);
    if (cache.size >= maxCachedIdentities) cache.delete(cache.keys().next().value ?? '');
    cache.set(identityId, { members, expiresAt: now() + memberCacheTtlSeconds * 1000 });
    return members;
  }

  return async function authorize(
    event: APIGatewayRequestAuthorizerEvent,
  ): Promise<APIGatewayAuthorizerResult> {
    const headers = lowerCaseHeaders(event.headers);
    const token = bearerToken(headers.authorization);
    if (token === undefined) throw new Error('Unauthorized');

    let claims: { iss: string; sub: string };
    try {
      claims = await deps.verifier.verify(token);
    } catch (error) {
      // The reason is logged without the token itself; the client only learns 401.
      logger.info('access token refused', { reason: error instanceof Error ? error.name : 'unknown' });
      throw new Error('Unauthorized');
    }

    const identityId = identityIdOf(claims.iss, claims.sub);
    const active = (await membershipsOf(identityId)).filter((member) => member.status === 'active');
    const requested = headers[tenantHeader];
    const member =
      requested === undefined
        ? active.length === 1
          ? active[0]
          : undefined
        : active.find((each) => each.tenantId === requested);
    if (!member) {
      logger.info('no active membership for the request', {
        actorId: identityId,
        tenantCount: active.length,
      });
      return policy(identityId, 'Deny', event.methodArn);
    }
    const principal: Principal = {
      kind: 'user',
      actorId: identityId,
      tenantId: member.tenantId,
      roles: member.roles,
    };
    return {
      ...policy(identityId, 'Allow', event.methodArn),
      context: { ...toAuthorizerContext(principal) },
    };
  };
}

function lowerCaseHeaders(
  headers: Record<string, string | undefined> | null | undefined,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) result[name.toLowerCase()] = value;
  }
  return result;
}

function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization ?? '');
  return match?.[1];
}

function policy(
  principalId: string,
  effect: 'Allow' | 'Deny',
  methodArn: string,
): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: methodArn }],
    },
  };
}

// Module scope: created once per container. In AWS the verifier trusts only the
// configured pool and fetches its JWKS; the local runtime builds its own handler with
// the preloaded development JWKS (infra/local), never this one.
const config = loadRuntimeConfig();

export const handler = createAuthorizerHandler({
  verifier: CognitoJwtVerifier.create({
    userPoolId: config.userPoolId,
    clientId: config.userPoolClientId,
    tokenUse: 'access',
  }),
  clients: new DataClients(config),
  members: new MemberStore(config.stage),
});
