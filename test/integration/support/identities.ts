/**
 * People for identity tests: users in cognito-local (standard admin API, as the seed
 * makes them), real access tokens from InitiateAuth (USER_PASSWORD_AUTH), and members
 * written straight into DynamoDB Local where a test needs a tenant the API did not make.
 */
import { randomBytes } from 'node:crypto';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { cognitoLocalClient } from '#infra/local/cognito-app-client';
import { DataClients } from '#shared/store/dynamo';
import { identityIdOf, MemberStore } from '#shared/store/members';
import { type LocalStackInfo, localRuntimeConfig, localStack } from './local-stack';

export interface TestPerson {
  readonly email: string;
  readonly subject: string;
  readonly identityId: string;
  readonly password: string;
}

export interface TestMember extends TestPerson {
  readonly tenantId: string;
  readonly roles: readonly string[];
  readonly token: string;
}

/** A fresh tenant id for a test (`[a-z0-9-]+`), so tests never share state. */
export function uniqueTenantId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function uniqueEmail(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}@people.strongroom.test`;
}

export function generatePassword(): string {
  return `${randomBytes(18).toString('base64url')}-Aa1`;
}

export class Identities {
  readonly stack: LocalStackInfo;
  readonly clients: DataClients;
  readonly members: MemberStore;
  readonly #cognito;

  constructor(stack: LocalStackInfo = localStack()) {
    this.stack = stack;
    this.clients = new DataClients(localRuntimeConfig(stack));
    this.members = new MemberStore(stack.stage);
    this.#cognito = cognitoLocalClient(stack.cognitoEndpoint, stack.region);
  }

  /** A confirmed cognito-local user with a known password. */
  async createUser(email: string = uniqueEmail('person')): Promise<TestPerson> {
    const created = await this.#cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: this.stack.userPoolId,
        Username: email,
        UserAttributes: [{ Name: 'email', Value: email }],
        MessageAction: 'SUPPRESS',
      }),
    );
    const subject = created.User?.Attributes?.find((attribute) => attribute.Name === 'sub')?.Value;
    if (!subject) throw new Error(`cognito-local returned no sub for ${email}`);
    const password = await this.setPassword(email);
    return { email, subject, identityId: identityIdOf(this.stack.issuer, subject), password };
  }

  /**
   * Completes an invitation as the invited person would (a permanent password instead
   * of the mailed temporary one; cognito-local sends no mail).
   */
  async setPassword(email: string): Promise<string> {
    const password = generatePassword();
    await this.#cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: this.stack.userPoolId,
        Username: email,
        Password: password,
        Permanent: true,
      }),
    );
    return password;
  }

  async subjectOf(email: string): Promise<string> {
    const user = await this.#cognito.send(
      new AdminGetUserCommand({ UserPoolId: this.stack.userPoolId, Username: email }),
    );
    const subject = user.UserAttributes?.find((attribute) => attribute.Name === 'sub')?.Value;
    if (!subject) throw new Error(`no sub for ${email}`);
    return subject;
  }

  async signIn(email: string, password: string): Promise<string> {
    const result = await this.#cognito.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: this.stack.clientId,
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
    );
    const token = result.AuthenticationResult?.AccessToken;
    if (!token) throw new Error(`cognito-local returned no access token for ${email}`);
    return token;
  }

  /** A new person who is an active member of the tenant with the roles, signed in. */
  async addMember(tenantId: string, roles: readonly string[], label = roles.join('-')): Promise<TestMember> {
    const person = await this.createUser(uniqueEmail(label));
    await this.members.put(this.clients.platform(), {
      tenantId,
      identityId: person.identityId,
      issuer: this.stack.issuer,
      subject: person.subject,
      roles: [...roles],
      status: 'active',
      createdAt: new Date().toISOString(),
      version: 1,
    });
    return { ...person, tenantId, roles, token: await this.signIn(person.email, person.password) };
  }

  destroy(): void {
    this.#cognito.destroy();
    this.clients.platform().destroy();
  }
}
