/**
 * Scenario 5, concurrency (API-3, AZ-2, AUD-1, AUD-3). test/integration covers one race of
 * each kind (invoice-lifecycle.test.ts: two writers with one ETag, approve against void,
 * six payments, gap-free numbering; invoices.test.ts: twenty retries of one key, 32
 * creates). Here each race runs many times, with more writers, on every kind of item:
 *
 * - lost updates: N writers with the same ETag on an invoice, a counterparty, the
 *   settings and a member; exactly one wins, the rest get 412 (or 503 contention), the
 *   item is the winner's and moved one version, with one entry;
 * - transitions racing on one invoice (approve/reject/void, submit/void/edit, issue/void):
 *   exactly one wins and the invoice is in the winner's state;
 * - payments racing past the total: the accepted amounts never exceed it, and the paid
 *   amount is the sum of the payments;
 * - one Idempotency-Key on two routes at once: one acts, the other is refused;
 * - 32 (full: 64) writers of every kind on one audit log: the log is gap-free, every
 *   accepted change's entry is in it once, the root recomputes, the verifier accepts it.
 */
import { randomBytes } from 'node:crypto';
import { draftInvoice } from '#test/integration/support/route-fixtures';
import { type AttackEnv, createAttackTenant } from '../support/env';
import { checkLedger } from '../support/ledger';
import { RawConnection, type RawResponse } from '../support/raw-http';
import { type ScenarioReport, Tally } from '../support/report';
import { refusalViolations } from '../support/responses';
import { type AttackSize, sized } from '../support/size';

interface ConcurrencySettings {
  readonly repetitions: number;
  /** Writers racing with one ETag. */
  readonly racers: number;
  /** Writers on one audit log. */
  readonly writers: number;
}

const settings = {
  bounded: { repetitions: 1, racers: 6, writers: 32 },
  full: { repetitions: 8, racers: 12, writers: 64 },
} satisfies Record<AttackSize, ConcurrencySettings>;

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly raw: RawResponse;
}

