/**
 * Scenario 4, fault injection (AUD-1, AUD-3, API-3). The handlers run in this process
 * behind the local gateway, exactly as under `npm start`, but reach DynamoDB Local through
 * the fault proxy (support/fault-proxy.ts). For every write path (create invoice, each
 * transition, payment, counterparty, member invitation, API key creation), a dry run
 * counts the DynamoDB operations it makes; then, for every N along that path and every
 * fault kind (throttling, a 500, a timeout before DynamoDB sees the call, a lost answer
 * after DynamoDB applied it, a failed condition), the N-th operation fails. Invariants:
 *
 * - the answer is a 2xx or a problem with the security headers (a 5xx problem is allowed
 *   here: the store failed) and never something else;
 * - nothing is half-written: once pending entries are folded (as the stream poller would),
 *   every change has its entry and every entry its change, the log's root recomputes,
 *   and (every few cases, and always at the end) the offline verifier accepts an export;
 * - a retry with the same Idempotency-Key, without faults, completes, and the change
 *   exists exactly once.
 */
import { randomBytes } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Invoice } from '#shared/domain/invoices';
import { identityIdOf } from '#shared/store/members';
import { tableName } from '#shared/store/tables';
import { uniqueEmail } from '#test/integration/support/identities';
import { draftInvoice } from '#test/integration/support/route-fixtures';
import { type AttackEnv, type AttackTenant, createAttackTenant } from '../support/env';
import { type FaultKind, faultKinds } from '../support/fault-proxy';
import { checkLedger } from '../support/ledger';
import { RawConnection, type RawResponse } from '../support/raw-http';
import { progress, type ScenarioReport, Tally } from '../support/report';
import { refusalViolations } from '../support/responses';
import { type AttackSize, sized } from '../support/size';

interface FaultSettings {
  /** The write paths faulted (all of them in full runs). */
  readonly paths: readonly string[] | 'all';
  /** Run the offline verifier after every n-th case (it signs and exports: slower). */
  readonly verifyEvery: number;
  /** 1: every fault kind at every N; k > 1: one kind per N, rotating, and every k-th N only. */
  readonly sparse: number;
}

const settings = {
  bounded: {
    paths: ['create invoice', 'record payment', 'create API key'],
    verifyEvery: 10,
    sparse: 3,
  },
  full: { paths: 'all', verifyEvery: 1, sparse: 1 },
} satisfies Record<AttackSize, FaultSettings>;

interface Planned {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly token: string;
}

/** One write path: a fresh target, the request that changes it, and how many times the change happened. */
interface WritePath {
  readonly name: string;
  prepare(): Promise<{
    request: Planned;
    effects: () => Promise<number>;
    successStatus: number;
    alreadyDone?: (response: RawResponse) => boolean;
  }>;
}

interface Context {
  readonly env: AttackEnv;
  readonly tenant: AttackTenant;
  readonly connection: RawConnection;
}

async function send(context: Context, request: Planned, key: string): Promise<RawResponse> {
  const body = request.body === undefined ? undefined : JSON.stringify(request.body);
  return context.connection.send({
    method: request.method,
    target: request.path,
    headers: [
      ['authorization', `Bearer ${request.token}`],
      ['idempotency-key', key],
      ...Object.entries(request.headers ?? {}),
      ...(body === undefined ? [] : ([['content-type', 'application/json']] as const)),
    ],
    ...(body === undefined ? {} : { body }),
  });
}

async function entriesAbout(context: Context, action: string, targetId: string): Promise<number> {
  const ledger = await checkLedger(context.env.ledger, context.tenant.tenantId, { verifier: false });
  return ledger.entries.filter((each) => each.entry.action === action && each.entry.target.id === targetId)
    .length;
}

