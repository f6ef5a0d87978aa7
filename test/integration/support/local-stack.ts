/**
 * What the integration global setup shares with test files: the running DynamoDB Local
 * and cognito-local (free ports, fresh data folder) and the seeded demo users.
 */
import { inject } from 'vitest';
import type { SeededDemoUser } from '#infra/local/seed';
import type { RuntimeConfig } from '#shared/config/runtime';
import type { LocalStackInfo } from './local-stack-info';

export type { LocalStackInfo } from './local-stack-info';

declare module 'vitest' {
  export interface ProvidedContext {
    strongroomLocal: LocalStackInfo;
  }
}

export function localStack(): LocalStackInfo {
  return inject('strongroomLocal');
}

/** The runtime configuration local handlers get, for tests that reach stores directly. */
export function localRuntimeConfig(stack: LocalStackInfo = localStack()): RuntimeConfig {
  return {
    mode: 'local',
    stage: stack.stage,
    region: stack.region,
    dynamoEndpoint: stack.dynamoEndpoint,
    userPoolId: stack.userPoolId,
    userPoolClientId: stack.clientId,
    localDataDir: stack.dataDir,
    securityTxtExpires: '',
    allowedOrigins: stack.allowedOrigins,
  };
}

/** A seeded demo user by role and tenant. */
export function demoUser(role: string, tenantId = 'demo'): SeededDemoUser {
  const user = localStack().demoUsers.find((each) => each.role === role && each.tenantId === tenantId);
  if (!user) throw new Error(`no demo user with role ${role} in tenant ${tenantId}`);
  return user;
}
