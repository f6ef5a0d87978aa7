/**
 * The OpenAPI 3.1 document, generated from the route table and its zod schemas (the one
 * source of truth, DESIGN.md). Nothing here is written by hand per route: paths,
 * parameters, bodies, success responses, the problem responses that apply, security and
 * the permission each route needs all follow from `routes`.
 *
 * `GET /openapi.json` serves it, computed once per cold start; `docs/openapi.json` is the
 * committed copy (`npm run openapi` regenerates it, and a unit test fails when it drifts).
 */
import { z } from 'zod';
import { maxRequestBodyBytes } from '#shared/config/product';
import { tenantIdPattern } from '#shared/tenancy/tenant-id';
import { agentReasonHeader } from './middleware';
import { problemContentType, problemTypeBase } from './problem';
import type { RouteDefinition } from './route-definition';
import { problemResponse } from './schemas/common';

/** The API's version; a unit test keeps it equal to package.json's. */
export const apiVersion = '0.1.0';

export const openApiVersion = '3.1.1';
export const jsonSchemaDialect = 'https://spec.openapis.org/oas/3.1/dialect/base';

type JsonSchema = Record<string, unknown>;
type JsonObject = Record<string, unknown>;

export interface OpenApiDocument {
  readonly openapi: string;
  readonly jsonSchemaDialect: string;
  readonly info: JsonObject;
  readonly servers: readonly JsonObject[];
  readonly tags: readonly JsonObject[];
  readonly paths: Record<string, Record<string, JsonObject>>;
  readonly components: Record<string, Record<string, JsonObject>>;
}

/**
 * JSON Schemas (2020-12) of zod schemas for one document. Schemas that zod puts under
 * `$defs` (those with a `.meta({ id })`, and recursive ones) become named component
 * schemas, so every `$ref` resolves against the document; one id with two shapes fails.
 */
class ComponentSchemas {
  readonly named = new Map<string, JsonSchema>();

  of(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const generated = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
    const { $schema: _dialect, $defs, ...rest } = relocateRefs(generated) as JsonSchema;
    for (const [id, definition] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      this.add(id, definition);
    }
    return rest;
  }

  add(id: string, definition: JsonSchema): void {
    const existing = this.named.get(id);
    if (existing && JSON.stringify(existing) !== JSON.stringify(definition)) {
      throw new Error(
        `schema id ${id} has two different shapes (input and output, or two schemas): give each its own .meta({ id })`,
      );
    }
    this.named.set(id, definition);
  }
}

/** Points zod's `#/$defs/<id>` references at `#/components/schemas/<id>`. */
function relocateRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relocateRefs);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key,
      key === '$ref' && typeof child === 'string' && child.startsWith('#/$defs/')
        ? `#/components/schemas/${child.slice('#/$defs/'.length)}`
        : relocateRefs(child),
    ]),
  );
}

/** The problem details every error response carries (RFC 9457, API-1, API-5). */
const problemSchema = problemResponse
  .extend({
    errors: z
      .array(
        z.object({
          in: z.enum(['path', 'query', 'body']),
          pointer: z.string().meta({ description: 'RFC 6901 JSON pointer to the offending field.' }),
          detail: z.string(),
        }),
      )
      .optional()
      .meta({ description: 'Validation errors, one per offending field (400 validation-failed).' }),
  })
  .loose()
  .meta({
    description: `RFC 9457 problem details. \`type\` is ${problemTypeBase}<code>; \`code\` is stable; \`requestId\` names the request in the logs.`,
  });

interface ProblemResponse {
  readonly name: string;
  readonly status: string;
  readonly description: string;
  readonly retryAfter?: boolean;
}

