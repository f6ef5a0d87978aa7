/**
 * Scenario 1, fuzzing (API-1, API-2, API-5, AUD-1): fast-check mutates a valid request of
 * every route of the route table (its authorization-matrix fixture, sent by a person of
 * the tenant who holds the route's permission) and sends it over a raw socket to the
 * local gateway. Invariants:
 *
 * - every response is a correct 2xx or a 4xx problem with the security headers; never a
 *   5xx, never a dropped connection, never internals;
 * - requests run in batches per tenant ("lane"), with a census of the tenant's items
 *   before and after: a batch without an accepted write changes nothing at all, and a
 *   batch with accepted writes adds exactly one audit entry per accepted write;
 * - afterwards every lane's log verifies (offline verifier, item digests, recomputed
 *   root) and no other tenant of the store changed.
 */
import fc from 'fast-check';
import { type RouteDefinition, routes } from '#shared/http/routes';
import { permissionsOf, platformTenantId } from '#shared/rbac/permissions';
import { routeFixtures } from '#test/integration/support/route-fixtures';
import { tokenFor } from '#test/integration/support/tokens';
import {
  type Census,
  censusDiff,
  changedTenants,
  entriesSince,
  storeCensus,
  tenantCensus,
} from '../support/census';
import { type AttackEnv, type AttackTenant, createAttackTenant, withAuditTargets } from '../support/env';
import { buildRequest, describeMutations, type Mutation, mutations, type Seed } from '../support/hostile';
import { checkLedger } from '../support/ledger';
import { RawConnection, type RawResponse, sendOnce } from '../support/raw-http';
import { progress, type ScenarioReport, Tally } from '../support/report';
import { isWrite, refusalViolations, successViolations } from '../support/responses';
import { type AttackSize, attackSeed, sized } from '../support/size';

interface FuzzSettings {
  readonly requests: number;
  readonly lanes: number;
  /** Connections per lane (requests of a batch in flight at once). */
  readonly workers: number;
  readonly batch: number;
  /** Requests per lane after which its seeds are made again (targets get consumed). */
  readonly reseedEvery: number;
  /** Bodies larger than this are left out (a 10 MB body costs a second). */
  readonly maxBodyBytes: number;
}

const settings = {
  bounded: {
    requests: 1_000,
    lanes: 2,
    workers: 4,
    batch: 25,
    reseedEvery: 1_000_000,
    maxBodyBytes: 1_100_000,
  },
  full: {
    requests: 100_000,
    lanes: 4,
    workers: 6,
    batch: 120,
    reseedEvery: 4_000,
    maxBodyBytes: 11 * 1024 * 1024,
  },
} satisfies Record<AttackSize, FuzzSettings>;

/** Who sends a route's requests: the first person of the lane whose role holds its permission. */
const roleOrder = ['accountant', 'approver', 'owner', 'admin', 'auditor'] as const;

interface Lane {
  readonly name: string;
  readonly tenantId: string;
  readonly routes: readonly RouteDefinition[];
  /** The token that sends a route's requests. */
  readonly tokenFor: (route: RouteDefinition) => string;
  readonly makeSeed: (route: RouteDefinition) => Promise<Seed>;
  share: number;
}

function callerToken(tenant: AttackTenant, route: RouteDefinition): string {
  if (route.permission === 'public') return tenant.accountant.token;
  const role = roleOrder.find((each) => permissionsOf([each]).has(route.permission as never)) ?? 'owner';
  return tenant[role].token;
}

function seedMaker(tenant: AttackTenant) {
  return async (route: RouteDefinition): Promise<Seed> => {
    const fixture = routeFixtures[route.id];
    const built = fixture ? await fixture(tenant.world, true) : { path: route.path };
    return {
      method: route.method,
      path: built.path,
      ...(built.body === undefined ? {} : { body: built.body }),
      headers: { ...built.headers },
    };
  };
}

const specialRoutes = new Set(['terminateTenant', 'createTenant']);

