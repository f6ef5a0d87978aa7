/**
 * What every response of the API must look like, whatever was sent (API-1, API-2, API-5):
 * a refusal is an RFC 9457 problem (`application/problem+json`, the `status` of the
 * response, a stable `code`, no internals) with the security headers; a success is the
 * route's success status with the security headers and a body that matches the route's
 * response schema. Nothing is ever a 5xx.
 */
import { problemContentType } from '#shared/http/problem';
import { findRoute, matchPath, type RouteDefinition } from '#shared/http/routes';
import { securityHeaders } from '#shared/http/security-headers';
import type { RawResponse } from './raw-http';

const internals =
  /node_modules|\bat [\w.<>]+ \(|\.ts:\d+|\.js:\d+|TypeError|SyntaxError|ReferenceError|RangeError|Exception|stack/;

/** The route API Gateway would pick for a method and a concrete path, if any. */
export function routeOf(method: string, path: string): RouteDefinition | undefined {
  const literal = (resource: string) => resource.split('/').map((segment) => !segment.startsWith('{'));
  const [best] = matchPath(path).sort((left, right) => {
    const a = literal(left.resource);
    const b = literal(right.resource);
    const differing = a.findIndex((each, index) => each !== b[index]);
    return differing === -1 ? 0 : a[differing] ? -1 : 1;
  });
  return best ? findRoute(method, best.resource) : undefined;
}

function headerViolations(response: RawResponse): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(securityHeaders)) {
    if (response.headers[name.toLowerCase()] !== value)
      problems.push(`header ${name} is ${JSON.stringify(response.headers[name.toLowerCase()])}`);
  }
  return problems;
}

/** Problems with a refusal (any status but 2xx); a HEAD answer has no body to look at. */
export function refusalViolations(response: RawResponse, method = 'GET'): string[] {
  const problems = headerViolations(response);
  if (response.headers['content-type'] !== problemContentType) {
    problems.push(`content-type ${JSON.stringify(response.headers['content-type'])}`);
  }
  if (method.toUpperCase() === 'HEAD') return problems;
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    problems.push('the body is not JSON');
  }
  if (body) {
    if (body.status !== response.status)
      problems.push(`problem status ${String(body.status)} in a ${response.status}`);
    if (typeof body.code !== 'string' || body.code === '') problems.push('no problem code');
    if (typeof body.type !== 'string' || typeof body.title !== 'string')
      problems.push('no problem type or title');
    const text = JSON.stringify({ ...body, requestId: undefined, errors: undefined });
    if (internals.test(text)) problems.push(`internals in the problem: ${text.slice(0, 200)}`);
  }
  return problems;
}

/** Problems with a 2xx answer to `method path`. */
export function successViolations(response: RawResponse, method: string, path: string | undefined): string[] {
  if (
    method === 'OPTIONS' &&
    response.status === 204 &&
    response.headers['access-control-allow-methods'] !== undefined
  ) {
    // The CORS preflight, answered by API Gateway's mock integration (and the local gateway alike).
    return [];
  }
  const problems = headerViolations(response);
  const route = path === undefined ? undefined : routeOf(method.toUpperCase(), path);
  if (!route)
    return path === undefined
      ? problems
      : [...problems, `a ${response.status} for ${method} ${path}, which is no route`];
  if (response.status !== route.successStatus && !(route.successStatus === 201 && response.status === 200)) {
    problems.push(`status ${response.status}, the route answers ${route.successStatus}`);
  }
  if (response.status === 204) {
    if (response.body.length > 0) problems.push('a 204 with a body');
    return problems;
  }
  const contentType = route.responseContentType ?? 'application/json';
  if (response.headers['content-type'] !== contentType) {
    problems.push(
      `content-type ${JSON.stringify(response.headers['content-type'])}, expected ${contentType}`,
    );
  }
  if (route.response && contentType.startsWith('application/json')) {
    try {
      const parsed = route.response.safeParse(JSON.parse(response.body.toString('utf8')));
      if (!parsed.success)
        problems.push(
          `the body does not match ${route.id}'s response schema: ${parsed.error.message.slice(0, 300)}`,
        );
    } catch {
      problems.push('the body is not JSON');
    }
  }
  return problems;
}

export function isWrite(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}
