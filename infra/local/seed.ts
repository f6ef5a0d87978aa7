/**
 * Seeds the demo tenants, idempotently: a Cognito user per demo role in cognito-local
 * (standard admin API calls) and the matching membership in the members table. The JWT
 * only proves issuer and subject; the membership says tenant and role (AUTH-6).
 *
 * Passwords are generated with node:crypto at the first start and kept in a 0600 file in
 * the data folder; they are never printed or logged.
 *
 * A demo tenant that was terminated and purged (DAT-2, `npm run purge`) stays purged: the
 * seed skips it and says so, rather than bringing back members of a tenant whose key is gone.
 */
import { randomBytes } from 'node:crypto';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  type CognitoIdentityProviderClient,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { personRoles, platformTenantId, type RoleName } from '#shared/rbac/permissions';
import type { DataClients } from '#shared/store/dynamo';
import { identityIdOf, type MemberStore } from '#shared/store/members';
import { OnboardingRecords } from '#shared/store/onboarding-records';
import { TenantRegistry } from '#shared/store/tenants';
import { readJsonFile, writePrivateFile } from './private-files';

/**
 * The demo tenants and the roles that get one user each. API-key roles (integration,
 * agent) belong to keys, not people. The reserved `platform` tenant holds the platform
 * operator, who onboards tenants and sees tenant data only under a support grant (AZ-5).
 */
export const demoTenants: Readonly<Record<string, readonly RoleName[]>> = {
  demo: personRoles,
  'demo-two': ['owner', 'accountant'],
  [platformTenantId]: ['operator'],
};

export interface DemoUser {
  readonly email: string;
  readonly tenantId: string;
  readonly role: RoleName;
}

export interface SeededDemoUser extends DemoUser {
  readonly password: string;
  /** The Cognito `sub` of the user. */
  readonly subject: string;
  /** The pseudonymous member id (actor id in audit entries). */
  readonly identityId: string;
}

export function demoUsers(tenants: Readonly<Record<string, readonly RoleName[]>> = demoTenants): DemoUser[] {
  return Object.entries(tenants).flatMap(([tenantId, roles]) =>
    roles.map((role) => ({ email: `${role}@${tenantId}.strongroom.test`, tenantId, role })),
  );
}

/** The passwords file: one entry per demo email. */
export type DemoPasswordsFile = Record<string, { tenantId: string; role: string; password: string }>;

/**
 * A password that meets the deployed pool's policy (14+ characters, upper, lower, digit,
 * symbol) with 192 random bits, and only characters that need no quoting in JSON or shells.
 */
function generatePassword(): string {
  return `${randomBytes(24).toString('base64url')}-Aa1`;
}

export interface SeedOptions {
  readonly cognito: CognitoIdentityProviderClient;
  readonly userPoolId: string;
  /** Exactly the `iss` claim of the pool's tokens. */
  readonly issuer: string;
  readonly clients: DataClients;
  readonly members: MemberStore;
  readonly passwordsFile: string;
  readonly now?: () => Date;
  /** The tenants to seed and their roles. @default demoTenants */
  readonly tenants?: Readonly<Record<string, readonly RoleName[]>>;
  /** Where the seed says what it skipped. @default nowhere */
  readonly log?: (message: string) => void;
}

/** The demo tenants whose registry record says they were purged (DAT-2): never seeded again. */
async function purgedTenants(clients: DataClients, tenantIds: readonly string[]): Promise<Set<string>> {
  const registry = new TenantRegistry(clients.stage);
  const purged = new Set<string>();
  for (const tenantId of tenantIds) {
    if ((await registry.get(clients.platform(), tenantId))?.status === 'purged') purged.add(tenantId);
  }
  return purged;
}

export async function seedDemoTenants(options: SeedOptions): Promise<SeededDemoUser[]> {
  const now = options.now ?? (() => new Date());
  const tenants = options.tenants ?? demoTenants;
  const purged = await purgedTenants(options.clients, Object.keys(tenants));
  for (const tenantId of purged) {
    options.log?.(`demo tenant ${tenantId} was purged (npm run purge); not seeding it again`);
  }
  const users = demoUsers(tenants).filter((user) => !purged.has(user.tenantId));
  const stored = ((await readJsonFile(options.passwordsFile)) ?? {}) as DemoPasswordsFile;
  // Entries of tenants onboarded with `npm run onboard` stay.
  const passwords: DemoPasswordsFile = { ...stored };
  for (const user of users) {
    passwords[user.email] = {
      tenantId: user.tenantId,
      role: user.role,
      password: stored[user.email]?.password ?? generatePassword(),
    };
  }
  // Written before Cognito learns a password, so a crash never leaves one nobody knows.
  await writePrivateFile(options.passwordsFile, `${JSON.stringify(passwords, null, 2)}\n`);

  // The demo tenants are taken: onboarding refuses their ids.
  const onboarding = new OnboardingRecords(options.clients.stage);
  for (const tenantId of Object.keys(tenants)) {
    await onboarding.ensure(options.clients.platform(), {
      tenantId,
      status: 'active',
      createdAt: now().toISOString(),
      createdBy: 'seed',
      keys: { status: 'on first use' },
    });
  }

  const seeded: SeededDemoUser[] = [];
  for (const user of users) {
    const password = passwords[user.email]?.password ?? '';
    const subject = await ensureCognitoUser(options, user.email, password);
    const identityId = identityIdOf(options.issuer, subject);
    const memberships = await options.members.findByIdentity(options.clients.platform(), identityId);
    if (!memberships.some((member) => member.tenantId === user.tenantId)) {
      await options.members.put(options.clients.platform(), {
        tenantId: user.tenantId,
        identityId,
        issuer: options.issuer,
        subject,
        roles: [user.role],
        status: 'active',
        createdAt: now().toISOString(),
        version: 1,
      });
    }
    seeded.push({ ...user, password, subject, identityId });
  }
  return seeded;
}

/** Creates the user if it is missing and sets its permanent password; returns its `sub`. */
async function ensureCognitoUser(options: SeedOptions, email: string, password: string): Promise<string> {
  const { cognito, userPoolId } = options;
  let attributes: { Name?: string; Value?: string }[] | undefined;
  try {
    attributes = (await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: email })))
      .UserAttributes;
  } catch (error) {
    if (!(error instanceof UserNotFoundException)) throw error;
    const created = await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: email,
        UserAttributes: [
          { Name: 'email', Value: email },
          { Name: 'email_verified', Value: 'true' },
        ],
        TemporaryPassword: generatePassword(),
        MessageAction: 'SUPPRESS',
      }),
    );
    attributes = created.User?.Attributes;
  }
  // Set on every start, so the pool always agrees with the passwords file.
  await cognito.send(
    new AdminSetUserPasswordCommand({
      UserPoolId: userPoolId,
      Username: email,
      Password: password,
      Permanent: true,
    }),
  );
  const subject = attributes?.find((attribute) => attribute.Name === 'sub')?.Value;
  if (!subject) throw new Error(`cognito-local returned no sub for ${email}`);
  return subject;
}