export async function fuzzScenario(env: AttackEnv, size: AttackSize): Promise<ScenarioReport> {
  const config = sized(settings, size, 'FUZZ');
  const tally = new Tally('fuzzing');
  const seed = attackSeed(size);
  tally.note(`seed ${seed} (STRONGROOM_ATTACK_SEED replays it)`);
  const storeBefore = await storeCensus(env.identities.clients, env.stack.stage);

  const ordinary = routes.filter((route) => !specialRoutes.has(route.id));
  const lanes: Lane[] = [];
  for (let index = 0; index < config.lanes; index++) {
    const tenant = await createAttackTenant(env, `fuzz${index}`);
    await withAuditTargets(env, tenant);
    lanes.push({
      name: `lane ${index}`,
      tenantId: tenant.tenantId,
      routes: ordinary,
      tokenFor: (route) => callerToken(tenant, route),
      makeSeed: seedMaker(tenant),
      share: 0,
    });
  }
  // Termination ends a tenant's writes: it gets a tenant of its own.
  const terminating = await createAttackTenant(env, 'fuzz-term');
  lanes.push({
    name: 'termination lane',
    tenantId: terminating.tenantId,
    routes: routes.filter((route) => route.id === 'terminateTenant' || route.id === 'getTermination'),
    tokenFor: (route) => callerToken(terminating, route),
    makeSeed: seedMaker(terminating),
    share: 0,
  });
  // Onboarding is the platform operator's, in the platform tenant.
  const operator = await tokenFor(
    env.stack.demoUsers.find((user) => user.role === 'operator')?.email ?? '',
    env.stack,
  );
  lanes.push({
    name: 'onboarding lane',
    tenantId: platformTenantId,
    routes: routes.filter((route) => route.id === 'createTenant'),
    tokenFor: () => operator,
    makeSeed: seedMaker(terminating),
    share: 0,
  });
  const totalRoutes = lanes.reduce((sum, lane) => sum + lane.routes.length, 0);
  for (const lane of lanes) lane.share = Math.round((config.requests * lane.routes.length) / totalRoutes);

  const onboarded = new Set<string>();
  let chunkIndex = 0;
  const nextCases = (count: number): { cases: Mutation[][]; chunk: number } => {
    const chunk = chunkIndex++;
    return { cases: fc.sample(mutations, { numRuns: count, seed: seed + chunk }), chunk };
  };

  let sent = 0;
  let reseedFailures = 0;
  /** Set when a lane fails: the others stop too, so nothing of this scenario runs on into the next. */
  let stopped = false;
  const slow: string[] = [];
  const started = performance.now();
  const laneResults = await Promise.allSettled(
    lanes.map(async (lane) => {
      const connections = Array.from({ length: config.workers }, () => new RawConnection(env.endpoint));
      const seeds = new Map<string, Seed>();
      try {
        let sinceSeeding = Number.POSITIVE_INFINITY;
        let routeCursor = 0;
        let done = 0;
        while (done < lane.share && !stopped) {
          if (sinceSeeding >= config.reseedEvery) {
            // Accepted fuzz changes the lane (its settings may now ask two approvers, a
            // member may be gone): a target that cannot be made any more keeps its old seed.
            for (const route of lane.routes) {
              try {
                seeds.set(route.id, await lane.makeSeed(route));
              } catch (error) {
                if (!seeds.has(route.id)) throw error;
                reseedFailures++;
              }
            }
            sinceSeeding = 0;
          }
          const count = Math.min(config.batch, lane.share - done);
          const { cases, chunk } = nextCases(count);
          const before = await tenantCensus(env.identities.clients, env.stack.stage, lane.tenantId);
          const batchStarted = new Date();
          let accepted = 0;
          let maybeReplays = 0;
          let uncertain = false;
          const outcomes: string[] = [];
          let next = 0;
          await Promise.all(
            connections.map(async (connection) => {
              for (let index = next++; index < cases.length; index = next++) {
                const route = lane.routes[routeCursor++ % lane.routes.length] as RouteDefinition;
                const seedRequest = seeds.get(route.id) as Seed;
                const generated = cases[index] ?? [];
                // A broken framing with megabytes behind it ends in a reset while the client still
                // writes (the server refuses and closes): framing is tried on small bodies.
                const framed = generated.some((each) => each.kind === 'framing');
                const applied = generated.filter(
                  (each) => each.kind !== 'huge' || each.bytes <= (framed ? 64 * 1024 : config.maxBodyBytes),
                );
                const built = buildRequest(
                  {
                    ...seedRequest,
                    headers: { authorization: `Bearer ${lane.tokenFor(route)}`, ...seedRequest.headers },
                  },
                  applied,
                  `fuzz-${seed}-${chunk}-${index}`,
                );
                const where = `seed ${seed} chunk ${chunk} case ${index}: ${route.id} ${describeMutations(applied)}`;
                let responses: RawResponse[];
                const sentAt = performance.now();
                try {
                  responses = built.oneShot
                    ? await sendOnce(env.endpoint, built.request)
                    : [await connection.send(built.request)];
                } catch (error) {
                  uncertain = true;
                  tally.fail('otherViolations', `no response (${(error as Error).message}) to ${where}`);
                  continue;
                } finally {
                  tally.requests++;
                  sent++;
                  if (sent % 1000 === 0)
                    progress(
                      `fuzzing: ${sent} requests, ${((performance.now() - started) / 1000).toFixed(0)} s`,
                    );
                  const took = performance.now() - sentAt;
                  if (took > 3000) slow.push(`${Math.round(took)} ms: ${where.slice(0, 300)}`);
                }
                const path =
                  typeof built.request.target === 'string' ? built.request.target.split('?')[0] : undefined;
                for (const [position, response] of responses.entries()) {
                  if (response.status >= 500) {
                    uncertain = true;
                    tally.fail(
                      'serverErrors',
                      `${response.status} ${response.body.toString('utf8').slice(0, 200)} for ${where}`,
                    );
                    continue;
                  }
                  const success = response.status >= 200 && response.status < 300;
                  // Answers after the first are to requests smuggled in by an injected CR/LF.
                  const problems = success
                    ? successViolations(response, built.request.method, position === 0 ? path : undefined)
                    : refusalViolations(response, position === 0 ? built.request.method : 'GET');
                  for (const problem of problems)
                    tally.fail('otherViolations', `${problem} (${response.status}) for ${where}`);
                }
                const [first] = responses;
                outcomes.push(
                  `${index}:${route.id}:${built.request.method}:${responses.map((each) => each.status).join('+')}`,
                );
                if (first && first.status >= 200 && first.status < 300 && isWrite(built.request.method)) {
                  // An accepted export is two entries: its start, and its worker's end (DAT-1),
                  // which the census waits for.
                  const entries = route.id === 'startExport' ? 2 : 1;
                  accepted += entries;
                  if (built.foreignIdempotencyKey) maybeReplays += entries;
                  if (route.id === 'createTenant') {
                    try {
                      onboarded.add(
                        String((JSON.parse(first.body.toString('utf8')) as { tenantId?: unknown }).tenantId),
                      );
                    } catch {
                      // The shape was reported above.
                    }
                  }
                }
                // A smuggled second request on the connection is a GET: it changes nothing.
              }
            }),
          );
          const after = await tenantCensus(env.identities.clients, env.stack.stage, lane.tenantId);
          if (!uncertain) {
            const problem = batchProblem(before, after, accepted, maybeReplays);
            if (problem) {
              const added = await entriesSince(
                env.identities.clients,
                env.stack.stage,
                lane.tenantId,
                batchStarted,
              );
              tally.fail(
                problem.figure,
                `${lane.name}: ${problem.message} (seed ${seed} chunk ${chunk}: ${outcomes.sort().join(' ')}; entries since: ${added.join('; ')})`,
              );
            }
          }
          done += count;
          sinceSeeding += count;
        }
      } catch (error) {
        stopped = true;
        throw error;
      } finally {
        for (const connection of connections) connection.close();
      }
    }),
  );
  const failed = laneResults.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  if (reseedFailures > 0)
    tally.note(`${reseedFailures} targets could not be made again and kept their seeds`);
  const seconds = (performance.now() - started) / 1000;
  tally.note(`${sent} requests in ${seconds.toFixed(1)} s (${(sent / seconds).toFixed(0)} per second)`);
  if (slow.length > 0) tally.note(`${slow.length} requests over 3 s, e.g. ${slow.slice(0, 5).join(' | ')}`);

  for (const lane of lanes) {
    if (lane.tenantId === platformTenantId) continue;
    const ledger = await checkLedger(env.ledger, lane.tenantId);
    for (const problem of ledger.logProblems) tally.fail('partialWrites', `log of ${lane.name}: ${problem}`);
    for (const problem of ledger.partialWrites) tally.fail('partialWrites', `${lane.name}: ${problem}`);
  }
  const storeAfter = await storeCensus(env.identities.clients, env.stack.stage);
  const laneTenants = new Set(lanes.map((lane) => lane.tenantId));
  for (const tenant of changedTenants(
    storeBefore,
    storeAfter,
    (id) => laneTenants.has(id) || onboarded.has(id),
  )) {
    tally.fail('otherViolations', `tenant ${JSON.stringify(tenant)} changed, though no request was for it`);
  }
  return tally.report();
}

/** What is wrong with a batch's census change, if anything. */
function batchProblem(
  before: Census,
  after: Census,
  accepted: number,
  maybeReplays: number,
): { figure: 'otherViolations' | 'partialWrites'; message: string } | undefined {
  const entries = (after['audit/entry'] ?? 0) - (before['audit/entry'] ?? 0);
  if (accepted === 0) {
    const diff = censusDiff(before, after);
    return diff.length === 0
      ? undefined
      : { figure: 'otherViolations', message: `refused requests changed ${diff.join(', ')}` };
  }
  if (entries > accepted || entries < accepted - maybeReplays) {
    return {
      figure: 'partialWrites',
      message: `${accepted} accepted writes (${maybeReplays} maybe replays) added ${entries} audit entries`,
    };
  }
  return undefined;
}
