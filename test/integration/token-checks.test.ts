/**
 * Token checks of the authorizer (AUTH-6) over real HTTP, beyond those of
 * local-runtime.test.ts (no token, a forged signature, expiry, and cognito-local's key
 * refused by the bundled AWS-mode authorizer): each hostile token below carries the
 * claims of a real demo member, so the 401 is the check named, not a missing membership.
 * The control at the end proves it: the same claims, honestly signed, get 200.
 */
import { createHmac, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cognitoLocalClient } from '#infra/local/cognito-app-client';
import { startTestGateway, type TestGateway } from './support/gateway';
import { call, expectProblem, expectStatus } from './support/http';
import { demoUser, localStack } from './support/local-stack';
import { accessTokenClaims, decodeJwtPart, signWithCognitoLocalKey, tokenFor } from './support/tokens';

let gateway: TestGateway;
let publicPem: string;

beforeAll(async () => {
  gateway = await startTestGateway();
  const file = createRequire(import.meta.url).resolve('cognito-local/lib/keys/cognitoLocal.public.json');
  publicPem = (JSON.parse(await readFile(file, 'utf8')) as { pem: string }).pem;
});

afterAll(async () => {
  await gateway?.close();
});

const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const issuedAt = now();
  return {
    ...accessTokenClaims(demoUser('accountant').subject, { issuedAt, expiresAt: issuedAt + 600 }),
    ...overrides,
  };
}

function rs256(header: Record<string, unknown>, body: Record<string, unknown>, privateKey: string): string {
  const input = `${encode({ typ: 'JWT', ...header })}.${encode(body)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
}

const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
  format: 'pem',
  type: 'pkcs8',
}) as string;

const refuse = async (token: string) =>
  expectProblem(await call(gateway, 'GET', '/invoices', { token }), 401, 'unauthorized');

describe('[AUTH-6] the authorizer refuses every token it must not trust', () => {
  it('refuses alg none, with or without a signature', async () => {
    const unsigned = `${encode({ alg: 'none', typ: 'JWT', kid: 'CognitoLocal' })}.${encode(claims())}`;
    await refuse(`${unsigned}.`);
    await refuse(`${unsigned}.${randomBytes(32).toString('base64url')}`);
  });

  it('refuses HS256 signed with the public key as the HMAC secret (algorithm confusion)', async () => {
    const input = `${encode({ alg: 'HS256', typ: 'JWT', kid: 'CognitoLocal' })}.${encode(claims())}`;
    await refuse(`${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`);
  });

  it("refuses a token signed by another key under the pool key's kid, and a kid not in the JWKS", async () => {
    await refuse(rs256({ alg: 'RS256', kid: 'CognitoLocal' }, claims(), strangerKey));
    await refuse(rs256({ alg: 'RS256', kid: 'attacker-key-1' }, claims(), strangerKey));
  });

  it('refuses a token of another pool (another issuer) and of another app client', async () => {
    const stack = localStack();
    await refuse(
      await signWithCognitoLocalKey(
        claims({ iss: `https://cognito-idp.${stack.region}.amazonaws.com/${stack.region}_Otherpool` }),
      ),
    );
    await refuse(await signWithCognitoLocalKey(claims({ iss: 'https://issuer.example/strongroom' })));
    await refuse(await signWithCognitoLocalKey(claims({ client_id: 'another-app-client' })));
  });

  it('refuses an ID token where an access token is required, and a token without token_use', async () => {
    await refuse(await signWithCognitoLocalKey(claims({ token_use: 'id', aud: localStack().clientId })));
    const { token_use: _dropped, ...withoutUse } = claims();
    await refuse(await signWithCognitoLocalKey(withoutUse));
  });

  it("refuses the real ID token that cognito-local issues with the user's access token", async () => {
    const stack = localStack();
    const user = demoUser('accountant');
    const cognito = cognitoLocalClient(stack.cognitoEndpoint, stack.region);
    const result = await cognito.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: stack.clientId,
        AuthParameters: { USERNAME: user.email, PASSWORD: user.password },
      }),
    );
    cognito.destroy();
    const idToken = result.AuthenticationResult?.IdToken ?? '';
    expect(decodeJwtPart(idToken, 1)).toMatchObject({ token_use: 'id', sub: user.subject });
    await refuse(idToken);
    await expectStatus(
      await call(gateway, 'GET', '/invoices', { token: result.AuthenticationResult?.AccessToken ?? '' }),
      200,
    );
  });

  it('refuses a token that is not valid yet', async () => {
    await refuse(await signWithCognitoLocalKey(claims({ nbf: now() + 600 })));
  });

  it('refuses a tampered payload under a real signature from cognito-local', async () => {
    const real = await tokenFor(demoUser('accountant').email);
    const [header, , signature] = real.split('.');
    const payload = decodeJwtPart(real, 1);
    await refuse(`${header}.${encode({ ...payload, sub: demoUser('owner').subject })}.${signature}`);
  });

  it('accepts the same claims honestly signed: the refusals above are the checks, not the member', async () => {
    await expectStatus(
      await call(gateway, 'GET', '/invoices', { token: await signWithCognitoLocalKey(claims()) }),
      200,
    );
  });

  it('refuses credentials in any other shape', async () => {
    const token = await tokenFor(demoUser('accountant').email);
    for (const authorization of [
      `bearer ${token}`,
      `Bearer  ${token}`,
      `Token ${token}`,
      `ApiKey ${token}`,
      token,
    ]) {
      await expectProblem(
        await gateway.call('/invoices', { headers: { authorization } }),
        401,
        'unauthorized',
      );
    }
  });
});
