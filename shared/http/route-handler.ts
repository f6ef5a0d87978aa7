/**
 * Builds the Lambda handler of one route group: a plain dispatch function wrapped by
 * middy, middlewares first, the problem-details mapper registered last.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { loadRuntimeConfig } from '#shared/config/runtime';
import { logger } from '#shared/observability/logger';
import { cors } from './cors';
import {
  authorization,
  jsonBody,
  operationRequestOf,
  problemDetails,
  routeContext,
  securityHeaders,
  validation,
  writeHeaders,
} from './middleware';
import type { Operation, OperationResponse } from './request';
import { type RouteGroup, routes } from './routes';

export type GroupOperations = Readonly<Record<string, Operation>>;

export function createRouteGroupHandler(
  group: RouteGroup,
  operations: GroupOperations,
  allowedOrigins: readonly string[] = loadRuntimeConfig().allowedOrigins,
) {
  // Every route of the group needs its operation; a missing one fails at cold start, not per request.
  for (const route of routes) {
    if (route.group === group && !operations[route.id]) throw new Error(`no operation for route ${route.id}`);
  }

  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer({ canonical: false }))
    .use(routeContext(group))
    .use(securityHeaders())
    .use(cors(allowedOrigins))
    .use(authorization())
    .use(writeHeaders())
    .use(jsonBody())
    .use(validation())
    .use(problemDetails())
    .handler(async (event) => {
      const request = operationRequestOf(event);
      const operation = operations[request.route.id];
      if (!operation) throw new Error(`no operation for route ${request.route.id}`);
      return toResult(
        request.route.successStatus,
        request.route.responseContentType,
        await operation(request),
      );
    });
}

function toResult(
  defaultStatus: number,
  contentType: string | undefined,
  response: OperationResponse,
): APIGatewayProxyResult {
  const statusCode = response.status ?? defaultStatus;
  if (response.text !== undefined) {
    return {
      statusCode,
      headers: { 'Content-Type': contentType ?? 'text/plain; charset=utf-8', ...response.headers },
      body: response.text,
    };
  }
  return {
    statusCode,
    headers: { 'Content-Type': contentType ?? 'application/json', ...response.headers },
    body: response.body === undefined ? '' : JSON.stringify(response.body),
  };
}
