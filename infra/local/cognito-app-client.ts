/**
 * The local pool's app client and the SDK client that talks to cognito-local, through the
 * standard Cognito API. Kept apart from cognito-local.ts, which loads cognito-local itself.
 */
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  ListUserPoolClientsCommand,
} from '@aws-sdk/client-cognito-identity-provider';

/** Name of the public app client (no secret, USER_PASSWORD_AUTH). */
export const localAppClientName = 'strongroom-local-api';
/** Access and id tokens last at most 60 minutes, as in every deployed stage (AUTH-6). */
export const accessTokenMinutes = 60;

/** Every call to a local service is bounded: a hung server fails the call instead of the start. */
export const localRequestTimeouts = { connectionTimeout: 2_000, requestTimeout: 10_000 } as const;

/** Credentials the SDK signs admin calls with; cognito-local does not check them. */
export const cognitoLocalCredentials = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** An SDK client for the local Cognito endpoint (dummy credentials; cognito-local ignores them). */
export function cognitoLocalClient(endpoint: string, region: string): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    endpoint,
    region,
    credentials: cognitoLocalCredentials,
    maxAttempts: 2,
    requestHandler: localRequestTimeouts,
  });
}

/** The public app client of the local pool, created once: USER_PASSWORD_AUTH, 60-minute tokens. */
export async function ensureAppClient(
  client: CognitoIdentityProviderClient,
  userPoolId: string,
): Promise<string> {
  const listed = await client.send(
    new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }),
  );
  const existing = listed.UserPoolClients?.find((each) => each.ClientName === localAppClientName);
  if (existing?.ClientId) return existing.ClientId;
  const created = await client.send(
    new CreateUserPoolClientCommand({
      UserPoolId: userPoolId,
      ClientName: localAppClientName,
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      AccessTokenValidity: accessTokenMinutes,
      IdTokenValidity: accessTokenMinutes,
      RefreshTokenValidity: 1,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'days' },
      EnableTokenRevocation: true,
      PreventUserExistenceErrors: 'ENABLED',
    }),
  );
  const clientId = created.UserPoolClient?.ClientId;
  if (!clientId) throw new Error('cognito-local created no app client');
  return clientId;
}
