/**
 * The token verifier of the local runtime: the production class, CognitoJwtVerifier,
 * with cognito-local's public JWKS preloaded. This preloaded key exists only here: the
 * deployed authorizer trusts only its own pool's JWKS (read from Cognito at deployment)
 * and so refuses tokens signed with cognito-local's published key (AUTH-6).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { type Jwk, type Jwks, SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { AccessTokenVerifier } from '#functions/authorizer/handler';

/** cognito-local's public signing key, read from its package at runtime (never copied into ours). */
export async function cognitoLocalPublicJwks(): Promise<Jwks> {
  const file = createRequire(import.meta.url).resolve('cognito-local/lib/keys/cognitoLocal.public.json');
  const { jwk } = JSON.parse(await readFile(file, 'utf8')) as { jwk: Jwk };
  return { keys: [jwk] };
}

export async function createLocalVerifier(options: {
  readonly userPoolId: string;
  readonly clientId: string;
}): Promise<AccessTokenVerifier> {
  const verifier = CognitoJwtVerifier.create(
    { userPoolId: options.userPoolId, clientId: options.clientId, tokenUse: 'access' },
    {
      // Offline by construction: a token whose key is not the preloaded one is refused, never fetched.
      jwksCache: new SimpleJwksCache({
        fetcher: {
          fetch: async (uri: string) => {
            throw new Error(`the local runtime does not fetch JWKS (${uri})`);
          },
        },
      }),
    },
  );
  verifier.cacheJwks(await cognitoLocalPublicJwks());
  return verifier;
}
