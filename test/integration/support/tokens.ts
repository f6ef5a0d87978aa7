/**
 * Tokens for integration tests: real ones from cognito-local (standard InitiateAuth with
 * USER_PASSWORD_AUTH), and hand-made ones signed with cognito-local's published private
 * key, read from its package at runtime, for expiry and forgery cases.
 */
import { createSign, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { localRequestTimeouts } from '#infra/local/cognito-app-client';
import { type LocalStackInfo, localStack } from './local-stack';

const cognitoClients = new Map<string, CognitoIdentityProviderClient>();

function cognitoClient(stack: LocalStackInfo): CognitoIdentityProviderClient {
  let client = cognitoClients.get(stack.cognitoEndpoint);
  if (!client) {
    client = new CognitoIdentityProviderClient({
      region: stack.region,
      endpoint: stack.cognitoEndpoint,
      requestHandler: localRequestTimeouts,
    });
    cognitoClients.set(stack.cognitoEndpoint, client);
  }
  return client;
}

/** An access token for a demo user, from cognito-local's InitiateAuth. */
export async function tokenFor(email: string, stack: LocalStackInfo = localStack()): Promise<string> {
  const user = stack.demoUsers.find((each) => each.email === email);
  if (!user) throw new Error(`${email} is not a demo user`);
  const result = await cognitoClient(stack).send(
    new InitiateAuthCommand({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: stack.clientId,
      AuthParameters: { USERNAME: email, PASSWORD: user.password },
    }),
  );
  const token = result.AuthenticationResult?.AccessToken;
  if (!token) throw new Error(`cognito-local returned no access token for ${email}`);
  return token;
}

export function decodeJwtPart(token: string, part: 0 | 1): Record<string, unknown> {
  const segment = token.split('.')[part] ?? '';
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The token with its signature replaced by random bytes of the same length. */
export function withForgedSignature(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  const forged = randomBytes(Buffer.from(signature, 'base64url').length).toString('base64url');
  return `${header}.${payload}.${forged}`;
}

/** Signs claims as cognito-local does (RS256, its published key, kid CognitoLocal). */
export async function signWithCognitoLocalKey(claims: Record<string, unknown>): Promise<string> {
  const file = createRequire(import.meta.url).resolve('cognito-local/lib/keys/cognitoLocal.private.json');
  const { pem } = JSON.parse(await readFile(file, 'utf8')) as { pem: string };
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode({ alg: 'RS256', typ: 'JWT', kid: 'CognitoLocal' })}.${encode(claims)}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(pem).toString('base64url');
  return `${signingInput}.${signature}`;
}

/** Access-token claims for a demo user, as cognito-local issues them, with the given times. */
export function accessTokenClaims(
  subject: string,
  times: { readonly issuedAt: number; readonly expiresAt: number },
  stack: LocalStackInfo = localStack(),
): Record<string, unknown> {
  return {
    sub: subject,
    iss: stack.issuer,
    client_id: stack.clientId,
    token_use: 'access',
    scope: 'aws.cognito.signin.user.admin',
    auth_time: times.issuedAt,
    iat: times.issuedAt,
    exp: times.expiresAt,
    jti: randomBytes(16).toString('hex'),
    username: subject,
  };
}
