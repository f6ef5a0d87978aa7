/**
 * Regression tests for defects the fuzzer (scenarios/fuzz.ts) found in the local gateway,
 * each named after the invariant it protects (API-2, API-3, API-5): every request read is
 * answered, in order, with the route's answer or a problem with the security headers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '#test/integration/support/gateway';
import { demoUser, localStack } from '#test/integration/support/local-stack';
import { tokenFor } from '#test/integration/support/tokens';
import { endpointOf, type RawResponse, sendOnce } from './support/raw-http';
import { refusalViolations } from './support/responses';

let gateway: TestGateway;
let token: string;

beforeAll(async () => {
  gateway = await startTestGateway(localStack());
  token = await tokenFor(demoUser('accountant').email);
});

afterAll(async () => {
  await gateway?.close();
});

function expectProblem(response: RawResponse | undefined, status: number): void {
  expect(response?.status).toBe(status);
  expect(refusalViolations(response as RawResponse)).toEqual([]);
}

describe('[API-5] a query parameter or header named like an Object.prototype member is a parameter like any other', () => {
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    it(`answers ?${name}=1 and a ${name} header with a 4xx problem, never a 5xx`, async () => {
      const [query] = await sendOnce(endpointOf(gateway.url), {
        method: 'GET',
        target: `/invoices?${name}=1`,
        headers: [['authorization', `Bearer ${token}`]],
      });
      expectProblem(query, 400);
      const [header] = await sendOnce(endpointOf(gateway.url), {
        method: 'GET',
        target: '/invoices',
        headers: [
          ['authorization', `Bearer ${token}`],
          [name, 'x'],
        ],
      });
      expect(header?.status).toBe(200);
    });
  }
});

describe('[API-2][API-5] requests node:http answers itself get a problem with the security headers', () => {
  it('answers CONNECT like any undeclared method: a 404 problem, not a dropped connection', async () => {
    const responses = await sendOnce(endpointOf(gateway.url), {
      method: 'CONNECT',
      target: '127.0.0.1:443',
      headers: [],
    });
    expectProblem(responses[0], 404);
  });

  it('answers an Expect other than 100-continue with a 417 problem', async () => {
    const responses = await sendOnce(endpointOf(gateway.url), {
      method: 'GET',
      target: '/health',
      headers: [['expect', 'something-else']],
    });
    expectProblem(responses[0], 417);
  });
});

describe('[API-3][API-5] a request read in full is answered before the refusal of unparsable bytes after it', () => {
  it('answers the pipelined create with its 201, then the garbage with a 400; the client never takes a 400 for a change that was made', async () => {
    const key = `framing-${crypto.randomUUID()}`;
    const body = JSON.stringify({
      currency: 'EUR',
      lines: [{ description: 'Pipelined', quantity: '1', unitPrice: 100, vatRate: 0 }],
    });
    // A CR/LF injected into a header value ends the create's header block early (keep-alive,
    // its body in full); what follows on the connection is read as a request and does not parse.
    const responses = await sendOnce(endpointOf(gateway.url), {
      method: 'POST',
      target: '/invoices',
      headers: [
        ['authorization', `Bearer ${token}`],
        ['idempotency-key', key],
        ['content-type', 'application/json'],
        ['content-length', String(Buffer.byteLength(body))],
        ['x-note', `x\r\nConnection: keep-alive\r\n\r\n${body}NOT HTTP AT ALL`],
      ],
      rawFraming: true,
    });
    expect(responses.map((response) => response.status)).toEqual([201, 400]);
    const created = JSON.parse(responses[0]?.body.toString('utf8') ?? '{}') as { id: string };
    expectProblem(responses[1], 400);
    // The 201 is the truth: a retry with the key replays it.
    const retry = await gateway.call('/invoices', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body,
    });
    expect(retry.status).toBe(201);
    expect(((await retry.json()) as { id: string }).id).toBe(created.id);
  });

  it('refuses a body whose chunked framing breaks with a 400 problem at once, not after a timeout', async () => {
    const responses = await sendOnce(endpointOf(gateway.url), {
      method: 'POST',
      target: '/invoices',
      headers: [
        ['authorization', `Bearer ${token}`],
        ['content-type', 'application/json'],
        ['transfer-encoding', 'chunked'],
      ],
      body: 'zz\r\n{}\r\n0\r\n\r\n',
      rawFraming: true,
    });
    expectProblem(responses[0], 400);
  });
});

describe('[API-5] a refused connection ends, so the gateway stops cleanly', () => {
  it('closes after refusing requests whose clients were still sending megabytes when refused', async () => {
    const own = await startTestGateway(localStack());
    const endpoint = endpointOf(own.url);
    const megabytes = Buffer.alloc(8 * 1024 * 1024, 'x');
    for (const request of [
      { method: 'POST', target: '/invoices', headers: [['bad header', 'x']] as const, body: megabytes },
      { method: 'CONNECT', target: '127.0.0.1:443', headers: [], body: megabytes },
    ]) {
      // The refusal may reach the client, or the client may see a reset while it still writes.
      await sendOnce(endpoint, request).catch((error: Error) =>
        expect(error.message).toMatch(/ECONNRESET|EPIPE|closed/),
      );
    }
    // Resolves only once every socket has ended (before the fix, never).
    await own.close();
  });
});
