/**
 * GET /openapi.json through the local gateway: public (no token), JSON, the security
 * headers, and the document the route table generates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '#shared/http/openapi';
import { routes } from '#shared/http/routes';
import { securityHeaders } from '#shared/http/security-headers';
import { startTestGateway, type TestGateway } from './support/gateway';

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
});

afterAll(async () => {
  await gateway?.close();
});

describe('[API-2] GET /openapi.json', () => {
  it('serves the generated OpenAPI 3.1 document without credentials', async () => {
    const response = await gateway.call('/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    for (const [name, value] of Object.entries(securityHeaders))
      expect(response.headers.get(name), name).toBe(value);
    const document = (await response.json()) as { openapi: string };
    expect(document.openapi).toMatch(/^3\.1\./);
    expect(document).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument(routes))));
  });

  it('refuses methods the route table does not declare', async () => {
    const response = await gateway.call('/openapi.json', { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });
});
