/**
 * The local API Gateway: a node:http server on loopback that does what the deployed REST
 * API does for each request. It finds the route in `shared/http/routes.ts`, builds the
 * same REST proxy event (payload format 1.0), runs the same REQUEST authorizer for every
 * non-public route, then the route group's handler module, and answers its own errors
 * with the same gateway responses (problem details with the security headers, API-5).
 *
 * Handler modules read their configuration from the environment at import time, so the
 * gateway sets the environment first and imports them afterwards.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayEventRequestContextWithAuthorizer,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import type { AccessTokenVerifier } from '#functions/authorizer/handler';
import type { FailedAttemptSettings } from '#shared/auth/failed-attempts';
import { corsAllowHeaders } from '#shared/http/cors';
import {
  type GatewayResponseType,
  gatewayProblem,
  type HttpResponse,
  problem,
  problemResponse,
  problemTitles,
} from '#shared/http/problem';
import {
  findRoute,
  handlerModule,
  matchPath,
  type RouteGroup,
  routeGroups,
  routes,
} from '#shared/http/routes';
import { securityHeaders as securityHeaderValues } from '#shared/http/security-headers';
import { LocalExportArchives, localDownloadLinks, localDownloadPath } from '#shared/store/export-archives';
import { createLocalVerifier } from './local-verifier';
import { closeServer, listen } from './ports';
import { assertLoopback, localRegion, localStage, loopbackHost, projectRoot } from './settings';

/** API Gateway's payload limit for REST APIs. */
export const maxGatewayBodyBytes = 10 * 1024 * 1024;
/** The functions' time limit (RouteFunction's default); API Gateway itself gives up at 29 s. */
const defaultHandlerTimeoutMs = 10_000;
/** Fake but well-formed ids for ARNs and request contexts. */
const localAccountId = '000000000000';
const localApiId = 'strongroom';
const timedOut = Symbol('timed out');

/** The environment of the handlers, as the CDK stack sets it on every function. */
export interface HandlerEnvironment {
  readonly dynamoEndpoint: string;
  readonly userPoolId: string;
  readonly clientId: string;
  /** cognito-local, where the members API and onboarding create invited users. */
  readonly cognitoEndpoint?: string;
  readonly dataDir: string;
  readonly allowedOrigins: readonly string[];
  /** RFC 9116 Expires, computed when the runtime starts (VUL-1). */
  readonly securityTxtExpires: string;
  /** @default eu-central-1 */
  readonly region?: string;
  /** @default local */
  readonly stage?: string;
}

export function handlerEnvironmentVariables(environment: HandlerEnvironment): Record<string, string> {
  return {
    STRONGROOM_MODE: 'local',
    STRONGROOM_STAGE: environment.stage ?? localStage,
    AWS_REGION: environment.region ?? localRegion,
    DYNAMODB_ENDPOINT: environment.dynamoEndpoint,
    COGNITO_USER_POOL_ID: environment.userPoolId,
    COGNITO_CLIENT_ID: environment.clientId,
    ...(environment.cognitoEndpoint === undefined ? {} : { COGNITO_ENDPOINT: environment.cognitoEndpoint }),
    STRONGROOM_DATA_DIR: environment.dataDir,
    SECURITY_TXT_EXPIRES: environment.securityTxtExpires,
    ALLOWED_ORIGINS: environment.allowedOrigins.join(','),
  };
}

/** One access log line (LOG-1): no tokens, no bodies, no query strings. */
export interface AccessLogEntry {
  readonly time: string;
  readonly requestId: string;
  readonly sourceIp: string;
  readonly method: string;
  /** The route's path template, or null when no route matched. */
  readonly resource: string | null;
  readonly path: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly responseBytes: number;
  readonly tenantId?: string;
  readonly actorId?: string;
  /** Set when the gateway answered itself (API Gateway's response type). */
  readonly gatewayResponse?: GatewayResponseType;
}

export interface GatewayOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  readonly environment: HandlerEnvironment;
  /** @default one JSON line per request on stdout */
  readonly accessLog?: (entry: AccessLogEntry) => void;
  /** @default 10 s */
  readonly handlerTimeoutMs?: number;
  /** Where warnings go (a handler module that does not load). @default console.warn */
  readonly warn?: (message: string) => void;
  /**
   * The authorizer's clock (its 60 s caches, key expiry, throttling windows); tests move it
   * instead of sleeping. @default Date.now
   */
  readonly authorizerClock?: () => number;
  /** Throttling of failed API-key attempts. @default 10 per key id and source in 5 minutes */
  readonly failedAttempts?: FailedAttemptSettings;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

type ProxyHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult | undefined>;
type Authorizer = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

const writeAccessLogLine = (entry: AccessLogEntry) => {
  process.stdout.write(`${JSON.stringify({ type: 'access', ...entry })}\n`);
};

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const host = options.host ?? loopbackHost;
  assertLoopback(host);
  const variables = handlerEnvironmentVariables(options.environment);
  Object.assign(process.env, variables);

  // Imported only now: these modules read the environment when they load.
  const [{ createAuthorizerHandler, authorizerDependencies }, { loadRuntimeConfig }] = await Promise.all([
    import('#functions/authorizer/handler'),
    import('#shared/config/runtime'),
  ]);
  const config = loadRuntimeConfig();
  const verifier: AccessTokenVerifier = await createLocalVerifier({
    userPoolId: config.userPoolId,
    clientId: config.userPoolClientId,
  });
  // The same authorizer as in AWS, with the preloaded development JWKS instead of the pool's.
  const authorize: Authorizer = createAuthorizerHandler(
    authorizerDependencies(config, {
      verifier,
      ...(options.authorizerClock === undefined ? {} : { now: options.authorizerClock }),
      ...(options.failedAttempts === undefined ? {} : { failedAttempts: options.failedAttempts }),
    }),
  );
  const handlers = new Map<RouteGroup, ProxyHandler>();
  for (const group of routeGroups) {
    // Like a function whose cold start fails, a group that does not load fails its own routes only.
    try {
      handlers.set(group, await loadHandler(group));
    } catch (error) {
      (options.warn ?? console.warn)(
        `${handlerModule(group)} did not load; its routes answer 500: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  const gateway = new LocalGateway({
    authorize,
    handlers,
    region: config.region,
    stage: config.stage,
    accessLog: options.accessLog ?? writeAccessLogLine,
    handlerTimeoutMs: options.handlerTimeoutMs ?? defaultHandlerTimeoutMs,
    allowedOrigins: options.environment.allowedOrigins,
  });
  // Responses not yet sent, per connection: HTTP/1.1 answers pipelined requests in order,
  // so a refusal of bytes that follow a request must wait for that request's answer.
  const unanswered = new WeakMap<Socket, Set<{ request: IncomingMessage; response: ServerResponse }>>();
  const server = createServer((request, response) => {
    const open = unanswered.get(request.socket) ?? new Set();
    unanswered.set(request.socket, open);
    const exchange = { request, response };
    open.add(exchange);
    response.once('close', () => open.delete(exchange));
    gateway.handle(request, response).catch((error: unknown) => {
      // Last resort: the request pipeline itself failed; never leave the client hanging.
      process.stderr.write(
        `local gateway failure: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      if (!response.headersSent) writeReply(response, replyOf(gatewayProblem('DEFAULT_5XX')), randomUUID());
      else response.destroy();
    });
  });
  // A request node:http cannot parse, a CONNECT, or an Expect it cannot meet: a problem
  // with the security headers, then the connection closes (API-5).
  const refuseOnSocket = (socket: Socket, type: GatewayResponseType) => {
    if (!socket.writable) return socket.destroy();
    const { statusCode, headers, body } = gatewayProblem(type);
    const head = Object.entries({
      ...headers,
      'Content-Length': String(Buffer.byteLength(body)),
      Connection: 'close',
    })
      .map(([name, value]) => `${name}: ${value}`)
      .join('\r\n');
    socket.end(`HTTP/1.1 ${statusCode} ${problemTitles[statusCode] ?? 'Error'}\r\n${head}\r\n\r\n${body}`);
    // node:http has let go of this socket: read (and drop) what the client still sends, so
    // its close is seen and the socket ends, or server.close() would wait for it forever.
    socket.resume();
    socket.setTimeout(5_000, () => socket.destroy());
  };
  // node:http reports every chunk that arrives after unparsable bytes again: one refusal per connection.
  const refusing = new WeakSet<Socket>();
  server.on('clientError', (_error, socket: Socket) => {
    if (refusing.has(socket)) return;
    refusing.add(socket);
    // A request read in full before the unparsable bytes may still be in its handler: its
    // answer goes first, or its client would take the 400 for it although it acted. (A
    // request whose own body failed to parse is the one refused.)
    const answering = [...(unanswered.get(socket) ?? [])]
      .filter(({ request, response }) => request.complete && !response.writableFinished)
      .map(
        ({ response }) => new Promise((resolve) => response.once('close', resolve).once('finish', resolve)),
      );
    if (answering.length === 0) return refuseOnSocket(socket, 'DEFAULT_4XX');
    void Promise.all(answering).then(() => refuseOnSocket(socket, 'DEFAULT_4XX'));
  });
  // No route answers CONNECT: like any undeclared method, it is an unknown resource.
  server.on('connect', (_request: IncomingMessage, socket: Socket) =>
    refuseOnSocket(socket, 'MISSING_AUTHENTICATION_TOKEN'),
  );
  // An Expect other than 100-continue: a 417 problem (node's own answer has no body or headers).
  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    const requestId = randomUUID();
    response.shouldKeepAlive = false;
    writeReply(
      response,
      replyOf(
        problemResponse(
          problem(417, 'expectation-failed', 'The only expectation this API meets is 100-continue.', {
            requestId,
          }),
        ),
      ),
      requestId,
    );
  });
  await listen(server, host, options.port);
  const port = (server.address() as AddressInfo).port;
  return { url: `http://${host}:${port}`, port, close: () => closeServer(server) };
}

