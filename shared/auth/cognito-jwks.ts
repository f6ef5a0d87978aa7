/**
 * The Cognito user pool's JSON Web Key Set, preloaded at deploy time (INF-7, AUTH-6).
 *
 * In a stage with a private network the authorizer has no route to the internet, and Cognito
 * does not document its JWKS (`https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json`)
 * as served through the cognito-idp interface endpoint; a pool with a domain (federated
 * sign-in, AUTH-4) cannot use that endpoint at all. So a deploy-time custom resource fetches
 * the set once (functions/cognito-jwks) and the stack passes it to the authorizer as
 * `COGNITO_JWKS`; the authorizer verifies with these keys and needs no network for them.
 * Cognito does not rotate a user pool's signing keys; a new pool means a new deployment,
 * which fetches its keys.
 */

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

/** CloudFormation custom-resource data is limited to 4,096 bytes; Cognito's two RSA-2048 keys take about 900. */
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

/** Fetches and checks a pool's JWKS; the compact JSON it returns fits custom-resource data. */
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

/** What preloading needs of a verifier; aws-jwt-verify's CognitoJwtVerifier has it. */
export interface JwksCacheable {
  /** Takes the JWKS; typed `never` so any verifier's own JWKS type fits. */
  cacheJwks(jwks: never): void;
}

/**
 * Preloads the verifier with the deploy-time JWKS from `COGNITO_JWKS`, when the stack set
 * one; without it (local runtime, tests) the verifier is returned as it is.
 */
export function preloadJwks<V extends JwksCacheable>(verifier: V, value: string | undefined): V {
  if (value === undefined || value === '') return verifier;
  const jwks = parseCognitoJwks(value);
  verifier.cacheJwks({ keys: jwks.keys.map((key) => ({ ...key })) } as never);
  return verifier;
}
