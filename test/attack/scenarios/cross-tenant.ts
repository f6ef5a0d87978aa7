/**
 * Scenario 2, cross-tenant (AZ-3): with valid credentials of tenant A (every person role,
 * an API key, an agent key), every route of the table is called with what belongs to
 * tenant B: its ids in the path and in bodies and filters, its list cursors, its
 * Idempotency-Keys, its tenant id in `x-strongroom-tenant`. Pairs include tenants whose
 * ids are prefixes of each other (`t1`/`t10`, `acme-…`/`acme-…-2`), in both directions.
 *
 * Invariant: nothing of B is read, written, or even confirmed to exist. Each attack is
 * sent twice, once with B's value and once with a never-existing value of the same shape;
 * the two answers must be the same (status, headers, problem, with the ids masked), no
 * answer carries anything of B (its ids or the marker strings in its data), and B's items
 * and audit log are exactly as they were.
 */
import { randomBytes } from 'node:crypto';
import { agentReasonHeader } from '#shared/http/middleware';
import { type RouteDefinition, routes } from '#shared/http/routes';
import { permissionsOf } from '#shared/rbac/permissions';
import { call } from '#test/integration/support/http';
import { uniqueEmail } from '#test/integration/support/identities';
import { routeFixtures } from '#test/integration/support/route-fixtures';
import { censusDiff, changedTenants, storeCensus, tenantCensus } from '../support/census';
import { type AttackEnv, type AttackTenant, createAttackTenant, withAuditTargets } from '../support/env';
import { checkLedger } from '../support/ledger';
import { RawConnection, type RawHeader, type RawResponse } from '../support/raw-http';
import { type ScenarioReport, Tally } from '../support/report';
import { type AttackSize, sized } from '../support/size';

interface CrossTenantSettings {
  /** Attack attempts to reach at least (each is two requests: B's value and a never-existing one). */
  readonly attempts: number;
  /** Rounds at least: every attacker, every route, both directions of every pair. */
  readonly rounds: number;
  /** Every n-th attacker principal (1: all seven; person roles, an API key, an agent key). */
  readonly attackerStride: number;
  /** Tenant pairs, both directions each. */
  readonly pairs: number;
  readonly workers: number;
}

const settings = {
  bounded: { attempts: 0, rounds: 1, attackerStride: 2, pairs: 1, workers: 4 },
  full: { attempts: 10_000, rounds: 1, attackerStride: 1, pairs: 2, workers: 8 },
} satisfies Record<AttackSize, CrossTenantSettings>;

/** What of tenant B the attacker throws at the API. */
interface Victim {
  readonly tenant: AttackTenant;
  readonly ids: Readonly<Record<IdKind, readonly string[]>>;
  /** Cursors of B's lists, by route id. */
  readonly cursors: Readonly<Record<string, string>>;
  /** Idempotency-Keys B used this round, with the request B sent under each. */
  keys: readonly KeyedRequest[];
  /** Strings only B's data contains (never sent by an attacker). */
  readonly markers: readonly string[];
}

interface KeyedRequest {
  readonly routeId: string;
  readonly path: string;
  readonly key: string;
  readonly body: unknown;
  readonly headers: Record<string, string>;
}

type IdKind = 'invoice' | 'counterparty' | 'member' | 'apiKey' | 'supportGrant' | 'auditEntry';

interface Attacker {
  readonly name: string;
  readonly headers: readonly RawHeader[];
  readonly kind: 'user' | 'apiKey' | 'agent';
  readonly roles: readonly string[];
}

const idKindOfPath: readonly [RegExp, IdKind][] = [
  [/^\/invoices\/\{id\}/, 'invoice'],
  [/^\/counterparties\/\{id\}/, 'counterparty'],
  [/^\/members\/\{id\}/, 'member'],
  [/^\/api-keys\/\{id\}/, 'apiKey'],
  [/^\/support-grants\/\{id\}/, 'supportGrant'],
  [/^\/audit\/entries\/\{id\}/, 'auditEntry'],
];

const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const base64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A never-existing id of the same shape: same prefix and time part, new random part. */
export function lookalike(id: string): string {
  const underscore = id.indexOf('_');
  const prefix = id.slice(0, underscore + 1);
  const rest = id.slice(underscore + 1);
  const alphabet = /^[0-9A-HJKMNP-TV-Z]+$/.test(rest) ? crockford : base64url;
  const keep = alphabet === crockford ? 10 : 0;
  const random = randomBytes(rest.length);
  const tail = [...rest.slice(keep)]
    .map((_, index) => alphabet[(random[index] ?? 0) % alphabet.length])
    .join('');
  return `${prefix}${rest.slice(0, keep)}${tail}`;
}

