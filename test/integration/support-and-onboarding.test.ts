/**
 * The platform operator over real HTTP (AZ-5, AUD-1): it onboards tenants (POST /tenants
 * and `npm run onboard`), and sees a tenant's data only under the owner's support grant,
 * with the grant's roles, until it expires or is revoked; every request under a grant is
 * in the tenant's own audit log. Tenants here are fresh; the operator is the seeded one.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from '#infra/local/settings';
import { platformTenantId } from '#shared/rbac/permissions';
import { AuditLog } from '#shared/store/audit-log';
import { startTestGateway, type TestGateway } from './support/gateway';
import { call, expectProblem, expectStatus } from './support/http';
import { Identities, type TestMember, uniqueEmail, uniqueTenantId } from './support/identities';
import { demoUser, localStack } from './support/local-stack';
import { tokenFor } from './support/tokens';

let gateway: TestGateway;
let identities: Identities;
let auditLog: AuditLog;
let operator: string;
let clockOffset = 0;

beforeAll(async () => {
  gateway = await startTestGateway(localStack(), { authorizerClock: () => Date.now() + clockOffset });
  identities = new Identities();
  auditLog = new AuditLog(localStack().stage);
  operator = await tokenFor(demoUser('operator', platformTenantId).email);
});

afterAll(async () => {
  await gateway?.close();
  identities?.destroy();
});

async function entriesOf(tenantId: string) {
  const client = identities.clients.forTenant(tenantId);
  const head = await auditLog.head(client, tenantId);
  if (head.size === 0) return [];
  return (await auditLog.entriesFrom(client, tenantId, 0, head.size)).map((each) => each.entry);
}

const draft = {
  currency: 'EUR',
  lines: [{ description: 'Support', quantity: '1', unitPrice: 100, vatRate: 0 }],
};

describe('[AZ-1] onboarding by the platform operator', () => {
  it('creates the tenant, its owner and the first entry of its audit log', async () => {
    const tenantId = uniqueTenantId('acme');
    const ownerEmail = uniqueEmail('owner');
    const response = await call(gateway, 'POST', '/tenants', {
      token: operator,
      body: { tenantId, ownerEmail },
    });
    await expectStatus(response, 201);
    const tenant = (await response.json()) as {
      tenantId: string;
      ownerId: string;
      keys: Record<string, string>;
    };
    // ENC-4: its own key and first data key, made by the KeyService before the transaction.
    expect(tenant).toMatchObject({
      tenantId,
      status: 'active',
      keys: { status: 'provisioned', dataKeyVersion: '1' },
    });

    // The invited owner completes the invitation and administers the tenant.
    const ownerToken = await identities.signIn(ownerEmail, await identities.setPassword(ownerEmail));
    const members = await call(gateway, 'GET', '/members', { token: ownerToken });
    await expectStatus(members, 200);
    expect(((await members.json()) as { items: { id: string; roles: string[] }[] }).items).toEqual([
      expect.objectContaining({ id: tenant.ownerId, roles: ['owner'] }),
    ]);

    const [first] = await entriesOf(tenantId);
    expect(first).toMatchObject({
      action: 'tenant.create',
      actor: { id: demoUser('operator', platformTenantId).identityId, kind: 'operator' },
      target: { type: 'tenant', id: tenantId },
      detail: { tenantId, owner: tenant.ownerId },
    });
    expect(JSON.stringify(first)).not.toContain('@');
    expect((await entriesOf(platformTenantId)).some((each) => each.target.id === tenantId)).toBe(true);
    await expectProblem(
      await call(gateway, 'POST', '/tenants', {
        token: operator,
        body: { tenantId, ownerEmail: uniqueEmail('x') },
      }),
      409,
      'conflict',
    );
  });

  it('refuses the id of a tenant that exists without onboarding, and never adds an owner to it', async () => {
    const response = await call(gateway, 'POST', '/tenants', {
      token: operator,
      body: { tenantId: 'demo', ownerEmail: uniqueEmail('intruder') },
    });
    await expectProblem(response, 409, 'conflict');
  });

  it('refuses bad and reserved tenant ids, and everyone but the operator', async () => {
    for (const tenantId of ['Acme', 'acme_1', 'acme#1', '-acme', 'a'.repeat(64), platformTenantId]) {
      await expectProblem(
        await call(gateway, 'POST', '/tenants', {
          token: operator,
          body: { tenantId, ownerEmail: uniqueEmail('x') },
        }),
        400,
        'validation-failed',
      );
    }
    const owner = await tokenFor(demoUser('owner').email);
    await expectProblem(
      await call(gateway, 'POST', '/tenants', {
        token: owner,
        body: { tenantId: uniqueTenantId('nope'), ownerEmail: uniqueEmail('x') },
      }),
      403,
      'forbidden',
    );
  });

  it('onboards from the command line: npm run onboard -- <tenant-id> <owner-email>', async () => {
    const stack = localStack();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'strongroom-onboard-'));
    try {
      const state = {
        apiUrl: gateway.url,
        cognitoEndpoint: stack.cognitoEndpoint,
        dynamoEndpoint: stack.dynamoEndpoint,
        region: stack.region,
        userPoolId: stack.userPoolId,
        clientId: stack.clientId,
        pid: process.pid,
      };
      await writeFile(path.join(dataDir, 'runtime.json'), JSON.stringify(state));
      // The stack's tenant keys, as npm start's data folder holds them: the command seals the
      // onboarding record and the owner's membership (ENC-3), which the gateway then opens.
      await symlink(path.join(stack.dataDir, 'keys'), path.join(dataDir, 'keys'));
      const tenantId = uniqueTenantId('cli');
      const ownerEmail = uniqueEmail('cli-owner');
      const run = (...args: string[]) =>
        promisify(execFile)(
          path.join(projectRoot, 'node_modules', '.bin', 'tsx'),
          ['infra/local/onboard.ts', ...args],
          {
            cwd: projectRoot,
            env: { ...process.env, STRONGROOM_DATA_DIR: dataDir, STRONGROOM_LOG_LEVEL: 'SILENT' },
            timeout: 60_000,
          },
        );
      const { stdout } = await run(tenantId, ownerEmail);
      expect(stdout).toContain(`Tenant ${tenantId} onboarded with its own key`);
      expect(stdout).toContain(`npm run -s token -- ${ownerEmail}`);
      const passwords = JSON.parse(await readFile(path.join(dataDir, 'demo-users.json'), 'utf8')) as Record<
        string,
        { password: string }
      >;
      expect(stdout).not.toContain(passwords[ownerEmail]?.password);
      const token = await identities.signIn(ownerEmail, passwords[ownerEmail]?.password ?? '');
      await expectStatus(await call(gateway, 'GET', '/members', { token }), 200);
      await expect(run(tenantId, uniqueEmail('again'))).rejects.toMatchObject({
        stderr: expect.stringContaining('exists'),
      });
      await expect(run('Bad Id', ownerEmail)).rejects.toMatchObject({
        stderr: expect.stringContaining('[a-z0-9-]+'),
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('[AZ-5][AUD-1] support grants', () => {
  let tenantId: string;
  let owner: TestMember;
  let admin: TestMember;
  const asOperator = (method: string, route: string, body?: unknown) =>
    call(gateway, method, route, {
      token: operator,
      headers: { 'x-strongroom-tenant': tenantId },
      ...(body === undefined ? {} : { body }),
    });
  const grant = async (roles: string[], durationMinutes = 60) => {
    const response = await call(gateway, 'POST', '/support-grants', {
      token: owner.token,
      body: { roles, durationMinutes },
    });
    await expectStatus(response, 201);
    return (await response.json()) as { id: string; expiresAt: string; status: string; auditEntryId: string };
  };

  beforeEach(async () => {
    clockOffset = 0;
    tenantId = uniqueTenantId('support');
    owner = await identities.addMember(tenantId, ['owner']);
    admin = await identities.addMember(tenantId, ['admin']);
  });

  it('denies the operator without a grant, and inside the platform tenant it sees no tenant data', async () => {
    await expectProblem(await asOperator('GET', '/invoices'), 403, 'forbidden');
    await expectProblem(await call(gateway, 'GET', '/invoices', { token: operator }), 403, 'forbidden');
    // A tenant member naming another tenant is no operator.
    await expectProblem(
      await call(gateway, 'GET', '/invoices', {
        token: owner.token,
        headers: { 'x-strongroom-tenant': 'demo' },
      }),
      403,
      'forbidden',
    );
    expect((await entriesOf(tenantId)).filter((each) => each.action === 'support.access')).toEqual([]);
  });

  it('lets the operator act with the granted roles only, auditing every request in the tenant log', async () => {
    const { id } = await grant(['auditor']);
    const listed = await asOperator('GET', '/invoices');
    await expectStatus(listed, 200);
    const requestId = listed.headers.get('x-amzn-requestid');
    const access = (await entriesOf(tenantId)).filter((each) => each.action === 'support.access');
    expect(access).toEqual([
      expect.objectContaining({
        actor: { id: demoUser('operator', platformTenantId).identityId, kind: 'operator' },
        target: { type: 'supportGrant', id },
        requestId,
        detail: { method: 'GET', resource: '/invoices', roles: ['auditor'] },
      }),
    ]);
    await expectStatus(await asOperator('GET', '/audit/entries'), 200);
    await expectProblem(await asOperator('POST', '/invoices', draft), 403, 'forbidden');
    // Never administration, whatever the grant: nothing the operator makes outlives it.
    await expectProblem(
      await asOperator('POST', '/api-keys', { name: 'x', scopes: ['auditor'] }),
      403,
      'forbidden',
    );
    await expectProblem(
      await asOperator('POST', '/members', { email: uniqueEmail('x'), roles: ['auditor'] }),
      403,
      'forbidden',
    );
    await expectProblem(
      await asOperator('POST', '/support-grants', { roles: ['auditor'], durationMinutes: 60 }),
      403,
      'forbidden',
    );
    expect((await entriesOf(tenantId)).filter((each) => each.action === 'support.access')).toHaveLength(6);
  });

  it('records changes made under a grant as the operator', async () => {
    await grant(['accountant']);
    const created = await asOperator('POST', '/invoices', draft);
    await expectStatus(created, 201);
    const { auditEntryId } = (await created.json()) as { auditEntryId: string };
    expect((await entriesOf(tenantId)).find((each) => each.id === auditEntryId)?.actor).toEqual({
      id: demoUser('operator', platformTenantId).identityId,
      kind: 'operator',
    });
  });

  it('ends with the grant: at its expiry, or within 60 s of its revocation', async () => {
    await grant(['auditor'], 15);
    await expectStatus(await asOperator('GET', '/invoices'), 200);
    clockOffset = 15 * 60_000 + 1_000;
    await expectProblem(await asOperator('GET', '/invoices'), 403, 'forbidden');

    // The clock only moves forward: past the cache of the expired grant's lookup.
    const second = await grant(['auditor']);
    clockOffset += 61_000;
    await expectStatus(await asOperator('GET', '/invoices'), 200);
    await expectStatus(
      await call(gateway, 'DELETE', `/support-grants/${second.id}`, { token: owner.token }),
      204,
    );
    clockOffset += 61_000;
    await expectProblem(await asOperator('GET', '/invoices'), 403, 'forbidden');

    const grants = await call(gateway, 'GET', '/support-grants', { token: admin.token });
    expect(
      ((await grants.json()) as { items: { status: string }[] }).items.map((each) => each.status),
    ).toEqual(['revoked', 'active']);
    const actions = (await entriesOf(tenantId)).map((each) => each.action);
    expect(actions.filter((action) => action === 'support.grant')).toHaveLength(2);
    expect(actions).toContain('support.revoke');
  });

  it('is granted by the owner alone, with support roles only, for 15 minutes to 7 days', async () => {
    await expectProblem(
      await call(gateway, 'POST', '/support-grants', {
        token: admin.token,
        body: { roles: ['auditor'], durationMinutes: 60 },
      }),
      403,
      'forbidden',
    );
    for (const body of [
      { roles: ['admin'], durationMinutes: 60 },
      { roles: ['owner'], durationMinutes: 60 },
      { roles: ['auditor'], durationMinutes: 14 },
      { roles: ['auditor'], durationMinutes: 7 * 24 * 60 + 1 },
      { roles: [], durationMinutes: 60 },
      { roles: ['auditor'] },
    ]) {
      await expectProblem(
        await call(gateway, 'POST', '/support-grants', { token: owner.token, body }),
        400,
        'validation-failed',
      );
    }
    const listed = await call(gateway, 'GET', '/support-grants', { token: owner.token });
    expect(((await listed.json()) as { items: unknown[] }).items).toEqual([]);
  });
});
