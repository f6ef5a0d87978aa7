/**
 * A minimal POSIX ustar writer and reader for the tenant export (DAT-1): regular files only,
 * names up to 100 bytes. The decrypted export is a plain `.tar` that any tar tool extracts.
 */

export interface TarFile {
  /** Path inside the archive, at most 100 bytes of UTF-8. */
  readonly name: string;
  readonly content: Buffer;
}

const block = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, size: number, mtime: number): Buffer {
  const bytes = Buffer.alloc(block);
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length === 0 || nameBytes.length > 100) {
    throw new RangeError(`tar entry names are 1 to 100 bytes, got ${JSON.stringify(name)}`);
  }
  nameBytes.copy(bytes, 0);
  bytes.write(octal(0o600, 8), 100, 'ascii');
  bytes.write(octal(0, 8), 108, 'ascii');
  bytes.write(octal(0, 8), 116, 'ascii');
  bytes.write(octal(size, 12), 124, 'ascii');
  bytes.write(octal(mtime, 12), 136, 'ascii');
  bytes.write('        ', 148, 'ascii');
  bytes.write('0', 156, 'ascii');
  bytes.write('ustar\0', 257, 'ascii');
  bytes.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of bytes) sum += byte;
  bytes.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return bytes;
}

/** The files as one ustar archive, in the order given. */
export function writeTar(files: readonly TarFile[], mtime: Date): Buffer {
  const seconds = Math.floor(mtime.getTime() / 1000);
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(header(file.name, file.content.length, seconds), file.content);
    const padding = (block - (file.content.length % block)) % block;
    if (padding > 0) parts.push(Buffer.alloc(padding));
  }
  parts.push(Buffer.alloc(2 * block));
  return Buffer.concat(parts);
}

/** The archive is not a ustar archive this module wrote (or it is cut short). */
export class TarFormatError extends Error {
  readonly code = 'tar-format';

  constructor(message: string) {
    super(message);
    this.name = 'TarFormatError';
  }
}

/** The regular files of a ustar archive, by name. */
export function readTar(archive: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let offset = 0;
  while (offset + block <= archive.length) {
    const head = archive.subarray(offset, offset + block);
    if (head.every((byte) => byte === 0)) return files;
    const field = (start: number, length: number) =>
      head
        .subarray(start, start + length)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    if (field(257, 6) !== 'ustar' || !Number.isSafeInteger(size)) {
      throw new TarFormatError(`no ustar header at byte ${offset}`);
    }
    const start = offset + block;
    if (start + size > archive.length) throw new TarFormatError(`${field(0, 100)} is cut short`);
    if (field(156, 1) === '0' || field(156, 1) === '') {
      files.set(field(0, 100), archive.subarray(start, start + size));
    }
    offset = start + Math.ceil(size / block) * block;
  }
  throw new TarFormatError('the archive has no end marker');
}
