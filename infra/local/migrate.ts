/**
 * `npm run migrate`: brings a local data folder of an older format (infra/local/data-format.ts)
 * to the current one, once: it seals the items written before their table was sealed (ENC-3;
 * the members table was sealed last). Run it with npm start stopped, on the same
 * STRONGROOM_DATA_DIR (default `.strongroom/`). It lists every item it sealed by table and key
 * (ids only, no values) and every item it left and why; running it again changes nothing.
 * Exit status 1 when an item was left: the folder keeps its format, and npm start refuses it.
 */
import * as path from 'node:path';
import { migrateDataFolder } from './legacy-items';
import { defaultDataDir } from './settings';

async function main(): Promise<number> {
  const dataDir = path.resolve(process.env.STRONGROOM_DATA_DIR ?? defaultDataDir);
  const { sealed, left, format } = await migrateDataFolder(dataDir, (message) => console.log(message));
  for (const item of sealed) {
    console.log(`sealed ${item.table} ${item.pk} ${item.sk} (${item.unsealed.join(', ')})`);
  }
  for (const { item, reason } of left) console.log(`left   ${item.table} ${item.pk} ${item.sk}: ${reason}`);
  if (format.from !== format.to) {
    console.log(`${sealed.length} item(s) sealed; ${dataDir} is now data format ${String(format.to)}`);
  } else if (left.length > 0) {
    console.log(
      `${sealed.length} item(s) sealed, ${left.length} left as they were: ${dataDir} stays data format ${String(format.from)}`,
    );
  }
  return left.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`migrate failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