/** A cursor of the same shape that no list ever made. */
function lookalikeCursor(cursor: string): string {
  const [payload = '', tag = ''] = cursor.split('.');
  return `${randomBytes(Math.ceil((payload.length * 3) / 4))
    .toString('base64url')
    .slice(0, payload.length)}.${randomBytes(16).toString('base64url').slice(0, tag.length)}`;
}

async function json<T>(
  env: AttackEnv,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await call(env.gateway, method, path, {
    token,
    ...(body === undefined ? {} : { body }),
    headers,
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`setup ${method} ${path}: ${response.status} ${text}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

async function prepareVictim(env: AttackEnv, tenant: AttackTenant): Promise<Victim> {
  const marker = `victim-marker-${randomBytes(6).toString('hex')}`;
  const { accountant, owner, auditor } = tenant;
  await withAuditTargets(env, tenant);
  const invoices: string[] = [];
  for (const state of ['draft', 'submitted', 'approved', 'issued'] as const)
    invoices.push((await tenant.world.invoice(state, false)).id);
  const issued = invoices.at(-1) as string;
  await json(env, accountant.token, 'POST', `/invoices/${issued}/payments`, {
    amount: 10,
    receivedOn: '2026-11-20',
    reference: marker,
  });
  const counterpartyBody = {
    kind: 'supplier',
    name: `${marker} GmbH`,
    address: { lines: [`${marker} Straße 1`], city: 'Berlin', postalCode: '10115', country: 'DE' },
  };
  const counterparties = [
    (await json<{ id: string }>(env, accountant.token, 'POST', '/counterparties', counterpartyBody)).id,
    (
      await json<{ id: string }>(env, accountant.token, 'POST', '/counterparties', {
        ...counterpartyBody,
        kind: 'customer',
      })
    ).id,
  ];
  // An invoice of B's second counterparty, which no attacker ever names in a body.
  invoices.push(
    (
      await json<{ id: string }>(env, accountant.token, 'POST', '/invoices', {
        currency: 'EUR',
        reference: marker,
        counterpartyId: counterparties[1],
        lines: [{ description: marker, quantity: '1', unitPrice: 4242, vatRate: 0 }],
      })
    ).id,
  );
  const member = await json<{ id: string }>(env, owner.token, 'POST', '/members', {
    email: uniqueEmail('victim'),
    roles: ['auditor'],
  });
  const apiKeys = [
    (await json<{ id: string }>(env, owner.token, 'POST', '/api-keys', { name: marker, scopes: ['auditor'] }))
      .id,
    (
      await json<{ id: string }>(env, owner.token, 'POST', '/api-keys', {
        name: `${marker}-2`,
        scopes: ['auditor'],
      })
    ).id,
  ];
  const grant = await json<{ id: string }>(env, owner.token, 'POST', '/support-grants', {
    roles: ['auditor'],
    durationMinutes: 60,
  });
  const cursors: Record<string, string> = {};
  for (const [routeId, path, token] of [
    ['listInvoices', '/invoices?limit=1', auditor.token],
    ['listCounterparties', '/counterparties?limit=1', auditor.token],
    ['listMembers', '/members?limit=1', owner.token],
    ['listApiKeys', '/api-keys?limit=1', owner.token],
    ['listAuditEntries', '/audit/entries?limit=1', auditor.token],
  ] as const) {
    const page = await json<{ nextCursor?: string }>(env, token, 'GET', path);
    if (page.nextCursor) cursors[routeId] = page.nextCursor;
  }
  return {
    tenant,
    ids: {
      invoice: invoices,
      counterparty: counterparties,
      member: [member.id, tenant.owner.identityId, tenant.accountant.identityId],
      apiKey: apiKeys,
      supportGrant: [grant.id],
      auditEntry: [tenant.world.auditEntryId],
    },
    cursors,
    keys: [],
    markers: [marker],
  };
}

/**
 * B writes under fresh Idempotency-Keys (a create of each kind and a submit), as an
 * attacker could learn them; the bodies carry a marker of their own, since the attacker
 * replays them word for word.
 */
async function refreshKeys(env: AttackEnv, victim: Victim): Promise<void> {
  const { accountant } = victim.tenant;
  const replayed = `replayed-${randomBytes(6).toString('hex')}`;
  const key = () => `victim-${randomBytes(8).toString('hex')}`;
  const invoiceBody = {
    currency: 'EUR',
    reference: replayed,
    lines: [{ description: replayed, quantity: '1', unitPrice: 4242, vatRate: 0 }],
  };
  const counterpartyBody = {
    kind: 'supplier',
    name: `${replayed} GmbH`,
    address: { lines: ['Hauptstraße 2'], city: 'Berlin', postalCode: '10115', country: 'DE' },
  };
  const keys = { invoice: key(), counterparty: key(), submit: key() };
  const created = await json<{ id: string; version: number }>(
    env,
    accountant.token,
    'POST',
    '/invoices',
    invoiceBody,
    {
      'idempotency-key': keys.invoice,
    },
  );
  await json(env, accountant.token, 'POST', '/counterparties', counterpartyBody, {
    'idempotency-key': keys.counterparty,
  });
  const submitHeaders = { 'if-match': `"v${created.version}"` };
  await json(
    env,
    accountant.token,
    'POST',
    `/invoices/${created.id}/submit`,
    {},
    { ...submitHeaders, 'idempotency-key': keys.submit },
  );
  victim.keys = [
    { routeId: 'createInvoice', path: '/invoices', key: keys.invoice, body: invoiceBody, headers: {} },
    {
      routeId: 'createCounterparty',
      path: '/counterparties',
      key: keys.counterparty,
      body: counterpartyBody,
      headers: {},
    },
    {
      routeId: 'submitInvoice',
      path: `/invoices/${created.id}/submit`,
      key: keys.submit,
      body: {},
      headers: submitHeaders,
    },
  ];
}

async function attackersOf(env: AttackEnv, tenant: AttackTenant): Promise<Attacker[]> {
  const bearer = (token: string): RawHeader => ['authorization', `Bearer ${token}`];
  const attackers: Attacker[] = (['owner', 'admin', 'accountant', 'approver', 'auditor'] as const).map(
    (role) => ({
      name: `${role} of ${tenant.tenantId}`,
      headers: [bearer(tenant[role].token)],
      kind: 'user' as const,
      roles: [role],
    }),
  );
  const key = async (body: Record<string, unknown>) =>
    (await json<{ key: string }>(env, tenant.owner.token, 'POST', '/api-keys', { name: 'Attacker', ...body }))
      .key;
  attackers.push({
    name: `accountant-scoped API key of ${tenant.tenantId}`,
    headers: [['authorization', `ApiKey ${await key({ scopes: ['accountant'] })}`]],
    kind: 'apiKey',
    roles: ['accountant'],
  });
  attackers.push({
    name: `agent key of ${tenant.tenantId}`,
    headers: [
      ['authorization', `ApiKey ${await key({ kind: 'agent', scopes: ['agent'] })}`],
      [agentReasonHeader, 'Reconciling'],
    ],
    kind: 'agent',
    roles: ['agent'],
  });
  return attackers;
}

/** A response with what may differ between two equal requests masked: request ids, the ids sent. */
function shapeOf(response: RawResponse, sent: readonly string[]): string {
  const ignored = new Set(['x-amzn-requestid', 'date', 'content-length', 'connection', 'keep-alive']);
  const headers = Object.fromEntries(Object.entries(response.headers).filter(([name]) => !ignored.has(name)));
  let body = response.body.toString('utf8');
  for (const value of sent) body = body.replaceAll(value, '<sent>');
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    delete parsed.requestId;
    body = JSON.stringify(parsed);
  } catch {
    // Not JSON: compared as it is.
  }
  return JSON.stringify({ status: response.status, headers, body });
}

interface Attempt {
  readonly label: string;
  /** The request with B's values, and the same request with never-existing values. */
  readonly victim: {
    readonly method: string;
    readonly target: string;
    readonly body?: unknown;
    readonly headers: readonly RawHeader[];
  };
  readonly baseline: {
    readonly method: string;
    readonly target: string;
    readonly body?: unknown;
    readonly headers: readonly RawHeader[];
  };
  /** The values of B this attempt sends (they may come back, masked, in an echo). */
  readonly sentValues: readonly string[];
  readonly sentBaseline: readonly string[];
  /** For creates under B's Idempotency-Key: only the status must match (A's own creation succeeds). */
  readonly statusOnly?: boolean;
}

function withBody(headers: readonly RawHeader[], body: unknown): RawHeader[] {
  return body === undefined ? [...headers] : [...headers, ['content-type', 'application/json']];
}

/** A never-existing cursor of the same kind: authenticated ones get a random tag, plain ones another position. */
function lookalikeCursorOf(cursor: string): { fake: string; authenticated: boolean } {
  if (cursor.includes('.')) return { fake: lookalikeCursor(cursor), authenticated: true };
  const position = Buffer.from(cursor, 'base64url').toString('utf8');
  const seq = /^seq:(\d+)$/.exec(position);
  const moved = seq ? `seq:${Number(seq[1]) + 1 + (randomBytes(1)[0] ?? 0)}` : lookalike(position);
  return { fake: Buffer.from(moved).toString('base64url'), authenticated: false };
}

interface AttackPlan {
  readonly attacker: Attacker;
  readonly own: AttackTenant;
  readonly victim: Victim;
  readonly round: number;
  /** Whether this attacker replays B's Idempotency-Keys (one attacker per key and round). */
  readonly replays: boolean;
}

/** Every attack on one route by one attacker against one victim. */
async function attemptsFor(route: RouteDefinition, plan: AttackPlan): Promise<Attempt[]> {
  const { attacker, own, victim, round } = plan;
  if (route.id === 'terminateTenant' || route.id === 'createTenant') return [];
  // The attacker's own valid request for the route, in its own tenant; B's values go in.
  const fixture = routeFixtures[route.id];
  const base = fixture ? await fixture(own.world, false) : { path: route.path };
  const headers: RawHeader[] = [...attacker.headers, ...Object.entries(base.headers ?? {})];
  const request = (target: string, body: unknown, extra: readonly RawHeader[] = []) => ({
    method: route.method,
    target,
    ...(body === undefined ? {} : { body }),
    headers: [...withBody(headers, body), ...extra],
  });
  const attempts: Attempt[] = [];
  const pick = <T>(list: readonly T[]): T => list[round % list.length] as T;

  const kind = idKindOfPath.find(([pattern]) => pattern.test(route.path))?.[1];
  if (kind) {
    const theirs = pick(victim.ids[kind]);
    const fake = lookalike(theirs);
    const swap = (id: string) => base.path.replace(/^(\/[^/]+(?:\/entries)?\/)[^/?]+/, `$1${id}`);
    attempts.push({
      label: `${route.id} with B's ${kind} id`,
      victim: request(swap(theirs), base.body),
      baseline: request(swap(fake), base.body),
      sentValues: [theirs],
      sentBaseline: [fake],
    });
  }
  const cursor = victim.cursors[route.id];
  if (cursor) {
    const { fake, authenticated } = lookalikeCursorOf(cursor);
    attempts.push({
      label: `${route.id} with B's cursor`,
      victim: request(`${route.path}?cursor=${cursor}`, undefined),
      baseline: request(`${route.path}?cursor=${fake}`, undefined),
      sentValues: [cursor],
      sentBaseline: [fake],
      // A plain cursor is only a position in the caller's own list: another position answers other items.
      statusOnly: !authenticated,
    });
  }
  if (route.id === 'listInvoices' || route.id === 'listAuditEntries') {
    const filter = route.id === 'listInvoices' ? 'counterpartyId' : 'targetId';
    // B's second counterparty: the first is planted in the attacker's own invoices below.
    const theirs =
      route.id === 'listInvoices' ? (victim.ids.counterparty[1] as string) : pick(victim.ids.invoice);
    const fake = lookalike(theirs);
    attempts.push({
      label: `${route.id} filtered by B's id`,
      victim: request(`${route.path}?${filter}=${theirs}`, undefined),
      baseline: request(`${route.path}?${filter}=${fake}`, undefined),
      sentValues: [theirs],
      sentBaseline: [fake],
    });
  }
  if (route.id === 'createInvoice') {
    const theirs = victim.ids.counterparty[0] as string;
    const fake = lookalike(theirs);
    const body = (counterpartyId: string) => ({ ...(base.body as object), counterpartyId });
    attempts.push({
      label: "createInvoice for B's counterparty",
      victim: request(route.path, body(theirs)),
      baseline: request(route.path, body(fake)),
      sentValues: [theirs],
      sentBaseline: [fake],
      statusOnly: true,
    });
  }
  if (plan.replays) {
    for (const used of victim.keys.filter((each) => each.routeId === route.id)) {
      const fresh = `never-${randomBytes(8).toString('hex')}`;
      if (route.id === 'submitInvoice') {
        // B's key on the attacker's own drafts: it acts on them, it replays nothing of B.
        const [mine, other] = [
          await own.world.invoice('draft', true),
          await own.world.invoice('draft', true),
        ];
        const submit = (invoice: { id: string; version: number }, key: string) =>
          request(`/invoices/${invoice.id}/submit`, {}, [
            ['if-match', `"v${invoice.version}"`],
            ['idempotency-key', key],
          ]);
        attempts.push({
          label: "submitInvoice under B's Idempotency-Key",
          victim: submit(mine, used.key),
          baseline: submit(other, fresh),
          sentValues: [used.key],
          sentBaseline: [fresh],
          statusOnly: true,
        });
        continue;
      }
      // Creates: B's request word for word, under B's key.
      const keyed = (key: string) =>
        request(used.path, used.body, [...Object.entries(used.headers), ['idempotency-key', key]]);
      attempts.push({
        label: `${route.id} under B's Idempotency-Key`,
        victim: keyed(used.key),
        baseline: keyed(fresh),
        sentValues: [used.key],
        sentBaseline: [fresh],
        statusOnly: true,
      });
    }
  }
  // Naming B's tenant, against naming a tenant that does not exist: the authorizer refuses both alike.
  const nobody = `${victim.tenant.tenantId}-x${randomBytes(3).toString('hex')}`;
  attempts.push({
    label: `${route.id} naming B in x-strongroom-tenant`,
    victim: request(base.path, base.body, [['x-strongroom-tenant', victim.tenant.tenantId]]),
    baseline: request(base.path, base.body, [['x-strongroom-tenant', nobody]]),
    sentValues: [victim.tenant.tenantId],
    sentBaseline: [nobody],
  });
  return attempts;
}

