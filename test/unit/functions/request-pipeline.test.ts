/**
 * The middleware stack as a caller sees it, called directly with API Gateway events.
 * Everything here is refused before any data access, so no database is involved; the
 * integration tests prove the same refusals change nothing in DynamoDB Local.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '#shared/auth/principal';
import { securityHeaders } from '#shared/http/security-headers';
import { lambdaContext, proxyEvent } from '#test/support/events';

type Handler = (
  event: APIGatewayProxyEvent,
  context: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyResult>;
let invoices: Handler;
let publicRoutes: Handler;

beforeAll(async () => {
  Object.assign(process.env, {
    STRONGROOM_MODE: 'local',
    STRONGROOM_STAGE: 'unit',
    AWS_REGION: 'eu-central-1',
    DYNAMODB_ENDPOINT: 'http://127.0.0.1:9',
    STRONGROOM_DATA_DIR: '/nonexistent',
    SECURITY_TXT_EXPIRES: new Date(Date.now() + 180 * 86_400_000).toISOString(),
    STRONGROOM_LOG_LEVEL: 'SILENT',
  });
  invoices = (await import('#functions/invoices/handler')).handler as unknown as Handler;
  publicRoutes = (await import('#functions/public/handler')).handler as unknown as Handler;
});

const accountant: Principal = { kind: 'user', actorId: 'usr_a', tenantId: 't1', roles: ['accountant'] };
const auditor: Principal = { kind: 'user', actorId: 'usr_b', tenantId: 't1', roles: ['auditor'] };
const validBody = {
  currency: 'EUR',
  lines: [{ description: 'Consulting', quantity: '1', unitPrice: 1000, vatRate: 2000 }],
};

function post(
  body: string,
  headers: Record<string, string> = { 'Content-Type': 'application/json' },
  principal = accountant,
) {
  return invoices(
    proxyEvent({ method: 'POST', resource: '/invoices', body, headers, principal }),
    lambdaContext(),
  );
}

function expectProblem(response: APIGatewayProxyResult, status: number, code: string) {
  expect(response.statusCode).toBe(status);
  expect(response.headers?.['Content-Type']).toBe('application/problem+json');
  const body = JSON.parse(response.body);
  expect(body).toMatchObject({ status, code, type: expect.stringContaining(code) });
  for (const [name, value] of Object.entries(securityHeaders)) expect(response.headers?.[name]).toBe(value);
  return body;
}

describe('[API-1][API-2] hostile requests get a 4xx problem, never a 500', () => {
  it.each([
    ['malformed JSON', '{"currency":', 400, 'malformed-request'],
    ['an unknown field', JSON.stringify({ ...validBody, admin: true }), 400, 'validation-failed'],
    [
      'deep nesting',
      `{"currency":"EUR","lines":${'['.repeat(20)}${']'.repeat(20)}}`,
      400,
      'malformed-request',
    ],
    ['a lone surrogate', '{"currency":"EUR","reference":"\\ud800","lines":[]}', 400, 'malformed-request'],
    [
      'a negative amount',
      JSON.stringify({ ...validBody, lines: [{ ...validBody.lines[0], unitPrice: -1 }] }),
      400,
      'validation-failed',
    ],
    [
      'a fractional amount',
      JSON.stringify({ ...validBody, lines: [{ ...validBody.lines[0], unitPrice: 10.5 }] }),
      400,
      'validation-failed',
    ],
    ['an unknown currency', JSON.stringify({ ...validBody, currency: 'XXX' }), 400, 'validation-failed'],
    [
      'a body over the limit',
      JSON.stringify({ ...validBody, reference: 'x'.repeat(70_000) }),
      413,
      'payload-too-large',
    ],
  ])('refuses %s', async (_name, body, status, code) => {
    expectProblem(await post(body), status, code);
  });

  it('names the offending field with a JSON pointer', async () => {
    const body = JSON.stringify({ ...validBody, lines: [{ ...validBody.lines[0], unitPrice: -1 }] });
    const problem = expectProblem(await post(body), 400, 'validation-failed');
    expect(problem.errors).toContainEqual(
      expect.objectContaining({ in: 'body', pointer: '/lines/0/unitPrice' }),
    );
  });

  it('refuses a wrong content type with 415', async () => {
    expectProblem(
      await post(JSON.stringify(validBody), { 'Content-Type': 'text/plain' }),
      415,
      'unsupported-media-type',
    );
  });

  it('refuses a bad path id and unexpected query parameters', async () => {
    const badId = await invoices(
      proxyEvent({
        method: 'GET',
        resource: '/invoices/{id}',
        pathParameters: { id: '../x' },
        principal: accountant,
      }),
      lambdaContext(),
    );
    expectProblem(badId, 400, 'validation-failed');
    const badQuery = await invoices(
      proxyEvent({ method: 'GET', resource: '/invoices', query: { limit: '1000' }, principal: accountant }),
      lambdaContext(),
    );
    expectProblem(badQuery, 400, 'validation-failed');
  });
});

describe('[AZ-1] permissions are checked before the request is read', () => {
  it('refuses a caller without the permission with 403, even with a broken body', async () => {
    expectProblem(await post('{', undefined, auditor), 403, 'forbidden');
  });

  it('refuses a request that reached the handler without a principal with 401', async () => {
    const response = await invoices(
      proxyEvent({ method: 'GET', resource: '/invoices', principal: undefined }),
      lambdaContext(),
    );
    expectProblem(response, 401, 'unauthorized');
  });
});

describe('[VUL-1] public routes', () => {
  it('serves health with the security headers', async () => {
    const response = await publicRoutes(proxyEvent({ method: 'GET', resource: '/health' }), lambdaContext());
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ status: 'ok' });
    for (const [name, value] of Object.entries(securityHeaders)) expect(response.headers?.[name]).toBe(value);
  });

  it('serves an RFC 9116 security.txt that expires in under a year', async () => {
    const response = await publicRoutes(
      proxyEvent({ method: 'GET', resource: '/.well-known/security.txt' }),
      lambdaContext(),
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Content-Type']).toMatch(/^text\/plain/);
    const fields = Object.fromEntries(
      response.body
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
    );
    expect(Object.keys(fields)).toEqual(['Contact', 'Expires', 'Policy', 'Preferred-Languages', 'Canonical']);
    const expires = Date.parse(fields.Expires ?? '');
    expect(expires).toBeGreaterThan(Date.now());
    expect(expires - Date.now()).toBeLessThan(365 * 86_400_000);
    expect(fields.Canonical).toMatch(/^https:\/\/.+\/\.well-known\/security\.txt$/);
  });
});

describe('[API-4] CORS on responses', () => {
  it('names a configured origin and stays silent for others, errors included', async () => {
    const { createRouteGroupHandler } = await import('#shared/http/route-handler');
    const { routes } = await import('#shared/http/routes');
    const operations = Object.fromEntries(
      routes
        .filter((route) => route.group === 'public')
        .map((route) => [route.id, async () => ({ body: {} })]),
    );
    const handler = createRouteGroupHandler('public', operations, ['https://app.example']);
    const allowed = await handler(
      proxyEvent({ method: 'GET', resource: '/health', headers: { Origin: 'https://app.example' } }),
      lambdaContext(),
    );
    expect(allowed.headers?.['Access-Control-Allow-Origin']).toBe('https://app.example');
    expect(allowed.headers?.Vary).toBe('Origin');
    const foreign = await handler(
      proxyEvent({ method: 'GET', resource: '/health', headers: { Origin: 'https://evil.example' } }),
      lambdaContext(),
    );
    expect(foreign.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
    const refused = await invoices(
      proxyEvent({ method: 'GET', resource: '/invoices', headers: { Origin: 'https://evil.example' } }),
      lambdaContext(),
    );
    expect(refused.statusCode).toBe(401);
    expect(refused.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
  });
});

describe('[AZ-4][API-3] write headers', () => {
  const agent: Principal = { kind: 'agent', actorId: 'key_agent', tenantId: 't1', roles: ['agent'] };

  it('refuses an agent write without a stated reason', async () => {
    const response = await invoices(
      proxyEvent({
        method: 'POST',
        resource: '/invoices',
        body: JSON.stringify(validBody),
        headers: { 'Content-Type': 'application/json' },
        principal: agent,
      }),
      lambdaContext(),
    );
    const problem = expectProblem(response, 400, 'validation-failed');
    expect(problem.detail).toMatch(/x-strongroom-reason/);
  });

  it('refuses a malformed Idempotency-Key', async () => {
    const response = await post(JSON.stringify(validBody), {
      'Content-Type': 'application/json',
      'Idempotency-Key': 'has spaces in it',
    });
    expectProblem(response, 400, 'validation-failed');
  });
});
