/**
 * The receivables workflow through the local gateway (issue 3): every legal and illegal
 * transition, maker-checker, approval limits, dual approval, payments, gap-free numbers,
 * If-Match concurrency, idempotent retries after a crash, and authenticated cursors.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServiceContext } from '#shared/services/context';
import { createInvoice } from '#shared/services/invoices';
import { IdempotencyStore } from '#shared/store/idempotency';
import { MutationWriter } from '#shared/store/mutation';
import { startTestGateway, type TestGateway } from './support/gateway';
import { localRuntimeConfig } from './support/local-stack';
import { createTestTenant, type TestTenant, type TestTenantUser } from './support/test-tenant';

let gateway: TestGateway;
let tenant: TestTenant;
let maker: TestTenantUser;
let checker: TestTenantUser;
let owner: TestTenantUser;
let admin: TestTenantUser;
let auditor: TestTenantUser;

beforeAll(async () => {
  gateway = await startTestGateway();
  tenant = await createTestTenant('lifecycle', ['accountant', 'approver', 'owner', 'admin', 'auditor']);
  maker = tenant.user('accountant');
  checker = tenant.user('approver');
  owner = tenant.user('owner');
  admin = tenant.user('admin');
  auditor = tenant.user('auditor');
});

afterAll(async () => {
  await gateway?.close();
});

interface InvoiceView {
  id: string;
  status: string;
  version: number;
  number?: string;
  sequence?: number;
  paidAmount: number;
  totals: { gross: number };
  approvals: { by: string }[];
}

interface Reply<T> {
  status: number;
  body: T;
  etag: string | null;
}

async function call<T = InvoiceView>(
  user: TestTenantUser,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const response = await gateway.call(path, {
    method,
    headers: {
      authorization: `Bearer ${user.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : undefined) as T,
    etag: response.headers.get('etag'),
  };
}

const draftOf = (unitPrice: number) => ({
  currency: 'EUR',
  lines: [{ description: 'Service', quantity: '1', unitPrice, vatRate: 0 }],
});

async function create(unitPrice = 10_000, user = maker): Promise<InvoiceView> {
  const created = await call(user, 'POST', '/invoices', draftOf(unitPrice));
  expect(created.status).toBe(201);
  return created.body;
}

/** Moves an invoice by one transition with the right If-Match; returns the new state. */
async function act(
  user: TestTenantUser,
  invoice: InvoiceView,
  verb: string,
  body?: unknown,
): Promise<Reply<InvoiceView>> {
  return call(user, 'POST', `/invoices/${invoice.id}/${verb}`, body, { 'if-match': `"v${invoice.version}"` });
}

async function expectOk(reply: Promise<Reply<InvoiceView>>, status: string): Promise<InvoiceView> {
  const result = await reply;
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  expect(result.body.status).toBe(status);
  expect(result.etag).toBe(`"v${result.body.version}"`);
  return result.body;
}

async function invoiceIn(state: string, unitPrice = 10_000): Promise<InvoiceView> {
  let invoice = await create(unitPrice);
  if (state === 'draft') return invoice;
  invoice = await expectOk(act(maker, invoice, 'submit'), 'submitted');
  if (state === 'submitted') return invoice;
  invoice = await expectOk(act(checker, invoice, 'approve'), 'approved');
  if (state === 'approved') return invoice;
  invoice = await expectOk(act(maker, invoice, 'issue'), 'issued');
  if (state === 'issued') return invoice;
  if (state === 'paid') {
    const paid = await call(maker, 'POST', `/invoices/${invoice.id}/payments`, {
      amount: invoice.totals.gross,
      receivedOn: '2026-11-20',
    });
    expect(paid.status).toBe(201);
    return (await call(maker, 'GET', `/invoices/${invoice.id}`)).body;
  }
  return expectOk(act(maker, invoice, 'void', { reason: 'test' }), 'void');
}

