/**
 * The authorization matrix (AZ-1, AZ-3, AZ-4, AZ-5, AUTH-5), generated from the route
 * table: every route, called through the local gateway by
 *
 * - every role of the victim tenant (real cognito-local tokens, members in DynamoDB Local);
 * - every role of another tenant, twice: naming the victim tenant, and in its own tenant
 *   with the victim's ids (routes with path parameters);
 * - the victim's agent key and an API key of each scope;
 * - the platform operator: without a support grant, under the victim owner's auditor
 *   grant, and in the platform tenant itself;
 * - nobody (no credentials).
 *
 * The expected status of each cell comes from the route's declaration and the role
 * catalogue alone: public routes succeed for all; no credentials is 401; naming a tenant
 * one is not in, or an operator without a grant, is 403 at the authorizer; a principal
 * kind the route does not list, or roles without its permission, is 403; another tenant's
 * ids are 404; anything else is the route's success status. A new route is covered the
 * moment it is declared (support/route-fixtures.ts says how to build its request).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCheckpointSigner, signingKeyNamePrefix } from '#shared/crypto/signing';
import { agentReasonHeader } from '#shared/http/middleware';
import { type PrincipalKind, type RouteDefinition, routes } from '#shared/http/routes';
import { permissionsOf, personRoles, platformTenantId } from '#shared/rbac/permissions';
import { signCheckpoint } from '#shared/services/audit';
import { AuditLog } from '#shared/store/audit-log';
import { startTestGateway, type TestGateway } from './support/gateway';
import { call, expectStatus } from './support/http';
import { Identities, uniqueTenantId } from './support/identities';
import { demoUser, localStack } from './support/local-stack';
import { FixtureWorld, type RouteCall, routeFixtures } from './support/route-fixtures';
import { tokenFor } from './support/tokens';

/** One column of the matrix. */
interface Caller {
  readonly name: string;
  /** Undefined: no credentials at all. */
  readonly credential?: { readonly token: string; readonly scheme: 'Bearer' | 'ApiKey' };
  readonly kind?: Exclude<PrincipalKind, 'public'>;
  readonly roles: readonly string[];
  /** The tenant it names in x-strongroom-tenant, if any. */
  readonly names?: string;
  /** The authorizer denies it everywhere: a tenant it is not in, or an operator without a grant. */
  readonly deniedByAuthorizer?: boolean;
  /** Acts in its own tenant with the victim's ids: only routes with path parameters. */
  readonly otherTenantsIds?: boolean;
}

let gateway: TestGateway;
let world: FixtureWorld;
const callers: Caller[] = [];