async function loadHandler(group: RouteGroup): Promise<ProxyHandler> {
  const module = (await import(pathToFileURL(path.join(projectRoot, handlerModule(group))).href)) as {
    handler?: unknown;
  };
  if (typeof module.handler !== 'function') throw new Error(`${handlerModule(group)} exports no handler`);
  return module.handler as ProxyHandler;
}

interface LocalGatewayDependencies {
  readonly authorize: Authorizer;
  readonly handlers: ReadonlyMap<RouteGroup, ProxyHandler>;
  readonly region: string;
  readonly stage: string;
  readonly accessLog: (entry: AccessLogEntry) => void;
  readonly handlerTimeoutMs: number;
  readonly allowedOrigins: readonly string[];
}

interface ReadBody {
  readonly bytes: Buffer;
  readonly tooLarge: boolean;
  /** The body never arrived in full: the client went away, or its framing was refused (clientError). */
  readonly aborted?: boolean;
}

class LocalGateway {
  readonly #deps: LocalGatewayDependencies;

  constructor(deps: LocalGatewayDependencies) {
    this.#deps = deps;
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const method = (request.method ?? 'GET').toUpperCase();
    const rawUrl = request.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    // REST APIs hand the path over still percent-encoded; only the query string is decoded.
    const requestPath = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
    const rawQuery = queryStart === -1 ? '' : rawUrl.slice(queryStart + 1);
    const sourceIp = (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    let resource: string | null = null;
    let principal: { tenantId?: string; actorId?: string } = {};
    const downloadToken = requestPath.startsWith(localDownloadPath)
      ? requestPath.slice(localDownloadPath.length)
      : undefined;

    const finish = (result: Reply, gatewayResponse?: GatewayResponseType) => {
      const responseBytes = writeReply(response, result, requestId);
      this.#deps.accessLog({
        time: new Date().toISOString(),
        requestId,
        sourceIp,
        method,
        resource,
        // A download link's token is a credential: the log names the link, never the token.
        path: downloadToken === undefined ? requestPath : `${localDownloadPath}{token}`,
        status: result.statusCode,
        latencyMs: Math.round(performance.now() - started),
        responseBytes,
        ...principal,
        ...(gatewayResponse === undefined ? {} : { gatewayResponse }),
      });
    };
    const refuse = (type: GatewayResponseType) => finish(replyOf(gatewayProblem(type, requestId)), type);

    const body = await readBody(request);
    // Nobody to answer: the client left, or the clientError handler refused its framing.
    if (body.aborted) return;
    if (body.tooLarge) return refuse('REQUEST_TOO_LARGE');
    if (downloadToken !== undefined && method === 'GET') {
      resource = `${localDownloadPath}{token}`;
      return finish(await downloadReply(downloadToken, requestId));
    }