describe('[AZ-2] the approval workflow', () => {
  it('walks draft → submitted → approved → issued → paid, with partial payment', async () => {
    let invoice = await create(50_000);
    invoice = await expectOk(act(maker, invoice, 'submit'), 'submitted');
    invoice = await expectOk(act(checker, invoice, 'approve'), 'approved');
    invoice = await expectOk(act(maker, invoice, 'issue'), 'issued');
    expect(invoice.number).toMatch(/^INV-\d{6}$/);
    const partial = await call<{ paidAmount: number; invoiceStatus: string }>(
      maker,
      'POST',
      `/invoices/${invoice.id}/payments`,
      {
        amount: 20_000,
        receivedOn: '2026-11-20',
      },
    );
    expect(partial).toMatchObject({ status: 201, body: { paidAmount: 20_000, invoiceStatus: 'issued' } });
    const overpay = await call<{ code: string }>(maker, 'POST', `/invoices/${invoice.id}/payments`, {
      amount: 30_001,
      receivedOn: '2026-11-21',
    });
    expect(overpay).toMatchObject({ status: 409, body: { code: 'overpayment' } });
    const rest = await call<{ paidAmount: number; invoiceStatus: string }>(
      maker,
      'POST',
      `/invoices/${invoice.id}/payments`,
      {
        amount: 30_000,
        receivedOn: '2026-11-21',
      },
    );
    expect(rest).toMatchObject({ status: 201, body: { paidAmount: 50_000, invoiceStatus: 'paid' } });
    const payments = await call<{ items: { amount: number }[] }>(
      auditor,
      'GET',
      `/invoices/${invoice.id}/payments`,
    );
    expect(payments.body.items.map((payment) => payment.amount).sort()).toEqual([20_000, 30_000]);
  });

  it('sends a rejected invoice back to draft with the reason, and it can be edited and resubmitted', async () => {
    let invoice = await invoiceIn('submitted');
    const rejected = await act(checker, invoice, 'reject', { reason: 'Wrong VAT rate' });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({
      status: 'draft',
      rejection: { reason: 'Wrong VAT rate' },
      approvals: [],
    });
    invoice = rejected.body;
    const edited = await call(maker, 'PUT', `/invoices/${invoice.id}`, draftOf(12_000), {
      'if-match': `"v${invoice.version}"`,
    });
    expect(edited.status).toBe(200);
    expect(edited.body.totals.gross).toBe(12_000);
    await expectOk(act(maker, edited.body, 'submit'), 'submitted');
  });

  const transitions: Record<string, readonly string[]> = {
    submit: ['draft'],
    approve: ['submitted'],
    reject: ['submitted'],
    issue: ['approved'],
    void: ['draft', 'submitted', 'approved', 'issued'],
  };
  const states = ['draft', 'submitted', 'approved', 'issued', 'paid', 'void'];

  it('refuses every illegal transition with 409 and a problem naming the current status', async () => {
    const byState = Object.fromEntries(
      await Promise.all(states.map(async (state) => [state, await invoiceIn(state)] as const)),
    );
    for (const [verb, allowedFrom] of Object.entries(transitions)) {
      for (const state of states.filter((each) => !allowedFrom.includes(each))) {
        const invoice = byState[state] as InvoiceView;
        const user = verb === 'approve' || verb === 'reject' ? checker : maker;
        const body = verb === 'reject' || verb === 'void' ? { reason: 'no' } : undefined;
        const result = await act(user, invoice, verb, body);
        expect(result.status, `${verb} from ${state}`).toBe(409);
        expect(result.body).toMatchObject({ code: 'invalid-transition', currentStatus: state });
      }
    }
    for (const state of states.filter((each) => each !== 'draft')) {
      const invoice = byState[state] as InvoiceView;
      const edit = await call(maker, 'PUT', `/invoices/${invoice.id}`, draftOf(1), {
        'if-match': `"v${invoice.version}"`,
      });
      expect(edit.status, `edit from ${state}`).toBe(409);
    }
    for (const state of states.filter((each) => each !== 'issued')) {
      const invoice = byState[state] as InvoiceView;
      const pay = await call(maker, 'POST', `/invoices/${invoice.id}/payments`, {
        amount: 1,
        receivedOn: '2026-11-20',
      });
      expect(pay.status, `pay from ${state}`).toBe(409);
    }
  });

  it('refuses maker-checker violations with 403: the creator or the submitter cannot approve or reject', async () => {
    const ownDraft = await create(10_000, owner);
    const ownSubmitted = await expectOk(act(owner, ownDraft, 'submit'), 'submitted');
    const byCreator = await act(owner, ownSubmitted, 'approve');
    expect(byCreator).toMatchObject({ status: 403, body: { code: 'maker-checker' } });
    expect((await act(owner, ownSubmitted, 'reject', { reason: 'mine' })).body).toMatchObject({
      code: 'maker-checker',
    });

    const submittedByOwner = await expectOk(act(owner, await create(10_000, maker), 'submit'), 'submitted');
    expect((await act(owner, submittedByOwner, 'approve')).body).toMatchObject({ code: 'maker-checker' });
    await expectOk(act(checker, submittedByOwner, 'approve'), 'approved');
  });

  it('enforces approval limits and dual approval from the tenant settings', async () => {
    const current = await call<{ version: number }>(admin, 'GET', '/settings');
    expect(current.status).toBe(200);
    const updated = await call<{ version: number }>(
      admin,
      'PUT',
      '/settings',
      {
        invoiceNumberPrefix: 'INV-',
        approval: {
          dualApprovalThreshold: 100_000,
          defaultApproverLimit: null,
          approverLimits: { [checker.identityId]: 500_000 },
        },
      },
      { 'if-match': current.etag ?? '' },
    );
    expect(updated.status).toBe(200);

    const aboveLimit = await invoiceIn('submitted', 600_000);
    expect((await act(checker, aboveLimit, 'approve')).body).toMatchObject({
      code: 'approval-limit-exceeded',
    });

    const large = await invoiceIn('submitted', 200_000);
    const first = await act(checker, large, 'approve');
    expect(first.body).toMatchObject({ status: 'submitted', approvals: [{ by: checker.identityId }] });
    const again = await act(checker, first.body, 'approve');
    expect(again.status).toBe(409);
    await expectOk(act(owner, first.body, 'approve'), 'approved');

    const small = await invoiceIn('submitted', 50_000);
    await expectOk(act(checker, small, 'approve'), 'approved');
  });

  it('guards settings with If-Match and the settings:write permission', async () => {
    const current = await call<{ version: number }>(admin, 'GET', '/settings');
    const body = {
      invoiceNumberPrefix: 'INV-',
      approval: {
        dualApprovalThreshold: 100_000,
        defaultApproverLimit: null,
        approverLimits: { [checker.identityId]: 500_000 },
      },
    };
    expect((await call(admin, 'PUT', '/settings', body)).status).toBe(428);
    expect((await call(admin, 'PUT', '/settings', body, { 'if-match': '"v999"' })).status).toBe(412);
    expect((await call(maker, 'PUT', '/settings', body, { 'if-match': current.etag ?? '' })).status).toBe(
      403,
    );
  });
});

