/**
 * The format of the local data folder. Items written by an older Strongroom can be ones the
 * current one refuses to read (an unsealed item is never trusted: ENC-3), which would show
 * up as 500s on the first request; so `npm start` checks the folder's format before it
 * starts anything, and refuses an older folder with what to do, changing nothing in it.
 */
import { readdir } from 'node:fs/promises';
import { readJsonFile, writePrivateFile } from './private-files';

/**
 * The current format. 1: the folders of Strongroom before this marker existed (data items
 * unsealed); 2: data and idempotency items sealed (ENC-3).
 */
export const localDataFormat = 2;

/** The data folder was written by another Strongroom; nothing in it was changed. */
export class LocalDataFormatError extends Error {
  readonly code = 'local-data-format';

  constructor(message: string) {
    super(message);
    this.name = 'LocalDataFormatError';
  }
}

/**
 * Accepts a folder of the current format, marks a new one (no DynamoDB data yet) with it,
 * and refuses anything else.
 */
export async function checkLocalDataFormat(layout: {
  readonly root: string;
  readonly dynamodb: string;
  readonly format: string;
}): Promise<void> {
  const marker = await readJsonFile(layout.format);
  const found =
    marker === undefined
      ? (await readdir(layout.dynamodb).catch(() => [])).length > 0
        ? 1
        : undefined
      : (marker as { format?: unknown }).format;
  if (found === undefined) {
    await writePrivateFile(layout.format, `${JSON.stringify({ format: localDataFormat })}\n`);
    return;
  }
  if (found === localDataFormat) return;
  const older = typeof found === 'number' && found < localDataFormat;
  throw new LocalDataFormatError(
    `the local data folder ${layout.root} holds data format ${JSON.stringify(found)}, and this Strongroom reads format ${localDataFormat}${
      older ? ' (it was written by an older version)' : ''
    }. Nothing in it was changed. Move it aside (or delete it) to start with fresh demo data, e.g. mv ${layout.root} ${layout.root}.format-${JSON.stringify(found)}`,
  );
}