const problems = {
  badRequest: {
    name: 'BadRequest',
    status: '400',
    description: 'Malformed or invalid input (validation-failed, malformed-request); nothing was changed.',
  },
  unauthorized: { name: 'Unauthorized', status: '401', description: 'No valid access token or API key.' },
  forbidden: {
    name: 'Forbidden',
    status: '403',
    description:
      'The caller lacks the permission of this operation (or a rule such as maker-checker refuses it).',
  },
  notFound: {
    name: 'NotFound',
    status: '404',
    description: 'No such item in the caller’s tenant (another tenant’s items are indistinguishable).',
  },
  conflict: {
    name: 'Conflict',
    status: '409',
    description: 'The change conflicts with the current state, or an identical request is still running.',
    retryAfter: true,
  },
  preconditionFailed: {
    name: 'PreconditionFailed',
    status: '412',
    description: 'If-Match does not name the current version: read the item again and retry.',
  },
  payloadTooLarge: {
    name: 'PayloadTooLarge',
    status: '413',
    description: `The request body exceeds ${maxRequestBodyBytes} bytes.`,
  },
  unsupportedMediaType: {
    name: 'UnsupportedMediaType',
    status: '415',
    description: 'The request body must be application/json.',
  },
  unprocessable: {
    name: 'Unprocessable',
    status: '422',
    description:
      "Well-formed, but not acceptable: this Idempotency-Key was already used for a different request, or the body names something the tenant does not have or a value its rules refuse; the problem's code says which (idempotency-key-reused, counterparty-not-found, retention-below-minimum).",
  },
  preconditionRequired: {
    name: 'PreconditionRequired',
    status: '428',
    description: 'An update needs If-Match with the ETag of the version it was made from.',
  },
  tooManyRequests: {
    name: 'TooManyRequests',
    status: '429',
    description: 'Throttled; retry later.',
    retryAfter: true,
  },
  serverError: {
    name: 'ServerError',
    status: '5XX',
    description: 'An internal or gateway error; the body carries no internals.',
    retryAfter: true,
  },
} as const satisfies Record<string, ProblemResponse>;

const tenantHeader = 'X-Strongroom-Tenant';

/** Whether a route is an update that must carry If-Match (API-3). */
export function requiresIfMatch(route: RouteDefinition): boolean {
  const declared = 'requiresIfMatch' in route && route.requiresIfMatch === true;
  return declared || route.method === 'PUT' || route.method === 'PATCH';
}

function ref(kind: 'schemas' | 'responses' | 'parameters' | 'headers', name: string): JsonObject {
  return { $ref: `#/components/${kind}/${name}` };
}

/** One parameter per property of a route's params or query object schema. */
function parametersOf(
  route: RouteDefinition,
  where: 'path' | 'query',
  schema: z.ZodType | undefined,
  schemas: ComponentSchemas,
): JsonObject[] {
  if (!schema) return [];
  const object = schemas.of(schema, 'input');
  const properties = object.properties as Record<string, JsonSchema> | undefined;
  if (object.type !== 'object' || !properties) {
    throw new Error(`route ${route.id}: the ${where} schema must be an object`);
  }
  const required = new Set((object.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: propertySchema,
    };
  });
}

function successResponse(route: RouteDefinition, withEtag: boolean, schemas: ComponentSchemas): JsonObject {
  const contentType = route.responseContentType ?? 'application/json';
  const schema = route.response ? schemas.of(route.response, 'output') : { type: 'string' };
  const headers: JsonObject = {
    ...(withEtag ? { ETag: ref('headers', 'ETag') } : {}),
    ...(route.successStatus === 201 ? { Location: ref('headers', 'Location') } : {}),
  };
  return {
    description: route.successStatus === 201 ? 'Created.' : 'OK.',
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(route.successStatus === 204 ? {} : { content: { [contentType]: { schema } } }),
  };
}

function operationOf(
  route: RouteDefinition,
  allRoutes: readonly RouteDefinition[],
  schemas: ComponentSchemas,
): JsonObject {
  const isPublic = route.permission === 'public';
  const ifMatch = requiresIfMatch(route);
  // Reads of an item that has updates return its ETag, so a client can send If-Match.
  const withEtag = ifMatch || allRoutes.some((other) => other.path === route.path && requiresIfMatch(other));
  const writes = route.method !== 'GET';

  const parameters = [
    ...parametersOf(route, 'path', route.params, schemas),
    ...parametersOf(route, 'query', route.query, schemas),
    ...(isPublic ? [] : [ref('parameters', 'TenantHeader')]),
    ...(route.method === 'POST' ? [ref('parameters', 'IdempotencyKey')] : []),
    ...(ifMatch ? [ref('parameters', 'IfMatch')] : []),
    ...(writes && route.principals.includes('agent') ? [ref('parameters', 'AgentReason')] : []),
  ];

  const applicable: ProblemResponse[] = [
    problems.badRequest,
    ...(isPublic ? [] : [problems.unauthorized, problems.forbidden]),
    ...(route.params ? [problems.notFound] : []),
    ...(writes ? [problems.conflict] : []),
    ...(ifMatch ? [problems.preconditionFailed] : []),
    ...(route.body ? [problems.payloadTooLarge, problems.unsupportedMediaType] : []),
    ...(route.method === 'POST' || route.body ? [problems.unprocessable] : []),
    ...(ifMatch ? [problems.preconditionRequired] : []),
    problems.tooManyRequests,
    problems.serverError,
  ];

  const security: JsonObject[] = [];
  if (route.principals.some((kind) => kind === 'user' || kind === 'operator'))
    security.push({ bearerJwt: [] });
  if (route.principals.some((kind) => kind === 'apiKey' || kind === 'agent')) security.push({ apiKey: [] });

  return {
    operationId: route.id,
    summary: route.summary,
    description: isPublic
      ? 'Public: no credentials needed.'
      : `Needs the \`${route.permission}\` permission; callers: ${route.principals.join(', ')}.`,
    tags: [route.group],
    'x-strongroom-permission': route.permission,
    'x-strongroom-principals': [...route.principals],
    security,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemas.of(route.body, 'input') } },
          },
        }
      : {}),
    responses: {
      [String(route.successStatus)]: successResponse(route, withEtag, schemas),
      ...Object.fromEntries(applicable.map((problem) => [problem.status, ref('responses', problem.name)])),
    },
  };
}

