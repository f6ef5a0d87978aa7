/**
 * `npm run publish-jwks`: publishes a stage user pool's JWKS to the stage's secret, which the
 * authorizer's verifier reads (INF-7, AUTH-6; shared/auth/cognito-jwks.ts says why). The
 * pipeline runs it after deploying each stage (PublishJwks, infra/stacks/pipeline-stack.ts);
 * after a deployment by hand (a first or break-glass dev deployment) run it yourself:
 *
 *   npm run publish-jwks -- --stage dev --user-pool-id <UserPoolId output> [--region eu-central-1]
 *
 * In the pipeline the inputs come from the environment: USER_POOL_ID and JWKS_SECRET_ARN
 * (the stage's outputs) and AWS_REGION.
 */
import { parseArgs } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { publishCognitoJwks } from '#shared/auth/cognito-jwks';
import { cognitoJwksSecretName } from './constructs/published-jwks';

const { values } = parseArgs({
  options: {
    stage: { type: 'string' },
    'user-pool-id': { type: 'string' },
    region: { type: 'string' },
  },
});
const region = values.region ?? process.env.AWS_REGION;
const userPoolId = values['user-pool-id'] ?? process.env.USER_POOL_ID;
const secretId =
  values.stage === undefined ? process.env.JWKS_SECRET_ARN : cognitoJwksSecretName(values.stage);
if (!region || !userPoolId || !secretId) {
  console.error(
    'usage: npm run publish-jwks -- --stage <stage> --user-pool-id <pool id> [--region <region>] (or USER_POOL_ID, JWKS_SECRET_ARN and AWS_REGION in the environment)',
  );
  process.exit(2);
}
try {
  const result = await publishCognitoJwks({
    region,
    userPoolId,
    secretId,
    secrets: new SecretsManagerClient({ region }),
  });
  console.log(
    `${result.changed ? 'published' : 'already published'}: the JWKS of ${userPoolId} (key ids ${result.keyIds.join(', ')}) in ${secretId}`,
  );
} catch (error) {
  console.error(
    `the JWKS of ${userPoolId} was not published: ${error instanceof Error ? error.message : error}`,
  );
  process.exit(1);
}
