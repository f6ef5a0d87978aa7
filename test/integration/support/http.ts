/** Small request helpers over the test gateway: a credential, JSON bodies, problem checks. */
import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import { problemContentType } from '#shared/http/problem';
import { securityHeaders } from '#shared/http/security-headers';
import type { TestGateway } from './gateway';

export interface CallOptions {
  /** A JWT or an `srk_…` key; sent as `Authorization: Bearer …` unless `scheme` says otherwise. */
  readonly token?: string;
  readonly scheme?: 'Bearer' | 'ApiKey';
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export function call(gateway: TestGateway, method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `${options.scheme ?? 'Bearer'} ${options.token}`;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  return gateway.call(path, {
    method,
    headers,
    ...(options.body === undefined
      ? {}
      : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
}

export async function expectStatus(response: Response, status: number): Promise<void> {
  expect(response.status, `${response.status} ${await response.clone().text()}`).toBe(status);
}

/** A problem-details response with the security headers; returns its body. */
export async function expectProblem(
  response: Response,
  status: number,
  code: string,
): Promise<Record<string, unknown>> {
  expect(response.status, await response.clone().text()).toBe(status);
  expect(response.headers.get('content-type')).toBe(problemContentType);
  for (const [name, value] of Object.entries(securityHeaders))
    expect(response.headers.get(name), name).toBe(value);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code });
  return body;
}

/**
 * A request from another loopback address (127.0.0.0/8 is all loopback on Linux), so
 * the gateway sees another source address, as two clients on the internet would be.
 */
export function callFrom(
  gateway: TestGateway,
  localAddress: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${gateway.url}${path}`,
      { method, headers, localAddress, timeout: 30_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end();
  });
}
