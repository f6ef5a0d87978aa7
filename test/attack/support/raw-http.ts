/**
 * HTTP/1.1 over a raw TCP socket, for requests `fetch` refuses to send: CR/LF inside header
 * values, raw non-ASCII bytes in the request target, duplicate or conflicting framing
 * headers, invalid UTF-8 bodies. A `RawConnection` keeps one keep-alive socket for
 * well-formed requests; `sendOnce` opens a socket for one hostile request and reads every
 * response until the server closes it (an injected CRLF may smuggle a second request).
 */
import { connect, type Socket } from 'node:net';

export type RawHeader = readonly [name: string, value: string | Buffer];

export interface RawRequest {
  readonly method: string;
  /** The request target exactly as sent (path and query); a Buffer for raw bytes. */
  readonly target: string | Buffer;
  readonly headers: readonly RawHeader[];
  readonly body?: string | Buffer;
  /** Sends no Content-Length of its own (the headers carry the framing, or none on purpose). */
  readonly rawFraming?: boolean;
}

export interface RawResponse {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface RawEndpoint {
  readonly host: string;
  readonly port: number;
  /** A loopback source address (127.0.0.0/8), so the gateway sees another client. */
  readonly localAddress?: string;
}

const requestTimeoutMs = 30_000;

export function endpointOf(url: string, localAddress?: string): RawEndpoint {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port),
    ...(localAddress === undefined ? {} : { localAddress }),
  };
}

function serialize(endpoint: RawEndpoint, request: RawRequest, keepAlive: boolean): Buffer {
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
  const lines: Buffer[] = [
    Buffer.from(`${request.method} `, 'latin1'),
    Buffer.from(request.target),
    Buffer.from(` HTTP/1.1\r\nHost: ${endpoint.host}:${endpoint.port}\r\n`, 'latin1'),
  ];
  for (const [name, value] of request.headers) {
    lines.push(Buffer.from(`${name}: `, 'latin1'), Buffer.from(value), Buffer.from('\r\n', 'latin1'));
  }
  if (!request.rawFraming) lines.push(Buffer.from(`Content-Length: ${body.length}\r\n`, 'latin1'));
  lines.push(Buffer.from(`Connection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`, 'latin1'));
  lines.push(body);
  return Buffer.concat(lines);
}

/** A chunked body from the start of `data`: the body and the bytes it took, or undefined until complete. */
function dechunk(data: Buffer): { body: Buffer; used: number } | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isInteger(size)) throw new Error('malformed chunk size');
    const start = lineEnd + 2;
    if (size === 0) {
      const trailerEnd = data.indexOf('\r\n\r\n', lineEnd);
      const end =
        data.subarray(start, start + 2).toString('latin1') === '\r\n'
          ? start + 2
          : trailerEnd === -1
            ? -1
            : trailerEnd + 4;
      return end === -1 ? undefined : { body: Buffer.concat(parts), used: end };
    }
    if (data.length < start + size + 2) return undefined;
    parts.push(data.subarray(start, start + size));
    offset = start + size + 2;
  }
}

/** Parses one final response from the start of `data` (interim 1xx responses skipped); undefined until complete. */
function parseResponse(
  data: Buffer,
  method: string,
): { response: RawResponse; rest: Buffer; close: boolean } | undefined {
  for (;;) {
    const end = data.indexOf('\r\n\r\n');
    if (end === -1) return undefined;
    const head = data.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1]);
    if (!Number.isInteger(status)) throw new Error(`not an HTTP response: ${JSON.stringify(head[0])}`);
    if (status >= 100 && status < 200) {
      data = data.subarray(end + 4);
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const start = end + 4;
    const close = (headers.connection ?? '').toLowerCase() === 'close';
    const bodyless = method === 'HEAD' || status === 204 || status === 304;
    if (!bodyless && (headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
      const chunked = dechunk(data.subarray(start));
      if (!chunked) return undefined;
      return {
        response: { status, headers, body: chunked.body },
        rest: data.subarray(start + chunked.used),
        close,
      };
    }
    // No length: the body runs to the end of the connection (not something this API does).
    const length = bodyless ? 0 : Number(headers['content-length'] ?? 'NaN');
    if (!Number.isInteger(length)) return undefined;
    if (data.length < start + length) return undefined;
    return {
      response: { status, headers, body: Buffer.from(data.subarray(start, start + length)) },
      rest: data.subarray(start + length),
      close,
    };
  }
}

