/** Public routes: liveness, RFC 9116 security.txt (VUL-1) and the OpenAPI document. */
import { z } from 'zod';
import type { RouteDefinition } from '../route-definition';
import { healthResponse } from '../schemas/common';

/** The outline of the OpenAPI 3.1 document; shared/http/openapi.ts builds it from this table. */
const openApiDocumentResponse = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

export const publicRoutes: readonly RouteDefinition[] = [
  {
    id: 'getHealth',
    method: 'GET',
    path: '/health',
    group: 'public',
    summary: 'Liveness of the API.',
    permission: 'public',
    principals: ['public'],
    response: healthResponse,
    successStatus: 200,
  },
  {
    id: 'getSecurityTxt',
    method: 'GET',
    path: '/.well-known/security.txt',
    group: 'public',
    summary: 'RFC 9116 security contact information.',
    permission: 'public',
    principals: ['public'],
    successStatus: 200,
    responseContentType: 'text/plain; charset=utf-8',
  },
  {
    id: 'getOpenApiDocument',
    method: 'GET',
    path: '/openapi.json',
    group: 'public',
    summary: 'This API described in OpenAPI 3.1, generated from the route table.',
    permission: 'public',
    principals: ['public'],
    response: openApiDocumentResponse,
    successStatus: 200,
    responseContentType: 'application/json',
  },
];
