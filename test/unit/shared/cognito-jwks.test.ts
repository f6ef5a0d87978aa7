/**
 * The Cognito JWKS as the pipeline publishes it and the authorizer trusts it (INF-7, AUTH-6):
 * what is accepted as a pool's keys, the URL they come from, the publication to the stage's
 * secret, and a real aws-jwt-verify verifier that reads its keys from the published copy only.
 */
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  cognitoJwksUrl,
  fetchCognitoJwks,
  PublishedJwksFetcher,
  PublishedJwksUnavailableError,
  parseCognitoJwks,
  publishCognitoJwks,
  secretReader,
} from '#shared/auth/cognito-jwks';
import { cognitoAccessToken, rsaKeyPair } from '../support/cognito-tokens';

const one = rsaKeyPair('one');
const two = rsaKeyPair('two');
const jwks = { keys: [one.jwk, two.jwk] };
const pool = 'eu-central-1_AbCdEf123';
const poolUrl = cognitoJwksUrl('eu-central-1', pool);

describe('[INF-7][AUTH-6] the pool JWKS', () => {
  it('builds the URL of a pool of the region only', () => {
    expect(cognitoJwksUrl('eu-central-1', pool)).toBe(
      `https://cognito-idp.eu-central-1.amazonaws.com/${pool}/.well-known/jwks.json`,
    );
    expect(() => cognitoJwksUrl('eu-central-1', 'eu-west-1_AbCdEf123')).toThrow(
      /must be a pool of eu-central-1, got "eu-west-1_AbCdEf123"/,
    );
    expect(() => cognitoJwksUrl('eu-central-1', `${pool}/../evil`)).toThrow(/must be a pool/);
  });

  it('keeps only the public fields of RS256 signing keys', () => {
    const parsed = parseCognitoJwks(JSON.stringify({ keys: [{ ...one.jwk, x5c: ['ignored'] }] }));
    expect(Object.keys(parsed.keys[0] ?? {}).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
  });

  it.each([
    ['no keys', { keys: [] }, /1 to 4 keys, got 0/],
    ['an HMAC key', { keys: [{ kty: 'oct', kid: 'x', k: 'c2VjcmV0' }] }, /must be an rs256 signing key/],
    ['a private key', { keys: [{ ...one.jwk, d: 'AQAB' }] }, /holds private or symmetric key material/],
    ['a short modulus', { keys: [{ ...one.jwk, n: 'AQAB' }] }, /modulus of 2048 bits or more/],
    ['the same kid twice', { keys: [one.jwk, one.jwk] }, /repeats a kid/],
  ])('refuses %s', (_name, value, message) => {
    expect(() => parseCognitoJwks(JSON.stringify(value))).toThrow(message);
  });

  it('fetches the URL with a timeout and no redirects, and refuses an error answer', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify(jwks), { status: 200 }));
    const compact = await fetchCognitoJwks('eu-central-1', pool, fetchMock as never);
    expect(JSON.parse(compact).keys.map((key: { kid: string }) => key.kid)).toEqual(['one', 'two']);
    expect(fetchMock).toHaveBeenCalledWith(
      cognitoJwksUrl('eu-central-1', pool),
      expect.objectContaining({ redirect: 'error' }),
    );
    await expect(
      fetchCognitoJwks('eu-central-1', pool, (async () => new Response('nope', { status: 404 })) as never),
    ).rejects.toThrow(/answered 404/);
  });
});