export async function concurrencyScenario(env: AttackEnv, size: AttackSize): Promise<ScenarioReport> {
  const config = sized(settings, size, 'CONCURRENCY');
  const tally = new Tally('concurrency');
  const tenant = await createAttackTenant(env, 'races');
  const pool = Array.from(
    { length: Math.max(config.racers, config.writers) },
    () => new RawConnection(env.endpoint),
  );
  let contention = 0;

  const request = async (
    connection: RawConnection,
    token: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const raw = await connection.send({
      method,
      target: path,
      headers: [
        ['authorization', `Bearer ${token}`],
        ...Object.entries(headers),
        ...(text === undefined ? [] : ([['content-type', 'application/json']] as const)),
      ],
      ...(text === undefined ? {} : { body: text }),
    });
    tally.requests++;
    let parsed: Record<string, unknown> = {};
    try {
      parsed =
        raw.body.length === 0 ? {} : (JSON.parse(raw.body.toString('utf8')) as Record<string, unknown>);
    } catch {
      tally.fail('otherViolations', `${method} ${path}: the answer is not JSON`);
    }
    if (raw.status >= 300) {
      for (const problem of refusalViolations(raw))
        tally.fail('otherViolations', `${method} ${path}: ${problem}`);
      if (raw.status === 503 && parsed.code === 'contention') contention++;
      else if (raw.status >= 500)
        tally.fail(
          'serverErrors',
          `${method} ${path}: ${raw.status} ${raw.body.toString('utf8').slice(0, 200)}`,
        );
    }
    return { status: raw.status, body: parsed, raw };
  };
  const race = (count: number, run: (connection: RawConnection, index: number) => Promise<Reply>) =>
    Promise.all(pool.slice(0, count).map((connection, index) => run(connection, index)));
  const entriesFor = async (targetId: string) =>
    (await checkLedger(env.ledger, tenant.tenantId, { verifier: false })).entries.filter(
      (each) => each.entry.target.id === targetId,
    );

  /** Exactly one winner, the rest refused with a precondition failure (or contention). */
  const oneWinner = (
    name: string,
    replies: readonly Reply[],
    loserStatuses: readonly number[],
  ): Reply | undefined => {
    const winners = replies.filter((reply) => reply.status >= 200 && reply.status < 300);
    if (winners.length > 1)
      tally.fail('duplicates', `${name}: ${winners.length} writers won the same version`);
    if (winners.length === 0)
      tally.fail(
        'otherViolations',
        `${name}: nobody won (${replies.map((reply) => reply.status).join(', ')})`,
      );
    for (const reply of replies) {
      if (reply.status >= 300 && !loserStatuses.includes(reply.status) && reply.status !== 503) {
        tally.fail('otherViolations', `${name}: a loser got ${reply.status} ${String(reply.body.code)}`);
      }
    }
    return winners[0];
  };

  for (let repetition = 0; repetition < config.repetitions; repetition++) {
    // Lost updates with one ETag, on every updatable kind of item.
    {
      const invoice = await tenant.world.invoice('draft', true);
      const replies = await race(config.racers, (connection, index) =>
        request(
          connection,
          tenant.accountant.token,
          'PUT',
          `/invoices/${invoice.id}`,
          { ...draftInvoice, reference: `racer-${index}` },
          { 'if-match': `"v${invoice.version}"` },
        ),
      );
      const winner = oneWinner('invoice edit with one ETag', replies, [412]);
      const entries = await entriesFor(invoice.id);
      const final = await request(
        pool[0] as RawConnection,
        tenant.auditor.token,
        'GET',
        `/invoices/${invoice.id}`,
      );
      if (winner && final.body.reference !== winner.body.reference)
        tally.fail('duplicates', "invoice edit: the stored invoice is not the winner's (a lost update)");
      if (final.body.version !== invoice.version + 1 || entries.length !== invoice.version + 1) {
        tally.fail(
          'duplicates',
          `invoice edit: version ${String(final.body.version)} with ${entries.length} entries after one winning edit`,
        );
      }
    }
    {
      const counterparty = await tenant.world.counterparty(true);
      const base = {
        kind: 'supplier',
        address: { lines: ['Hauptstraße 1'], city: 'Berlin', postalCode: '10115', country: 'DE' },
      };
      const replies = await race(config.racers, (connection, index) =>
        request(
          connection,
          tenant.accountant.token,
          'PUT',
          `/counterparties/${counterparty.id}`,
          { ...base, name: `Racer ${index}` },
          { 'if-match': `"v${counterparty.version}"` },
        ),
      );
      const winner = oneWinner('counterparty update with one ETag', replies, [412]);
      const final = await request(
        pool[0] as RawConnection,
        tenant.auditor.token,
        'GET',
        `/counterparties/${counterparty.id}`,
      );
      if (winner && final.body.name !== winner.body.name)
        tally.fail('duplicates', 'counterparty update: a lost update');
      if ((await entriesFor(counterparty.id)).length !== 2)
        tally.fail('duplicates', 'counterparty update: not exactly one update entry');
    }
    {
      const current = await request(pool[0] as RawConnection, tenant.owner.token, 'GET', '/settings');
      const { version, updatedAt: _at, updatedBy: _by, ...body } = current.body;
      const replies = await race(config.racers, (connection, index) =>
        request(
          connection,
          tenant.owner.token,
          'PUT',
          '/settings',
          { ...body, invoiceNumberPrefix: `R${repetition}X${index}-` },
          { 'if-match': current.raw.headers.etag ?? `"v${String(version)}"` },
        ),
      );
      const winner = oneWinner('settings with one ETag', replies, [412]);
      const final = await request(pool[0] as RawConnection, tenant.owner.token, 'GET', '/settings');
      if (winner && final.body.invoiceNumberPrefix !== winner.body.invoiceNumberPrefix)
        tally.fail('duplicates', 'settings: a lost update');
    }
    {
      const member = await tenant.world.member(true);
      const replies = await race(config.racers, (connection, index) =>
        request(
          connection,
          tenant.owner.token,
          'PATCH',
          `/members/${member.id}`,
          { roles: [index % 2 === 0 ? 'auditor' : 'approver'] },
          { 'if-match': `"v${member.version}"` },
        ),
      );
      const winner = oneWinner('member change with one ETag', replies, [412]);
      const final = await request(
        pool[0] as RawConnection,
        tenant.owner.token,
        'GET',
        `/members/${member.id}`,
      );
      if (winner && JSON.stringify(final.body.roles) !== JSON.stringify(winner.body.roles))
        tally.fail('duplicates', 'member change: a lost update');
    }

    // Transitions racing on one invoice.
    for (const [state, contenders] of [
      [
        'submitted',
        [
          ['approve', tenant.approver, {}],
          ['reject', tenant.approver, { reason: 'race' }],
          ['void', tenant.accountant, { reason: 'race' }],
        ],
      ],
      [
        'draft',
        [
          ['submit', tenant.accountant, {}],
          ['void', tenant.accountant, { reason: 'race' }],
        ],
      ],
      [
        'approved',
        [
          ['issue', tenant.accountant, {}],
          ['void', tenant.accountant, { reason: 'race' }],
        ],
      ],
    ] as const) {
      const invoice = await tenant.world.invoice(state, true);
      const replies = await race(contenders.length * 2, (connection, index) => {
        const [verb, who, body] = contenders[index % contenders.length] as (typeof contenders)[number];
        return request(connection, who.token, 'POST', `/invoices/${invoice.id}/${verb}`, body, {
          'if-match': `"v${invoice.version}"`,
        });
      });
      const winner = oneWinner(
        `${contenders.map(([verb]) => verb).join(' / ')} on a ${state} invoice`,
        replies,
        [412, 409],
      );
      const final = await request(
        pool[0] as RawConnection,
        tenant.auditor.token,
        'GET',
        `/invoices/${invoice.id}`,
      );
      if (winner && final.body.status !== winner.body.status)
        tally.fail(
          'duplicates',
          `race on a ${state} invoice: it is ${String(final.body.status)}, the winner made it ${String(winner.body.status)}`,
        );
      if ((await entriesFor(invoice.id)).length !== Number(final.body.version))
        tally.fail('partialWrites', `race on a ${state} invoice: entries and version disagree`);
    }

    // Payments racing past the total.
    {
      const invoice = await tenant.world.invoice('issued', true);
      const current = await request(
        pool[0] as RawConnection,
        tenant.auditor.token,
        'GET',
        `/invoices/${invoice.id}`,
      );
      const gross = Number((current.body.totals as { gross: number }).gross);
      const amount = Math.max(1, Math.ceil(gross / 3));
      const replies = await race(config.racers, (connection, index) =>
        request(
          connection,
          tenant.accountant.token,
          'POST',
          `/invoices/${invoice.id}/payments`,
          { amount, receivedOn: '2026-11-20' },
          { 'idempotency-key': `pay-${repetition}-${index}-${randomBytes(4).toString('hex')}` },
        ),
      );
      const accepted = replies.filter((reply) => reply.status === 201).length;
      for (const reply of replies) {
        if (
          reply.status !== 201 &&
          reply.status !== 503 &&
          reply.body.code !== 'overpayment' &&
          reply.body.code !== 'invalid-transition'
        ) {
          tally.fail(
            'otherViolations',
            `payments: a refused payment got ${reply.status} ${String(reply.body.code)}`,
          );
        }
      }
      const final = await request(
        pool[0] as RawConnection,
        tenant.auditor.token,
        'GET',
        `/invoices/${invoice.id}`,
      );
      const payments = await request(
        pool[0] as RawConnection,
        tenant.auditor.token,
        'GET',
        `/invoices/${invoice.id}/payments`,
      );
      const paid = Number(final.body.paidAmount);
      const listed = (payments.body.items as { amount: number }[]).reduce(
        (sum, each) => sum + each.amount,
        0,
      );
      if (paid > gross) tally.fail('duplicates', `payments: ${paid} paid on a total of ${gross}`);
      if (paid !== accepted * amount || listed !== paid)
        tally.fail(
          'partialWrites',
          `payments: ${accepted} accepted of ${amount}, ${paid} paid, ${listed} listed`,
        );
    }

    // One Idempotency-Key on two routes at once, by one person.
    {
      const key = `shared-${randomBytes(8).toString('hex')}`;
      const counterpartyBody = {
        kind: 'customer',
        name: `Key ${key}`,
        address: { lines: ['Weg 1'], city: 'Köln', postalCode: '50667', country: 'DE' },
      };
      const replies = await race(4, (connection, index) =>
        index % 2 === 0
          ? request(
              connection,
              tenant.accountant.token,
              'POST',
              '/invoices',
              { ...draftInvoice, reference: key },
              { 'idempotency-key': key },
            )
          : request(connection, tenant.accountant.token, 'POST', '/counterparties', counterpartyBody, {
              'idempotency-key': key,
            }),
      );
      const created = replies.filter((reply) => reply.status === 201);
      const kinds = new Set(created.map((reply) => String(reply.body.id).split('_')[0]));
      if (kinds.size > 1)
        tally.fail('duplicates', 'one Idempotency-Key created an invoice and a counterparty');
      for (const reply of replies) {
        if (reply.status !== 201 && reply.status !== 422 && reply.status !== 409 && reply.status !== 503) {
          tally.fail('otherViolations', `one key on two routes: ${reply.status} ${String(reply.body.code)}`);
        }
      }
      const ids = new Set(created.map((reply) => String(reply.body.id)));
      if (ids.size > 1) tally.fail('duplicates', `one Idempotency-Key acted ${ids.size} times`);
    }

    // Many writers of every kind on one audit log.
    {
      const targets = await Promise.all([
        tenant.world.invoice('draft', true),
        tenant.world.invoice('draft', true),
        tenant.world.invoice('issued', true),
      ]);
      const replies = await race(config.writers, (connection, index) => {
        switch (index % 4) {
          case 0:
            return request(connection, tenant.accountant.token, 'POST', '/invoices', {
              ...draftInvoice,
              reference: `log-${index}`,
            });
          case 1:
            return request(connection, tenant.accountant.token, 'POST', '/counterparties', {
              kind: 'supplier',
              name: `Log writer ${index}`,
              address: { lines: ['Weg 2'], city: 'Bonn', postalCode: '53111', country: 'DE' },
            });
          case 2:
            return request(
              connection,
              tenant.accountant.token,
              'POST',
              `/invoices/${(targets[2] as { id: string }).id}/payments`,
              { amount: 1, receivedOn: '2026-11-20' },
            );
          default:
            return request(
              connection,
              tenant.accountant.token,
              'POST',
              `/invoices/${(targets[index % 2] as { id: string }).id}/submit`,
              {},
              { 'if-match': '"v1"' },
            );
        }
      });
      const ledger = await checkLedger(env.ledger, tenant.tenantId, { verifier: true });
      for (const problem of [...ledger.logProblems, ...ledger.partialWrites])
        tally.fail('partialWrites', `${config.writers} writers: ${problem}`);
      const inLog = new Map<string, number>();
      for (const { entry } of ledger.entries) inLog.set(entry.id, (inLog.get(entry.id) ?? 0) + 1);
      for (const reply of replies.filter((each) => each.status >= 200 && each.status < 300)) {
        const id = String(reply.body.auditEntryId);
        if ((inLog.get(id) ?? 0) !== 1)
          tally.fail(
            'partialWrites',
            `${config.writers} writers: entry ${id} of an accepted change is in the log ${inLog.get(id) ?? 0} times`,
          );
      }
    }
  }
  for (const connection of pool) connection.close();
  tally.note(`${config.repetitions} repetitions; ${contention} answers were 503 contention (Retry-After)`);
  return tally.report();
}
