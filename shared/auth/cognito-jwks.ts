/**
 * The Cognito user pool's JSON Web Key Set, published at deployment (INF-7, AUTH-6).
 *
 * In a stage with a private network the authorizer has no route to the internet, and Cognito
 * does not document its JWKS (`https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json`)
 * as served through the cognito-idp interface endpoint; a pool with a domain (federated
 * sign-in, AUTH-4) cannot use that endpoint at all. So the pipeline, after deploying a
 * stage, fetches the set (its build has internet access) and publishes it to the stage's
 * `strongroom/<stage>/cognito-jwks` secret (`publishCognitoJwks`); the authorizer's verifier
 * reads its keys from there (`PublishedJwksFetcher`), through the Secrets Manager endpoint.
 * No function of the stage ever needs the internet for them. Cognito does not rotate a user
 * pool's signing keys; a new pool comes with a deployment, after which the pipeline
 * publishes its keys, and a token signed by a key the verifier has not seen makes it read
 * the secret again (at most once per 10 seconds per container, aws-jwt-verify's penalty box).
 */
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { Fetcher } from 'aws-jwt-verify/https';

/** One RSA signing key of a Cognito JWKS, with only the fields a verifier uses. */
export interface CognitoJwk {
  readonly kid: string;
  readonly kty: 'RSA';
  readonly alg: 'RS256';
  readonly use: 'sig';
  readonly n: string;
  readonly e: string;
}

export interface CognitoJwks {
  readonly keys: readonly CognitoJwk[];
}

/** Cognito's two RSA-2048 keys take about 900 bytes; anything far larger is not a pool's JWKS. */
export const maxJwksBytes = 3_500;

const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d$/;
const base64url = /^[A-Za-z0-9_-]+$/;

/** The JWKS URL of a user pool; the pool id must belong to the region. */
export function cognitoJwksUrl(region: string, userPoolId: string): string {
  if (!regionPattern.test(region))
    throw new Error(`cognito region is not a region, got ${JSON.stringify(region)}`);
  if (!new RegExp(`^${region}_[A-Za-z0-9]{1,55}$`).test(userPoolId)) {
    throw new Error(`user pool id must be a pool of ${region}, got ${JSON.stringify(userPoolId)}`);
  }
  return `https://cognito-idp.${region}.amazonaws.com/${userPoolId}/.well-known/jwks.json`;
}

/**
 * Parses a JWKS as Cognito publishes it and keeps only RS256 signing keys' public fields,
 * refusing anything else (no private or symmetric key material ever passes through).
 */
export function parseCognitoJwks(text: string): CognitoJwks {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('cognito jwks is not json');
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 4) {
    throw new Error(
      `cognito jwks must hold 1 to 4 keys, got ${JSON.stringify(Array.isArray(keys) ? keys.length : keys)}`,
    );
  }
  const kept = keys.map((key: Record<string, unknown>, index) => {
    const { kid, kty, alg, use, n, e } = key ?? {};
    if (kty !== 'RSA' || (alg ?? 'RS256') !== 'RS256' || (use ?? 'sig') !== 'sig') {
      throw new Error(
        `cognito jwks key ${index} must be an rs256 signing key, got ${JSON.stringify({ kty, alg, use })}`,
      );
    }
    if ('d' in key || 'p' in key || 'k' in key) {
      throw new Error(`cognito jwks key ${index} holds private or symmetric key material`);
    }
    if (typeof kid !== 'string' || !/^[A-Za-z0-9+/=_-]{1,128}$/.test(kid)) {
      throw new Error(`cognito jwks key ${index} needs a kid, got ${JSON.stringify(kid)}`);
    }
    if (
      typeof n !== 'string' ||
      !base64url.test(n) ||
      n.length < 340 ||
      typeof e !== 'string' ||
      !base64url.test(e)
    ) {
      throw new Error(
        `cognito jwks key ${kid} needs a base64url modulus of 2048 bits or more and an exponent`,
      );
    }
    return { kid, kty: 'RSA', alg: 'RS256', use: 'sig', n, e } as const;
  });
  if (new Set(kept.map((key) => key.kid)).size !== kept.length) {
    throw new Error('cognito jwks repeats a kid');
  }
  return { keys: kept };
}

