/**
 * Scenario 6, abrupt stop (API-3, AUD-1, AUD-3, BAK-1): `npm start`'s process
 * (`tsx infra/local/start.ts`, in a process group of its own, on a temporary data folder
 * and free ports) is killed with SIGKILL while writers create invoices, then started
 * again on the same folder. Invariants:
 *
 * - no process of the killed run is left: not in its process group, and not anywhere
 *   else (DynamoDB Local's JVM runs in a group of its own);
 * - every write that was acknowledged (201) is there after the restart, once;
 * - a write cut off by the kill, retried with its Idempotency-Key, exists exactly once;
 * - nothing is half-written and the log verifies: after what the poller would fold, every
 *   entry has its position, the root recomputes, and the offline verifier accepts an
 *   export of the log with item digests matching.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { cognitoLocalClient } from '#infra/local/cognito-app-client';
import { findFreePort } from '#infra/local/ports';
import { dataLayout, projectRoot, type RuntimeState } from '#infra/local/settings';
import type { RuntimeConfig } from '#shared/config/runtime';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { draftInvoice } from '#test/integration/support/route-fixtures';
import { checkLedger } from '../support/ledger';
import { endpointOf, RawConnection } from '../support/raw-http';
import { type ScenarioReport, Tally } from '../support/report';
import { type AttackSize, sized } from '../support/size';

interface AbruptStopSettings {
  readonly kills: number;
  /** Acknowledged writes to wait for before each kill. */
  readonly writesBeforeKill: number;
  readonly writers: number;
}

const settings = {
  bounded: { kills: 1, writesBeforeKill: 12, writers: 6 },
  full: { kills: 3, writesBeforeKill: 60, writers: 12 },
} satisfies Record<AttackSize, AbruptStopSettings>;

const tenantId = 'demo';
const writerEmail = 'accountant@demo.strongroom.test';
/** How long a start may take on a busy machine before the scenario gives up. */
const startTimeoutMs = 180_000;
/** How long the processes of a killed run may take to be gone (they get SIGKILL, or EOF on a pipe). */
const goneTimeoutMs = 30_000;

interface Running {
  readonly child: ChildProcess;
  readonly state: RuntimeState;
  readonly exited: Promise<void>;
}

async function start(
  dataDir: string,
  ports: { api: number; dynamodb: number; cognito: number },
): Promise<Running> {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const child = spawn(process.execPath, [tsx, 'infra/local/start.ts'], {
    cwd: projectRoot,
    // Its own process group, as a terminal gives `npm start`: the group is what gets killed.
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      STRONGROOM_DATA_DIR: dataDir,
      PORT: String(ports.api),
      DYNAMODB_PORT: String(ports.dynamodb),
      COGNITO_PORT: String(ports.cognito),
      // The poller folds and signs on demand only: the scenario folds as it would, when it checks.
      STRONGROOM_AUDIT_STREAM_INTERVAL_SECONDS: '0',
      STRONGROOM_CHECKPOINT_INTERVAL_SECONDS: '0',
      STRONGROOM_LOG_LEVEL: 'SILENT',
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start was not ready in ${startTimeoutMs} ms: ${output.slice(-2000)}`)),
      startTimeoutMs,
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('gateway listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${signal ?? code}) before it was ready: ${output.slice(-2000)}`));
    });
  });
  const state = JSON.parse(await readFile(dataLayout(dataDir).runtimeState, 'utf8')) as RuntimeState;
  return { child, state, exited };
}

/** Every process whose ancestry leads to `root`, with its process group, from `ps`. */
async function descendants(root: number): Promise<{ pid: number; pgid: number; command: string }[]> {
  const { stdout } = await promisify(execFile)('ps', ['-eo', 'pid=,ppid=,pgid=,args=']);
  const processes = stdout
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([, pid, ppid, pgid, command]) => ({
      pid: Number(pid),
      ppid: Number(ppid),
      pgid: Number(pgid),
      command: command ?? '',
    }));
  const found: { pid: number; pgid: number; command: string }[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    for (const each of processes.filter((candidate) => candidate.ppid === parent)) {
      found.push({ pid: each.pid, pgid: each.pgid, command: each.command.slice(0, 120) });
      queue.push(each.pid);
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie waiting to be reaped is gone for every purpose here.
  return true;
}

async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return /^\d+ \(.*\) Z /.test(stat);
  } catch {
    return true;
  }
}