beforeAll(async () => {
  gateway = await startTestGateway();
  const identities = new Identities();
  const stack = localStack();
  const victim = uniqueTenantId('victim');
  const other = uniqueTenantId('other');
  const own: Record<string, string> = {};
  for (const role of personRoles) {
    own[role] = (await identities.addMember(victim, [role])).token;
    const stranger = (await identities.addMember(other, [role])).token;
    callers.push({
      name: `${role} of the tenant`,
      credential: { token: own[role], scheme: 'Bearer' },
      kind: 'user',
      roles: [role],
    });
    callers.push({
      name: `${role} of another tenant naming it`,
      credential: { token: stranger, scheme: 'Bearer' },
      kind: 'user',
      roles: [role],
      names: victim,
      deniedByAuthorizer: true,
    });
    callers.push({
      name: `${role} of another tenant with its ids`,
      credential: { token: stranger, scheme: 'Bearer' },
      kind: 'user',
      roles: [role],
      otherTenantsIds: true,
    });
  }
  world = new FixtureWorld(gateway, victim, {
    owner: own.owner as string,
    maker: own.accountant as string,
    checker: own.approver as string,
  });

  const key = async (body: Record<string, unknown>) => {
    const response = await call(gateway, 'POST', '/api-keys', {
      token: own.owner,
      body: { name: 'Matrix', ...body },
    });
    await expectStatus(response, 201);
    return ((await response.json()) as { key: string }).key;
  };
  callers.push({
    name: 'agent key',
    credential: { token: await key({ kind: 'agent', scopes: ['agent'] }), scheme: 'ApiKey' },
    kind: 'agent',
    roles: ['agent'],
  });
  for (const scope of ['integration', 'accountant', 'auditor']) {
    callers.push({
      name: `API key with scope ${scope}`,
      credential: { token: await key({ scopes: [scope] }), scheme: 'ApiKey' },
      kind: 'apiKey',
      roles: [scope],
    });
  }

  const operator = await tokenFor(demoUser('operator', platformTenantId).email);
  callers.push({
    name: 'operator without a grant',
    credential: { token: operator, scheme: 'Bearer' },
    kind: 'operator',
    roles: [],
    names: uniqueTenantId('no-grant'),
    deniedByAuthorizer: true,
  });
  await world.supportGrant(false);
  callers.push({
    name: 'operator under an auditor grant',
    credential: { token: operator, scheme: 'Bearer' },
    kind: 'operator',
    roles: ['auditor'],
    names: victim,
  });
  callers.push({
    name: 'operator in the platform tenant',
    credential: { token: operator, scheme: 'Bearer' },
    kind: 'user',
    roles: ['operator'],
  });
  callers.push({ name: 'no credentials', roles: [] });

  // The audit routes prove against a signed checkpoint: sign one, as the scheduled job would.
  await world.invoice('issued', false);
  const auditContext = {
    clients: identities.clients,
    auditLog: new AuditLog(stack.stage),
    now: () => new Date(),
  };
  await signCheckpoint(
    auditContext,
    new LocalCheckpointSigner(stack.dataDir, signingKeyNamePrefix(stack.stage)),
    victim,
  );
  const entries = await auditContext.auditLog.entriesFrom(identities.clients.forTenant(victim), victim, 0, 1);
  world.auditEntryId = entries[0]?.entry.id ?? '';
}, 300_000);

afterAll(async () => {
  await gateway?.close();
});

const hasPathParameters = (route: RouteDefinition) => route.path.includes('{');

/** The status a caller must get, from the route's declaration and the role catalogue only. */
function expectedStatus(route: RouteDefinition, caller: Caller): number {
  if (route.permission === 'public') return route.successStatus;
  if (caller.credential === undefined) return 401;
  if (caller.deniedByAuthorizer) return 403;
  if (caller.kind === undefined || !route.principals.includes(caller.kind)) return 403;
  if (!permissionsOf(caller.roles).has(route.permission)) return 403;
  if (caller.otherTenantsIds) return 404;
  return route.successStatus;
}

async function request(route: RouteDefinition, caller: Caller, expected: number): Promise<Response> {
  const fixture = routeFixtures[route.id];
  if (!fixture && (hasPathParameters(route) || route.body !== undefined)) {
    throw new Error(`route ${route.id} needs an entry in test/integration/support/route-fixtures.ts`);
  }
  const built: RouteCall = fixture ? await fixture(world, expected < 300) : { path: route.path };
  const headers: Record<string, string> = { ...built.headers };
  if (caller.names !== undefined) headers['x-strongroom-tenant'] = caller.names;
  // AZ-4: agents state their reason on every write.
  if (caller.kind === 'agent') headers[agentReasonHeader] = 'Proposing from the matrix test';
  return call(gateway, route.method, built.path, {
    ...(caller.credential === undefined ? {} : caller.credential),
    ...(built.body === undefined ? {} : { body: built.body }),
    headers,
  });
}

describe('[AZ-1][AZ-3][AZ-4][AZ-5][AUTH-5] the authorization matrix, generated from the route table', () => {
  it('covers every route of the table', () => {
    expect(routes.length).toBeGreaterThan(30);
  });

  for (const route of routes) {
    it(`${route.method} ${route.path} (${route.permission})`, async () => {
      const mismatches: string[] = [];
      for (const caller of callers) {
        if (caller.otherTenantsIds && !hasPathParameters(route)) continue;
        const expected = expectedStatus(route, caller);
        const response = await request(route, caller, expected);
        if (response.status !== expected) {
          mismatches.push(
            `${caller.name}: expected ${expected}, got ${response.status} ${await response.text()}`,
          );
        }
      }
      expect(mismatches).toEqual([]);
    });
  }
});