async function invoiceOf(context: Context, id: string): Promise<Invoice | undefined> {
  const response = await context.connection.send({
    method: 'GET',
    target: `/invoices/${id}`,
    headers: [['authorization', `Bearer ${context.tenant.auditor.token}`]],
  });
  return response.status === 200 ? (JSON.parse(response.body.toString('utf8')) as Invoice) : undefined;
}

/** Lists every page of a list route as the auditor or owner, for counting. */
async function listAll<T>(context: Context, path: string, token: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const response = await context.connection.send({
      method: 'GET',
      target: `${path}?limit=100${cursor === undefined ? '' : `&cursor=${cursor}`}`,
      headers: [['authorization', `Bearer ${token}`]],
    });
    const page = JSON.parse(response.body.toString('utf8')) as { items: T[]; nextCursor?: string };
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return items;
}

function writePaths(context: Context): WritePath[] {
  const { tenant } = context;
  const ifMatch = (version: number) => ({ 'if-match': `"v${version}"` });
  const transition = (
    name: string,
    state: 'draft' | 'submitted' | 'approved',
    verb: string,
    token: () => string,
    action: string,
    body: unknown = {},
  ): WritePath => ({
    name,
    async prepare() {
      const invoice = await tenant.world.invoice(state, true);
      return {
        request: {
          method: 'POST',
          path: `/invoices/${invoice.id}/${verb}`,
          body,
          headers: ifMatch(invoice.version),
          token: token(),
        },
        effects: () => entriesAbout(context, action, invoice.id),
        successStatus: 200,
      };
    },
  });
  return [
    {
      name: 'create invoice',
      async prepare() {
        const reference = `fault-${randomBytes(6).toString('hex')}`;
        return {
          request: {
            method: 'POST',
            path: '/invoices',
            body: { ...draftInvoice, reference },
            token: tenant.accountant.token,
          },
          effects: async () =>
            (await listAll<Invoice>(context, '/invoices', tenant.auditor.token)).filter(
              (each) => each.reference === reference,
            ).length,
          successStatus: 201,
        };
      },
    },
    {
      name: 'edit invoice',
      async prepare() {
        const invoice = await tenant.world.invoice('draft', true);
        return {
          request: {
            method: 'PUT',
            path: `/invoices/${invoice.id}`,
            body: { ...draftInvoice, reference: 'edited' },
            headers: ifMatch(invoice.version),
            token: tenant.accountant.token,
          },
          effects: () => entriesAbout(context, 'invoice.edit', invoice.id),
          successStatus: 200,
        };
      },
    },
    transition('submit', 'draft', 'submit', () => tenant.accountant.token, 'invoice.submit'),
    transition('approve', 'submitted', 'approve', () => tenant.approver.token, 'invoice.approve'),
    transition('reject', 'submitted', 'reject', () => tenant.approver.token, 'invoice.reject', {
      reason: 'Fault test',
    }),
    transition('issue', 'approved', 'issue', () => tenant.accountant.token, 'invoice.issue'),
    transition('void', 'draft', 'void', () => tenant.accountant.token, 'invoice.void', {
      reason: 'Fault test',
    }),
    {
      name: 'record payment',
      async prepare() {
        const invoice = await tenant.world.invoice('issued', true);
        return {
          request: {
            method: 'POST',
            path: `/invoices/${invoice.id}/payments`,
            body: { amount: 40, receivedOn: '2026-11-20' },
            token: tenant.accountant.token,
          },
          effects: async () => {
            const listed = await context.connection.send({
              method: 'GET',
              target: `/invoices/${invoice.id}/payments`,
              headers: [['authorization', `Bearer ${tenant.auditor.token}`]],
            });
            const payments = (JSON.parse(listed.body.toString('utf8')) as { items: { amount: number }[] })
              .items;
            const current = await invoiceOf(context, invoice.id);
            // Payments and the paid amount move together, or it is half a payment.
            return current?.paidAmount === payments.length * 40 ? payments.length : -1;
          },
          successStatus: 201,
        };
      },
    },
    {
      name: 'create counterparty',
      async prepare() {
        const name = `Fault ${randomBytes(6).toString('hex')} GmbH`;
        return {
          request: {
            method: 'POST',
            path: '/counterparties',
            body: {
              kind: 'supplier',
              name,
              address: { lines: ['Hauptstraße 1'], city: 'Berlin', postalCode: '10115', country: 'DE' },
            },
            token: tenant.accountant.token,
          },
          effects: async () =>
            (await listAll<{ name: string }>(context, '/counterparties', tenant.auditor.token)).filter(
              (each) => each.name === name,
            ).length,
          successStatus: 201,
        };
      },
    },
    {
      name: 'invite member',
      async prepare() {
        const email = uniqueEmail('fault-invite');
        return {
          request: {
            method: 'POST',
            path: '/members',
            body: { email, roles: ['auditor'] },
            token: tenant.owner.token,
          },
          effects: async () => {
            let subject: string;
            try {
              subject = await context.env.identities.subjectOf(email);
            } catch {
              return 0;
            }
            const id = identityIdOf(context.env.stack.issuer, subject);
            const entries = await entriesAbout(context, 'member.invite', id);
            const member = await context.connection.send({
              method: 'GET',
              target: `/members/${id}`,
              headers: [['authorization', `Bearer ${tenant.owner.token}`]],
            });
            // The member and its entry exist together, or it is half an invitation.
            return (member.status === 200) === entries > 0 ? entries : -1;
          },
          successStatus: 201,
        };
      },
    },
    {
      name: 'create API key',
      async prepare() {
        const name = `fault-${randomBytes(6).toString('hex')}`;
        return {
          request: {
            method: 'POST',
            path: '/api-keys',
            body: { name, scopes: ['auditor'] },
            token: tenant.owner.token,
          },
          effects: async () =>
            (await listAll<{ name: string }>(context, '/api-keys', tenant.owner.token)).filter(
              (each) => each.name === name,
            ).length,
          successStatus: 201,
          // A retried creation whose first attempt committed answers 409: the secret is shown once only.
          alreadyDone: (response) => response.status === 409,
        };
      },
    },
  ];
}