/**
 * Waits until the processes are gone. There is no notification for the death of a process
 * that is not our child, so this looks in /proc until they are, and gives up after a bound:
 * a process still there then is one the killed run left behind.
 */
async function gone(pids: readonly number[]): Promise<number[]> {
  const deadline = Date.now() + goneTimeoutMs;
  for (;;) {
    const left: number[] = [];
    for (const pid of pids) if (alive(pid) && !(await isZombie(pid))) left.push(pid);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function signIn(state: RuntimeState, dataDir: string): Promise<string> {
  const passwords = JSON.parse(await readFile(dataLayout(dataDir).demoUsers, 'utf8')) as Record<
    string,
    { password: string }
  >;
  const cognito = cognitoLocalClient(state.cognitoEndpoint, state.region);
  try {
    const result = await cognito.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: state.clientId,
        AuthParameters: { USERNAME: writerEmail, PASSWORD: passwords[writerEmail]?.password ?? '' },
      }),
    );
    return result.AuthenticationResult?.AccessToken ?? '';
  } finally {
    cognito.destroy();
  }
}

interface Write {
  readonly key: string;
  readonly reference: string;
  acknowledged?: { readonly id: string };
}

function post(connection: RawConnection, token: string, write: Write) {
  return connection.send({
    method: 'POST',
    target: '/invoices',
    headers: [
      ['authorization', `Bearer ${token}`],
      ['content-type', 'application/json'],
      ['idempotency-key', write.key],
    ],
    body: JSON.stringify({ ...draftInvoice, reference: write.reference }),
  });
}

