/**
 * `npm run openapi`: writes docs/openapi.json from the live route table. Run it after
 * adding or changing a route; a unit test fails while the committed file differs.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildOpenApiDocument, openApiJson } from '#shared/http/openapi';
import { routes } from '#shared/http/routes';

export const openApiFile = path.join(import.meta.dirname, '..', 'docs', 'openapi.json');

if (import.meta.main) {
  writeFileSync(openApiFile, openApiJson(buildOpenApiDocument(routes)));
  console.log(`wrote ${path.relative(process.cwd(), openApiFile)} (${routes.length} routes)`);
}
