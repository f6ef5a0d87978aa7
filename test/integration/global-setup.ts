/**
 * Global setup of the integration project: DynamoDB Local and cognito-local on free
 * loopback ports with a fresh temporary data folder, tables from tables.ts and the demo
 * tenants, exactly as `npm start` prepares them. Test files get the endpoints, ids and
 * demo users through `inject('strongroomLocal')`; teardown stops everything.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalStack } from '#infra/local/stack';
import { localStackInfo } from './support/local-stack-info';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-integration-'));
  const stack = await startLocalStack({ dataDir, dynamodbPort: 0, cognitoPort: 0 });
  const info = localStackInfo(stack);
  project.provide('strongroomLocal', info);
  return async () => {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
