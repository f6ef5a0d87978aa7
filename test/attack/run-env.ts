/**
 * The environment of `npm run attack`, set before any other module loads (imported first
 * by run.ts): modules such as the logger read it when they load.
 */
import { attackSizeVariable } from './support/size';

process.env[attackSizeVariable] ??= 'full';
process.env.STRONGROOM_ATTACK_PROGRESS ??= '1';
// Handlers log through the powertools logger: quiet, or a million refusals fill the terminal.
process.env.STRONGROOM_LOG_LEVEL ??= 'SILENT';
