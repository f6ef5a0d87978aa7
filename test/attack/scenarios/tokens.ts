/**
 * Scenario 3, token attacks (AUTH-2, AUTH-5, AUTH-6). The single checks exist in
 * test/integration (token-checks, local-runtime, members, api-keys: each hostile token
 * against one route); here every hostile credential goes against every route of the
 * table, with what those tests lack: a JWKS URL or key in the token header (nothing may
 * be fetched), kid traversal, algorithm-name variants, a removed and a disabled member
 * after the authorizer's cache, revoked and expired API keys, a distributed brute force
 * of an API key's secret and of key ids (the throttle engages per key id and address, the
 * real integration keeps working from its own address, the audit log grows by counted
 * windows only).
 *
 * Invariant: every such request is refused with a 401 problem (a 403 for a verified
 * person who is no member any more), never a 5xx, and changes nothing but the counted
 * failure windows.
 */
import { createHmac, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { cognitoLocalClient } from '#infra/local/cognito-app-client';
import { parseApiKey } from '#shared/auth/api-key-format';
import { type RouteDefinition, routes } from '#shared/http/routes';
import { call } from '#test/integration/support/http';
import { routeFixtures } from '#test/integration/support/route-fixtures';
import { accessTokenClaims, decodeJwtPart, signWithCognitoLocalKey } from '#test/integration/support/tokens';
import { censusDiff, changedTenants, storeCensus, tenantCensus } from '../support/census';
import { type AttackEnv, type AttackTenant, createAttackTenant, withAuditTargets } from '../support/env';
import { endpointOf, RawConnection, type RawResponse } from '../support/raw-http';
import { type ScenarioReport, Tally } from '../support/report';
import { refusalViolations } from '../support/responses';
import { type AttackSize, sized } from '../support/size';

interface TokenSettings {
  /** Every n-th route of the table gets every hostile credential (1: all of them). */
  readonly routeStride: number;
  /** Times every hostile credential goes against every route. */
  readonly rounds: number;
  /** Wrong secrets for one key id from the attacker's addresses. */
  readonly bruteForce: number;
  /** Addresses (127.0.0.x) the brute force comes from. */
  readonly addresses: number;
  /** Random key ids tried (enumeration). */
  readonly unknownKeyIds: number;
}

const settings = {
  bounded: { routeStride: 3, rounds: 1, bruteForce: 60, addresses: 3, unknownKeyIds: 30 },
  full: { routeStride: 1, rounds: 5, bruteForce: 5_000, addresses: 50, unknownKeyIds: 2_000 },
} satisfies Record<AttackSize, TokenSettings>;

const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

function rs256(
  header: Record<string, unknown>,
  body: Record<string, unknown>,
  privateKey: string,
  algorithm = 'RSA-SHA256',
): string {
  const input = `${encode({ typ: 'JWT', ...header })}.${encode(body)}`;
  return `${input}.${createSign(algorithm).update(input).sign(privateKey).toString('base64url')}`;
}

interface HostileCredential {
  readonly name: string;
  readonly authorization: string;
  /** 401 for every credential but a verified person who is no member (403 from the authorizer). */
  readonly status: 401 | 403;
}

async function hostileCredentials(
  env: AttackEnv,
  tenant: AttackTenant,
  jwksUrl: string,
): Promise<HostileCredential[]> {
  const stack = env.stack;
  const subject = tenant.accountant.subject;
  const now = Math.floor(Date.now() / 1000);
  const claims = (overrides: Record<string, unknown> = {}) => ({
    ...accessTokenClaims(subject, { issuedAt: now, expiresAt: now + 600 }, stack),
    ...overrides,
  });
  const file = createRequire(import.meta.url).resolve('cognito-local/lib/keys/cognitoLocal.public.json');
  const { pem: publicPem, jwk: publicJwk } = JSON.parse(await readFile(file, 'utf8')) as {
    pem: string;
    jwk: Record<string, string>;
  };
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const strangerPem = stranger.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const strangerJwk = stranger.publicKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;
  const signed = (overrides: Record<string, unknown>) => signWithCognitoLocalKey(claims(overrides));
  const unsigned = (alg: string) => `${encode({ alg, typ: 'JWT', kid: 'CognitoLocal' })}.${encode(claims())}`;
  const hs256 = (secret: string) => {
    const input = `${encode({ alg: 'HS256', typ: 'JWT', kid: 'CognitoLocal' })}.${encode(claims())}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const real = tenant.accountant.token;
  const [realHeader, , realSignature] = real.split('.');
  const realClaims = decodeJwtPart(real, 1);

  const cognito = cognitoLocalClient(stack.cognitoEndpoint, stack.region);
  const auth = await cognito.send(
    new InitiateAuthCommand({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: stack.clientId,
      AuthParameters: { USERNAME: tenant.accountant.email, PASSWORD: tenant.accountant.password },
    }),
  );
  cognito.destroy();
  const idToken = auth.AuthenticationResult?.IdToken ?? '';
  const { token_use: _dropped, ...withoutUse } = claims();

  const bearer = (name: string, token: string, status: 401 | 403 = 401): HostileCredential => ({
    name,
    authorization: `Bearer ${token}`,
    status,
  });
  return [
    bearer('expired', await signed({ iat: now - 7200, auth_time: now - 7200, exp: now - 3600 })),
    bearer('expired by a second', await signed({ exp: now - 1 })),
    bearer('not yet valid', await signed({ nbf: now + 600 })),
    bearer(
      'another pool',
      await signed({ iss: `https://cognito-idp.${stack.region}.amazonaws.com/${stack.region}_Otherpool` }),
    ),
    bearer('issuer with a trailing slash', await signed({ iss: `${stack.issuer}/` })),
    bearer('issuer over http', await signed({ iss: stack.issuer.replace('https://', 'http://') })),
    bearer('foreign issuer', await signed({ iss: 'https://issuer.example/strongroom' })),
    bearer('another app client', await signed({ client_id: 'another-app-client' })),
    bearer('an ID token', await signed({ token_use: 'id', aud: stack.clientId })),
    bearer("cognito-local's real ID token", idToken),
    bearer('no token_use', await signWithCognitoLocalKey(withoutUse)),
    bearer('alg none', `${unsigned('none')}.`),
    bearer('alg None', `${unsigned('None')}.`),
    bearer('alg NONE with a signature', `${unsigned('NONE')}.${randomBytes(32).toString('base64url')}`),
    bearer('HS256 keyed with the public key PEM', hs256(publicPem)),
    bearer('HS256 keyed with the JWK modulus', hs256(publicJwk.n ?? '')),
    bearer(
      "another key under the pool's kid",
      rs256({ alg: 'RS256', kid: 'CognitoLocal' }, claims(), strangerPem),
    ),
    bearer('a kid not in the JWKS', rs256({ alg: 'RS256', kid: 'attacker-key-1' }, claims(), strangerPem)),
    bearer('no kid', rs256({ alg: 'RS256' }, claims(), strangerPem)),
    bearer('kid path traversal', rs256({ alg: 'RS256', kid: '../../../../dev/null' }, claims(), strangerPem)),
    bearer(
      'jku to an attacker JWKS',
      rs256({ alg: 'RS256', kid: 'attacker', jku: jwksUrl }, claims(), strangerPem),
    ),
    bearer(
      'x5u to an attacker certificate',
      rs256({ alg: 'RS256', kid: 'attacker', x5u: jwksUrl }, claims(), strangerPem),
    ),
    bearer(
      'the key embedded as jwk',
      rs256({ alg: 'RS256', kid: 'CognitoLocal', jwk: strangerJwk }, claims(), strangerPem),
    ),
    bearer('ES256 under the pool kid', rs256({ alg: 'ES256', kid: 'CognitoLocal' }, claims(), ec, 'SHA256')),
    bearer(
      'tampered subject under a real signature',
      `${realHeader}.${encode({ ...realClaims, sub: tenant.owner.subject })}.${realSignature}`,
    ),
    bearer(
      'tampered expiry under a real signature',
      `${realHeader}.${encode({ ...realClaims, exp: now + 86_400 * 365 })}.${realSignature}`,
    ),
    bearer('signature stripped', `${realHeader}.${real.split('.')[1]}.`),
    bearer('a member of no tenant', await signed({ sub: randomBytes(16).toString('hex') }), 403),
    { name: 'token too long', authorization: `Bearer ${real}${'A'.repeat(9000)}`, status: 401 },
    { name: 'two tokens', authorization: `Bearer ${real}, Bearer ${real}`, status: 401 },
    {
      name: 'Basic scheme',
      authorization: `Basic ${Buffer.from('owner:password').toString('base64')}`,
      status: 401,
    },
    { name: 'ApiKey scheme with a JWT', authorization: `ApiKey ${real}`, status: 401 },
    { name: 'malformed API key', authorization: 'ApiKey srk_test_short', status: 401 },
    {
      name: 'API key of the live environment',
      authorization: `ApiKey srk_live_${'0'.repeat(26)}_${'A'.repeat(43)}`,
      status: 401,
    },
  ];
}

