/** API Gateway REST proxy events and a Lambda context for calling handlers directly. */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { type Principal, toAuthorizerContext } from '#shared/auth/principal';

export interface EventOptions {
  readonly method: string;
  readonly resource: string;
  readonly path?: string;
  readonly pathParameters?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly principal?: Principal;
}

export function proxyEvent(options: EventOptions): APIGatewayProxyEvent {
  const requestId = randomUUID();
  return {
    httpMethod: options.method,
    resource: options.resource,
    path: options.path ?? options.resource,
    pathParameters: options.pathParameters ?? null,
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: options.query
      ? Object.fromEntries(Object.entries(options.query).map(([name, value]) => [name, [value]]))
      : null,
    headers: options.headers ?? {},
    multiValueHeaders: {},
    body: options.body ?? null,
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: {
      requestId,
      authorizer: options.principal ? { ...toAuthorizerContext(options.principal) } : null,
    } as APIGatewayProxyEvent['requestContext'],
  };
}

export function lambdaContext(functionName = 'strongroom-test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-central-1:111111111111:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
