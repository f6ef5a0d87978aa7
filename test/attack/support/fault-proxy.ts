/**
 * A fault-injecting HTTP proxy in front of DynamoDB Local. The handlers under attack get
 * its address as their DynamoDB endpoint and talk to it over real connections, exactly
 * as they talk to DynamoDB; it forwards every request unchanged, except that, when armed
 * for a tenant, it fails the N-th DynamoDB operation that touches that tenant's keys:
 *
 * - `throttle`: every attempt of the operation gets ProvisionedThroughputExceededException;
 * - `unavailable`: every attempt gets a 500 InternalServerError;
 * - `timeout`: every attempt's connection is cut before DynamoDB sees it;
 * - `lost-ack`: the first attempt reaches DynamoDB and is applied, then the connection is
 *   cut before the answer (the SDK retries; the change is already there);
 * - `conditional`: a write is refused as a failed condition (TransactionCanceledException
 *   with ConditionalCheckFailed, or ConditionalCheckFailedException), as if another writer
 *   had won; reads are let through.
 *
 * An operation is one SDK call, retries included (the `amz-sdk-invocation-id` header),
 * so "the N-th call" is the N-th thing the code asked DynamoDB to do.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const faultKinds = ['throttle', 'unavailable', 'timeout', 'lost-ack', 'conditional'] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface FaultPlan {
  readonly tenantId: string;
  /** 1-based: the N-th operation on the tenant's keys after arming. */
  readonly at: number;
  readonly kind: FaultKind;
}

export interface ArmedRun {
  /** Operations seen on the tenant's keys since arming, in order (`TransactWriteItems`, ...). */
  readonly operations: readonly string[];
  /** Whether the planned fault was injected (false when fewer operations came). */
  readonly injected: boolean;
  /** The operation the fault hit. */
  readonly hit: string | undefined;
}

export interface FaultProxy {
  readonly endpoint: string;
  /** Starts counting the tenant's operations; injects the fault at `plan.at` (0: none, a dry run). */
  arm(plan: FaultPlan): void;
  /** Stops counting and returns what happened since `arm`. */
  disarm(): ArmedRun;
  close(): Promise<void>;
}

const errorPrefix = 'com.amazonaws.dynamodb.v20120810#';
const writeOperations = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'TransactWriteItems',
  'BatchWriteItem',
]);

function jsonError(status: number, type: string, message: string, extra: Record<string, unknown> = {}) {
  return {
    status,
    body: JSON.stringify({ __type: `${errorPrefix}${type}`, message, ...extra }),
  };
}

function conditionalFailure(operation: string, body: Buffer): { status: number; body: string } | undefined {
  if (operation === 'TransactWriteItems') {
    const items = (JSON.parse(body.toString('utf8')) as { TransactItems?: unknown[] }).TransactItems ?? [];
    const reasons = items.map((_, index) =>
      index === 0
        ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' }
        : { Code: 'None' },
    );
    return jsonError(
      400,
      'TransactionCanceledException',
      `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((reason) => reason.Code).join(', ')}]`,
      { CancellationReasons: reasons },
    );
  }
  if (writeOperations.has(operation) && operation !== 'BatchWriteItem') {
    return jsonError(400, 'ConditionalCheckFailedException', 'The conditional request failed');
  }
  return undefined;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let plan: FaultPlan | undefined;
  let invocations: string[] = [];
  const operations: string[] = [];
  let injected = false;
  let hit: string | undefined;
  /** Invocation ids already faulted once by a lost-ack (their retries pass). */
  const lostAcks = new Set<string>();

  const read = (request: IncomingMessage) =>
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => resolve(Buffer.concat(chunks)));
      request.on('error', reject);
    });

  const server: Server = createServer(async (request, response) => {
    const body = await read(request);
    const operation = String(request.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
    const invocation = String(request.headers['amz-sdk-invocation-id'] ?? '');
    let fault: FaultKind | undefined;
    if (plan && invocation !== '' && body.includes(`"${plan.tenantId}#`)) {
      let index = invocations.indexOf(invocation);
      if (index === -1) {
        invocations.push(invocation);
        operations.push(operation);
        index = invocations.length - 1;
      }
      if (plan.at > 0 && index === plan.at - 1) fault = plan.kind;
    }

    const answer = (status: number, text: string) => {
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': String(Buffer.byteLength(text)),
      });
      response.end(text);
    };
    const injectedHere = () => {
      injected = true;
      hit = operation;
    };

    if (fault === 'throttle') {
      injectedHere();
      const error = jsonError(
        400,
        'ProvisionedThroughputExceededException',
        'Rate of requests exceeds the allowed throughput.',
      );
      return answer(error.status, error.body);
    }
    if (fault === 'unavailable') {
      injectedHere();
      const error = jsonError(500, 'InternalServerError', 'Internal server error');
      return answer(error.status, error.body);
    }
    if (fault === 'timeout') {
      injectedHere();
      request.socket.destroy();
      return;
    }
    if (fault === 'conditional') {
      const error = conditionalFailure(operation, body);
      if (error) {
        injectedHere();
        return answer(error.status, error.body);
      }
    }
    const cutAfterForwarding = fault === 'lost-ack' && !lostAcks.has(invocation);
    if (cutAfterForwarding) {
      lostAcks.add(invocation);
      injectedHere();
    }

    const forwarded = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
        agent,
      },
      (upstreamResponse) => {
        const chunks: Buffer[] = [];
        upstreamResponse.on('data', (chunk: Buffer) => chunks.push(chunk));
        upstreamResponse.on('end', () => {
          if (cutAfterForwarding) {
            // DynamoDB applied it; the caller never hears so.
            request.socket.destroy();
            return;
          }
          response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          response.end(Buffer.concat(chunks));
        });
      },
    );
    forwarded.on('error', () => request.socket.destroy());
    forwarded.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    arm(next) {
      plan = next;
      invocations = [];
      operations.length = 0;
      injected = false;
      hit = undefined;
    },
    disarm() {
      const run: ArmedRun = { operations: [...operations], injected, hit };
      plan = undefined;
      return run;
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