/** A keep-alive connection for one sequence of requests; reconnects when the server closed it. */
export class RawConnection {
  readonly #endpoint: RawEndpoint;
  #socket: Socket | undefined;
  #lastUsed = 0;

  constructor(endpoint: RawEndpoint) {
    this.#endpoint = endpoint;
  }

  async send(request: RawRequest): Promise<RawResponse> {
    // An idle socket may be closing on the server's keep-alive timer: never race it.
    if (this.#socket && performance.now() - this.#lastUsed > 1000) this.close();
    const socket = this.#socket ?? (await open(this.#endpoint));
    this.#socket = socket;
    try {
      const { responses, close } = await exchange(
        socket,
        serialize(this.#endpoint, request, true),
        request.method,
        false,
      );
      if (close) this.close();
      this.#lastUsed = performance.now();
      const [response] = responses;
      if (!response) throw new Error('no response');
      return response;
    } catch (error) {
      this.close();
      throw error;
    }
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }
}

/** One request on a fresh connection, reading every response until the server closes it. */
export async function sendOnce(endpoint: RawEndpoint, request: RawRequest): Promise<RawResponse[]> {
  const socket = await open(endpoint);
  try {
    return (await exchange(socket, serialize(endpoint, request, false), request.method, true)).responses;
  } finally {
    socket.destroy();
  }
}

/** Debugging aid: the last request line sent from each local port (STRONGROOM_ATTACK_DEBUG_CLOSE=1). */
export const lastRequestByPort = new Map<number, string>();

function open(endpoint: RawEndpoint): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: endpoint.host,
      port: endpoint.port,
      ...(endpoint.localAddress === undefined ? {} : { localAddress: endpoint.localAddress }),
    });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function exchange(
  socket: Socket,
  bytes: Buffer,
  method: string,
  untilClose: boolean,
): Promise<{ responses: RawResponse[]; close: boolean }> {
  return new Promise((resolve, reject) => {
    let data: Buffer = Buffer.alloc(0);
    const responses: RawResponse[] = [];
    let settled = false;
    const timer = setTimeout(
      () => finish(new Error(`no complete response in ${requestTimeoutMs} ms`)),
      requestTimeoutMs,
    );
    const finish = (error?: Error, close = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onError);
      if (error) reject(error);
      else resolve({ responses, close });
    };
    let closing = false;
    /** Reads complete responses; true once the one awaited (keep-alive) has arrived. */
    const drain = (): boolean => {
      for (;;) {
        const parsed = parseResponse(data, method);
        if (!parsed) return false;
        responses.push(parsed.response);
        data = parsed.rest;
        closing ||= parsed.close;
        if (!untilClose) return true;
      }
    };
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      try {
        // Until-close exchanges wait for the close: a smuggled second response may still come.
        if (drain() && !untilClose) finish(undefined, closing);
      } catch (error) {
        finish(error as Error);
      }
    };
    const onClose = () => {
      if (responses.length > 0) finish(undefined, true);
      else finish(new Error('the server closed the connection without a response'));
    };
    const onError = (error: Error) => {
      if (responses.length > 0) finish(undefined, true);
      else finish(error);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    if (process.env.STRONGROOM_ATTACK_DEBUG_CLOSE === '1' && socket.localPort !== undefined) {
      lastRequestByPort.set(socket.localPort, bytes.subarray(0, 600).toString('latin1'));
    }
    socket.write(bytes);
  });
}
