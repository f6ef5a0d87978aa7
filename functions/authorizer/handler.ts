/**
 * REQUEST authorizer for every non-public route; its identity source is the
 * `Authorization` header.
 *
 * - `Authorization: Bearer <jwt>`: a Cognito access token, verified by aws-jwt-verify's
 *   CognitoJwtVerifier (signature, issuer, client, `token_use`, expiry), proves issuer and
 *   subject (AUTH-6); the members table, cached for at most 60 s, says which tenant, roles
 *   and status. A person of several tenants names one with `x-strongroom-tenant`.
 * - `Authorization: ApiKey srk_…` (or `Bearer srk_…`): one of our API keys (AUTH-5),
 *   throttled per key id and source address on failures (AUTH-2).
 * - A platform operator naming a customer's tenant gets in only under that tenant's
 *   active support grant, audited in the tenant's log (AZ-5).
 *
 * Refusals: `Unauthorized` (401) when the caller is not authenticated; a Deny policy
 * (403) when it is, but not in the tenant it asks for.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { ApiKeyAuthenticator } from '#shared/auth/api-key-authenticator';
import { type ApiKeyEnvironment, parseApiKey } from '#shared/auth/api-key-format';
import {
  cognitoJwksUrl,
  PublishedJwksFetcher,
  PublishedJwksUnavailableError,
  secretReader,
} from '#shared/auth/cognito-jwks';
import { type FailedAttemptSettings, FailedAttempts } from '#shared/auth/failed-attempts';
import { type Principal, toAuthorizerContext } from '#shared/auth/principal';
import { SupportAccess } from '#shared/auth/support-access';
import { TtlCache } from '#shared/auth/ttl-cache';
import { memberCacheTtlSeconds } from '#shared/config/product';
import { loadRuntimeConfig, type RuntimeConfig } from '#shared/config/runtime';
import { createPepperSource } from '#shared/crypto/pepper';
import { logger } from '#shared/observability/logger';
import { isPersonRole, platformTenantId } from '#shared/rbac/permissions';
import { LogAccessAuditor } from '#shared/services/access-audit';
import { ApiKeyStore } from '#shared/store/api-keys';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { IdempotencyStore } from '#shared/store/idempotency';
import { identityIdOf, type Member, MemberStore } from '#shared/store/members';
import { MutationWriter } from '#shared/store/mutation';
import { SupportGrantStore } from '#shared/store/support-grants';
import { isTenantId } from '#shared/tenancy/tenant-id';

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
  /** The API-key path; without it every API key is refused. */
  readonly apiKeys?: ApiKeyAuthenticator;
  /** Operators under support grants; without it every operator is denied outside the platform tenant. */
  readonly support?: SupportAccess;
}

/** Header that names the tenant when a person belongs to more than one, or an operator's target. */
export const tenantHeader = 'x-strongroom-tenant';

export function createAuthorizerHandler(deps: AuthorizerDependencies) {
  const now = deps.now ?? Date.now;
  const memberships = new TtlCache<Member[]>(memberCacheTtlSeconds * 1000, now);

  async function membershipsOf(identityId: string): Promise<Member[]> {
    return memberships.getOrLoad(identityId, () =>
      deps.members.findByIdentity(deps.clients.platform(), identityId),
    );
  }

  async function authorizeApiKey(
    event: APIGatewayRequestAuthorizerEvent,
    headers: Record<string, string>,
    presented: NonNullable<ReturnType<typeof parseApiKey>>,
  ): Promise<APIGatewayAuthorizerResult> {
    if (!deps.apiKeys) throw new Error('Unauthorized');
    const principal = await deps.apiKeys.authenticate(
      presented,
      event.requestContext?.identity?.sourceIp ?? 'unknown',
      event.requestContext?.requestId ?? '',
    );
    if (!principal) throw new Error('Unauthorized');
    const requested = headers[tenantHeader];
    if (requested !== undefined && requested !== principal.tenantId) {
      logger.info('api key names another tenant', { actorId: principal.actorId });
      return policy(principal.actorId, 'Deny', event.methodArn);
    }
    return allow(principal, event.methodArn);
  }

  return async function authorize(
    event: APIGatewayRequestAuthorizerEvent,
  ): Promise<APIGatewayAuthorizerResult> {
    const headers = lowerCaseHeaders(event.headers);
    const credential = credentialOf(headers.authorization);
    if (credential === undefined) throw new Error('Unauthorized');
    if (credential.kind === 'apiKey') return authorizeApiKey(event, headers, credential.key);

    let claims: { iss: string; sub: string };
    try {
      claims = await deps.verifier.verify(credential.token);
    } catch (error) {
      // The reason is logged without the token itself; the client only learns 401.
      if (error instanceof PublishedJwksUnavailableError) {
        // Every token fails until the keys are published: an operator must see this.
        logger.error('access token refused: no trusted keys', { reason: error.message });
      } else {
        logger.info('access token refused', { reason: error instanceof Error ? error.name : 'unknown' });
      }
      throw new Error('Unauthorized');
    }

    const identityId = identityIdOf(claims.iss, claims.sub);
    const active = (await membershipsOf(identityId)).filter((member) => member.status === 'active');
    const requested = headers[tenantHeader];
    if (requested !== undefined && !isTenantId(requested)) return policy(identityId, 'Deny', event.methodArn);
    const member =
      requested === undefined
        ? active.length === 1
          ? active[0]
          : undefined
        : active.find((each) => each.tenantId === requested);
    if (member) {
      return allow(
        { kind: 'user', actorId: identityId, tenantId: member.tenantId, roles: memberRoles(member) },
        event.methodArn,
      );
    }

    const operator = active.some((each) => memberRoles(each).includes('operator'));
    if (operator && requested !== undefined && deps.support) {
      const principal = await deps.support.authorize({
        operatorId: identityId,
        tenantId: requested,
        method: event.httpMethod ?? '',
        resource: event.resource ?? '',
        requestId: event.requestContext?.requestId ?? '',
      });
      if (principal) return allow(principal, event.methodArn);
      logger.warn('operator without a support grant', { actorId: identityId, tenantId: requested });
      return policy(identityId, 'Deny', event.methodArn);
    }
    logger.info('no active membership for the request', { actorId: identityId, tenantCount: active.length });
    return policy(identityId, 'Deny', event.methodArn);
  };
}

