/**
 * The authorizer module as deployed (INF-7, AUTH-6): its verifier takes the pool's keys from
 * the JWKS secret that SECRET_ARNS names, never from Cognito. Secrets Manager is mocked
 * (an AWS-only path); a token refused here never reaches the members table.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cognitoAccessToken, rsaKeyPair } from '../support/cognito-tokens';

const pool = 'eu-central-1_deployed1';
const jwksSecretArn =
  'arn:aws:secretsmanager:eu-central-1:111122223333:secret:strongroom/prod/cognito-jwks-AbCdEf';
const secretsManager = mockClient(SecretsManagerClient);
let handler: (event: APIGatewayRequestAuthorizerEvent) => Promise<unknown>;

beforeAll(async () => {
  Object.assign(process.env, {
    STRONGROOM_MODE: 'aws',
    STRONGROOM_STAGE: 'prod',
    AWS_REGION: 'eu-central-1',
    COGNITO_USER_POOL_ID: pool,
    COGNITO_CLIENT_ID: 'client',
    SECRET_ARNS: JSON.stringify({ 'api-key-pepper': 'arn:pepper', 'cognito-jwks': jwksSecretArn }),
    STRONGROOM_LOG_LEVEL: 'SILENT',
  });
  ({ handler } = (await import('#functions/authorizer/handler')) as unknown as { handler: typeof handler });
});
afterEach(() => secretsManager.reset());

const request = (token: string) =>
  ({
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:eu-central-1:111122223333:api/prod/GET/invoices',
    headers: { authorization: `Bearer ${token}` },
  }) as unknown as APIGatewayRequestAuthorizerEvent;

describe('[INF-7][AUTH-6] the deployed authorizer reads the published JWKS', () => {
  it('refuses every token while the secret holds no JWKS, having read the secret SECRET_ARNS names', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'Xq3kd8Zr0Lw2PAbnG7cYvT5sEeHuJmQ1' });
    const { privateKey } = rsaKeyPair('one');
    await expect(handler(request(cognitoAccessToken(pool, 'one', privateKey)))).rejects.toThrow(
      'Unauthorized',
    );
    expect(secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: jwksSecretArn },
    ]);
  });

  it('refuses a token whose key is not among the published ones', async () => {
    const published = rsaKeyPair('published');
    const other = rsaKeyPair('other');
    secretsManager
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ keys: [published.jwk] }) });
    await expect(handler(request(cognitoAccessToken(pool, 'other', other.privateKey)))).rejects.toThrow(
      'Unauthorized',
    );
    expect(secretsManager.commandCalls(GetSecretValueCommand).length).toBeGreaterThan(0);
  });
});
