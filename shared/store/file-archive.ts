/**
 * The local audit archive: one read-only file (mode 0444) per object under a folder of
 * the local data directory. A file is written once and never replaced: the bytes go to a
 * private temporary file first, which is then hard-linked to its final name; link(2)
 * fails when the name exists, so two writers cannot both win and a crash never leaves
 * half a file under the final name.
 */
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { type ArchiveOutcome, type ArchiveSink, assertArchiveKey } from '#shared/audit/archive';

export class FileArchiveSink implements ArchiveSink {
  readonly location: string;

  /** `root` must be absolute; folders are created on demand with mode 0700. */
  constructor(root: string) {
    if (!path.isAbsolute(root))
      throw new Error(`archive folder must be absolute, got ${JSON.stringify(root)}`);
    this.location = root;
  }

  /** The file of an archive key. */
  fileOf(key: string): string {
    assertArchiveKey(key);
    return path.join(this.location, ...key.split('/'));
  }

  async putOnce(key: string, bytes: Uint8Array): Promise<ArchiveOutcome> {
    const file = this.fileOf(key);
    const folder = path.dirname(file);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const temporary = path.join(
      folder,
      `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
    );
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await chmod(temporary, 0o444);
      await link(temporary, file);
      return 'written';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
    const existing = await readFile(file);
    return existing.equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      ? 'identical'
      : 'mismatch';
  }
}
