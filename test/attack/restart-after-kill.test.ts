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

/** A zombie: a child of `sleep`, which never reaps it. Its pid comes from the shell's $!. */
async function withZombie(use: (pid: number) => Promise<void>): Promise<void> {
  const parent = spawn('sh', ['-c', 'sh -c "exit 0" & echo $!; exec sleep 60'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const pid = Number(
      await new Promise<string>((resolve) =>
        parent.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString())),
      ),
    );
    // Its exit is not announced to us (it is not our child): look until the kernel shows it exited.
    for (let look = 0; look < 500; look++) {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await use(pid);
  } finally {
    parent.kill('SIGKILL');
  }
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