describe('[INF-7][AUTH-6] the authorizer trusts the published keys only', () => {
  function verifierReading(read: () => Promise<string | undefined>) {
    return CognitoJwtVerifier.create(
      { userPoolId: pool, clientId: 'client', tokenUse: 'access' },
      { jwksCache: new SimpleJwksCache({ fetcher: new PublishedJwksFetcher(poolUrl, read) }) },
    );
  }

  it("verifies a token signed by a published key, reading the secret once, and refuses another key's token", async () => {
    const read = vi.fn(async () => JSON.stringify({ keys: [one.jwk] }));
    const verifier = verifierReading(read);
    await expect(verifier.verify(cognitoAccessToken(pool, 'one', one.privateKey))).resolves.toMatchObject({
      sub: 'subject',
    });
    await expect(verifier.verify(cognitoAccessToken(pool, 'one', one.privateKey))).resolves.toBeDefined();
    expect(read).toHaveBeenCalledTimes(1);
    // Signed by an unpublished key: the verifier reads the secret again, does not find it, refuses.
    await expect(verifier.verify(cognitoAccessToken(pool, 'two', two.privateKey))).rejects.toThrow();
    // The right kid with another key's signature is refused too.
    await expect(verifier.verify(cognitoAccessToken(pool, 'one', two.privateKey))).rejects.toThrow();
  });

  it('refuses every token while the secret holds no JWKS (before the first publication)', async () => {
    const verifier = verifierReading(async () => 'Xq3kd8Zr0Lw2PAbnG7cYvT5sEeHuJmQ1');
    await expect(verifier.verify(cognitoAccessToken(pool, 'one', one.privateKey))).rejects.toThrow(
      PublishedJwksUnavailableError,
    );
  });

  it("answers no URL but the pool's own, and names an unreadable secret", async () => {
    const fetcher = new PublishedJwksFetcher(poolUrl, async () => JSON.stringify(jwks));
    await expect(fetcher.fetch(cognitoJwksUrl('eu-central-1', 'eu-central-1_Other1'))).rejects.toThrow(
      /only the pool's jwks is published/,
    );
    const published = JSON.parse(new TextDecoder().decode(await fetcher.fetch(poolUrl)));
    expect(published.keys.map((key: { kid: string }) => key.kid)).toEqual(['one', 'two']);
    const failing = new PublishedJwksFetcher(poolUrl, () => Promise.reject(new Error('AccessDenied')));
    await expect(failing.fetch(poolUrl)).rejects.toThrow(/published jwks cannot be read/);
  });
});

describe('[INF-7][AUTH-6] publishing the JWKS to the stage secret (AWS SDK mocked: Secrets Manager is AWS-only)', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  afterEach(() => secretsManager.reset());
  const secretId = 'strongroom/dev/cognito-jwks';
  const cognito = vi.fn(async () => new Response(JSON.stringify(jwks), { status: 200 }));
  const publish = () =>
    publishCognitoJwks({
      region: 'eu-central-1',
      userPoolId: pool,
      secretId,
      secrets: new SecretsManagerClient({}),
      fetch: cognito as never,
    });

  it('writes the checked keys over the placeholder, and the authorizer side reads them back', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: secretId })
      .resolves({ SecretString: 'placeholder' });
    secretsManager.on(PutSecretValueCommand).resolves({});
    await expect(publish()).resolves.toEqual({ changed: true, keyIds: ['one', 'two'] });
    const written = secretsManager.commandCalls(PutSecretValueCommand)[0]?.args[0].input;
    expect(written?.SecretId).toBe(secretId);
    expect(parseCognitoJwks(String(written?.SecretString)).keys.map((key) => key.kid)).toEqual([
      'one',
      'two',
    ]);
    expect(cognito).toHaveBeenCalledWith(poolUrl, expect.objectContaining({ redirect: 'error' }));
  });

  it('writes nothing when the secret holds the same keys (a retried or unchanged deployment)', async () => {
    const current = await fetchCognitoJwks('eu-central-1', pool, cognito as never);
    secretsManager.on(GetSecretValueCommand, { SecretId: secretId }).resolves({ SecretString: current });
    await expect(publish()).resolves.toEqual({ changed: false, keyIds: ['one', 'two'] });
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    await expect(secretReader(new SecretsManagerClient({}), secretId)()).resolves.toBe(current);
  });

  it('writes a secret that has no value yet, and writes nothing when Cognito answers no valid JWKS', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: 'no value', $metadata: {} }));
    secretsManager.on(PutSecretValueCommand).resolves({});
    await expect(publish()).resolves.toMatchObject({ changed: true });
    secretsManager.resetHistory();
    cognito.mockResolvedValueOnce(new Response(JSON.stringify({ keys: [{ ...one.jwk, d: 'AQAB' }] })));
    await expect(publish()).rejects.toThrow(/private or symmetric key material/);
    expect(secretsManager.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });
});
