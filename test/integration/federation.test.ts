/**
 * Federated sign-in's trigger against DynamoDB Local, then the user's token through the
 * local gateway (AUTH-3, AUTH-4, AUD-1). cognito-local has no identity providers, so the
 * test hands the trigger the V2_0 event Cognito sends after an IdP sign-in, and signs the
 * resulting access token with the local pool's key, as the pool would. The trigger is the
 * deployed handler's factory with the stack's DataClients: real members table, real log.
 */
import { randomUUID } from 'node:crypto';
import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { createFederationTrigger } from '#functions/identity-federation/handler';
import { federatedAttributes } from '#shared/auth/federation';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { identityIdOf, MemberStore } from '#shared/store/members';
import { startTestGateway, type TestGateway } from './support/gateway';
import { call, expectProblem, expectStatus } from './support/http';
import { uniqueTenantId } from './support/identities';
import { localRuntimeConfig, localStack } from './support/local-stack';
import { accessTokenClaims, signWithCognitoLocalKey } from './support/tokens';

let gateway: TestGateway;
let trigger: ReturnType<typeof createFederationTrigger>;
let clients: DataClients;
let members: MemberStore;
const tenantId = uniqueTenantId('acme');

beforeAll(async () => {
  // The gateway sets the handlers' environment, which the trigger module reads when it loads.
  gateway = await startTestGateway();
  const { createFederationTrigger } = await import('#functions/identity-federation/handler');
  clients = new DataClients(localRuntimeConfig());
  members = new MemberStore(localStack().stage);
  trigger = createFederationTrigger({
    providers: [
      {
        name: 'acme-entra',
        tenantId,
        groupRoles: { 'ap-clerks': 'accountant', 'finance-admins': 'admin' },
        mfaValues: ['mfa'],
      },
    ],
    clients,
    stage: localStack().stage,
  });
});

afterAll(async () => {
  await gateway?.close();
});

/** The event Cognito sends the trigger after a sign-in through the IdP. */
function signInEvent(subject: string, attributes: Record<string, string>): PreTokenGenerationV2TriggerEvent {
  const stack = localStack();
  return {
    version: '2',
    triggerSource: 'TokenGeneration_HostedAuth',
    region: stack.region,
    userPoolId: stack.userPoolId,
    userName: `acme-entra_${subject}`,
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'federated-client' },
    request: {
      userAttributes: {
        sub: subject,
        email: `${subject}@acme.example`,
        identities: JSON.stringify([{ providerName: 'acme-entra', providerType: 'OIDC', userId: subject }]),
        ...attributes,
      },
      groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [] },
      scopes: ['openid', 'email', 'profile'],
    },
    response: { claimsAndScopeOverrideDetails: null },
  } as unknown as PreTokenGenerationV2TriggerEvent;
}

async function tokenOf(subject: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signWithCognitoLocalKey(accessTokenClaims(subject, { issuedAt: now, expiresAt: now + 600 }));
}

const memberOf = (subject: string) =>
  members.get(clients.platform(), tenantId, identityIdOf(localStack().issuer, subject));

async function entries() {
  const auditLog = new AuditLog(localStack().stage);
  const client = clients.forTenant(tenantId);
  const head = await auditLog.head(client, tenantId);
  if (head.size === 0) return [];
  return (await auditLog.entriesFrom(client, tenantId, 0, head.size)).map((each) => each.entry);
}

describe('[AUTH-4][AUTH-3] federated users of a tenant identity provider', () => {
  it('joins the configured tenant with the roles of their groups, audited, and uses the API', async () => {
    const subject = randomUUID();
    const event = signInEvent(subject, {
      [federatedAttributes.mfa]: '["pwd","mfa"]',
      [federatedAttributes.groups]: '["ap-clerks","everyone"]',
      // An IdP claim naming a tenant is never read: the tenant is the configuration's.
      'custom:tenant': 'demo',
    });
    expect(await trigger(event)).toBe(event);
    expect(await memberOf(subject)).toMatchObject({ tenantId, roles: ['accountant'], status: 'active' });
    expect((await entries()).at(-1)).toMatchObject({
      action: 'member.federated-join',
      actor: { id: 'idp:acme-entra', kind: 'system' },
      detail: { roles: ['accountant'], provider: 'acme-entra' },
    });
    expect(JSON.stringify(await entries())).not.toContain('@acme.example');

    const token = await tokenOf(subject);
    await expectStatus(await call(gateway, 'GET', '/invoices', { token }), 200);
    await expectProblem(
      await call(gateway, 'GET', '/invoices', { token, headers: { 'x-strongroom-tenant': 'demo' } }),
      403,
      'forbidden',
    );
  });

  it('follows the groups at the next sign-in', async () => {
    const subject = randomUUID();
    const attributes = { [federatedAttributes.mfa]: 'mfa' };
    await trigger(signInEvent(subject, { ...attributes, [federatedAttributes.groups]: 'ap-clerks' }));
    await trigger(signInEvent(subject, { ...attributes, [federatedAttributes.groups]: 'finance-admins' }));
    expect(await memberOf(subject)).toMatchObject({ roles: ['admin'], version: 2 });
    expect((await entries()).at(-1)).toMatchObject({
      action: 'member.federated-update',
      detail: { roles: ['admin'] },
    });
  });

  it('refuses a sign-in without the IdP MFA claim: no token, no member', async () => {
    for (const mfa of [undefined, '["pwd"]', '']) {
      const subject = randomUUID();
      const event = signInEvent(subject, {
        ...(mfa === undefined ? {} : { [federatedAttributes.mfa]: mfa }),
        [federatedAttributes.groups]: 'finance-admins',
      });
      await expect(trigger(event)).rejects.toThrow('did not assert multi-factor authentication');
      expect(await memberOf(subject)).toBeUndefined();
    }
  });

  it('refuses a user none of whose groups maps to a role', async () => {
    const subject = randomUUID();
    await expect(
      trigger(
        signInEvent(subject, { [federatedAttributes.mfa]: 'mfa', [federatedAttributes.groups]: 'everyone' }),
      ),
    ).rejects.toThrow('no group of the user maps to a role');
    expect(await memberOf(subject)).toBeUndefined();
  });

  it('refuses a member the tenant disabled, whatever the IdP groups say', async () => {
    const subject = randomUUID();
    const attributes = { [federatedAttributes.mfa]: 'mfa', [federatedAttributes.groups]: 'ap-clerks' };
    await trigger(signInEvent(subject, attributes));
    const member = await memberOf(subject);
    await members.put(clients.platform(), { ...(member as NonNullable<typeof member>), status: 'disabled' });
    await expect(trigger(signInEvent(subject, attributes))).rejects.toThrow('membership is not active');
    expect(await memberOf(subject)).toMatchObject({ status: 'disabled' });
  });

  it('leaves pool users to Cognito: no federation rules, no member written', async () => {
    const subject = randomUUID();
    const event = signInEvent(subject, {});
    delete (event.request.userAttributes as Record<string, string>).identities;
    expect(await trigger(event)).toBe(event);
    expect(await memberOf(subject)).toBeUndefined();
  });
});