export async function abruptStopScenario(size: AttackSize): Promise<ScenarioReport> {
  const config = sized(settings, size, 'ABRUPT_STOP');
  const tally = new Tally('abrupt stop');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-abrupt-'));
  const ports = {
    api: await findFreePort('127.0.0.1'),
    dynamodb: await findFreePort('127.0.0.1'),
    cognito: await findFreePort('127.0.0.1'),
  };
  const writes: Write[] = [];
  let running = await start(dataDir, ports);
  try {
    for (let kill = 0; kill < config.kills; kill++) {
      const token = await signIn(running.state, dataDir);
      const endpoint = endpointOf(running.state.apiUrl);
      // Writers until enough writes are acknowledged; the kill lands while others are in flight.
      let acknowledged = 0;
      let killed = false;
      let killing: Promise<void> | undefined;
      const tree = await descendants(running.child.pid as number);
      const killRun = async () => {
        killed = true;
        process.kill(-(running.child.pid as number), 'SIGKILL');
        await running.exited;
      };
      await Promise.all(
        Array.from({ length: config.writers }, async () => {
          const connection = new RawConnection(endpoint);
          while (!killed) {
            const write: Write = {
              key: `abrupt-${randomBytes(8).toString('hex')}`,
              reference: `abrupt-${randomBytes(6).toString('hex')}`,
            };
            writes.push(write);
            try {
              const response = await post(connection, token, write);
              tally.requests++;
              if (response.status === 201) {
                write.acknowledged = {
                  id: (JSON.parse(response.body.toString('utf8')) as { id: string }).id,
                };
                acknowledged++;
              } else if (!killed) {
                tally.fail(
                  'otherViolations',
                  `a write before the kill answered ${response.status} ${response.body.toString('utf8').slice(0, 200)}`,
                );
              }
            } catch {
              // Cut off by the kill: not acknowledged.
              tally.requests++;
            }
            if (acknowledged >= config.writesBeforeKill && !killed) killing = killRun();
          }
          connection.close();
        }),
      );
      await killing;
      // Nothing of the killed run is left: its group, and the JVM in a group of its own.
      const left = await gone(tree.map((each) => each.pid));
      for (const pid of left) {
        const found = tree.find((each) => each.pid === pid);
        tally.fail(
          'otherViolations',
          `process ${pid} of the killed run is still running (group ${found?.pgid}): ${found?.command}`,
        );
        // Ours to clean up, so the next start gets its ports.
        process.kill(pid, 'SIGKILL');
      }
      tally.note(
        `kill ${kill + 1}: ${acknowledged} writes acknowledged, ${tree.length} processes of the run (${[...new Set(tree.map((each) => each.pgid))].length} groups) gone`,
      );

      running = await start(dataDir, ports);
      const config2: RuntimeConfig = {
        mode: 'local',
        stage: 'local',
        region: running.state.region,
        dynamoEndpoint: running.state.dynamoEndpoint,
        userPoolId: running.state.userPoolId,
        userPoolClientId: running.state.clientId,
        localDataDir: dataDir,
        securityTxtExpires: '',
        allowedOrigins: [],
      };
      const clients = new DataClients(config2);
      try {
        const ledger = await checkLedger(
          { clients, auditLog: new AuditLog('local'), stage: 'local', dataDir },
          tenantId,
          { verifier: true },
        );
        for (const problem of [...ledger.logProblems, ...ledger.partialWrites])
          tally.fail('partialWrites', `after kill ${kill + 1}: ${problem}`);
        // Every write again with its key: acknowledged ones replay, cut-off ones act at most once.
        const freshToken = await signIn(running.state, dataDir);
        const connection = new RawConnection(endpointOf(running.state.apiUrl));
        for (const write of writes) {
          const response = await post(connection, freshToken, write);
          tally.requests++;
          const body = JSON.parse(response.body.toString('utf8')) as { id?: string };
          if (response.status !== 201)
            tally.fail('otherViolations', `the retry of ${write.key} answered ${response.status}`);
          else if (write.acknowledged && body.id !== write.acknowledged.id) {
            tally.fail(
              'duplicates',
              `acknowledged write ${write.key} (${write.acknowledged.id}) was created again as ${body.id}`,
            );
          }
          write.acknowledged ??= { id: body.id ?? '' };
        }
        connection.close();
        const after = await checkLedger(
          { clients, auditLog: new AuditLog('local'), stage: 'local', dataDir },
          tenantId,
          {
            verifier: false,
          },
        );
        const creates = new Map<string, number>();
        for (const { entry } of after.entries) {
          if (entry.action === 'invoice.create')
            creates.set(entry.target.id, (creates.get(entry.target.id) ?? 0) + 1);
        }
        for (const write of writes) {
          const count = creates.get(write.acknowledged?.id ?? '') ?? 0;
          if (count === 0)
            tally.fail(
              'partialWrites',
              `write ${write.key} (${write.acknowledged?.id}) is missing after the restart`,
            );
          if (count > 1) tally.fail('duplicates', `write ${write.key} was created ${count} times`);
        }
        const ids = writes.map((write) => write.acknowledged?.id);
        if (new Set(ids).size !== ids.length) tally.fail('duplicates', 'two writes share an invoice');
      } finally {
        clients.platform().destroy();
      }
    }
  } finally {
    // The last run stops as Ctrl-C stops it.
    const tree = await descendants(running.child.pid as number).catch(() => []);
    process.kill(-(running.child.pid as number), 'SIGTERM');
    await running.exited;
    for (const pid of await gone(tree.map((each) => each.pid))) {
      tally.fail('otherViolations', `process ${pid} is still running after the stop`);
      process.kill(pid, 'SIGKILL');
    }
    await rm(dataDir, { recursive: true, force: true });
  }
  tally.note(
    `${writes.length} writes, ${writes.filter((write) => write.acknowledged).length} present after the restarts`,
  );
  return tally.report();
}
