/**
 * DynamoDB Local as `npm start` runs it: data on disk that survives a restart, a stop
 * that leaves no process of its group behind, and a listener on loopback only. Uses its
 * own DynamoDB Local on a fresh folder, so the shared one keeps running for other files.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTables } from '#infra/local/bootstrap-tables';
import { type DynamoDbLocal, startDynamoDbLocal } from '#infra/local/dynamodb-local';
import { findFreePort } from '#infra/local/ports';
import { localStoreConfig } from '#infra/local/settings';
import type { RuntimeConfig } from '#shared/config/runtime';
import { DataClients } from '#shared/store/dynamo';
import { identityIdOf, MemberStore } from '#shared/store/members';

let dataDir: string;
let running: DynamoDbLocal | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-persistence-'));
});

afterAll(async () => {
  await running?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function configFor(dynamodb: DynamoDbLocal): RuntimeConfig {
  return localStoreConfig(dynamodb.endpoint, dataDir);
}

function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** Resolves with the connection's outcome: 'connected' or the error code. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

describe('DynamoDB Local of the local runtime', () => {
  it('keeps a member across a restart on the same data folder, and its stop ends the process group', async () => {
    const issuer = 'https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Persisted';
    const identityId = identityIdOf(issuer, 'restart-subject');
    const members = new MemberStore('local');

    const first = await startDynamoDbLocal({ dbPath: dataDir, port: await findFreePort('127.0.0.1') });
    running = first;
    const firstClients = new DataClients(configFor(first));
    const tableClient = DataClients.rawClient(configFor(first));
    await ensureTables(tableClient, 'local');
    tableClient.destroy();
    await members.put(firstClients.platform(), {
      tenantId: 'restart',
      identityId,
      issuer,
      subject: 'restart-subject',
      roles: ['auditor'],
      status: 'active',
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    await first.stop();
    running = undefined;
    expect(processGroupAlive(first.pid)).toBe(false);

    const second = await startDynamoDbLocal({ dbPath: dataDir, port: await findFreePort('127.0.0.1') });
    running = second;
    const found = await members.findByIdentity(new DataClients(configFor(second)).platform(), identityId);
    expect(found).toEqual([
      expect.objectContaining({ tenantId: 'restart', roles: ['auditor'], status: 'active' }),
    ]);
    await second.stop();
    running = undefined;
    expect(processGroupAlive(second.pid)).toBe(false);
  });

  it('listens on 127.0.0.1 only', async () => {
    const dynamodb = await startDynamoDbLocal({ dbPath: dataDir, port: await findFreePort('127.0.0.1') });
    running = dynamodb;
    expect(dynamodb.loopbackOnly).toBe(true);
    expect(await tryConnect('127.0.0.1', dynamodb.port)).toBe('connected');
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && !address.internal && address.family === 'IPv4');
    // A machine with no other interface has nothing to test beyond loopback.
    if (outside) expect(await tryConnect(outside.address, dynamodb.port)).toBe('ECONNREFUSED');
    await dynamodb.stop();
    running = undefined;
  });
});
