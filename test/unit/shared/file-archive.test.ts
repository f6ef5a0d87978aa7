/** The local archive sink (AUD-2): read-only files, written once, compared on a second write. */
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileArchiveSink } from '#shared/store/file-archive';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'strongroom-archive-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('[AUD-2] FileArchiveSink', () => {
  it('writes a read-only file once, then answers identical or mismatch and never overwrites', async () => {
    const sink = new FileArchiveSink(root);
    const key = 'tenants/demo/checkpoints/3.note';
    expect(await sink.putOnce(key, Buffer.from('note\n'))).toBe('written');
    const file = path.join(root, 'tenants', 'demo', 'checkpoints', '3.note');
    expect((await stat(file)).mode & 0o777).toBe(0o444);
    expect(await sink.putOnce(key, Buffer.from('note\n'))).toBe('identical');
    expect(await sink.putOnce(key, Buffer.from('other\n'))).toBe('mismatch');
    expect(await readFile(file, 'utf8')).toBe('note\n');
    // No temporary file is left behind.
    expect(await readdir(path.dirname(file))).toEqual(['3.note']);
  });

  it('lets exactly one of many concurrent writers of a key win', async () => {
    const sink = new FileArchiveSink(root);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, n) =>
        sink.putOnce('tenants/demo/entries/aud_1.json', Buffer.from(`{"n":${n}}`)),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'written')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'mismatch')).toHaveLength(7);
  });

  it('sees a file changed behind its back as a mismatch', async () => {
    const sink = new FileArchiveSink(root);
    const key = 'tenants/demo/entries/aud_2.json';
    await sink.putOnce(key, Buffer.from('{"a":1}'));
    const file = sink.fileOf(key);
    await chmod(file, 0o644);
    await writeFile(file, '{"a":2}');
    expect(await sink.putOnce(key, Buffer.from('{"a":1}'))).toBe('mismatch');
  });

  it('refuses keys that leave the archive folder or hide files', () => {
    const sink = new FileArchiveSink(root);
    for (const key of ['../x.json', 'tenants/../../x', '/etc/passwd', 'tenants/.hidden', 'a//b']) {
      expect(() => sink.fileOf(key), key).toThrow(/archive key must be plain path segments/);
    }
    expect(() => new FileArchiveSink('relative/archive')).toThrow(/got "relative\/archive"/);
  });
});