    // Like API Gateway, an unknown path and a known path with another method look the same.
    const match = mostSpecific(matchPath(requestPath));
    if (method === 'OPTIONS' && match && this.#deps.allowedOrigins.length > 0) {
      resource = match.resource;
      return finish(corsPreflightReply(this.#deps.allowedOrigins, request.headers.origin));
    }
    const route = match ? findRoute(method, match.resource) : undefined;
    if (!match || !route) return refuse('MISSING_AUTHENTICATION_TOKEN');
    resource = match.resource;

    const { headers, multiValueHeaders } = headersOf(request, sourceIp);
    const query = queryOf(rawQuery);
    const requestContext: APIGatewayEventRequestContextWithAuthorizer<undefined> = {
      accountId: localAccountId,
      apiId: localApiId,
      authorizer: undefined,
      domainName: headers.Host ?? headers.host ?? loopbackHost,
      domainPrefix: localApiId,
      extendedRequestId: requestId,
      httpMethod: method,
      identity: identityOf(sourceIp, request.headers['user-agent']),
      path: `/${this.#deps.stage}${requestPath}`,
      protocol: `HTTP/${request.httpVersion}`,
      requestId,
      requestTime: new Date().toISOString(),
      requestTimeEpoch: Date.now(),
      resourceId: route.id,
      resourcePath: match.resource,
      stage: this.#deps.stage,
    };
    const common = {
      resource: match.resource,
      path: requestPath,
      httpMethod: method,
      headers,
      multiValueHeaders,
      pathParameters: Object.keys(match.params).length > 0 ? match.params : null,
      queryStringParameters: query.single,
      multiValueQueryStringParameters: query.multi,
      stageVariables: null,
    };

    let authorizerContext: Record<string, unknown> | undefined;
    if (route.permission !== 'public') {
      const methodArn = `arn:aws:execute-api:${this.#deps.region}:${localAccountId}:${localApiId}/${this.#deps.stage}/${method}${requestPath}`;
      const authorizerStarted = performance.now();
      let result: APIGatewayAuthorizerResult;
      try {
        result = await this.#deps.authorize({ type: 'REQUEST', methodArn, ...common, requestContext });
      } catch (error) {
        // The authorizer's one way to say 401; any other failure is API Gateway's AUTHORIZER_FAILURE.
        if (error instanceof Error && error.message === 'Unauthorized') return refuse('UNAUTHORIZED');
        process.stderr.write(`authorizer failed: ${error instanceof Error ? error.stack : String(error)}\n`);
        return refuse('AUTHORIZER_FAILURE');
      }
      const decision = policyDecision(result, methodArn);
      if (decision === 'invalid') return refuse('AUTHORIZER_CONFIGURATION_ERROR');
      if (decision === 'deny') return refuse('ACCESS_DENIED');
      authorizerContext = proxyAuthorizerContext(result, Math.round(performance.now() - authorizerStarted));
      principal = {
        ...(typeof authorizerContext.tenantId === 'string' ? { tenantId: authorizerContext.tenantId } : {}),
        ...(typeof authorizerContext.actorId === 'string' ? { actorId: authorizerContext.actorId } : {}),
      };
    }

    const text = utf8OrUndefined(body.bytes);
    const event: APIGatewayProxyEvent = {
      ...common,
      body: body.bytes.length === 0 ? null : (text ?? body.bytes.toString('base64')),
      isBase64Encoded: body.bytes.length > 0 && text === undefined,
      requestContext: { ...requestContext, authorizer: authorizerContext },
    };
    // A function whose module did not load fails like a Lambda cold start: after the authorizer.
    const handler = this.#deps.handlers.get(route.group);
    if (!handler) return refuse('INTEGRATION_FAILURE');
    const result = await this.#invoke(handler, route.group, event);
    if (!result) return refuse('INTEGRATION_FAILURE');
    finish(result);
  }

  /** Runs the handler like Lambda would: a context, a time limit, and no trust in its result. */
  async #invoke(
    handler: ProxyHandler,
    group: RouteGroup,
    event: APIGatewayProxyEvent,
  ): Promise<Reply | undefined> {
    // Every failure here is a Lambda error to API Gateway: a 502 (INTEGRATION_FAILURE). The
    // function's own time limit (10 s) ends it long before API Gateway's 29 s INTEGRATION_TIMEOUT.
    const deadline = Date.now() + this.#deps.handlerTimeoutMs;
    const functionName = `strongroom-${this.#deps.stage}-${group}`;
    const context: Context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.#deps.region}:${localAccountId}:function:${functionName}`,
      memoryLimitInMB: '1024',
      awsRequestId: randomUUID(),
      logGroupName: `/strongroom/${this.#deps.stage}/functions/${group}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        handler(event, context),
        new Promise<typeof timedOut>((resolve) => {
          timer = setTimeout(resolve, this.#deps.handlerTimeoutMs, timedOut);
        }),
      ]);
      if (result === timedOut) {
        process.stderr.write(`${functionName} timed out after ${this.#deps.handlerTimeoutMs} ms\n`);
        return undefined;
      }
      return proxyResultToReply(result);
    } catch (error) {
      process.stderr.write(
        `${functionName} failed: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A one-time export link (DAT-1), the local stand-in for an S3 presigned URL: the token is
 * spent by this request whatever happens; an unknown, spent or expired token is the same 404.
 */
async function downloadReply(token: string, requestId: string): Promise<Reply> {
  const link = /^[A-Za-z0-9_-]{43}$/.test(token) ? localDownloadLinks.redeem(token, Date.now()) : undefined;
  const content = link ? await LocalExportArchives.read(link.file).catch(() => undefined) : undefined;
  if (!content) {
    return replyOf(
      problemResponse(
        problem(404, 'not-found', 'No such download link, or it was used or expired.', { requestId }),
      ),
    );
  }
  return {
    statusCode: 200,
    headers: {
      ...securityHeaderValues,
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename="${path.basename(link?.file ?? 'export.esdk')}"`,
    },
    body: content,
  };
}