/**
 * The roles a membership may carry where it is (defence in depth, whatever the table says):
 * in the platform tenant only `operator`, in a customer tenant only person roles. API-key
 * and agent roles belong to keys, never to people.
 */
export function memberRoles(member: Pick<Member, 'tenantId' | 'roles'>): string[] {
  return member.roles.filter((role) =>
    member.tenantId === platformTenantId ? role === 'operator' : isPersonRole(role),
  );
}

type Credential =
  | { readonly kind: 'jwt'; readonly token: string }
  | { readonly kind: 'apiKey'; readonly key: NonNullable<ReturnType<typeof parseApiKey>> };

/** `Bearer <jwt>`, or an API key as `ApiKey srk_…` or `Bearer srk_…`; anything else is no credential. */
function credentialOf(authorization: string | undefined): Credential | undefined {
  const match = /^(Bearer|ApiKey) (\S{1,8192})$/.exec(authorization ?? '');
  if (!match) return undefined;
  const [, scheme, value = ''] = match;
  if (value.startsWith('srk_')) {
    const key = parseApiKey(value);
    return key === undefined ? undefined : { kind: 'apiKey', key };
  }
  if (scheme === 'Bearer' && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value)) {
    return { kind: 'jwt', token: value };
  }
  return undefined;
}

function allow(principal: Principal, methodArn: string): APIGatewayAuthorizerResult {
  return { ...policy(principal.actorId, 'Allow', methodArn), context: { ...toAuthorizerContext(principal) } };
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

export interface AuthorizerWiring {
  readonly verifier: AccessTokenVerifier;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default 10 failures per key id and source in 5 minutes */
  readonly failedAttempts?: FailedAttemptSettings;
}

/**
 * Every part of the authorizer for a runtime configuration: the AWS handler below and
 * the local gateway build theirs with this, each with its own token verifier.
 */
export function authorizerDependencies(
  config: RuntimeConfig,
  wiring: AuthorizerWiring,
): AuthorizerDependencies {
  const now = wiring.now ?? Date.now;
  const clients = new DataClients(config);
  const keys = new ApiKeyStore(config.stage);
  const auditLog = new AuditLog(config.stage);
  const auditor = new LogAccessAuditor(
    clients,
    new MutationWriter(auditLog, new IdempotencyStore(config.stage)),
    () => new Date(now()),
  );
  const environment: ApiKeyEnvironment = config.mode === 'local' ? 'test' : 'live';
  return {
    verifier: wiring.verifier,
    clients,
    members: new MemberStore(config.stage),
    now,
    apiKeys: new ApiKeyAuthenticator({
      keys,
      clients,
      pepper: createPepperSource({ ...config, secretArn: config.secretArns?.['api-key-pepper'] }),
      failures: new FailedAttempts({
        keys,
        clients,
        auditor,
        now,
        ...(wiring.failedAttempts === undefined ? {} : { settings: wiring.failedAttempts }),
      }),
      environment,
      now,
    }),
    support: new SupportAccess({ grants: new SupportGrantStore(config.stage), clients, auditor, now }),
  };
}

// Module scope: created once per container. In AWS the verifier trusts only the
// configured pool, with the keys the pipeline published for it (shared/auth/cognito-jwks.ts);
// the local runtime builds its own handler with the preloaded development JWKS
// (infra/local), never this one.
const config = loadRuntimeConfig();
const jwksSecretArn = config.secretArns?.['cognito-jwks'];
const secrets = new SecretsManagerClient({});

export const handler = createAuthorizerHandler(
  authorizerDependencies(config, {
    verifier: CognitoJwtVerifier.create(
      {
        userPoolId: config.userPoolId,
        // The API's client, and the federated sign-in client when the stage has identity providers.
        clientId: [config.userPoolClientId, process.env.COGNITO_FEDERATED_CLIENT_ID ?? ''].filter(
          (id) => id !== '',
        ),
        tokenUse: 'access',
      },
      {
        // Never fetched from Cognito: a private stage has no route to it (INF-7).
        jwksCache: new SimpleJwksCache({
          fetcher: new PublishedJwksFetcher(
            cognitoJwksUrl(config.region, config.userPoolId),
            jwksSecretArn === undefined
              ? () => Promise.reject(new Error('SECRET_ARNS names no cognito-jwks secret'))
              : secretReader(secrets, jwksSecretArn),
          ),
        }),
      },
    ),
  }),
);