/** Lets a fold lease run out, as its 3 s would (support/ledger.ts does the same before it sweeps). */
async function expireFoldLease(env: AttackEnv, tenantId: string): Promise<void> {
  await env.identities.clients
    .platform()
    .send(
      new UpdateCommand({
        TableName: tableName(env.stack.stage, 'auditHead'),
        Key: { pk: `${tenantId}#head`, sk: 'head' },
        UpdateExpression: 'SET foldLeaseUntil = :expired',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':expired': 0 },
      }),
    )
    .catch((error: Error) => {
      // No head yet: no lease either.
      if (error.name !== 'ConditionalCheckFailedException') throw error;
    });
}

export async function faultScenario(env: AttackEnv, size: AttackSize): Promise<ScenarioReport> {
  const config: FaultSettings = sized<FaultSettings>(settings, size, 'FAULTS');
  const tally = new Tally('fault injection');
  const connection = new RawConnection(env.endpoint);
  let cases = 0;
  const perPath: string[] = [];
  const pathNames = writePaths({ env, tenant: undefined as never, connection }).map((path) => path.name);
  for (const pathName of pathNames) {
    if (config.paths !== 'all' && !config.paths.includes(pathName)) continue;
    // A tenant per path keeps each log short, so checking it after every case stays cheap.
    const tenant = await createAttackTenant(env, 'faults');
    const context: Context = { env, tenant, connection };
    const path = writePaths(context).find((each) => each.name === pathName) as WritePath;
    /** A faulted release leaves the fold lease held for its 3 s: let that time pass between cases. */
    const expireLease = () => expireFoldLease(env, tenant.tenantId);
    await expireLease();
    // Dry run: how many DynamoDB operations on the tenant's keys the write makes.
    const dry = await path.prepare();
    env.proxy.arm({ tenantId: tenant.tenantId, at: 0, kind: 'throttle' });
    const dryResponse = await send(context, dry.request, `dry-${randomBytes(6).toString('hex')}`);
    const { operations } = env.proxy.disarm();
    tally.requests++;
    if (dryResponse.status !== dry.successStatus) {
      tally.fail(
        'otherViolations',
        `${path.name}: the dry run answered ${dryResponse.status} ${dryResponse.body.toString('utf8').slice(0, 200)}`,
      );
      continue;
    }
    progress(`faults: ${pathName}, ${operations.length} operations, ${cases} cases so far`);
    perPath.push(`${path.name}: ${operations.length} operations (${operations.join(', ')})`);

    for (let at = 1; at <= operations.length; at++) {
      const kinds: readonly FaultKind[] =
        config.sparse === 1
          ? faultKinds
          : at % config.sparse === 0 || at === operations.length
            ? [faultKinds[at % faultKinds.length] as FaultKind]
            : [];
      for (const kind of kinds) {
        cases++;
        const where = `${path.name}, ${kind} at operation ${at} (${operations[at - 1]})`;
        const target = await path.prepare();
        await expireLease();
        const key = `fault-${randomBytes(8).toString('hex')}`;
        env.proxy.arm({ tenantId: tenant.tenantId, at, kind });
        let first: RawResponse | undefined;
        try {
          first = await send(context, target.request, key);
        } catch (error) {
          tally.fail('otherViolations', `${where}: no answer (${(error as Error).message})`);
        }
        const run = env.proxy.disarm();
        tally.requests++;
        if (first) {
          const success = first.status >= 200 && first.status < 300;
          if (!success)
            for (const problem of refusalViolations(first))
              tally.fail('otherViolations', `${where}: ${problem}`);
          if (first.status === 502 || first.status === 504)
            tally.fail('serverErrors', `${where}: the handler failed (${first.status})`);
        }
        const committed = first !== undefined && first.status >= 200 && first.status < 300;

        // Nothing half-written, whatever the answer.
        const afterFault = await checkLedger(env.ledger, tenant.tenantId, {
          verifier: cases % config.verifyEvery === 0,
        });
        for (const problem of [...afterFault.logProblems, ...afterFault.partialWrites]) {
          tally.fail('partialWrites', `${where}: ${problem}`);
        }

        // The retry, without faults, completes exactly once.
        await expireLease();
        const retry = await send(context, target.request, key);
        tally.requests++;
        const retryOk = retry.status === target.successStatus || (target.alreadyDone?.(retry) ?? false);
        if (!retryOk) {
          tally.fail(
            'otherViolations',
            `${where}: the retry answered ${retry.status} ${retry.body.toString('utf8').slice(0, 200)} (first: ${first?.status}, fault ${run.injected ? `hit ${run.hit}` : 'not reached'})`,
          );
        }
        if (committed && retry.status !== first?.status && !(target.alreadyDone?.(retry) ?? false)) {
          tally.fail(
            'duplicates',
            `${where}: the retry answered ${retry.status} after ${first?.status}: not a replay`,
          );
        }
        const effects = await target.effects();
        if (effects > 1) tally.fail('duplicates', `${where}: the change happened ${effects} times`);
        else if (effects === 0)
          tally.fail(
            'partialWrites',
            `${where}: the change is missing after the retry answered ${retry.status}`,
          );
        else if (effects < 0)
          tally.fail('partialWrites', `${where}: half a change (the item and its entry or sums disagree)`);
      }
    }
    const final = await checkLedger(env.ledger, tenant.tenantId, { verifier: true });
    for (const problem of [...final.logProblems, ...final.partialWrites]) {
      tally.fail('partialWrites', `${path.name}, at the end: ${problem}`);
    }
  }
  connection.close();
  tally.note(`${cases} faulted writes over ${perPath.length} write paths`);
  for (const line of perPath) tally.note(line);
  return tally.report();
}
