/**
 * The local data folder holds generated secrets (demo passwords, later tenant keys), so
 * it is readable by its owner only: folders 0700, secret files 0600 (SEC-1).
 */
import { chmod, mkdir, open, readFile, rename } from 'node:fs/promises';
import * as path from 'node:path';

/** Creates the folder (and parents) if needed and makes sure only its owner can enter it. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by the umask and ignored for a folder that already exists.
  await chmod(dir, 0o700);
}

/** Writes a file that only its owner can read, atomically (a crash never leaves half a file). */
export async function writePrivateFile(file: string, content: string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

/** Reads a JSON file, or undefined when it does not exist. */
export async function readJsonFile(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