/** Every route that needs credentials, as its matrix fixture builds it in the tenant's world. */
async function targets(
  tenant: AttackTenant,
): Promise<{ route: RouteDefinition; path: string; body?: unknown; headers: Record<string, string> }[]> {
  const found = [];
  for (const route of routes) {
    if (route.permission === 'public' || route.id === 'terminateTenant' || route.id === 'createTenant')
      continue;
    const fixture = routeFixtures[route.id];
    const built = fixture ? await fixture(tenant.world, false) : { path: route.path };
    found.push({
      route,
      path: built.path,
      ...(built.body === undefined ? {} : { body: built.body }),
      headers: { ...built.headers },
    });
  }
  return found;
}

export async function tokenScenario(env: AttackEnv, size: AttackSize): Promise<ScenarioReport> {
  const config = sized(settings, size, 'TOKENS');
  const tally = new Tally('token attacks');
  const tenant = await createAttackTenant(env, 'tokens');
  await withAuditTargets(env, tenant);
  const jwksHits: string[] = [];
  const jwksServer = createServer((request, response) => {
    jwksHits.push(`${request.method} ${request.url}`);
    response.end(JSON.stringify({ keys: [] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;

  try {
    const credentials = await hostileCredentials(env, tenant, jwksUrl);
    const every = await targets(tenant);
    const requests = every.filter((_, index) => index % config.routeStride === 0);
    const storeBefore = await storeCensus(env.identities.clients, env.stack.stage);
    const connection = new RawConnection(env.endpoint);
    const expectRefused = (response: RawResponse, status: number, where: string) => {
      tally.requests++;
      if (response.status >= 500) tally.fail('serverErrors', `${response.status} for ${where}`);
      else if (response.status !== status) {
        tally.fail(
          'otherViolations',
          `${where}: ${response.status} ${response.body.toString('utf8').slice(0, 200)}, expected ${status}`,
        );
      }
      for (const problem of refusalViolations(response))
        tally.fail('otherViolations', `${where}: ${problem}`);
    };
    const send = (request: (typeof requests)[number], authorization: string, localAddress?: string) => {
      const body = request.body === undefined ? undefined : JSON.stringify(request.body);
      const raw = {
        method: request.route.method,
        target: request.path,
        headers: [
          ['authorization', authorization] as const,
          ...Object.entries(request.headers),
          ...(body === undefined ? [] : ([['content-type', 'application/json']] as const)),
        ],
        ...(body === undefined ? {} : { body }),
      };
      return localAddress === undefined
        ? connection.send(raw)
        : new RawConnection(endpointOf(env.gateway.url, localAddress)).send(raw);
    };

    // Every hostile credential against every route.
    for (let round = 0; round < config.rounds; round++) {
      for (const credential of credentials) {
        for (const request of requests) {
          expectRefused(
            await send(request, credential.authorization),
            credential.status,
            `${credential.name} on ${request.route.id}`,
          );
        }
      }
    }
    if (jwksHits.length > 0)
      tally.fail('otherViolations', `the authorizer fetched attacker-named keys: ${jwksHits.join(', ')}`);

    // People and keys that were valid a moment ago.
    const removed = await env.identities.addMember(tenant.tenantId, ['auditor'], 'removed');
    const disabled = await env.identities.addMember(tenant.tenantId, ['auditor'], 'disabled');
    const created = async (body: Record<string, unknown>) => {
      const response = await call(env.gateway, 'POST', '/api-keys', {
        token: tenant.owner.token,
        body: { name: 'Token attack', ...body },
      });
      return (await response.json()) as { id: string; key: string };
    };
    const revoked = await created({ scopes: ['auditor'] });
    const expiring = await created({ scopes: ['auditor'], expiresInDays: 1 });
    const sample =
      every.find((request) => request.route.id === 'listInvoices') ??
      (requests[0] as (typeof requests)[number]);
    for (const [name, authorization] of [
      ['removed member', `Bearer ${removed.token}`],
      ['disabled member', `Bearer ${disabled.token}`],
      ['revoked key', `ApiKey ${revoked.key}`],
      ['expiring key', `ApiKey ${expiring.key}`],
    ] as const) {
      const response = await send(sample, authorization);
      tally.requests++;
      if (response.status !== 200)
        tally.fail('otherViolations', `${name} did not work before the change: ${response.status}`);
    }
    const change = async (method: string, path: string, body?: unknown, etag?: string) => {
      const response = await call(env.gateway, method, path, {
        token: tenant.owner.token,
        ...(body === undefined ? {} : { body }),
        headers: etag === undefined ? {} : { 'if-match': etag },
      });
      if (response.status >= 300)
        tally.fail('otherViolations', `setup ${method} ${path}: ${response.status}`);
    };
    await change('DELETE', `/members/${removed.identityId}`);
    await change('PATCH', `/members/${disabled.identityId}`, { status: 'disabled' }, '"v1"');
    await change('DELETE', `/api-keys/${revoked.id}`);
    // Past the authorizer's 60 s cache, and past the expiring key's day.
    env.advanceAuthorizerClock(86_400_000 + 120_000);
    const stale: HostileCredential[] = [
      { name: 'removed member after the cache', authorization: `Bearer ${removed.token}`, status: 403 },
      { name: 'disabled member after the cache', authorization: `Bearer ${disabled.token}`, status: 403 },
      { name: 'revoked API key after the cache', authorization: `ApiKey ${revoked.key}`, status: 401 },
      { name: 'expired API key', authorization: `ApiKey ${expiring.key}`, status: 401 },
    ];
    for (const credential of stale) {
      for (const request of requests) {
        expectRefused(
          await send(request, credential.authorization),
          credential.status,
          `${credential.name} on ${request.route.id}`,
        );
      }
    }

    // Brute force: wrong secrets for a real key id from other addresses, while the real
    // integration keeps calling from its own; and random key ids (enumeration).
    const integration = await created({ scopes: ['auditor'] });
    const parts = parseApiKey(integration.key);
    const before = await tenantCensus(env.identities.clients, env.stack.stage, tenant.tenantId);
    let successes = 0;
    let integrationRefusals = 0;
    const perAddress = Math.ceil(config.bruteForce / config.addresses);
    const limit = 10;
    for (let index = 0; index < config.addresses; index++) {
      const address = `127.0.0.${index + 2}`;
      const attacker = new RawConnection(endpointOf(env.gateway.url, address));
      for (let attempt = 0; attempt < perAddress; attempt++) {
        const guess = `srk_test_${parts?.keyId.slice(4)}_${randomBytes(32).toString('base64url').replace(/[-_]/g, 'A').slice(0, 43)}`;
        const raw = {
          method: 'GET',
          target: '/invoices',
          headers: [['authorization', `ApiKey ${guess}`]] as const,
        };
        const response = await attacker.send(raw);
        tally.requests++;
        if (response.status === 200) successes++;
        else if (response.status !== 401) tally.fail('otherViolations', `brute force got ${response.status}`);
        if (attempt % 5 === 0) {
          const own = await connection.send({
            method: 'GET',
            target: '/invoices',
            headers: [['authorization', `ApiKey ${integration.key}`]],
          });
          tally.requests++;
          if (own.status !== 200) integrationRefusals++;
        }
      }
      // Throttled: even the right secret is refused from this address now.
      const right = await attacker.send({
        method: 'GET',
        target: '/invoices',
        headers: [['authorization', `ApiKey ${integration.key}`]],
      });
      tally.requests++;
      if (perAddress >= limit && right.status !== 401)
        tally.fail('otherViolations', `the throttle did not engage for ${address}: ${right.status}`);
      attacker.close();
    }
    if (successes > 0) tally.fail('otherViolations', `${successes} guessed API keys were accepted`);
    if (integrationRefusals > 0)
      tally.fail(
        'otherViolations',
        `the real integration was refused ${integrationRefusals} times during the brute force`,
      );
    for (let index = 0; index < config.unknownKeyIds; index++) {
      const keyId = Array.from(randomBytes(26), (byte) => '0123456789ABCDEFGHJKMNPQRSTVWXYZ'[byte % 32]).join(
        '',
      );
      const response = await connection.send({
        method: 'GET',
        target: '/invoices',
        headers: [['authorization', `ApiKey srk_test_${keyId}_${'A'.repeat(43)}`]],
      });
      expectRefused(response, 401, 'an unknown key id');
    }
    // The log keeps counted windows: per address the first failure and the limit (1, 10, 100, ... per window).
    const after = await tenantCensus(env.identities.clients, env.stack.stage, tenant.tenantId);
    const newEntries = (after['audit/entry'] ?? 0) - (before['audit/entry'] ?? 0);
    const bound = config.addresses * (2 + Math.floor(Math.log10(Math.max(1, perAddress / limit))));
    if (newEntries > bound)
      tally.fail(
        'otherViolations',
        `the brute force wrote ${newEntries} audit entries (at most ${bound} counted windows expected)`,
      );
    if (newEntries === 0)
      tally.fail('otherViolations', 'the brute force left no counted window in the audit log');
    const unexpected = censusDiff(before, after).filter(
      (line) => !/^(audit\/|auditHead\/|members\/apikey-failures|members\/apikey:)/.test(line),
    );
    if (unexpected.length > 0) tally.fail('otherViolations', `the attacks changed ${unexpected.join(', ')}`);
    connection.close();
    tally.note(
      `${credentials.length + stale.length} hostile credentials × ${requests.length} routes; brute force ${config.addresses * perAddress} guesses from ${config.addresses} addresses; ${config.unknownKeyIds} unknown key ids; ${newEntries} audit entries`,
    );

    const storeAfter = await storeCensus(env.identities.clients, env.stack.stage);
    for (const changed of changedTenants(storeBefore, storeAfter, (id) => id === tenant.tenantId)) {
      tally.fail('otherViolations', `tenant ${changed} changed during the token attacks`);
    }
  } finally {
    await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  }
  return tally.report();
}
