/**
 * CDK entry (cdk.json runs `npx tsx infra/app.ts`). Configuration comes from cdk.json
 * context and `-c` flags; see infra/config.ts.
 */
import { buildApp } from './build-app';

buildApp().app.synth();
