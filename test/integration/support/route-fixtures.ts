/**
 * Requests for every route of the route table, for the authorization matrix
 * (test/integration/authorization-matrix.test.ts). A route with neither path parameters
 * nor a body needs no entry here: it is called as declared. Any other route needs one,
 * or the matrix fails and names it, so a new route is never left out.
 *
 * A fixture builds the request against the victim tenant's world. `fresh` is true when
 * the call is expected to succeed: routes that change or consume their target (submit,
 * approve, remove, rotate, ...) then get a target of their own, in the state the
 * transition needs, made by the tenant's own people.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { TestGateway } from './gateway';
import { call } from './http';
import { uniqueEmail, uniqueTenantId } from './identities';

export interface RouteCall {
  /** The concrete path, query string included. */
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export type Fixture = (world: FixtureWorld, fresh: boolean) => Promise<RouteCall>;

interface Versioned {
  readonly id: string;
  readonly version: number;
}

export const draftInvoice = {
  currency: 'EUR',
  lines: [{ description: 'Matrix', quantity: '1', unitPrice: 100, vatRate: 0 }],
};

export const counterpartyBody = {
  kind: 'supplier',
  name: 'Matrix Supplies GmbH',
  address: { lines: ['Hauptstraße 1'], city: 'Berlin', postalCode: '10115', country: 'DE' },
};

const ifMatch = (version: number) => ({ 'if-match': `"v${version}"` });

/**
 * The victim tenant's targets, made through the API by its own people: the owner, a
 * maker (accountant) and a checker (approver), so maker-checker never stands in the way.
 */
export class FixtureWorld {
  readonly #gateway: TestGateway;
  readonly tenantId: string;
  readonly #owner: string;
  readonly #maker: string;
  readonly #checker: string;
  readonly #shared = new Map<string, Promise<unknown>>();
  auditEntryId = '';

  constructor(
    gateway: TestGateway,
    tenantId: string,
    tokens: { owner: string; maker: string; checker: string },
  ) {
    this.#gateway = gateway;
    this.tenantId = tenantId;
    this.#owner = tokens.owner;
    this.#maker = tokens.maker;
    this.#checker = tokens.checker;
  }

  async #json<T>(
    token: string,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) {
    const response = await call(this.#gateway, method, path, {
      token,
      ...(body === undefined ? {} : { body }),
      ...(headers === undefined ? {} : { headers }),
    });
    const text = await response.text();
    expect(response.status, `fixture ${method} ${path}: ${text}`).toBeLessThan(300);
    return { body: (text === '' ? undefined : JSON.parse(text)) as T, etag: response.headers.get('etag') };
  }

  /** One target per kind for calls that leave it as it was (reads and refusals). */
  #once<T>(kind: string, make: () => Promise<T>): Promise<T> {
    let made = this.#shared.get(kind) as Promise<T> | undefined;
    if (!made) {
      made = make();
      this.#shared.set(kind, made);
    }
    return made;
  }

  /** An invoice in a state of the workflow; shared unless `fresh`. */
  invoice(state: 'draft' | 'submitted' | 'approved' | 'issued', fresh: boolean): Promise<Versioned> {
    const make = async (): Promise<Versioned> => {
      let invoice = (await this.#json<Versioned>(this.#maker, 'POST', '/invoices', draftInvoice)).body;
      const step = async (token: string, verb: string) => {
        invoice = (
          await this.#json<Versioned>(
            token,
            'POST',
            `/invoices/${invoice.id}/${verb}`,
            {},
            ifMatch(invoice.version),
          )
        ).body;
      };
      if (state === 'draft') return invoice;
      await step(this.#maker, 'submit');
      if (state === 'submitted') return invoice;
      await step(this.#checker, 'approve');
      if (state === 'approved') return invoice;
      await step(this.#maker, 'issue');
      return invoice;
    };
    return fresh ? make() : this.#once(`invoice-${state}`, make);
  }

  counterparty(fresh: boolean): Promise<Versioned> {
    const make = async () =>
      (await this.#json<Versioned>(this.#maker, 'POST', '/counterparties', counterpartyBody)).body;
    return fresh ? make() : this.#once('counterparty', make);
  }

  /** A member with the auditor role, which an owner and an admin may both change. */
  member(fresh: boolean): Promise<Versioned> {
    const make = async () =>
      (
        await this.#json<Versioned>(this.#owner, 'POST', '/members', {
          email: uniqueEmail('matrix-member'),
          roles: ['auditor'],
        })
      ).body;
    return fresh ? make() : this.#once('member', make);
  }

  /** An API key with the auditor scope, which an owner and an admin may both rotate or revoke. */
  apiKey(fresh: boolean): Promise<Versioned> {
    const make = async () =>
      (await this.#json<Versioned>(this.#owner, 'POST', '/api-keys', { name: 'Matrix', scopes: ['auditor'] }))
        .body;
    return fresh ? make() : this.#once('api-key', make);
  }

  supportGrant(fresh: boolean): Promise<Versioned> {
    const make = async () =>
      (
        await this.#json<Versioned>(this.#owner, 'POST', '/support-grants', {
          roles: ['auditor'],
          durationMinutes: 60,
        })
      ).body;
    return fresh ? make() : this.#once('support-grant', make);
  }

  /** An export of the tenant, started by its owner (DAT-1); reading it changes nothing. */
  export(): Promise<{ id: string }> {
    return this.#once(
      'export',
      async () => (await this.#json<{ id: string }>(this.#owner, 'POST', '/exports', {})).body,
    );
  }

  /** The current settings and their ETag, read by the owner. */
  async settings(): Promise<{ body: Record<string, unknown>; etag: string }> {
    const { body, etag } = await this.#json<Record<string, unknown>>(this.#owner, 'GET', '/settings');
    const { version: _version, updatedAt: _updatedAt, updatedBy: _updatedBy, ...settings } = body;
    return { body: settings, etag: etag ?? '' };
  }
}

