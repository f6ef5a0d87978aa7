/**
 * The runtime configuration of the `npm start` stack that is running on the data folder
 * (`STRONGROOM_DATA_DIR`, default `.strongroom/`), for the on-demand commands that act on it
 * (`npm run purge`, `npm run retention`, `npm run backup`, `npm run onboard`).
 */
import * as path from 'node:path';
import type { RuntimeConfig } from '#shared/config/runtime';
import { readJsonFile } from './private-files';
import { dataLayout, defaultDataDir, localStoreConfig, type RuntimeState } from './settings';

export async function runningStackConfig(): Promise<RuntimeConfig & { readonly localDataDir: string }> {
  const dataDir = path.resolve(process.env.STRONGROOM_DATA_DIR ?? defaultDataDir);
  const state = (await readJsonFile(dataLayout(dataDir).runtimeState)) as RuntimeState | undefined;
  if (!state) throw new Error('the local stack is not running; start it with npm start');
  return {
    ...localStoreConfig(state.dynamoEndpoint, dataDir),
    region: state.region,
    userPoolId: state.userPoolId,
    userPoolClientId: state.clientId,
    cognitoEndpoint: state.cognitoEndpoint,
    localDataDir: dataDir,
  };
}