/**
 * The resource API Gateway picks when several templates match: at the first segment where
 * they differ, a literal segment beats a `{parameter}`. The method plays no part in it.
 */
function mostSpecific<T extends { readonly resource: string }>(matches: readonly T[]): T | undefined {
  const literalSegments = (resource: string) =>
    resource.split('/').map((segment) => !segment.startsWith('{'));
  return [...matches].sort((left, right) => {
    const a = literalSegments(left.resource);
    const b = literalSegments(right.resource);
    const differing = a.findIndex((literal, index) => literal !== b[index]);
    return differing === -1 ? 0 : a[differing] ? -1 : 1;
  })[0];
}

/** Reads the body up to the gateway limit; beyond it the rest is drained, then dropped. */
async function readBody(request: IncomingMessage): Promise<ReadBody> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > 4 * maxGatewayBodyBytes) {
    request.resume();
    return { bytes: Buffer.alloc(0), tooLarge: true };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= maxGatewayBodyBytes) chunks.push(chunk);
      else if (size > 4 * maxGatewayBodyBytes) {
        request.destroy();
        break;
      }
    }
  } catch {
    return { bytes: Buffer.alloc(0), tooLarge: false, aborted: true };
  }
  return size > maxGatewayBodyBytes
    ? { bytes: Buffer.alloc(0), tooLarge: true }
    : { bytes: Buffer.concat(chunks), tooLarge: false };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function utf8OrUndefined(bytes: Buffer): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Headers as the client sent them (original case), single- and multi-valued, plus API Gateway's own. */
function headersOf(
  request: IncomingMessage,
  sourceIp: string,
): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  // Null-prototype records: a header named `__proto__` or `constructor` is a header like
  // any other, as in the JSON event API Gateway sends (never a prototype, never a crash).
  const headers: Record<string, string> = Object.create(null);
  const multiValueHeaders: Record<string, string[]> = Object.create(null);
  const casing = new Map<string, string>();
  const add = (rawName: string, value: string) => {
    const name = casing.get(rawName.toLowerCase()) ?? rawName;
    casing.set(rawName.toLowerCase(), name);
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  };
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index] ?? '';
    if (name.toLowerCase() === 'x-forwarded-for') continue;
    add(name, request.rawHeaders[index + 1] ?? '');
  }
  // API Gateway appends the caller's address to X-Forwarded-For and names the protocol and port.
  const forwarded = request.headers['x-forwarded-for'];
  add('X-Forwarded-For', forwarded ? `${forwarded}, ${sourceIp}` : sourceIp);
  add('X-Forwarded-Proto', 'http');
  add('X-Forwarded-Port', String(request.socket.localPort ?? ''));
  return { headers, multiValueHeaders };
}

