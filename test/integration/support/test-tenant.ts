/**
 * A fresh tenant per test file, so tests that change tenant settings or count items
 * never disturb each other: one cognito-local user per role, members in DynamoDB Local,
 * and a token for each (real InitiateAuth).
 */
import { randomBytes } from 'node:crypto';
import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DataClients } from '#shared/store/dynamo';
import { identityIdOf, MemberStore } from '#shared/store/members';
import { localRuntimeConfig, localStack } from './local-stack';

export interface TestTenantUser {
  readonly role: string;
  readonly email: string;
  readonly identityId: string;
  readonly token: string;
}

export interface TestTenant {
  readonly tenantId: string;
  /** The first user created with this role. */
  user(role: string): TestTenantUser;
  /** Adds another user with the given roles (for example a second approver). */
  addUser(name: string, roles: readonly string[]): Promise<TestTenantUser>;
}

export async function createTestTenant(prefix: string, roles: readonly string[]): Promise<TestTenant> {
  const stack = localStack();
  const tenantId = `${prefix}-${randomBytes(4).toString('hex')}`;
  const cognito = new CognitoIdentityProviderClient({
    region: stack.region,
    endpoint: stack.cognitoEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const clients = new DataClients(localRuntimeConfig(stack));
  const members = new MemberStore(stack.stage);

  async function addUser(name: string, userRoles: readonly string[]): Promise<TestTenantUser> {
    const email = `${name}@${tenantId}.strongroom.test`;
    const password = `${randomBytes(18).toString('base64url')}-Aa1`;
    const created = await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: stack.userPoolId,
        Username: email,
        UserAttributes: [{ Name: 'email', Value: email }],
        TemporaryPassword: password,
        MessageAction: 'SUPPRESS',
      }),
    );
    await cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: stack.userPoolId,
        Username: email,
        Password: password,
        Permanent: true,
      }),
    );
    const subject = created.User?.Attributes?.find((attribute) => attribute.Name === 'sub')?.Value;
    if (!subject) throw new Error(`cognito-local returned no sub for ${email}`);
    const identityId = identityIdOf(stack.issuer, subject);
    await members.put(clients.platform(), {
      tenantId,
      identityId,
      issuer: stack.issuer,
      subject,
      roles: [...userRoles],
      status: 'active',
      createdAt: new Date().toISOString(),
    });
    const auth = await cognito.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: stack.clientId,
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
    );
    const token = auth.AuthenticationResult?.AccessToken;
    if (!token) throw new Error(`no access token for ${email}`);
    return { role: userRoles.join(','), email, identityId, token };
  }

  const users: Record<string, TestTenantUser> = {};
  for (const role of roles) users[role] = await addUser(role, [role]);
  return {
    tenantId,
    user(role) {
      const found = users[role];
      if (!found) throw new Error(`no ${role} in test tenant ${tenantId}`);
      return found;
    },
    addUser,
  };
}
