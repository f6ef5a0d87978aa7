/**
 * RFC 9457 problem details: the one shape of every error response, from handlers,
 * the authorizer's refusals and the gateway's own responses (API-1, API-5).
 */
import { securityHeaders } from './security-headers';

export const problemContentType = 'application/problem+json';

/** Base of the problem `type` URIs; each code has a documented page under it. */
export const problemTypeBase = 'https://strongroom.dev/problems/';

export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: string;
  readonly detail?: string;
  readonly requestId?: string;
  readonly [extension: string]: unknown;
}

export const problemTitles: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function problem(
  status: number,
  code: string,
  detail?: string,
  extensions: Record<string, unknown> = {},
): ProblemDetails {
  return {
    ...extensions,
    type: `${problemTypeBase}${code}`,
    title: problemTitles[status] ?? 'Error',
    status,
    code,
    ...(detail === undefined ? {} : { detail }),
  };
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function problemResponse(
  details: ProblemDetails,
  extraHeaders: Record<string, string> = {},
): HttpResponse {
  return {
    statusCode: details.status,
    headers: { ...securityHeaders, 'Content-Type': problemContentType, ...extraHeaders },
    body: JSON.stringify(details),
  };
}

/**
 * The API Gateway gateway responses (API-5): status and code per response type. The
 * CDK stack turns each into a problem-details template; the local gateway answers with
 * the same bodies.
 */
export const gatewayProblems = {
  UNAUTHORIZED: { status: 401, code: 'unauthorized', detail: 'A valid access token or API key is required.' },
  ACCESS_DENIED: { status: 403, code: 'forbidden', detail: 'The caller may not perform this request.' },
  MISSING_AUTHENTICATION_TOKEN: { status: 404, code: 'not-found', detail: 'No such resource.' },
  REQUEST_TOO_LARGE: { status: 413, code: 'payload-too-large', detail: 'The request body is too large.' },
  THROTTLED: { status: 429, code: 'too-many-requests', detail: 'Too many requests; retry later.' },
  WAF_FILTERED: { status: 403, code: 'request-blocked', detail: 'The request was blocked by the firewall.' },
  BAD_REQUEST_BODY: { status: 400, code: 'validation-failed', detail: 'The request body is not valid.' },
  BAD_REQUEST_PARAMETERS: {
    status: 400,
    code: 'validation-failed',
    detail: 'The request parameters are not valid.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported-media-type',
    detail: 'This media type is not supported.',
  },
  QUOTA_EXCEEDED: {
    status: 429,
    code: 'too-many-requests',
    detail: 'The request quota is used up; retry later.',
  },
  RESOURCE_NOT_FOUND: { status: 404, code: 'not-found', detail: 'No such resource.' },
  AUTHORIZER_FAILURE: { status: 500, code: 'internal-error', detail: 'The request could not be authorized.' },
  AUTHORIZER_CONFIGURATION_ERROR: {
    status: 500,
    code: 'internal-error',
    detail: 'An internal error occurred.',
  },
  INTEGRATION_FAILURE: { status: 502, code: 'bad-gateway', detail: 'The service failed to answer.' },
  INTEGRATION_TIMEOUT: {
    status: 504,
    code: 'gateway-timeout',
    detail: 'The service did not answer in time.',
  },
  DEFAULT_4XX: { status: 400, code: 'bad-request', detail: 'The request could not be processed.' },
  DEFAULT_5XX: { status: 500, code: 'internal-error', detail: 'An internal error occurred.' },
} as const;

export type GatewayResponseType = keyof typeof gatewayProblems;

export function gatewayProblem(type: GatewayResponseType, requestId?: string): HttpResponse {
  const { status, code, detail } = gatewayProblems[type];
  return problemResponse(problem(status, code, detail, requestId === undefined ? {} : { requestId }));
}
