/**
 * The user directory behind invitations: the Cognito user pool, through its standard admin
 * API. Inviting a person resolves their email to the pool's `sub` (the JWT subject the
 * members table keys on), creating the user first when there is none. In AWS Cognito then
 * mails the invitation with a temporary password (AdminCreateUser); locally the same calls
 * go to cognito-local, which sends no mail, so invitations are suppressed there and tests
 * or the seed set a password (AdminSetUserPassword).
 *
 * The email goes to Cognito and nowhere else: not to the members table, logs or audit
 * entries (DAT-3).
 */
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  UserNotFoundException,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';

export interface DirectoryUser {
  /** The pool's `sub` for the user: the subject of their access tokens. */
  readonly subject: string;
  /** Whether this call created the user (and, in AWS, sent the invitation). */
  readonly created: boolean;
}

/** The seam between invitations and the identity provider. */
export interface UserDirectory {
  /** The user with this email, created and invited when missing. */
  ensureUser(email: string): Promise<DirectoryUser>;
}

export interface CognitoUserDirectoryOptions {
  readonly userPoolId: string;
  /** Cognito mails the invitation (AWS); false suppresses it (cognito-local has no mail). */
  readonly sendInvitation: boolean;
}

export class CognitoUserDirectory implements UserDirectory {
  readonly #client: CognitoIdentityProviderClient;
  readonly #options: CognitoUserDirectoryOptions;

  constructor(client: CognitoIdentityProviderClient, options: CognitoUserDirectoryOptions) {
    this.#client = client;
    this.#options = options;
  }

  async ensureUser(email: string): Promise<DirectoryUser> {
    const username = email.toLowerCase();
    const existing = await this.#subjectOf(username);
    if (existing !== undefined) return { subject: existing, created: false };
    try {
      const created = await this.#client.send(
        new AdminCreateUserCommand({
          UserPoolId: this.#options.userPoolId,
          Username: username,
          UserAttributes: [
            { Name: 'email', Value: username },
            // The invitation reaches this address with the temporary password: receiving it proves it.
            { Name: 'email_verified', Value: 'true' },
          ],
          ...(this.#options.sendInvitation
            ? { DesiredDeliveryMediums: ['EMAIL'] as const }
            : { MessageAction: 'SUPPRESS' as const }),
        }),
      );
      const subject = created.User?.Attributes?.find((attribute) => attribute.Name === 'sub')?.Value;
      if (!subject) throw new Error('the user pool returned no sub for a new user');
      return { subject, created: true };
    } catch (error) {
      // Invited by a concurrent request a moment ago: take the user it created.
      if (!(error instanceof UsernameExistsException)) throw error;
      const subject = await this.#subjectOf(username);
      if (subject === undefined) throw error;
      return { subject, created: false };
    }
  }

  async #subjectOf(username: string): Promise<string | undefined> {
    try {
      const user = await this.#client.send(
        new AdminGetUserCommand({ UserPoolId: this.#options.userPoolId, Username: username }),
      );
      const subject = user.UserAttributes?.find((attribute) => attribute.Name === 'sub')?.Value;
      if (!subject) throw new Error('the user pool returned no sub for an existing user');
      return subject;
    } catch (error) {
      if (error instanceof UserNotFoundException) return undefined;
      throw error;
    }
  }
}

/** The directory of this runtime: the deployed pool, or cognito-local in the local runtime. */
export function createUserDirectory(config: {
  readonly mode: 'aws' | 'local';
  readonly region: string;
  readonly userPoolId: string;
  readonly cognitoEndpoint?: string;
}): UserDirectory {
  if (config.mode === 'local') {
    if (!config.cognitoEndpoint) throw new Error('the local runtime needs the cognito-local endpoint');
    return new CognitoUserDirectory(
      new CognitoIdentityProviderClient({
        region: config.region,
        endpoint: config.cognitoEndpoint,
        // cognito-local does not check credentials; the SDK needs some to sign with.
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 2,
      }),
      { userPoolId: config.userPoolId, sendInvitation: false },
    );
  }
  return new CognitoUserDirectory(new CognitoIdentityProviderClient({ region: config.region }), {
    userPoolId: config.userPoolId,
    sendInvitation: true,
  });
}