/** Fetches and checks a pool's JWKS from Cognito; returns it as compact JSON of the kept fields. */
export async function fetchCognitoJwks(
  region: string,
  userPoolId: string,
  fetchImpl: typeof fetch = fetch,
  timeoutMs = 5_000,
): Promise<string> {
  const url = cognitoJwksUrl(region, userPoolId);
  const response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  if (!response.ok) throw new Error(`cognito jwks request answered ${response.status}`);
  const compact = JSON.stringify(parseCognitoJwks(await response.text()));
  if (Buffer.byteLength(compact) > maxJwksBytes) {
    throw new Error(`cognito jwks takes ${Buffer.byteLength(compact)} bytes, more than ${maxJwksBytes}`);
  }
  return compact;
}

/** The published JWKS cannot be read or is not a valid Cognito JWKS: the authorizer refuses every token until it is. */
export class PublishedJwksUnavailableError extends Error {
  readonly code = 'published-jwks-unavailable';

  constructor(message: string) {
    super(message);
    this.name = 'PublishedJwksUnavailableError';
  }
}

/**
 * aws-jwt-verify's fetcher for the authorizer: answers the pool's JWKS URL from the published
 * secret, never from the network, and refuses any other URL (the verifier asks for no other).
 */
export class PublishedJwksFetcher implements Fetcher {
  readonly #jwksUrl: string;
  readonly #read: () => Promise<string | undefined>;

  /** `read` returns the secret's current value. */
  constructor(jwksUrl: string, read: () => Promise<string | undefined>) {
    this.#jwksUrl = jwksUrl;
    this.#read = read;
  }

  async fetch(uri: string): Promise<ArrayBuffer> {
    if (uri !== this.#jwksUrl) {
      throw new PublishedJwksUnavailableError(`only the pool's jwks is published, not ${uri}`);
    }
    let value: string | undefined;
    try {
      value = await this.#read();
    } catch (error) {
      throw new PublishedJwksUnavailableError(
        `the published jwks cannot be read: ${error instanceof Error ? error.name : 'unknown error'}`,
      );
    }
    let jwks: CognitoJwks;
    try {
      jwks = parseCognitoJwks(value ?? '');
    } catch (error) {
      // Before the first publication the secret holds the random value it was created with.
      throw new PublishedJwksUnavailableError(
        `the published jwks is not a cognito jwks (${error instanceof Error ? error.message : 'unreadable'}): publish it with the pipeline's PublishJwks step or npm run publish-jwks`,
      );
    }
    const bytes = new TextEncoder().encode(JSON.stringify(jwks));
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
}

/** Reads a secret's string value through Secrets Manager. */
export function secretReader(
  client: SecretsManagerClient,
  secretId: string,
): () => Promise<string | undefined> {
  return async () => (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
}

export interface PublishCognitoJwksInput {
  readonly region: string;
  readonly userPoolId: string;
  /** Name or ARN of the stage's `strongroom/<stage>/cognito-jwks` secret. */
  readonly secretId: string;
  readonly secrets: SecretsManagerClient;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export interface PublishedJwks {
  /** False when the secret already held exactly these keys (nothing was written). */
  readonly changed: boolean;
  readonly keyIds: readonly string[];
}

/**
 * Fetches the pool's JWKS from Cognito, checks it, and writes it to the stage's secret
 * unless the secret holds the same keys already: the pipeline runs it after every deployment
 * of a stage, so a retry or an unchanged pool writes no new secret version.
 */
export async function publishCognitoJwks(input: PublishCognitoJwksInput): Promise<PublishedJwks> {
  const compact = await fetchCognitoJwks(input.region, input.userPoolId, input.fetch ?? fetch);
  const keyIds = parseCognitoJwks(compact).keys.map((key) => key.kid);
  let current: string | undefined;
  try {
    current = await secretReader(input.secrets, input.secretId)();
  } catch (error) {
    // A secret without any value yet answers ResourceNotFoundException; anything else is a real failure.
    if (!(error instanceof Error && error.name === 'ResourceNotFoundException')) throw error;
  }
  if (current === compact) return { changed: false, keyIds };
  await input.secrets.send(new PutSecretValueCommand({ SecretId: input.secretId, SecretString: compact }));
  return { changed: true, keyIds };
}
