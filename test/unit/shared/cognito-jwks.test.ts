/**
 * The Cognito JWKS read at deployment (INF-7, AUTH-6): what is accepted as a pool's keys,
 * the fetcher's URL, the custom-resource handler's answers to CloudFormation, and the
 * authorizer's preloading.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { createCognitoJwksHandler } from '#functions/cognito-jwks/handler';
import { cognitoJwksUrl, fetchCognitoJwks, parseCognitoJwks, preloadJwks } from '#shared/auth/cognito-jwks';

function rsaJwk(kid: string): Record<string, unknown> {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

const jwks = { keys: [rsaJwk('one'), rsaJwk('two')] };
const pool = 'eu-central-1_AbCdEf123';

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
    const parsed = parseCognitoJwks(JSON.stringify({ keys: [{ ...jwks.keys[0], x5c: ['ignored'] }] }));
    expect(Object.keys(parsed.keys[0] ?? {}).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
  });

  it.each([
    ['no keys', { keys: [] }, /1 to 4 keys, got 0/],
    ['an HMAC key', { keys: [{ kty: 'oct', kid: 'x', k: 'c2VjcmV0' }] }, /must be an rs256 signing key/],
    ['a private key', { keys: [{ ...jwks.keys[0], d: 'AQAB' }] }, /holds private or symmetric key material/],
    ['a short modulus', { keys: [{ ...jwks.keys[0], n: 'AQAB' }] }, /modulus of 2048 bits or more/],
    ['the same kid twice', { keys: [jwks.keys[0], jwks.keys[0]] }, /repeats a kid/],
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

  it('preloads a verifier from COGNITO_JWKS, and leaves it alone without one', () => {
    const cached: unknown[] = [];
    const verifier = { cacheJwks: (value: never) => cached.push(value) };
    expect(preloadJwks(verifier, undefined)).toBe(verifier);
    expect(cached).toHaveLength(0);
    preloadJwks(verifier, JSON.stringify(jwks));
    expect((cached[0] as { keys: { kid: string }[] }).keys.map((key) => key.kid)).toEqual(['one', 'two']);
    expect(() => preloadJwks(verifier, '{"keys":[]}')).toThrow(/1 to 4 keys/);
  });
});

describe('[INF-7] the deploy-time JWKS custom resource', () => {
  const event = (type: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent =>
    ({
      RequestType: type,
      ServiceToken: 'arn:aws:lambda:eu-central-1:111122223333:function:x',
      ResponseURL: 'https://cloudformation-custom-resource-response-eucentral1.s3.amazonaws.com/x',
      StackId: 'stack',
      RequestId: 'request',
      LogicalResourceId: 'CognitoJwks',
      ResourceType: 'Custom::CognitoJwks',
      ResourceProperties: { ServiceToken: 'x', UserPoolId: pool },
      ...(type === 'Create'
        ? {}
        : { PhysicalResourceId: 'cognito-jwks-CognitoJwks', OldResourceProperties: {} }),
    }) as CloudFormationCustomResourceEvent;

  function handlerWith(jwksAnswer: Response) {
    const answers: { url: string; body: Record<string, unknown> }[] = [];
    const fetchMock = async (url: string, init?: RequestInit) => {
      if (init?.method === 'PUT') {
        answers.push({ url, body: JSON.parse(String(init.body)) });
        return new Response('', { status: 200 });
      }
      return jwksAnswer;
    };
    return {
      handle: createCognitoJwksHandler({ fetch: fetchMock as never, region: 'eu-central-1' }),
      answers,
    };
  }

  it('answers SUCCESS with the compact JWKS on create and update', async () => {
    for (const type of ['Create', 'Update'] as const) {
      const { handle, answers } = handlerWith(new Response(JSON.stringify(jwks)));
      await handle(event(type), { logStreamName: 'stream' });
      expect(answers[0]?.body).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: 'cognito-jwks-CognitoJwks',
      });
      expect(
        parseCognitoJwks(String((answers[0]?.body.Data as { Jwks: string } | undefined)?.Jwks)).keys,
      ).toHaveLength(2);
    }
  });

  it('answers FAILED with the reason when the keys cannot be read, and SUCCESS without fetching on delete', async () => {
    const failing = handlerWith(new Response('{"keys":[]}'));
    await failing.handle(event('Create'), { logStreamName: 'stream' });
    expect(failing.answers[0]?.body).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringMatching(/1 to 4 keys/),
    });
    expect(failing.answers[0]?.body.Data).toBeUndefined();

    const deleting = handlerWith(new Response('not used'));
    await deleting.handle(event('Delete'), { logStreamName: 'stream' });
    expect(deleting.answers).toHaveLength(1);
    expect(deleting.answers[0]?.body).toMatchObject({ Status: 'SUCCESS' });
  });
});
