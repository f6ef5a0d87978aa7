/**
 * The OpenAPI 3.1 document generated from the live route table: valid against the
 * OpenAPI 3.1 schema, complete (every route, its permission, its security, the headers
 * and problem responses that apply), every $ref resolvable, served by GET /openapi.json,
 * and identical to the committed docs/openapi.json, so the document never drifts.
 */
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openApiFile } from '#infra/openapi';
import {
  apiVersion,
  buildOpenApiDocument,
  jsonSchemaDialect,
  type OpenApiDocument,
  requiresIfMatch,
} from '#shared/http/openapi';
import type { RouteDefinition } from '#shared/http/route-definition';
import { routes } from '#shared/http/routes';
import { securityHeaders } from '#shared/http/security-headers';
import { lambdaContext, proxyEvent } from '#test/support/events';

const document = buildOpenApiDocument(routes);
type Operation = Record<string, unknown> & {
  operationId: string;
  parameters?: { $ref?: string; name?: string; in?: string; required?: boolean }[];
  responses: Record<string, unknown>;
  security: Record<string, unknown>[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
};

function operation(path: string, method: string): Operation {
  const found = document.paths[path]?.[method.toLowerCase()];
  if (!found) throw new Error(`no operation for ${method} ${path}`);
  return found as Operation;
}

function parameterRefs(op: Operation): string[] {
  return (op.parameters ?? []).flatMap((parameter) => (parameter.$ref ? [parameter.$ref] : []));
}

/** Resolves a local JSON pointer (`#/components/...`) against the document. */
function resolve(pointer: string, within: OpenApiDocument = document): unknown {
  if (!pointer.startsWith('#/')) return undefined;
  let node: unknown = within;
  for (const token of pointer.slice(2).split('/')) {
    const key = token.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') found.push(child);
      else refsIn(child, found);
    }
  }
  return found;
}

describe('[API-1] the OpenAPI 3.1 document', () => {
  it('is a valid OpenAPI 3.1 document with the 3.1 JSON Schema dialect', async () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.jsonSchemaDialect).toBe('https://spec.openapis.org/oas/3.1/dialect/base');
    expect(jsonSchemaDialect).toBe(document.jsonSchemaDialect);
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('has the version of package.json', () => {
    const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    expect(apiVersion).toBe(packageJson.version);
  });

  it('describes every route once, with its id as operationId', () => {
    const operationIds = Object.values(document.paths).flatMap((methods) =>
      Object.values(methods).map((op) => (op as Operation).operationId),
    );
    expect(operationIds.sort()).toEqual(routes.map((route) => route.id).sort());
    for (const route of routes) {
      const op = operation(route.path, route.method);
      expect(op.operationId).toBe(route.id);
      expect(op.summary).toBe(route.summary);
      expect(op.responses[String(route.successStatus)], route.id).toBeDefined();
    }
  });

  it('declares exactly the path parameters of each path template', () => {
    for (const route of routes) {
      const templated = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      const declared = (operation(route.path, route.method).parameters ?? [])
        .filter((parameter) => parameter.in === 'path')
        .map((parameter) => parameter.name)
        .sort();
      expect(declared, route.id).toEqual(templated);
    }
  });

  it('resolves every $ref inside the document and embeds no schema of its own ($defs)', () => {
    const refs = refsIn(document);
    expect(refs.length).toBeGreaterThan(routes.length);
    for (const ref of new Set(refs)) expect(resolve(ref), ref).toBeDefined();
    expect(JSON.stringify(document)).not.toContain('"$defs"');
    expect(JSON.stringify(document)).not.toContain('"$schema"');
  });

  it('[AZ-1] names each route’s permission and its security schemes', () => {
    for (const route of routes) {
      const op = operation(route.path, route.method);
      expect(op['x-strongroom-permission'], route.id).toBe(route.permission);
      if (route.permission === 'public') {
        expect(op.security, route.id).toEqual([]);
        continue;
      }
      const schemes = op.security.flatMap((requirement) => Object.keys(requirement));
      expect(schemes.length, route.id).toBeGreaterThan(0);
      if (route.principals.includes('user')) expect(schemes, route.id).toContain('bearerJwt');
      if (route.principals.includes('apiKey')) expect(schemes, route.id).toContain('apiKey');
      expect(parameterRefs(op), route.id).toContain('#/components/parameters/TenantHeader');
      for (const status of ['401', '403'])
        expect(op.responses[status], `${route.id} ${status}`).toBeDefined();
    }
    expect(document.components.securitySchemes).toMatchObject({
      bearerJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      apiKey: { type: 'apiKey', in: 'header', name: 'Authorization' },
    });
  });

  it('[API-3] documents Idempotency-Key on every POST and If-Match on every update', () => {
    for (const route of routes) {
      const op = operation(route.path, route.method);
      const refs = parameterRefs(op);
      expect(refs.includes('#/components/parameters/IdempotencyKey'), route.id).toBe(route.method === 'POST');
      expect(refs.includes('#/components/parameters/IfMatch'), route.id).toBe(requiresIfMatch(route));
      if (requiresIfMatch(route)) {
        expect(op.responses['412'], route.id).toEqual({ $ref: '#/components/responses/PreconditionFailed' });
        expect(op.responses['428'], route.id).toEqual({
          $ref: '#/components/responses/PreconditionRequired',
        });
      }
    }
    const update = routes.find((route) => route.id === 'updateCounterparty');
    expect(update && requiresIfMatch(update)).toBe(true);
    expect(document.components.parameters?.IfMatch).toMatchObject({ in: 'header', required: true });
  });

  it('answers problems as application/problem+json with the Problem schema', () => {
    for (const route of routes) {
      const op = operation(route.path, route.method);
      for (const status of ['400', '429', '5XX'])
        expect(op.responses[status], `${route.id} ${status}`).toBeDefined();
      if (route.body) {
        for (const status of ['413', '415'])
          expect(op.responses[status], `${route.id} ${status}`).toBeDefined();
      }
      if (route.params) expect(op.responses['404'], route.id).toBeDefined();
    }
    for (const response of Object.values(document.components.responses ?? {})) {
      expect(response).toMatchObject({
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      });
    }
    expect(document.components.schemas?.Problem).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['type', 'title', 'status', 'code']),
    });
  });

  it('takes parameters and bodies from the zod schemas', () => {
    const list = operation('/counterparties', 'GET');
    expect(list.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'kind', in: 'query', required: false }),
        expect.objectContaining({ name: 'limit', in: 'query', required: false }),
      ]),
    );
    const get = operation('/counterparties/{id}', 'GET');
    expect(get.parameters).toContainEqual(
      expect.objectContaining({ name: 'id', in: 'path', required: true, schema: expect.any(Object) }),
    );
    expect(get.responses['200']).toMatchObject({ headers: { ETag: { $ref: '#/components/headers/ETag' } } });
    const body = operation('/counterparties', 'POST').requestBody?.content['application/json']?.schema;
    // API-1 in the contract too: unknown fields are refused.
    expect(body).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: expect.arrayContaining(['kind', 'name', 'address']),
    });
    expect(operation('/.well-known/security.txt', 'GET').responses['200']).toMatchObject({
      content: { 'text/plain; charset=utf-8': { schema: { type: 'string' } } },
    });
  });
});