export const routeFixtures: Readonly<Record<string, Fixture>> = {
  createInvoice: async () => ({ path: '/invoices', body: draftInvoice }),
  getInvoice: async (world) => ({ path: `/invoices/${(await world.invoice('draft', false)).id}` }),
  editInvoice: async (world, fresh) => {
    const invoice = await world.invoice('draft', fresh);
    return { path: `/invoices/${invoice.id}`, body: draftInvoice, headers: ifMatch(invoice.version) };
  },
  submitInvoice: async (world, fresh) => {
    const invoice = await world.invoice('draft', fresh);
    return { path: `/invoices/${invoice.id}/submit`, body: {}, headers: ifMatch(invoice.version) };
  },
  approveInvoice: async (world, fresh) => {
    const invoice = await world.invoice('submitted', fresh);
    return { path: `/invoices/${invoice.id}/approve`, body: {}, headers: ifMatch(invoice.version) };
  },
  rejectInvoice: async (world, fresh) => {
    const invoice = await world.invoice('submitted', fresh);
    return {
      path: `/invoices/${invoice.id}/reject`,
      body: { reason: 'Wrong amount' },
      headers: ifMatch(invoice.version),
    };
  },
  issueInvoice: async (world, fresh) => {
    const invoice = await world.invoice('approved', fresh);
    return { path: `/invoices/${invoice.id}/issue`, body: {}, headers: ifMatch(invoice.version) };
  },
  voidInvoice: async (world, fresh) => {
    const invoice = await world.invoice('draft', fresh);
    return {
      path: `/invoices/${invoice.id}/void`,
      body: { reason: 'Duplicate' },
      headers: ifMatch(invoice.version),
    };
  },
  recordPayment: async (world, fresh) => ({
    path: `/invoices/${(await world.invoice('issued', fresh)).id}/payments`,
    body: { amount: 100, receivedOn: '2026-11-20' },
  }),
  listPayments: async (world) => ({ path: `/invoices/${(await world.invoice('draft', false)).id}/payments` }),
  updateSettings: async (world, fresh) => {
    if (!fresh) return { path: '/settings', body: (await world.settings()).body, headers: ifMatch(1) };
    const { body, etag } = await world.settings();
    return { path: '/settings', body, headers: { 'if-match': etag } };
  },
  getAuditEntry: async (world) => ({ path: `/audit/entries/${world.auditEntryId}` }),
  getConsistencyProof: async () => ({ path: '/audit/consistency?from=1' }),
  exportAuditLog: async () => ({ path: '/audit/export', body: {} }),
  createCounterparty: async () => ({ path: '/counterparties', body: counterpartyBody }),
  getCounterparty: async (world) => ({ path: `/counterparties/${(await world.counterparty(false)).id}` }),
  updateCounterparty: async (world, fresh) => {
    const counterparty = await world.counterparty(fresh);
    return {
      path: `/counterparties/${counterparty.id}`,
      body: { ...counterpartyBody, name: 'Matrix Supplies AG' },
      headers: ifMatch(counterparty.version),
    };
  },
  getMember: async (world) => ({ path: `/members/${(await world.member(false)).id}` }),
  inviteMember: async () => ({
    path: '/members',
    body: { email: uniqueEmail('matrix-invite'), roles: ['auditor'] },
  }),
  updateMember: async (world, fresh) => {
    const member = await world.member(fresh);
    return { path: `/members/${member.id}`, body: { status: 'disabled' }, headers: ifMatch(member.version) };
  },
  removeMember: async (world, fresh) => ({ path: `/members/${(await world.member(fresh)).id}` }),
  getApiKey: async (world) => ({ path: `/api-keys/${(await world.apiKey(false)).id}` }),
  createApiKey: async () => ({ path: '/api-keys', body: { name: 'Matrix', scopes: ['auditor'] } }),
  rotateApiKey: async (world, fresh) => ({
    path: `/api-keys/${(await world.apiKey(fresh)).id}/rotate`,
    body: {},
  }),
  revokeApiKey: async (world, fresh) => ({ path: `/api-keys/${(await world.apiKey(fresh)).id}` }),
  createSupportGrant: async () => ({
    path: '/support-grants',
    body: { roles: ['auditor'], durationMinutes: 60 },
  }),
  revokeSupportGrant: async (world, fresh) => ({
    path: `/support-grants/${(await world.supportGrant(fresh)).id}`,
  }),
  createTenant: async () => ({
    path: '/tenants',
    body: { tenantId: uniqueTenantId('matrix'), ownerEmail: uniqueEmail('matrix-owner') },
  }),
  // The last route of the table: the owner's call terminates the victim tenant for good.
  startExport: async () => ({ path: '/exports', body: {} }),
  getExport: async (world) => ({ path: `/exports/${(await world.export()).id}` }),
  terminateTenant: async (world) => ({ path: '/termination', body: { confirmTenantId: world.tenantId } }),
};

/** A request id for requests the matrix sends with an Idempotency-Key. */
export function matrixKey(): string {
  return `matrix-${randomBytes(8).toString('hex')}`;
}
