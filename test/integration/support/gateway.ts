/**
 * The local gateway in the test process, on a free loopback port, configured from the
 * global setup's stack; each test file drives it over real HTTP.
 */

import { type AccessLogEntry, type Gateway, startGateway } from '#infra/local/gateway';
import { securityTxtExpiry } from '#shared/config/product';
import { type LocalStackInfo, localStack } from './local-stack';

export interface TestGateway extends Gateway {
  /** Access log entries of this gateway, in order. */
  readonly accessLog: readonly AccessLogEntry[];
  /** `fetch` against the gateway: `call('/invoices', { headers })`. */
  call(path: string, init?: RequestInit): Promise<Response>;
}

export async function startTestGateway(stack: LocalStackInfo = localStack()): Promise<TestGateway> {
  // Handlers log through the powertools logger; quiet unless a run asks for their logs.
  process.env.STRONGROOM_LOG_LEVEL ??= 'SILENT';
  const accessLog: AccessLogEntry[] = [];
  const gateway = await startGateway({
    port: 0,
    environment: {
      dynamoEndpoint: stack.dynamoEndpoint,
      userPoolId: stack.userPoolId,
      clientId: stack.clientId,
      dataDir: stack.dataDir,
      allowedOrigins: stack.allowedOrigins,
      securityTxtExpires: securityTxtExpiry(new Date()),
      region: stack.region,
      stage: stack.stage,
    },
    accessLog: (entry) => accessLog.push(entry),
  });
  return {
    ...gateway,
    accessLog,
    call: (path, init) => fetch(`${gateway.url}${path}`, { ...init, signal: AbortSignal.timeout(30_000) }),
  };
}
