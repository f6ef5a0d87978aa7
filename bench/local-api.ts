/**
 * A throwaway local stack for benchmarks: DynamoDB Local and cognito-local on free
 * ports with a temporary data folder, the gateway in this process, and a token.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { cognitoLocalClient } from '#infra/local/cognito-app-client';
import { type Gateway, startGateway } from '#infra/local/gateway';
import { type LocalStack, localRuntimeConfig, startLocalStack } from '#infra/local/stack';
import { securityTxtExpiry } from '#shared/config/product';
import type { RuntimeConfig } from '#shared/config/runtime';

export interface BenchApi {
  readonly stack: LocalStack;
  readonly gateway: Gateway;
  readonly config: RuntimeConfig;
  tokenFor(role: string, tenantId?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startBenchApi(): Promise<BenchApi> {
  process.env.STRONGROOM_LOG_LEVEL ??= 'SILENT';
  const dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-bench-'));
  const stack = await startLocalStack({ dataDir, dynamodbPort: 0, cognitoPort: 0 });
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
    accessLog: () => undefined,
  });
  const cognito = cognitoLocalClient(stack.cognitoEndpoint, stack.region);
  return {
    stack,
    gateway,
    config: localRuntimeConfig(stack),
    async tokenFor(role, tenantId = 'demo') {
      const user = stack.demoUsers.find((each) => each.role === role && each.tenantId === tenantId);
      if (!user) throw new Error(`no demo ${role} in ${tenantId}`);
      const result = await cognito.send(
        new InitiateAuthCommand({
          AuthFlow: 'USER_PASSWORD_AUTH',
          ClientId: stack.clientId,
          AuthParameters: { USERNAME: user.email, PASSWORD: user.password },
        }),
      );
      const token = result.AuthenticationResult?.AccessToken;
      if (!token) throw new Error('no access token');
      return token;
    },
    async stop() {
      await gateway.close();
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `task` `count` times with `concurrency` in flight; returns each call's latency in ms. */
export async function load(count: number, concurrency: number, task: (index: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const begin = performance.now();
        await task(index);
        latencies.push(performance.now() - begin);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}
