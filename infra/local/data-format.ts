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
 * unsealed, or sealed with members plain); 2: data and idempotency items sealed (ENC-3);
 * 3: members, API keys, support grants and onboarding records sealed too.
 */
export const localDataFormat = 3;

/**
 * Older formats that `npm run migrate` brings to the current one: what they hold differs from
 * it only in items written before their table was sealed, which the command seals
 * (legacy-items.ts).
 */
export const migratableDataFormats: readonly number[] = [1, 2];

/** The data folder was written by another Strongroom; nothing in it was changed. */
export class LocalDataFormatError extends Error {
  readonly code = 'local-data-format';

  constructor(message: string) {
    super(message);
    this.name = 'LocalDataFormatError';
  }
}

interface FormatLayout {
  readonly root: string;
  readonly dynamodb: string;
  readonly format: string;
}

/** The folder's format: its marker's, 1 for an unmarked folder with DynamoDB data, undefined for a new one. */
export async function localDataFormatOf(layout: FormatLayout): Promise<unknown> {
  const marker = await readJsonFile(layout.format);
  if (marker !== undefined) return (marker as { format?: unknown }).format;
  return (await readdir(layout.dynamodb).catch(() => [])).length > 0 ? 1 : undefined;
}

/** Marks the folder with the current format. */
export async function markLocalDataFormat(layout: FormatLayout): Promise<void> {
  await writePrivateFile(layout.format, `${JSON.stringify({ format: localDataFormat })}\n`);
}

/**
 * Accepts a folder of the current format, marks a new one (no DynamoDB data yet) with it,
 * and refuses anything else.
 */
export async function checkLocalDataFormat(layout: FormatLayout): Promise<void> {
  const found = await localDataFormatOf(layout);
  if (found === undefined) {
    await markLocalDataFormat(layout);
    return;
  }
  if (found === localDataFormat) return;
  const older = typeof found === 'number' && found < localDataFormat;
  const migratable = typeof found === 'number' && migratableDataFormats.includes(found);
  throw new LocalDataFormatError(
    `the local data folder ${layout.root} holds data format ${JSON.stringify(found)}, and this Strongroom reads format ${localDataFormat}${
      older ? ' (it was written by an older version)' : ''
    }. Nothing in it was changed. ${
      migratable
        ? 'Seal what it holds from before its tables were sealed with npm run migrate (once, same STRONGROOM_DATA_DIR; it lists each item it seals), or move'
        : 'Move'
    } it aside (or delete it) to start with fresh demo data, e.g. mv ${layout.root} ${layout.root}.format-${JSON.stringify(found)}`,
  );
}
