/**
 * Whether a process runs, for the local runtime's one-instance-per-data-folder check. A
 * process that was killed but not yet reaped by its new parent (a zombie, which a SIGKILL
 * of `npm start`'s process group leaves for a moment) still answers `kill(pid, 0)`, yet
 * runs nothing and holds nothing: it does not count.
 */
import { readFile } from 'node:fs/promises';

export async function processRuns(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // No such process; EPERM means one exists that is not ours.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  try {
    // Linux: the state follows the command name, which may hold spaces and parentheses.
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    // No /proc (macOS), or gone meanwhile: kill(pid, 0) answered for it.
    return true;
  }
}
