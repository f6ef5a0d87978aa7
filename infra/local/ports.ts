/** Network helpers of the local runtime: free ports, readiness by connecting, listen and close. */
import type { Server as HttpServer } from 'node:http';
import { connect, createServer } from 'node:net';

/** Fails when something already listens on the port, so a stale server is never mistaken for ours. */
export async function assertPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${port} on ${host} is already in use (is another npm start running?)`)
          : error,
      );
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** A port that is free right now, chosen by the operating system (for tests). */
export async function findFreePort(host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0, exclusive: true }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1_000);
    const finish = (connected: boolean) => {
      socket.destroy();
      resolve(connected);
    };
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    socket.once('timeout', () => finish(false));
  });
}

export interface WaitForPortOptions {
  readonly timeoutMs: number;
  /** Stops waiting with this error as soon as it is set (for instance, the server process exited). */
  readonly failure?: () => Error | undefined;
  readonly pollIntervalMs?: number;
}

/** Resolves once a TCP connection to the port succeeds; rejects on timeout or reported failure. */
export async function waitForPort(host: string, port: number, options: WaitForPortOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.pollIntervalMs ?? 50;
  for (;;) {
    const failure = options.failure?.();
    if (failure) throw failure;
    if (await canConnect(host, port)) return;
    const failed = options.failure?.();
    if (failed) throw failed;
    if (Date.now() >= deadline)
      throw new Error(`nothing listened on ${host}:${port} within ${options.timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** Listens on loopback (the caller checked the host) and resolves once listening. */
export function listen(server: HttpServer, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

/** Closes the server, including idle keep-alive connections that would hold it open. */
export function closeServer(server: HttpServer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
    // Requests still running get a short grace period, then their sockets are closed.
    setTimeout(() => server.closeAllConnections(), 2_000).unref();
  });
}
