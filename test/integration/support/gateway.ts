/**
 * The local gateway in the test process, on a free loopback port, configured from the
 * global setup's stack; each test file drives it over real HTTP.
 */

import { type AccessLogEntry, type Gateway, startGateway } from '#infra/local/gateway';
import type { FailedAttemptSettings } from '#shared/auth/failed-attempts';
import { securityTxtExpiry } from '#shared/config/product';
import { type LocalStackInfo, localStack } from './local-stack';

export interface TestGateway extends Gateway {
  /** Access log entries of this gateway, in order. */
  readonly accessLog: readonly AccessLogEntry[];
  /** `fetch` against the gateway: `call('/invoices', { headers })`. */
  call(path: string, init?: RequestInit): Promise<Response>;
}

export interface TestGatewayOptions {
  /** The authorizer's clock; a test moves it past cache lifetimes instead of sleeping. */
  readonly authorizerClock?: () => number;
  readonly failedAttempts?: FailedAttemptSettings;
}

export async function startTestGateway(
  stack: LocalStackInfo = localStack(),
  options: TestGatewayOptions = {},
): Promise<TestGateway> {
  // Handlers log through the powertools logger; quiet unless a run asks for their logs.
  process.env.STRONGROOM_LOG_LEVEL ??= 'SILENT';
  const accessLog: AccessLogEntry[] = [];
  const gateway = await startGateway({
    port: 0,
    environment: {
      dynamoEndpoint: stack.dynamoEndpoint,
      userPoolId: stack.userPoolId,
      clientId: stack.clientId,
      cognitoEndpoint: stack.cognitoEndpoint,
      dataDir: stack.dataDir,
      allowedOrigins: stack.allowedOrigins,
      securityTxtExpires: securityTxtExpiry(new Date()),
      region: stack.region,
      stage: stack.stage,
    },
    accessLog: (entry) => accessLog.push(entry),
    ...options,
  });
  return {
    ...gateway,
    accessLog,
    call: (path, init) => fetch(`${gateway.url}${path}`, { ...init, signal: AbortSignal.timeout(30_000) }),
  };
}
