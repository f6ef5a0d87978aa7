/**
 * CORS (API-4): only configured origins may read responses from a browser. The CDK
 * stack's preflight, the local gateway's preflight and the handlers' responses all use
 * these lists.
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** Request headers a browser may send cross-origin. */
export const corsAllowHeaders: readonly string[] = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'If-Match',
  'X-Strongroom-Tenant',
];

/** Response headers a browser script may read. */
export const corsExposeHeaders: readonly string[] = ['ETag', 'Location', 'Retry-After'];

/** Adds Access-Control-Allow-Origin for a configured origin; other origins get nothing. */
export function corsHeaders(
  allowedOrigins: readonly string[],
  origin: string | undefined,
): Record<string, string> {
  if (origin === undefined || !allowedOrigins.includes(origin)) return { Vary: 'Origin' };
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': corsExposeHeaders.join(','),
    Vary: 'Origin',
  };
}

/** The handlers' side of CORS: responses, errors included, carry the headers for allowed origins. */
export function cors(
  allowedOrigins: readonly string[],
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error> {
  const add = (request: { event: APIGatewayProxyEvent; response?: APIGatewayProxyResult | null }) => {
    if (!request.response) return;
    const origin = request.event.headers?.origin ?? request.event.headers?.Origin;
    request.response.headers = { ...request.response.headers, ...corsHeaders(allowedOrigins, origin) };
  };
  return { after: add, onError: add };
}
