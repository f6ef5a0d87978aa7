/**
 * The authorizer module as deployed (INF-7, AUTH-6): its verifier takes the pool's keys from
 * the JWKS secret that SECRET_ARNS names, never from Cognito. Secrets Manager is mocked
 * (an AWS-only path); a token refused here never reaches the members table.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

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

function rsaKey(kid: string): { jwk: Record<string, unknown>; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }, privateKey };
}

function accessToken(kid: string, privateKey: KeyObject): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const signed = `${encode({ alg: 'RS256', kid, typ: 'JWT' })}.${encode({
    iss: `https://cognito-idp.eu-central-1.amazonaws.com/${pool}`,
    sub: 'subject',
    client_id: 'client',
    token_use: 'access',
    iat: now,
    exp: now + 600,
  })}`;
  return `${signed}.${sign('sha256', Buffer.from(signed), privateKey).toString('base64url')}`;
}

const request = (token: string) =>
  ({
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:eu-central-1:111122223333:api/prod/GET/invoices',
    headers: { authorization: `Bearer ${token}` },
  }) as unknown as APIGatewayRequestAuthorizerEvent;

describe('[INF-7][AUTH-6] the deployed authorizer reads the published JWKS', () => {
  it('refuses every token while the secret holds no JWKS, having read the secret SECRET_ARNS names', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'Xq3kd8Zr0Lw2PAbnG7cYvT5sEeHuJmQ1' });
    const { privateKey } = rsaKey('one');
    await expect(handler(request(accessToken('one', privateKey)))).rejects.toThrow('Unauthorized');
    expect(secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: jwksSecretArn },
    ]);
  });

  it('refuses a token whose key is not among the published ones', async () => {
    const published = rsaKey('published');
    const other = rsaKey('other');
    secretsManager
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ keys: [published.jwk] }) });
    await expect(handler(request(accessToken('other', other.privateKey)))).rejects.toThrow('Unauthorized');
    expect(secretsManager.commandCalls(GetSecretValueCommand).length).toBeGreaterThan(0);
  });
});
