/**
 * cognito-local depends on aws-sdk v2, which announces its end of support when it loads.
 * The notice concerns cognito-local's dependency, not Strongroom's code (SDK v3), so it is
 * switched off here, before cognito-local's modules load: import this module first.
 */
import { createRequire } from 'node:module';

const requireFromCognitoLocal = createRequire(createRequire(import.meta.url).resolve('cognito-local'));
(requireFromCognitoLocal('aws-sdk/lib/maintenance_mode_message') as { suppress: boolean }).suppress = true;