export async function crossTenantScenario(env: AttackEnv, size: AttackSize): Promise<ScenarioReport> {
  const config = sized(settings, size, 'CROSS_TENANT');
  const tally = new Tally('cross-tenant');
  const storeBefore = await storeCensus(env.identities.clients, env.stack.stage);

  // Tenant ids that are prefixes of each other: `t1`/`t10` when this store has no `t1` yet.
  const suffix = randomBytes(3).toString('hex');
  const literal = (await tenantCensus(env.identities.clients, env.stack.stage, 't1'))['members/member'] === 0;
  const pairIds: [string, string][] = [
    literal ? ['t1', 't10'] : [`t${suffix}1`, `t${suffix}10`],
    [`acme-${suffix}`, `acme-${suffix}-2`],
  ];
  const pairs: [AttackTenant, AttackTenant][] = [];
  for (const [first, second] of pairIds.slice(0, config.pairs)) {
    pairs.push([await createAttackTenant(env, first, true), await createAttackTenant(env, second, true)]);
  }
  tally.note(`tenant pairs: ${pairs.map(([a, b]) => `${a.tenantId}/${b.tenantId}`).join(', ')}`);
  const victims = new Map<string, Victim>();
  for (const [a, b] of pairs) {
    for (const tenant of [a, b]) victims.set(tenant.tenantId, await prepareVictim(env, tenant));
  }
  const directions: { attacker: AttackTenant; attackers: Attacker[]; victim: Victim }[] = [];
  for (const [a, b] of pairs) {
    directions.push({
      attacker: a,
      attackers: await attackersOf(env, a),
      victim: victims.get(b.tenantId) as Victim,
    });
    directions.push({
      attacker: b,
      attackers: await attackersOf(env, b),
      victim: victims.get(a.tenantId) as Victim,
    });
  }

  let attempts = 0;
  let round = 0;
  const started = performance.now();
  const connections = Array.from({ length: config.workers }, () => new RawConnection(env.endpoint));
  while (attempts < config.attempts || round < config.rounds) {
    for (const direction of directions) {
      const { victim } = direction;
      await refreshKeys(env, victim);
      const before = await tenantCensus(env.identities.clients, env.stack.stage, victim.tenant.tenantId);
      const planned: { attempt: Attempt; attacker: string }[] = [];
      const replayed = new Set<string>();
      for (const attacker of direction.attackers.filter((_, index) => index % config.attackerStride === 0)) {
        for (const route of routes) {
          const replays =
            !replayed.has(route.id) &&
            victim.keys.some((each) => each.routeId === route.id) &&
            mayCall(route, attacker);
          if (replays) replayed.add(route.id);
          for (const attempt of await attemptsFor(route, {
            attacker,
            own: direction.attacker,
            victim,
            round,
            replays,
          })) {
            planned.push({ attempt, attacker: attacker.name });
          }
        }
      }
      let next = 0;
      await Promise.all(
        connections.map(async (connection) => {
          for (let index = next++; index < planned.length; index = next++) {
            const { attempt, attacker } = planned[index] as (typeof planned)[number];
            attempts++;
            await runAttempt(
              connection,
              attempt,
              `${attempt.label} by ${attacker} against ${victim.tenant.tenantId}`,
              victim,
              tally,
            );
          }
        }),
      );
      // Nothing of B changed while A attacked it.
      const after = await tenantCensus(env.identities.clients, env.stack.stage, victim.tenant.tenantId);
      const changed = censusDiff(before, after);
      if (changed.length > 0)
        tally.fail(
          'crossTenantLeaks',
          `${victim.tenant.tenantId} changed under attack: ${changed.join(', ')}`,
        );
    }
    round++;
  }
  for (const connection of connections) connection.close();
  const seconds = (performance.now() - started) / 1000;
  tally.note(
    `${attempts} cross-tenant attempts (${tally.requests} requests) in ${seconds.toFixed(1)} s over ${round} rounds`,
  );

  for (const victim of victims.values()) {
    const ledger = await checkLedger(env.ledger, victim.tenant.tenantId, { verifier: true });
    for (const problem of [...ledger.logProblems, ...ledger.partialWrites])
      tally.fail('partialWrites', problem);
  }
  const storeAfter = await storeCensus(env.identities.clients, env.stack.stage);
  for (const tenant of changedTenants(storeBefore, storeAfter, (id) => victims.has(id))) {
    tally.fail('crossTenantLeaks', `tenant ${tenant} changed during the cross-tenant attack`);
  }
  return tally.report();
}