describe('schemas with an id or a cycle', () => {
  const base = {
    group: 'public',
    summary: 'Test route.',
    permission: 'public',
    principals: ['public'],
    successStatus: 200,
  } as const;

  it('become named component schemas that every $ref resolves to', async () => {
    const node: z.ZodType = z.lazy(() => z.object({ name: z.string(), children: z.array(node) }));
    const label = z.string().max(10).meta({ id: 'Label' });
    const table: RouteDefinition[] = [
      { ...base, id: 'tree', method: 'GET', path: '/tree', response: z.object({ root: node, label }) },
      {
        ...base,
        id: 'labels',
        method: 'GET',
        path: '/labels',
        response: z.object({ labels: z.array(label) }),
      },
    ];
    const built = buildOpenApiDocument(table);
    const text = JSON.stringify(built);
    expect(text).not.toContain('#/$defs/');
    expect(built.components.schemas?.Label).toEqual({ type: 'string', maxLength: 10 });
    for (const ref of new Set(refsIn(built))) expect(resolve(ref, built), ref).toBeDefined();
    expect(
      (await new Validator().validate(structuredClone(built) as unknown as Record<string, unknown>)).valid,
    ).toBe(true);
  });

  it('refuses one id with two shapes', () => {
    const table: RouteDefinition[] = [
      {
        ...base,
        id: 'a',
        method: 'GET',
        path: '/a',
        response: z.object({ x: z.string().meta({ id: 'Thing' }) }),
      },
      {
        ...base,
        id: 'b',
        method: 'GET',
        path: '/b',
        response: z.object({ x: z.number().meta({ id: 'Thing' }) }),
      },
    ];
    expect(() => buildOpenApiDocument(table)).toThrow(/schema id Thing has two different shapes/);
  });
});

describe('docs/openapi.json', () => {
  it('is what the route table generates (run `npm run openapi` after changing routes)', () => {
    let committed: unknown;
    try {
      committed = JSON.parse(readFileSync(openApiFile, 'utf8'));
    } catch {
      committed = undefined;
    }
    const generated = JSON.parse(JSON.stringify(document)) as OpenApiDocument;
    expect(
      committed,
      'docs/openapi.json is missing or differs from the routes and schemas: run `npm run openapi` and commit it',
    ).toEqual(generated);
  });
});

describe('[VUL-1] GET /openapi.json', () => {
  type Handler = (
    event: APIGatewayProxyEvent,
    context: ReturnType<typeof lambdaContext>,
  ) => Promise<APIGatewayProxyResult>;
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
    publicRoutes = (await import('#functions/public/handler')).handler as unknown as Handler;
  });

  it('serves the generated document to anyone, with the security headers', async () => {
    const response = await publicRoutes(
      proxyEvent({ method: 'GET', resource: '/openapi.json' }),
      lambdaContext(),
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Content-Type']).toBe('application/json');
    for (const [name, value] of Object.entries(securityHeaders)) expect(response.headers?.[name]).toBe(value);
    expect(JSON.parse(response.body)).toEqual(JSON.parse(JSON.stringify(document)));
  });
});
