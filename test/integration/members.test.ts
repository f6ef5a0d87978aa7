/**
 * The members API over real HTTP, DynamoDB Local and cognito-local: invitations create
 * the person in the user pool and the membership in the members table; roles never go
 * above the granter's; changes are audited without personal data; a removed or disabled
 * member's still-valid token stops working within the authorizer's 60 s cache.
 * Each test works in a fresh tenant, so nothing here disturbs the demo tenants.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '#shared/store/audit-log';
import { startTestGateway, type TestGateway } from './support/gateway';
import { call, expectProblem, expectStatus } from './support/http';
import { Identities, type TestMember, uniqueEmail, uniqueTenantId } from './support/identities';
import { localStack } from './support/local-stack';

let gateway: TestGateway;
let identities: Identities;
let auditLog: AuditLog;
/** The authorizer's clock: the tests move it instead of sleeping. */
let clockOffset = 0;

beforeAll(async () => {
  gateway = await startTestGateway(localStack(), { authorizerClock: () => Date.now() + clockOffset });
  identities = new Identities();
  auditLog = new AuditLog(localStack().stage);
});

afterAll(async () => {
  await gateway?.close();
  identities?.destroy();
});

interface MemberBody {
  id: string;
  roles: string[];
  status: string;
  version: number;
  auditEntryId?: string;
}

async function tenantWith(...roles: string[]): Promise<{ tenantId: string; people: TestMember[] }> {
  const tenantId = uniqueTenantId('members');
  const people = [];
  for (const role of roles) people.push(await identities.addMember(tenantId, [role]));
  return { tenantId, people };
}

async function invite(token: string, body: unknown): Promise<Response> {
  return call(gateway, 'POST', '/members', { token, body });
}

/** Invites a new person and completes the invitation: their password and first token. */
async function inviteAndSignIn(token: string, roles: string[]) {
  const email = uniqueEmail(roles.join('-'));
  const response = await invite(token, { email, roles });
  await expectStatus(response, 201);
  const member = (await response.json()) as MemberBody;
  const password = await identities.setPassword(email);
  return { email, member, token: await identities.signIn(email, password) };
}

async function entriesOf(tenantId: string) {
  const client = identities.clients.forTenant(tenantId);
  const head = await auditLog.head(client, tenantId);
  return (await auditLog.entriesFrom(client, tenantId, 0, head.size)).map((each) => each.entry);
}

