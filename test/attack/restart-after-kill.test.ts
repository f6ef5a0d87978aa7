/**
 * Regression test for a defect the abrupt-stop scenario (scenarios/abrupt-stop.ts) found,
 * named after the invariant it protects: `npm start` starts again at once after its
 * predecessor was killed. The killed process may still be a zombie (exited, not yet reaped
 * by its new parent) when the next start reads its pid from runtime.json; a zombie runs
 * nothing and must not count as "npm start already runs on this data folder".
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { processRuns } from '#infra/local/process-state';

/**
 * A zombie: a child of `sleep`, which never reaps it. The shell starts the child, prints its
 * pid and replaces itself with `sleep`; the child ends only once its parent *is* `sleep`
 * (`$$` in a subshell is the outer shell), so the shell cannot reap it first. Resolves with
 * its pid once the kernel shows it exited, or undefined if it was gone before that.
 */
async function startZombie(): Promise<{ pid: number | undefined; stop: () => void }> {
  const parent = spawn(
    'sh',
    ['-c', '( while [ "$(cat /proc/$$/comm)" != sleep ]; do :; done ) & echo $!; exec sleep 60'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const stop = () => parent.kill('SIGKILL');
  const pid = Number(
    await new Promise<string>((resolve) =>
      parent.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString())),
    ),
  );
  // Its exit is not announced to us (it is not our child): look until the kernel shows it exited.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) return { pid: undefined, stop };
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return { pid, stop };
    if (Date.now() > deadline) throw new Error(`process ${pid} did not end within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Runs `use` with a zombie's pid; a few tries, as one was once seen reaped under load in CI. */
async function withZombie(use: (pid: number) => Promise<void>): Promise<void> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const zombie = await startZombie();
    try {
      if (zombie.pid !== undefined) return await use(zombie.pid);
    } finally {
      zombie.stop();
    }
  }
  throw new Error('no zombie process could be observed in 5 tries');
}

describe('npm start starts again at once after a SIGKILL', () => {
  it('does not take a killed, not yet reaped process for a running instance', async () => {
    await withZombie(async (zombie) => {
      expect(await processRuns(zombie)).toBe(false);
    });
    expect(await processRuns(process.pid)).toBe(true);
    expect(await processRuns(2 ** 22 + 7)).toBe(false);
  });
});
