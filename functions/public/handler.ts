/** Public routes: liveness, the RFC 9116 security.txt (VUL-1) and the OpenAPI document. */
import { securityTxt } from '#shared/config/product';
import { loadRuntimeConfig } from '#shared/config/runtime';
import { buildOpenApiDocument } from '#shared/http/openapi';
import { createRouteGroupHandler } from '#shared/http/route-handler';
import { routes } from '#shared/http/routes';

const config = loadRuntimeConfig();
if (!Number.isFinite(Date.parse(config.securityTxtExpires))) {
  throw new Error(
    `SECURITY_TXT_EXPIRES must be an ISO date, got ${JSON.stringify(config.securityTxtExpires)}`,
  );
}

// Expires is computed when the stack is synthesized or the local runtime starts.
const securityTxtBody = [
  `Contact: ${securityTxt.contact}`,
  `Expires: ${config.securityTxtExpires}`,
  `Policy: ${securityTxt.policy}`,
  `Preferred-Languages: ${securityTxt.preferredLanguages}`,
  `Canonical: ${securityTxt.canonical}`,
  '',
].join('\n');

// Generated from the route table once per cold start; every request gets the same bytes.
const openApiDocument = JSON.stringify(buildOpenApiDocument(routes));

export const handler = createRouteGroupHandler('public', {
  getHealth: async () => ({ body: { status: 'ok' } }),
  getSecurityTxt: async () => ({ text: securityTxtBody }),
  getOpenApiDocument: async () => ({ text: openApiDocument }),
});
