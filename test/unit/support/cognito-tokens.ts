/**
 * RS256 keys and Cognito-shaped access tokens made in the test, for unit tests of the
 * verifier's key source (no cognito-local: the integration tests use its real tokens).
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

/** A fresh RSA-2048 key pair: its public JWK as Cognito publishes one, and the private key. */
export function rsaKeyPair(kid: string): { jwk: Record<string, unknown>; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }, privateKey };
}

/** An access token of `pool` (eu-central-1) for app client `client`, valid 10 minutes, signed RS256 under `kid`. */
export function cognitoAccessToken(pool: string, kid: string, privateKey: KeyObject): string {
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