describe('[AZ-1][AUTH-6][AUD-1] inviting members', () => {
  it('creates the person in the user pool and the member; the new member signs in and works in the tenant', async () => {
    const { tenantId, people } = await tenantWith('owner');
    const [owner] = people as [TestMember];
    const { email, member, token } = await inviteAndSignIn(owner.token, ['accountant']);
    expect(member).toMatchObject({ roles: ['accountant'], status: 'active', version: 1 });
    expect(member.id).toBe(
      (await identities.members.get(identities.clients.platform(), tenantId, member.id))?.identityId,
    );
    expect(member.id).toMatch(/^usr_/);

    const created = await call(gateway, 'POST', '/invoices', {
      token,
      body: { currency: 'EUR', lines: [{ description: 'First', quantity: '1', unitPrice: 100, vatRate: 0 }] },
    });
    await expectStatus(created, 201);

    const list = await call(gateway, 'GET', '/members', { token: owner.token });
    const ids = ((await list.json()) as { items: MemberBody[] }).items.map((each) => each.id);
    expect(ids).toEqual(expect.arrayContaining([owner.identityId, member.id]));

    // AUD-1, DAT-3: the invitation is audited with the roles granted, by pseudonymous ids only.
    const entry = (await entriesOf(tenantId)).find((each) => each.id === member.auditEntryId);
    expect(entry).toMatchObject({
      action: 'member.invite',
      actor: { id: owner.identityId, kind: 'user' },
      target: { type: 'member', id: member.id },
      detail: { roles: ['accountant'], status: 'active' },
    });
    expect(JSON.stringify(entry)).not.toContain(email);
    expect(JSON.stringify(entry)).not.toContain('@');
    // The email went to the user pool only: the member item does not hold it.
    const stored = await identities.members.get(identities.clients.platform(), tenantId, member.id);
    expect(JSON.stringify(stored)).not.toContain('@');
  });

  it('lets a person belong to two tenants, who then names one per request', async () => {
    const first = await tenantWith('owner');
    const second = await tenantWith('owner');
    const accountant = await inviteAndSignIn((first.people[0] as TestMember).token, ['accountant']);
    await expectStatus(
      await invite((second.people[0] as TestMember).token, { email: accountant.email, roles: ['auditor'] }),
      201,
    );
    await expectProblem(
      await call(gateway, 'GET', '/invoices', { token: accountant.token }),
      403,
      'forbidden',
    );
    for (const tenantId of [first.tenantId, second.tenantId]) {
      const response = await call(gateway, 'GET', '/invoices', {
        token: accountant.token,
        headers: { 'x-strongroom-tenant': tenantId },
      });
      await expectStatus(response, 200);
    }
  });

  it('refuses to grant a role above the granter: an admin may invite auditors and admins only', async () => {
    const { tenantId, people } = await tenantWith('owner', 'admin');
    const admin = people[1] as TestMember;
    for (const roles of [['accountant'], ['approver'], ['owner'], ['auditor', 'accountant']]) {
      await expectProblem(
        await invite(admin.token, { email: uniqueEmail('denied'), roles }),
        403,
        'forbidden',
      );
    }
    await expectStatus(await invite(admin.token, { email: uniqueEmail('auditor'), roles: ['auditor'] }), 201);
    // Only the owner and the admin exist besides the auditor just invited: nothing else was written.
    const listed = (await (await call(gateway, 'GET', '/members', { token: admin.token })).json()) as {
      items: MemberBody[];
    };
    expect(listed.items.map((each) => each.roles[0]).sort()).toEqual(['admin', 'auditor', 'owner']);
    expect((await entriesOf(tenantId)).filter((each) => each.action === 'member.invite')).toHaveLength(1);
  });

  it('refuses invitations from members without member:write, API-key roles and malformed bodies', async () => {
    const { people } = await tenantWith('owner', 'accountant', 'auditor');
    const [owner, accountant, auditor] = people as [TestMember, TestMember, TestMember];
    for (const token of [accountant.token, auditor.token]) {
      await expectProblem(
        await invite(token, { email: uniqueEmail('x'), roles: ['auditor'] }),
        403,
        'forbidden',
      );
    }
    for (const body of [
      { email: uniqueEmail('x'), roles: ['integration'] },
      { email: uniqueEmail('x'), roles: ['agent'] },
      { email: uniqueEmail('x'), roles: ['operator'] },
      { email: uniqueEmail('x'), roles: [] },
      { email: uniqueEmail('x'), roles: ['auditor', 'auditor'] },
      { email: 'not-an-email', roles: ['auditor'] },
      { email: uniqueEmail('x'), roles: ['auditor'], tenantId: 'demo' },
    ]) {
      await expectProblem(await invite(owner.token, body), 400, 'validation-failed');
    }
  });

  it('refuses to invite someone who is already a member', async () => {
    const { people } = await tenantWith('owner', 'auditor');
    const [owner, auditor] = people as [TestMember, TestMember];
    await expectProblem(
      await invite(owner.token, { email: auditor.email, roles: ['approver'] }),
      409,
      'conflict',
    );
    await expectProblem(
      await invite(owner.token, { email: owner.email, roles: ['auditor'] }),
      409,
      'conflict',
    );
  });
});

