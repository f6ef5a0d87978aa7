/**
 * The local runtime end to end over real HTTP: the gateway built from routes.ts, the
 * authorizer with real cognito-local tokens and the real members table in DynamoDB Local,
 * and the gateway's own problem responses. No mocks.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables } from '#infra/local/bootstrap-tables';
import { cognitoLocalClient } from '#infra/local/cognito-app-client';
import { policyDecision } from '#infra/local/gateway';
import { seedDemoTenants } from '#infra/local/seed';
import { problemContentType } from '#shared/http/problem';
import { authorizerModule } from '#shared/http/routes';
import { securityHeaders } from '#shared/http/security-headers';
import { DataClients } from '#shared/store/dynamo';
import { MemberStore } from '#shared/store/members';
import { type BundledFunction, bundleFunction } from './support/bundled-function';
import { startTestGateway, type TestGateway } from './support/gateway';
import { demoUser, localRuntimeConfig, localStack } from './support/local-stack';
import {
  accessTokenClaims,
  decodeJwtPart,
  signWithCognitoLocalKey,
  tokenFor,
  withForgedSignature,
} from './support/tokens';

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
});

afterAll(async () => {
  await gateway?.close();
});

function expectSecurityHeaders(response: Response): void {
  for (const [name, value] of Object.entries(securityHeaders)) {
    expect(response.headers.get(name), name).toBe(value);
  }
}

async function expectProblem(response: Response, status: number, code: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe(problemContentType);
  expectSecurityHeaders(response);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code });
  expect(body.requestId).toBe(response.headers.get('x-amzn-requestid'));
}

describe('[API-2][API-5][LOG-1] the local gateway answers like API Gateway', () => {
  it('answers GET /health with 200 and the security headers', async () => {
    const response = await gateway.call('/health');
    expect(response.status).toBe(200);
    expectSecurityHeaders(response);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers an unknown path with a 404 problem', async () => {
    await expectProblem(await gateway.call('/no/such/path'), 404, 'not-found');
  });

  it('answers a known path with an undeclared method like an unknown path, as API Gateway does', async () => {
    await expectProblem(await gateway.call('/invoices', { method: 'DELETE' }), 404, 'not-found');
  });

  it('refuses a body over 10 MB with a 413 problem before any handler runs', async () => {
    const response = await gateway.call('/invoices', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(10 * 1024 * 1024 + 1),
    });
    await expectProblem(response, 413, 'payload-too-large');
  });

  it('answers a CORS preflight from the configured origin like the deployed API', async () => {
    const origin = localStack().allowedOrigins[0] ?? '';
    const response = await gateway.call('/invoices', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(origin);
    expect(response.headers.get('access-control-allow-headers')).toContain('Authorization');
    const stranger = await gateway.call('/invoices', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example' },
    });
    expect(stranger.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it('writes one access log line per request without tokens or bodies', async () => {
    const token = await tokenFor(demoUser('auditor').email);
    const response = await gateway.call('/invoices', { headers: { authorization: `Bearer ${token}` } });
    const requestId = response.headers.get('x-amzn-requestid');
    const entry = gateway.accessLog.find((each) => each.requestId === requestId);
    expect(entry).toMatchObject({
      method: 'GET',
      resource: '/invoices',
      status: response.status,
      tenantId: 'demo',
    });
    expect(entry?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(gateway.accessLog)).not.toContain(token.split('.')[2]);
  });

  it('hands the handler multi-value query parameters, so a repeated parameter is refused', async () => {
    const token = await tokenFor(demoUser('accountant').email);
    const response = await gateway.call('/invoices?limit=1&limit=2', {
      headers: { authorization: `Bearer ${token}` },
    });
    await expectProblem(response, 400, 'validation-failed');
  });
});

describe('[AUTH-6][AZ-3] authentication through the local authorizer', () => {
  it('issues Cognito-form access tokens from the local pool that last 60 minutes', async () => {
    const stack = localStack();
    expect(stack.userPoolId).toMatch(/^eu-central-1_[0-9A-Za-z]{9}$/);
    expect(stack.issuer).toBe(`https://cognito-idp.eu-central-1.amazonaws.com/${stack.userPoolId}`);
    const claims = decodeJwtPart(await tokenFor(demoUser('owner').email), 1);
    expect(claims).toMatchObject({ iss: stack.issuer, token_use: 'access', client_id: stack.clientId });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(60 * 60);
  });

  it('refuses a signed-in route without a token with a 401 problem', async () => {
    await expectProblem(await gateway.call('/invoices'), 401, 'unauthorized');
  });

  it('refuses a token whose signature is forged', async () => {
    const token = withForgedSignature(await tokenFor(demoUser('accountant').email));
    await expectProblem(
      await gateway.call('/invoices', { headers: { authorization: `Bearer ${token}` } }),
      401,
      'unauthorized',
    );
  });

  it('refuses an expired token signed with the pool key, and accepts the same token unexpired', async () => {
    const { subject } = demoUser('accountant');
    const now = Math.floor(Date.now() / 1000);
    const expired = await signWithCognitoLocalKey(
      accessTokenClaims(subject, { issuedAt: now - 7200, expiresAt: now - 3600 }),
    );
    await expectProblem(
      await gateway.call('/invoices', { headers: { authorization: `Bearer ${expired}` } }),
      401,
      'unauthorized',
    );
    // The control: same key and claims, a future expiry; so the 401 above is the expiry.
    const fresh = await signWithCognitoLocalKey(
      accessTokenClaims(subject, { issuedAt: now, expiresAt: now + 600 }),
    );
    const response = await gateway.call('/invoices', { headers: { authorization: `Bearer ${fresh}` } });
    expect(response.status).toBe(200);
  });

  it('lets a demo user with a valid token through to the invoice handler', async () => {
    const token = await tokenFor(demoUser('accountant').email);
    const response = await gateway.call('/invoices', { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expectSecurityHeaders(response);
    expect(await response.json()).toMatchObject({ items: expect.any(Array) });
  });

  it('refuses a member of another tenant who names demo in x-strongroom-tenant with a 403 problem', async () => {
    const token = await tokenFor(demoUser('owner', 'demo-two').email);
    const response = await gateway.call('/invoices', {
      headers: { authorization: `Bearer ${token}`, 'x-strongroom-tenant': 'demo' },
    });
    await expectProblem(response, 403, 'forbidden');
    const ownTenant = await gateway.call('/invoices', { headers: { authorization: `Bearer ${token}` } });
    expect(ownTenant.status).toBe(200);
  });

  describe('the authorizer as deployed', () => {
    let bundled: BundledFunction;

    beforeAll(async () => {
      bundled = await bundleFunction(authorizerModule);
    }, 120_000);

    afterAll(async () => {
      await bundled?.remove();
    });

    it('refuses a valid cognito-local token: in AWS only the pool’s own keys are trusted', async () => {
      const stack = localStack();
      const token = await tokenFor(demoUser('owner').email);
      const methodArn = `arn:aws:execute-api:${stack.region}:000000000000:strongroom/local/GET/invoices`;
      const event: APIGatewayRequestAuthorizerEvent = {
        type: 'REQUEST',
        methodArn,
        resource: '/invoices',
        path: '/invoices',
        httpMethod: 'GET',
        headers: { Authorization: `Bearer ${token}` },
        multiValueHeaders: { Authorization: [`Bearer ${token}`] },
        pathParameters: null,
        queryStringParameters: null,
        multiValueQueryStringParameters: null,
        stageVariables: null,
        requestContext: {} as APIGatewayRequestAuthorizerEvent['requestContext'],
      };
      const outcome = await bundled.invoke(event, {
        STRONGROOM_MODE: 'aws',
        STRONGROOM_STAGE: stack.stage,
        AWS_REGION: stack.region,
        COGNITO_USER_POOL_ID: stack.userPoolId,
        COGNITO_CLIENT_ID: stack.clientId,
        STRONGROOM_LOG_LEVEL: 'SILENT',
      });
      expect(outcome).toEqual({ error: 'Unauthorized' });
    });
  });
});

describe('demo seed', () => {
  it('can run again without duplicating users or members', async () => {
    const stack = localStack();
    const config = localRuntimeConfig(stack);
    const clients = new DataClients(config);
    const members = new MemberStore(stack.stage);
    const tableClient = DataClients.rawClient(config);
    await ensureTables(tableClient, stack.stage);
    tableClient.destroy();
    const again = await seedDemoTenants({
      cognito: cognitoLocalClient(stack.cognitoEndpoint, stack.region),
      userPoolId: stack.userPoolId,
      issuer: stack.issuer,
      clients,
      members,
      passwordsFile: stack.passwordsFile,
    });
    expect(again.map(({ email, subject, password }) => ({ email, subject, password }))).toEqual(
      stack.demoUsers.map(({ email, subject, password }) => ({ email, subject, password })),
    );
    for (const user of again) {
      const memberships = await members.findByIdentity(clients.platform(), user.identityId);
      expect(memberships).toEqual([
        expect.objectContaining({
          tenantId: user.tenantId,
          roles: [user.role],
          issuer: stack.issuer,
          status: 'active',
        }),
      ]);
    }
  });
});

describe('[DAT-2] demo seed after a purge', () => {
  it('skips a tenant that was purged and says so, seeding the others', async () => {
    const stack = localStack();
    const clients = new DataClients(localRuntimeConfig(stack));
    const suffix = randomBytes(4).toString('hex');
    const [gone, kept] = [`gone-${suffix}`, `kept-${suffix}`];
    const record = await clients.keyring.provision(gone);
    await clients.keyring.registry.replace(
      clients.platform(),
      { ...record, status: 'purged', purgedAt: new Date().toISOString(), version: record.version + 1 },
      record.version,
    );
    const dir = await mkdtemp(join(tmpdir(), 'strongroom-seed-'));
    const cognito = cognitoLocalClient(stack.cognitoEndpoint, stack.region);
    try {
      const lines: string[] = [];
      const seeded = await seedDemoTenants({
        cognito,
        userPoolId: stack.userPoolId,
        issuer: stack.issuer,
        clients,
        members: new MemberStore(stack.stage),
        passwordsFile: join(dir, 'demo-users.json'),
        tenants: { [gone]: ['owner'], [kept]: ['owner'] },
        log: (line) => lines.push(line),
      });
      expect(seeded.map((user) => user.tenantId)).toEqual([kept]);
      expect(lines).toEqual([`demo tenant ${gone} was purged (npm run purge); not seeding it again`]);
      expect(Object.keys(JSON.parse(await readFile(join(dir, 'demo-users.json'), 'utf8')))).toEqual([
        `owner@${kept}.strongroom.test`,
      ]);
      await expect(
        cognito.send(
          new AdminGetUserCommand({
            UserPoolId: stack.userPoolId,
            Username: `owner@${gone}.strongroom.test`,
          }),
        ),
      ).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('[SEC-1][API-4] local secrets and origins', () => {
  it('keeps the data folder 0700 and the demo passwords file 0600', async () => {
    const stack = localStack();
    expect((await stat(stack.dataDir)).mode & 0o777).toBe(0o700);
    expect((await stat(stack.passwordsFile)).mode & 0o777).toBe(0o600);
  });

  it('lets only configured browser origins call cognito-local', async () => {
    const stack = localStack();
    const initiateAuth = (origin: string) =>
      fetch(`${stack.cognitoEndpoint}/`, {
        method: 'POST',
        headers: {
          origin,
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
        },
        body: JSON.stringify({
          AuthFlow: 'USER_PASSWORD_AUTH',
          ClientId: stack.clientId,
          AuthParameters: {},
        }),
      });
    expect((await initiateAuth('https://evil.example')).status).toBe(403);
    const allowedOrigin = stack.allowedOrigins[0] ?? '';
    expect((await initiateAuth(allowedOrigin)).headers.get('access-control-allow-origin')).not.toBeNull();
  });
});

describe('policy evaluation of the local gateway', () => {
  const arn = 'arn:aws:execute-api:eu-central-1:000000000000:strongroom/local/GET/invoices';
  const result = (...statements: { Effect: string; Resource: string | string[] }[]) => ({
    principalId: 'usr_x',
    policyDocument: {
      Version: '2012-10-17',
      Statement: statements.map((statement) => ({ Action: 'execute-api:Invoke', ...statement })),
    },
  });

  it('allows what an Allow statement names, exactly or by wildcard', () => {
    expect(policyDecision(result({ Effect: 'Allow', Resource: arn }), arn)).toBe('allow');
    expect(
      policyDecision(result({ Effect: 'Allow', Resource: ['arn:aws:execute-api:*/local/*'] }), arn),
    ).toBe('allow');
  });

  it('denies when a Deny matches, when nothing matches, and calls a result without policy invalid', () => {
    expect(
      policyDecision(result({ Effect: 'Allow', Resource: arn }, { Effect: 'Deny', Resource: '*' }), arn),
    ).toBe('deny');
    expect(policyDecision(result({ Effect: 'Allow', Resource: `${arn}/other` }), arn)).toBe('deny');
    expect(policyDecision({ principalId: 'usr_x' }, arn)).toBe('invalid');
  });
});
