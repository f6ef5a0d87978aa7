/**
 * Agents (AZ-4) through the local gateway: an API key of kind agent only proposes drafts,
 * always with a stated reason that its audit entry records with a digest of its inputs;
 * it never submits, approves, pays, administers or reads the audit log, and never acts
 * outside its tenant. (The authorization matrix checks every route for the agent too.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemDigest } from '#shared/audit/entry';
import { agentReasonHeader } from '#shared/http/middleware';
import { AuditLog } from '#shared/store/audit-log';
import { startTestGateway, type TestGateway } from './support/gateway';
import { call, expectProblem, expectStatus } from './support/http';
import { Identities, type TestMember, uniqueEmail, uniqueTenantId } from './support/identities';
import { localStack } from './support/local-stack';

let gateway: TestGateway;
let identities: Identities;
let tenantId: string;
let owner: TestMember;
let accountant: TestMember;
let agentKey: string;
let agentId: string;

beforeAll(async () => {
  gateway = await startTestGateway();
  identities = new Identities();
  tenantId = uniqueTenantId('agents');
  owner = await identities.addMember(tenantId, ['owner']);
  accountant = await identities.addMember(tenantId, ['accountant']);
  const created = await call(gateway, 'POST', '/api-keys', {
    token: owner.token,
    body: { name: 'Invoice drafting agent', kind: 'agent', scopes: ['agent'] },
  });
  await expectStatus(created, 201);
  ({ key: agentKey, id: agentId } = (await created.json()) as { key: string; id: string });
});

afterAll(async () => {
  await gateway?.close();
  identities?.destroy();
});

const draft = {
  currency: 'EUR',
  reference: 'PO-7',
  lines: [{ description: 'Drafted from an email', quantity: '3', unitPrice: 2_500, vatRate: 1900 }],
};

const asAgent = (
  method: string,
  path: string,
  body?: unknown,
  reason?: string,
  headers: Record<string, string> = {},
) =>
  call(gateway, method, path, {
    token: agentKey,
    scheme: 'ApiKey',
    ...(body === undefined ? {} : { body }),
    headers: { ...headers, ...(reason === undefined ? {} : { [agentReasonHeader]: reason }) },
  });

async function entry(entryId: string) {
  const client = identities.clients.forTenant(tenantId);
  const auditLog = new AuditLog(localStack().stage);
  const head = await auditLog.head(client, tenantId);
  return (await auditLog.entriesFrom(client, tenantId, 0, head.size)).find(
    (each) => each.entry.id === entryId,
  )?.entry;
}

describe('[AZ-4] agents propose, people decide', () => {
  it('creates a draft with its stated reason and a digest of its inputs in the audit entry', async () => {
    const reason = 'Customer email of 20 Nov asks for three licences';
    const response = await asAgent('POST', '/invoices', draft, reason);
    await expectStatus(response, 201);
    const invoice = (await response.json()) as {
      id: string;
      status: string;
      createdBy: string;
      auditEntryId: string;
    };
    expect(invoice).toMatchObject({ status: 'draft', createdBy: agentId });
    expect(await entry(invoice.auditEntryId)).toMatchObject({
      action: 'invoice.create',
      actor: { id: agentId, kind: 'agent' },
      agent: { reason, inputDigest: itemDigest(draft) },
    });
  });

  it('refuses a write without a reason, or with an empty or oversized one, and writes nothing', async () => {
    const before = (
      (await (await call(gateway, 'GET', '/invoices', { token: owner.token })).json()) as {
        items: unknown[];
      }
    ).items.length;
    for (const reason of [undefined, '', '   ', 'x'.repeat(1001)]) {
      await expectProblem(await asAgent('POST', '/invoices', draft, reason), 400, 'validation-failed');
    }
    const after = (
      (await (await call(gateway, 'GET', '/invoices', { token: owner.token })).json()) as {
        items: unknown[];
      }
    ).items.length;
    expect(after).toBe(before);
  });

  it('never submits, approves, rejects, issues, voids or pays, even its own draft', async () => {
    const created = await asAgent('POST', '/invoices', draft, 'A proposal');
    const invoice = (await created.json()) as { id: string; version: number };
    const ifMatch = { 'if-match': `"v${invoice.version}"` };
    for (const [verb, body] of [
      ['submit', {}],
      ['approve', {}],
      ['reject', { reason: 'no' }],
      ['issue', {}],
      ['void', { reason: 'no' }],
    ] as const) {
      await expectProblem(
        await asAgent('POST', `/invoices/${invoice.id}/${verb}`, body, 'Trying', ifMatch),
        403,
        'forbidden',
      );
    }
    await expectProblem(
      await asAgent(
        'POST',
        `/invoices/${invoice.id}/payments`,
        { amount: 1, receivedOn: '2026-11-20' },
        'Trying',
      ),
      403,
      'forbidden',
    );
    // The draft waits for a person: the accountant submits it.
    await expectStatus(
      await call(gateway, 'POST', `/invoices/${invoice.id}/submit`, {
        token: accountant.token,
        body: {},
        headers: ifMatch,
      }),
      200,
    );
  });

  it('never administers and never reads the audit log', async () => {
    for (const [method, path, body] of [
      ['POST', '/members', { email: uniqueEmail('agent'), roles: ['auditor'] }],
      ['POST', '/api-keys', { name: 'Another agent', kind: 'agent', scopes: ['agent'] }],
      ['POST', '/support-grants', { roles: ['auditor'], durationMinutes: 60 }],
      [
        'PUT',
        '/settings',
        {
          invoiceNumberPrefix: 'X-',
          approval: { dualApprovalThreshold: 1, defaultApproverLimit: null, approverLimits: {} },
        },
      ],
      [
        'POST',
        '/counterparties',
        { kind: 'supplier', name: 'x', address: { lines: ['x'], city: 'x', country: 'DE' } },
      ],
      ['GET', '/audit/entries', undefined],
      ['GET', '/members', undefined],
    ] as const) {
      await expectProblem(await asAgent(method, path, body, 'Trying'), 403, 'forbidden');
    }
  });

  it('never acts outside its tenant', async () => {
    await expectProblem(
      await asAgent('POST', '/invoices', draft, 'Elsewhere', { 'x-strongroom-tenant': 'demo' }),
      403,
      'forbidden',
    );
    await expectProblem(
      await asAgent('GET', '/invoices', undefined, undefined, { 'x-strongroom-tenant': 'demo' }),
      403,
      'forbidden',
    );
  });
});
