/**
 * npm start on a data folder of another format: refused with what to do, nothing changed,
 * before anything starts; a new folder is marked with the current format.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkLocalDataFormat, LocalDataFormatError, localDataFormat } from '#infra/local/data-format';
import { dataLayout } from '#infra/local/settings';

describe('the local data folder format', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'strongroom-format-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('marks a new folder with the current format, and accepts it from then on', async () => {
    const layout = dataLayout(root);
    await checkLocalDataFormat(layout);
    expect(JSON.parse(await readFile(layout.format, 'utf8'))).toEqual({ format: localDataFormat });
    await expect(checkLocalDataFormat(layout)).resolves.toBeUndefined();
  });

  it('refuses a folder with DynamoDB data but no marker (written before formats), and changes nothing', async () => {
    const layout = dataLayout(root);
    await mkdir(layout.dynamodb);
    await writeFile(join(layout.dynamodb, 'shared-local-instance.db'), 'old tables');
    const error = await checkLocalDataFormat(layout).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LocalDataFormatError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `holds data format 1, and this Strongroom reads format ${localDataFormat} \\(it was written by an older version\\)\\. Nothing in it was changed\\. Seal what it holds from before its tables were sealed with npm run migrate .*, or move it aside`,
      ),
    );
    expect((await readdir(root)).sort()).toEqual(['dynamodb']);
  });

  it('refuses a folder marked with another format', async () => {
    const layout = dataLayout(root);
    await writeFile(layout.format, JSON.stringify({ format: localDataFormat + 1 }));
    await expect(checkLocalDataFormat(layout)).rejects.toThrow(
      `holds data format ${localDataFormat + 1}, and this Strongroom reads format ${localDataFormat}. Nothing in it was changed. Move it aside`,
    );
  });

  it('[ENC-3] names npm run migrate for a folder of format 2, whose members are not sealed yet', async () => {
    const layout = dataLayout(root);
    await writeFile(layout.format, JSON.stringify({ format: 2 }));
    const error = await checkLocalDataFormat(layout).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LocalDataFormatError);
    expect((error as Error).message).toContain('holds data format 2');
    expect((error as Error).message).toContain('npm run migrate');
    expect(JSON.parse(await readFile(layout.format, 'utf8'))).toEqual({ format: 2 });
  });
});