describe('[API-3] concurrency and idempotency', () => {
  it('lets exactly one of two concurrent updates with the same If-Match win; the other gets 412', async () => {
    const invoice = await create();
    const headers = { 'if-match': `"v${invoice.version}"` };
    const results = await Promise.all([
      call(maker, 'PUT', `/invoices/${invoice.id}`, draftOf(1_111), headers),
      call(maker, 'PUT', `/invoices/${invoice.id}`, draftOf(2_222), headers),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual([200, 412]);
    const final = await call(maker, 'GET', `/invoices/${invoice.id}`);
    const winner = results.find((result) => result.status === 200)?.body;
    expect(final.body.totals.gross).toBe(winner?.totals.gross);
    expect(final.body.version).toBe(2);
  });

  it('needs If-Match on edits and transitions (428) and refuses a stale one (412)', async () => {
    const invoice = await create();
    expect((await call(maker, 'POST', `/invoices/${invoice.id}/submit`)).status).toBe(428);
    expect((await call(maker, 'PUT', `/invoices/${invoice.id}`, draftOf(5))).status).toBe(428);
    await expectOk(act(maker, invoice, 'submit'), 'submitted');
    expect((await act(checker, invoice, 'approve')).status).toBe(412);
  });

  it('never lets concurrent payments exceed the total', async () => {
    // Below the dual-approval threshold another test sets, so one approver suffices.
    const invoice = await invoiceIn('issued', 90_000);
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        call<{ code?: string }>(maker, 'POST', `/invoices/${invoice.id}/payments`, {
          amount: 36_000,
          receivedOn: '2026-11-20',
        }),
      ),
    );
    const statuses = results.map((result) => result.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(2);
    expect(
      results.filter((result) => result.status !== 201).every((result) => result.body.code === 'overpayment'),
    ).toBe(true);
    const final = await call(maker, 'GET', `/invoices/${invoice.id}`);
    expect(final.body).toMatchObject({ paidAmount: 72_000, status: 'issued' });
  });

  it('issues concurrently approved invoices under consecutive numbers with no gap', async () => {
    const approved = await Promise.all(Array.from({ length: 6 }, () => invoiceIn('approved')));
    const issued = await Promise.all(approved.map((invoice) => act(maker, invoice, 'issue')));
    expect(issued.map((result) => result.status)).toEqual(Array(6).fill(200));
    const sequences = issued.map((result) => result.body.sequence as number).sort((a, b) => a - b);
    const first = sequences[0] as number;
    expect(sequences).toEqual(sequences.map((_, index) => first + index));
  });

  it('races approve against void on one invoice: exactly one wins', async () => {
    const invoice = await invoiceIn('submitted');
    const [approve, voided] = await Promise.all([
      act(checker, invoice, 'approve'),
      act(maker, invoice, 'void', { reason: 'race' }),
    ]);
    expect([approve.status, voided.status].sort()).toEqual([200, 412]);
  });

  it('replays the first response after a crash between commit and response, acting once', async () => {
    const context = createServiceContext(localRuntimeConfig());
    // A writer that commits and then dies before anything is answered.
    class CrashAfterCommit extends MutationWriter {
      override async commit(
        ...args: Parameters<MutationWriter['commit']>
      ): ReturnType<MutationWriter['commit']> {
        await super.commit(...args);
        throw new Error('process died after the commit');
      }
    }
    const crashing = {
      ...context,
      mutations: new CrashAfterCommit(context.auditLog, new IdempotencyStore(localRuntimeConfig().stage)),
    };
    const key = `crash-${crypto.randomUUID()}`;
    const body = draftOf(7_777);
    const principal = {
      kind: 'user' as const,
      actorId: maker.identityId,
      tenantId: tenant.tenantId,
      roles: ['accountant'],
    };
    await expect(
      createInvoice(crashing, {
        principal,
        body: body as never,
        requestId: 'crash-test',
        idempotencyKey: key,
        agentReason: undefined,
        respond: (invoice, auditEntryId) => ({
          statusCode: 201,
          headers: {
            'Content-Type': 'application/json',
            ETag: `"v${invoice.version}"`,
            Location: `/invoices/${invoice.id}`,
          },
          body: JSON.stringify({ ...invoice, auditEntryId }),
        }),
      }),
    ).rejects.toThrow('process died');
    const before = await call<{ items: { id: string }[] }>(auditor, 'GET', '/invoices?limit=100');
    const retry = await call(maker, 'POST', '/invoices', body, { 'idempotency-key': key });
    expect(retry.status).toBe(201);
    const after = await call<{ items: { id: string }[] }>(auditor, 'GET', '/invoices?limit=100');
    expect(after.body.items.map((item) => item.id)).toEqual(before.body.items.map((item) => item.id));
    expect(before.body.items.map((item) => item.id)).toContain(retry.body.id);
  });
});

describe('[API-3] list filters and authenticated cursors', () => {
  it('filters by status and creation date, and pages with cursors bound to tenant and filter', async () => {
    const drafts = [await create(), await create(), await create()];
    await invoiceIn('submitted');
    const page = await call<{ items: InvoiceView[]; nextCursor?: string }>(
      auditor,
      'GET',
      '/invoices?status=draft&limit=2',
    );
    expect(page.status).toBe(200);
    expect(page.body.items.every((item) => item.status === 'draft')).toBe(true);
    expect(page.body.nextCursor).toBeDefined();
    const cursor = page.body.nextCursor as string;
    const next = await call<{ items: InvoiceView[] }>(
      auditor,
      'GET',
      `/invoices?status=draft&limit=2&cursor=${cursor}`,
    );
    expect(next.status).toBe(200);
    expect(next.body.items.map((item) => item.id)).not.toContain(page.body.items[0]?.id);

    // The same cursor with another filter, altered, or in another tenant is refused.
    expect((await call(auditor, 'GET', `/invoices?status=issued&limit=2&cursor=${cursor}`)).status).toBe(400);
    const flipped = `${cursor.slice(0, -2)}${cursor.endsWith('AA') ? 'AB' : 'AA'}`;
    expect((await call(auditor, 'GET', `/invoices?status=draft&limit=2&cursor=${flipped}`)).status).toBe(400);
    const other = await createTestTenant('cursor', ['auditor']);
    const foreign = await call(
      other.user('auditor'),
      'GET',
      `/invoices?status=draft&limit=2&cursor=${cursor}`,
    );
    expect(foreign.status).toBe(400);

    const today = new Date().toISOString().slice(0, 10);
    const dated = await call<{ items: InvoiceView[] }>(
      auditor,
      'GET',
      `/invoices?from=${today}&to=${today}&limit=100`,
    );
    for (const draft of drafts) expect(dated.body.items.map((item) => item.id)).toContain(draft.id);
    const past = await call<{ items: InvoiceView[] }>(
      auditor,
      'GET',
      '/invoices?from=2020-01-01&to=2020-12-31&limit=100',
    );
    expect(past.body.items).toEqual([]);
    expect((await call(auditor, 'GET', `/invoices?from=${today}&to=2020-01-01`)).status).toBe(400);
  });
});

describe('[AZ-2] property: no sequence of API calls makes a negative balance or a numbering gap', () => {
  it('holds over random workflows', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), amount: fc.integer({ min: 1, max: 50_000 }) }),
      fc.record({
        kind: fc.constantFrom('submit' as const, 'approve' as const, 'issue' as const, 'void' as const),
        pick: fc.nat(),
      }),
      fc.record({
        kind: fc.constant('pay' as const),
        pick: fc.nat(),
        amount: fc.integer({ min: 1, max: 60_000 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 14 }), async (steps) => {
        const mine: InvoiceView[] = [];
        for (const each of steps) {
          if (each.kind === 'create') {
            mine.push(await create(each.amount));
            continue;
          }
          if (mine.length === 0) continue;
          const index = each.pick % mine.length;
          const latest = (await call(maker, 'GET', `/invoices/${(mine[index] as InvoiceView).id}`)).body;
          const user = each.kind === 'approve' ? checker : maker;
          const result =
            each.kind === 'pay'
              ? await call(maker, 'POST', `/invoices/${latest.id}/payments`, {
                  amount: each.amount,
                  receivedOn: '2026-11-20',
                })
              : await act(user, latest, each.kind, each.kind === 'void' ? { reason: 'property' } : undefined);
          expect(result.status, JSON.stringify(result.body)).toBeLessThan(500);
          mine[index] = (await call(maker, 'GET', `/invoices/${latest.id}`)).body;
        }
        for (const invoice of mine) {
          expect(invoice.paidAmount).toBeGreaterThanOrEqual(0);
          expect(invoice.paidAmount).toBeLessThanOrEqual(invoice.totals.gross);
          expect(invoice.status === 'paid').toBe(
            invoice.paidAmount === invoice.totals.gross && invoice.paidAmount > 0,
          );
        }
        const issued = (await call<{ items: InvoiceView[] }>(auditor, 'GET', '/invoices?limit=100')).body
          .items;
        const all = [...issued];
        let cursor: string | undefined;
        const page = await call<{ items: InvoiceView[]; nextCursor?: string }>(
          auditor,
          'GET',
          '/invoices?limit=100',
        );
        cursor = page.body.nextCursor;
        while (cursor) {
          const more = await call<{ items: InvoiceView[]; nextCursor?: string }>(
            auditor,
            'GET',
            `/invoices?limit=100&cursor=${cursor}`,
          );
          all.push(...more.body.items);
          cursor = more.body.nextCursor;
        }
        const sequences = all
          .flatMap((invoice) => (invoice.sequence === undefined ? [] : [invoice.sequence]))
          .sort((a, b) => a - b);
        expect(sequences).toEqual(sequences.map((_, index) => index + 1));
      }),
      { numRuns: 15 },
    );
  });
});
