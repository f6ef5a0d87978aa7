/**
 * What a test or the attack runner needs of a started local stack, in plain data: the
 * integration global setup hands it to test files (vitest's provide), npm run attack to
 * its scenarios. Kept free of vitest imports so the attack runner can load it.
 */

import type { SeededDemoUser } from '#infra/local/seed';
import type { LocalStack } from '#infra/local/stack';

export interface LocalStackInfo {
  readonly region: string;
  readonly stage: string;
  readonly dataDir: string;
  readonly dynamoEndpoint: string;
  readonly cognitoEndpoint: string;
  readonly userPoolId: string;
  readonly clientId: string;
  /** Exactly the `iss` claim of the local pool's tokens. */
  readonly issuer: string;
  readonly allowedOrigins: readonly string[];
  readonly passwordsFile: string;
  /** Demo users with their passwords, subjects and member ids. */
  readonly demoUsers: readonly SeededDemoUser[];
}

/** The plain-data view of a started stack (no handles, nothing to stop). */
export function localStackInfo(stack: LocalStack): LocalStackInfo {
  return {
    region: stack.region,
    stage: stack.stage,
    dataDir: stack.dataDir,
    dynamoEndpoint: stack.dynamoEndpoint,
    cognitoEndpoint: stack.cognitoEndpoint,
    userPoolId: stack.userPoolId,
    clientId: stack.clientId,
    issuer: stack.issuer,
    allowedOrigins: stack.allowedOrigins,
    passwordsFile: stack.passwordsFile,
    demoUsers: stack.demoUsers,
  };
}
