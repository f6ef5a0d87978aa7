/**
 * `npm run -s token -- <email>`: prints an access token for a demo user of the running
 * local stack. It makes the standard Cognito InitiateAuth call (USER_PASSWORD_AUTH) with
 * the AWS SDK against cognito-local, reading the password from the 0600 passwords file,
 * so the password never appears on a command line.
 */
import * as path from 'node:path';
import {
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { localRequestTimeouts } from './cognito-app-client';
import { readJsonFile } from './private-files';
import type { DemoPasswordsFile } from './seed';
import { dataLayout, defaultDataDir, type RuntimeState } from './settings';

async function main(): Promise<void> {
  const layout = dataLayout(path.resolve(process.env.STRONGROOM_DATA_DIR ?? defaultDataDir));
  const passwords = (await readJsonFile(layout.demoUsers)) as DemoPasswordsFile | undefined;
  const state = (await readJsonFile(layout.runtimeState)) as RuntimeState | undefined;
  if (!passwords || !state) throw new Error('the local stack is not running; start it with npm start');

  const email = process.argv[2];
  const user = email === undefined ? undefined : passwords[email];
  if (email === undefined || !user) {
    const known = Object.entries(passwords).map(
      ([each, { tenantId, role }]) => `  ${each}  (${tenantId}, ${role})`,
    );
    throw new Error(`usage: npm run -s token -- <email>\ndemo users:\n${known.join('\n')}`);
  }

  // InitiateAuth is an unauthenticated Cognito call: no AWS credentials are involved.
  const client = new CognitoIdentityProviderClient({
    region: state.region,
    endpoint: state.cognitoEndpoint,
    requestHandler: localRequestTimeouts,
  });
  const result = await client.send(
    new InitiateAuthCommand({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: state.clientId,
      AuthParameters: { USERNAME: email, PASSWORD: user.password },
    }),
  );
  const token = result.AuthenticationResult?.AccessToken;
  if (!token) throw new Error(`no access token (challenge: ${result.ChallengeName ?? 'none'})`);
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