describe('[AZ-1][AZ-3] changing and removing members', () => {
  async function patch(token: string, id: string, body: unknown, ifMatch?: string): Promise<Response> {
    return call(gateway, 'PATCH', `/members/${id}`, {
      token,
      body,
      ...(ifMatch === undefined ? {} : { headers: { 'if-match': ifMatch } }),
    });
  }

  it('changes roles with If-Match: 428 without it, 412 when stale, then the new roles apply', async () => {
    const { tenantId, people } = await tenantWith('owner', 'auditor');
    const [owner, auditor] = people as [TestMember, TestMember];
    await expectProblem(
      await patch(owner.token, auditor.identityId, { roles: ['approver'] }),
      428,
      'precondition-required',
    );
    await expectProblem(
      await patch(owner.token, auditor.identityId, { roles: ['approver'] }, '"v7"'),
      412,
      'precondition-failed',
    );
    const read = await call(gateway, 'GET', `/members/${auditor.identityId}`, { token: owner.token });
    const etag = read.headers.get('etag') ?? '';
    expect(etag).toBe('"v1"');
    const changed = await patch(owner.token, auditor.identityId, { roles: ['approver'] }, etag);
    await expectStatus(changed, 200);
    expect(changed.headers.get('etag')).toBe('"v2"');
    const body = (await changed.json()) as MemberBody;
    expect(body).toMatchObject({ roles: ['approver'], version: 2 });
    const entry = (await entriesOf(tenantId)).find((each) => each.id === body.auditEntryId);
    expect(entry).toMatchObject({
      action: 'member.update',
      detail: { roles: ['approver'], status: 'active' },
    });
    // The same If-Match again is stale now.
    await expectProblem(
      await patch(owner.token, auditor.identityId, { roles: ['auditor'] }, etag),
      412,
      'precondition-failed',
    );
  });

  it('lets an admin change neither the owner nor anyone into a role above its own, nor itself', async () => {
    const { people } = await tenantWith('owner', 'admin', 'auditor');
    const [owner, admin, auditor] = people as [TestMember, TestMember, TestMember];
    await expectProblem(
      await patch(admin.token, owner.identityId, { status: 'disabled' }, '"v1"'),
      403,
      'forbidden',
    );
    await expectProblem(
      await call(gateway, 'DELETE', `/members/${owner.identityId}`, { token: admin.token }),
      403,
      'forbidden',
    );
    await expectProblem(
      await patch(admin.token, auditor.identityId, { roles: ['approver'] }, '"v1"'),
      403,
      'forbidden',
    );
    await expectProblem(
      await patch(admin.token, admin.identityId, { roles: ['auditor'] }, '"v1"'),
      403,
      'forbidden',
    );
    await expectProblem(
      await patch(owner.token, owner.identityId, { roles: ['admin'] }, '"v1"'),
      403,
      'forbidden',
    );
    await expectProblem(
      await call(gateway, 'DELETE', `/members/${owner.identityId}`, { token: owner.token }),
      403,
      'forbidden',
    );
    // The owner's membership is untouched.
    const read = (await (
      await call(gateway, 'GET', `/members/${owner.identityId}`, { token: owner.token })
    ).json()) as MemberBody;
    expect(read).toMatchObject({ roles: ['owner'], status: 'active', version: 1 });
  });

  it("never reaches another tenant's members: their ids are not found", async () => {
    const victim = await tenantWith('owner', 'auditor');
    const attacker = await tenantWith('owner');
    const target = victim.people[1] as TestMember;
    const token = (attacker.people[0] as TestMember).token;
    await expectProblem(
      await call(gateway, 'GET', `/members/${target.identityId}`, { token }),
      404,
      'not-found',
    );
    await expectProblem(
      await patch(token, target.identityId, { status: 'disabled' }, '"v1"'),
      404,
      'not-found',
    );
    await expectProblem(
      await call(gateway, 'DELETE', `/members/${target.identityId}`, { token }),
      404,
      'not-found',
    );
    await expectProblem(
      await call(gateway, 'GET', '/members', { token, headers: { 'x-strongroom-tenant': victim.tenantId } }),
      403,
      'forbidden',
    );
    const stored = await identities.members.get(
      identities.clients.platform(),
      victim.tenantId,
      target.identityId,
    );
    expect(stored).toMatchObject({ status: 'active', version: 1 });
  });

  it("stops a removed member's still-valid token within the authorizer's 60 s cache", async () => {
    const { tenantId, people } = await tenantWith('owner', 'accountant');
    const [owner, accountant] = people as [TestMember, TestMember];
    const list = () => call(gateway, 'GET', '/invoices', { token: accountant.token });
    await expectStatus(await list(), 200);

    await expectStatus(
      await call(gateway, 'DELETE', `/members/${accountant.identityId}`, { token: owner.token }),
      204,
    );
    expect((await entriesOf(tenantId)).at(-1)).toMatchObject({
      action: 'member.remove',
      target: { id: accountant.identityId },
    });
    // The token itself stays valid for up to 60 minutes; the membership is what counts.
    clockOffset += 60_000;
    await expectProblem(await list(), 403, 'forbidden');
    await expectProblem(
      await call(gateway, 'GET', `/members/${accountant.identityId}`, { token: owner.token }),
      404,
      'not-found',
    );
  });

  it('disables and re-enables a member, each within the cache lifetime', async () => {
    const { people } = await tenantWith('owner', 'approver');
    const [owner, approver] = people as [TestMember, TestMember];
    const list = () => call(gateway, 'GET', '/invoices', { token: approver.token });
    await expectStatus(await list(), 200);
    await expectStatus(await patch(owner.token, approver.identityId, { status: 'disabled' }, '"v1"'), 200);
    clockOffset += 60_000;
    await expectProblem(await list(), 403, 'forbidden');
    await expectStatus(await patch(owner.token, approver.identityId, { status: 'active' }, '"v2"'), 200);
    clockOffset += 60_000;
    await expectStatus(await list(), 200);
  });

  it('lets an admin removed a moment ago commit nothing, though the authorizer still honours its token', async () => {
    const { tenantId, people } = await tenantWith('owner', 'admin');
    const [owner, admin] = people as [TestMember, TestMember];
    // The admin's membership is now in the authorizer's cache.
    await expectStatus(await call(gateway, 'GET', '/members', { token: admin.token }), 200);
    await expectStatus(
      await call(gateway, 'DELETE', `/members/${admin.identityId}`, { token: owner.token }),
      204,
    );
    const before = (await entriesOf(tenantId)).length;
    const response = await invite(admin.token, { email: uniqueEmail('late'), roles: ['auditor'] });
    await expectProblem(response, 409, 'conflict');
    expect(await entriesOf(tenantId)).toHaveLength(before);
  });

  it('answers malformed ids and bodies with 4xx problems and changes nothing', async () => {
    const { people } = await tenantWith('owner', 'auditor');
    const [owner, auditor] = people as [TestMember, TestMember];
    await expectProblem(
      await call(gateway, 'GET', '/members/not-an-id', { token: owner.token }),
      400,
      'validation-failed',
    );
    await expectProblem(await patch(owner.token, auditor.identityId, {}, '"v1"'), 400, 'validation-failed');
    await expectProblem(
      await patch(owner.token, auditor.identityId, { status: 'removed' }, '"v1"'),
      400,
      'validation-failed',
    );
    await expectProblem(
      await patch(owner.token, auditor.identityId, '{"roles":', '"v1"'),
      400,
      'malformed-request',
    );
    await expectProblem(
      await call(gateway, 'GET', '/members?cursor=%%%', { token: owner.token }),
      400,
      'malformed-request',
    );
    const stored = await identities.members.get(
      identities.clients.platform(),
      owner.tenantId,
      auditor.identityId,
    );
    expect(stored).toMatchObject({ roles: ['auditor'], status: 'active', version: 1 });
  });
});