/** Whether the attacker's principal kind and roles let it call the route at all. */
function mayCall(route: RouteDefinition, attacker: Attacker): boolean {
  return (
    route.permission !== 'public' &&
    route.principals.includes(attacker.kind) &&
    permissionsOf(attacker.roles).has(route.permission as never)
  );
}

async function runAttempt(
  connection: RawConnection,
  attempt: Attempt,
  where: string,
  victim: Victim,
  tally: Tally,
): Promise<void> {
  const send = (request: Attempt['victim']) =>
    connection.send({
      method: request.method,
      target: request.target,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    });
  let theirs: RawResponse;
  let baseline: RawResponse;
  try {
    theirs = await send(attempt.victim);
    baseline = await send(attempt.baseline);
  } catch (error) {
    tally.fail('otherViolations', `no response (${(error as Error).message}) to ${where}`);
    return;
  } finally {
    tally.requests += 2;
  }
  for (const response of [theirs, baseline]) {
    if (response.status >= 500) tally.fail('serverErrors', `${response.status} for ${where}`);
  }
  const leaked = leakedValues(theirs, victim, attempt.sentValues);
  if (leaked.length > 0) tally.fail('crossTenantLeaks', `${where}: the answer carries ${leaked.join(', ')}`);
  const same = attempt.statusOnly
    ? theirs.status === baseline.status
    : shapeOf(theirs, attempt.sentValues) === shapeOf(baseline, attempt.sentBaseline);
  if (!same) {
    tally.fail(
      'crossTenantLeaks',
      `${where}: B's value is answered ${theirs.status} ${theirs.body.toString('utf8').slice(0, 160)}, a never-existing one ${baseline.status} ${baseline.body.toString('utf8').slice(0, 160)}`,
    );
  }
}

/** B's ids, cursors and markers in an answer, except what the request sent and what attackers planted in their own data. */
function leakedValues(response: RawResponse, victim: Victim, sent: readonly string[]): string[] {
  const text = response.body.toString('utf8') + JSON.stringify(response.headers);
  const planted = victim.ids.counterparty[0];
  const secret = [
    ...victim.markers,
    ...Object.values(victim.ids).flat(),
    ...Object.values(victim.cursors),
  ].filter((value) => value !== '' && value !== planted && !sent.includes(value));
  return secret.filter((value) => text.includes(value));
}