function componentResponses(): Record<string, JsonObject> {
  return Object.fromEntries(
    Object.values(problems).map((problem: ProblemResponse) => [
      problem.name,
      {
        description: problem.description,
        ...(problem.retryAfter ? { headers: { 'Retry-After': ref('headers', 'RetryAfter') } } : {}),
        content: { [problemContentType]: { schema: ref('schemas', 'Problem') } },
      },
    ]),
  );
}

/** Builds the document for a route table; callers pass the live one, `routes`. */
export function buildOpenApiDocument(routeTable: readonly RouteDefinition[]): OpenApiDocument {
  const schemas = new ComponentSchemas();
  schemas.add('Problem', schemas.of(problemSchema, 'output'));
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routeTable) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, JsonObject>)[route.method.toLowerCase()] = operationOf(
      route,
      routeTable,
      schemas,
    );
  }

  return {
    openapi: openApiVersion,
    jsonSchemaDialect,
    info: {
      title: 'Strongroom API',
      version: apiVersion,
      summary: 'Security-first finance backend: invoices, counterparties, payments, approvals, audit.',
      description: [
        'Every route declares one permission (`x-strongroom-permission`). Errors are RFC 9457 problem details',
        '(`application/problem+json`) with a stable `code`. Money is integer minor units. Every POST honours',
        '`Idempotency-Key`; updates need `If-Match` with the `ETag` (`"v<version>"`) of the version read.',
        `A person in several tenants names one with \`${tenantHeader}\`.`,
      ].join('\n'),
      license: { name: 'UNLICENSED', identifier: 'LicenseRef-UNLICENSED' },
    },
    servers: [
      {
        url: 'https://{apiHost}',
        description: 'Your deployment (the API Gateway stage URL or its custom domain).',
        variables: { apiHost: { default: 'api.strongroom.example' } },
      },
      { url: 'http://127.0.0.1:3000', description: 'The local runtime (`npm start`).' },
    ],
    tags: [...new Set(routeTable.map((route) => route.group))].map((name) => ({ name })),
    paths,
    components: {
      schemas: Object.fromEntries([...schemas.named].sort(([a], [b]) => a.localeCompare(b))),
      responses: componentResponses(),
      parameters: {
        TenantHeader: {
          name: tenantHeader,
          in: 'header',
          required: false,
          description: 'The tenant to act in, for a person who belongs to more than one.',
          schema: { type: 'string', pattern: tenantIdPattern.source },
        },
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'Makes a retry safe (API-3): the same key with the same body replays the first response; with another body it is a 422.',
          schema: { type: 'string', pattern: '^[!-~]{1,128}$' },
        },
        IfMatch: {
          name: 'If-Match',
          in: 'header',
          required: true,
          description:
            'The ETag of the version the update was made from, e.g. `"v3"` (428 without it, 412 when stale).',
          schema: { type: 'string', pattern: '^\\s*(W/)?"[^"]*"(\\s*,\\s*(W/)?"[^"]*")*\\s*$' },
        },
        AgentReason: {
          name: agentReasonHeader,
          in: 'header',
          required: false,
          description: 'Required of agent API keys on every change: why the agent makes it (AZ-4).',
          schema: { type: 'string', minLength: 1, maxLength: 1000 },
        },
      },
      headers: {
        ETag: {
          description: 'The item’s version as an entity tag, `"v<version>"`; send it back in If-Match.',
          schema: { type: 'string', pattern: '^"v[1-9][0-9]*"$' },
        },
        Location: { description: 'Path of the created item.', schema: { type: 'string' } },
        RetryAfter: {
          description: 'Seconds to wait before retrying.',
          schema: { type: 'integer', minimum: 0 },
        },
      },
      securitySchemes: {
        bearerJwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A Cognito access token (valid at most 60 minutes).',
        },
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'An integration or agent API key, sent in the Authorization header.',
        },
      },
    },
  };
}

/** The document as committed at docs/openapi.json: two-space JSON and a final newline. */
export function openApiJson(document: OpenApiDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