function queryOf(rawQuery: string): {
  single: Record<string, string> | null;
  multi: Record<string, string[]> | null;
} {
  if (rawQuery === '') return { single: null, multi: null };
  // Null-prototype records, so `?__proto__=1` or `?constructor=1` are parameters like any other.
  const single: Record<string, string> = Object.create(null);
  const multi: Record<string, string[]> = Object.create(null);
  for (const [name, value] of new URLSearchParams(rawQuery)) {
    // The last value wins in the single-valued map, as in API Gateway.
    single[name] = value;
    multi[name] = [...(multi[name] ?? []), value];
  }
  return Object.keys(single).length === 0 ? { single: null, multi: null } : { single, multi };
}

function identityOf(
  sourceIp: string,
  userAgent: string | undefined,
): APIGatewayProxyEvent['requestContext']['identity'] {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp,
    user: null,
    userAgent: userAgent ?? null,
    userArn: null,
  };
}

/**
 * How API Gateway reads the authorizer's policy for this method ARN: an explicit Deny wins,
 * then an Allow; no matching statement denies. A result without a policy is a configuration error.
 */
export function policyDecision(result: unknown, methodArn: string): 'allow' | 'deny' | 'invalid' {
  const policy = (result as Partial<APIGatewayAuthorizerResult> | undefined)?.policyDocument;
  if (typeof (result as { principalId?: unknown } | undefined)?.principalId !== 'string' || !policy) {
    return 'invalid';
  }
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  let allowed = false;
  for (const statement of statements as unknown as Record<string, unknown>[]) {
    const actions = [statement.Action ?? []].flat().map(String);
    const resources = [statement.Resource ?? []].flat().map(String);
    if (!actions.some((action) => wildcardMatches(action, 'execute-api:Invoke'))) continue;
    if (!resources.some((resource) => wildcardMatches(resource, methodArn))) continue;
    if (statement.Effect === 'Deny') return 'deny';
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed ? 'allow' : 'deny';
}

function wildcardMatches(pattern: string, value: string): boolean {
  const expression = pattern
    .split('')
    .map((character) =>
      character === '*' ? '.*' : character === '?' ? '.' : character.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${expression}$`).test(value);
}

/** The authorizer context as the proxy integration delivers it: strings, plus principalId and latency. */
function proxyAuthorizerContext(
  result: APIGatewayAuthorizerResult,
  latencyMs: number,
): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(result.context ?? {})) {
    if (value !== null && value !== undefined) context[name] = String(value);
  }
  return { ...context, principalId: result.principalId, integrationLatency: latencyMs };
}

/**
 * The CORS preflight answer of the deployed API: the mock integration that CDK's
 * `defaultCorsPreflightOptions` creates on every resource when origins are configured.
 * Its Allow-Origin is the first configured origin unless the request names another one
 * of them; a browser refuses any other origin.
 */
function corsPreflightReply(allowedOrigins: readonly string[], origin: string | undefined): Reply {
  const allowOrigin =
    origin !== undefined && allowedOrigins.includes(origin) ? origin : (allowedOrigins[0] ?? '');
  return {
    statusCode: 204,
    headers: {
      'Access-Control-Allow-Headers': corsAllowHeaders.join(','),
      'Access-Control-Allow-Origin': allowOrigin,
      Vary: 'Origin',
      'Access-Control-Allow-Methods': [...new Set(routes.map((route) => route.method))].join(','),
      'Access-Control-Max-Age': '600',
    },
    body: Buffer.alloc(0),
  };
}

/** A response as the gateway writes it. */
interface Reply {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: Buffer;
}

function replyOf(response: HttpResponse): Reply {
  return {
    statusCode: response.statusCode,
    headers: response.headers,
    body: Buffer.from(response.body, 'utf8'),
  };
}

/** A handler's result, checked like API Gateway does; undefined when it is not a valid proxy result. */
function proxyResultToReply(result: APIGatewayProxyResult | undefined): Reply | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const { statusCode } = result;
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) return undefined;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    const single = headers[name];
    headers[name] = [...(single === undefined ? [] : [single].flat()), ...values.map(String)];
  }
  const text = typeof result.body === 'string' ? result.body : '';
  return { statusCode, headers, body: Buffer.from(text, result.isBase64Encoded ? 'base64' : 'utf8') };
}

/** Writes a reply and returns the body's size in bytes. */
function writeReply(response: ServerResponse, reply: Reply, requestId: string): number {
  response.statusCode = reply.statusCode;
  for (const [name, value] of Object.entries(reply.headers)) response.setHeader(name, value);
  response.setHeader('x-amzn-RequestId', requestId);
  response.setHeader('Content-Length', String(reply.body.length));
  response.end(reply.body);
  return reply.body.length;
}
