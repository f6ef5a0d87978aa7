/**
 * LOG-1 over a full tenant lifecycle, in one process: every line the handlers, the
 * authorizer, the stores and the local gateway write (at DEBUG) while a tenant is used,
 * fails requests, issues and uses an API key, is terminated and purged, is captured; none
 * holds the demo IBAN (as sent or normalised), an access token, the API key or an email.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCheckpointSigner } from '#shared/crypto/signing';
import { logger } from '#shared/observability/logger';
import { createServiceContext } from '#shared/services/context';
import { purgeTenant } from '#shared/services/lifecycle';
import { startTestGateway, type TestGateway } from './support/gateway';
import { localRuntimeConfig } from './support/local-stack';
import { createTestTenant, type TestTenant } from './support/test-tenant';

let gateway: TestGateway;
let tenant: TestTenant;
const captured: string[] = [];
const spies: { mockRestore(): void }[] = [];

const ibanAsSent = 'NL91 ABNA 0417 1643 00';
const iban = 'NL91ABNA0417164300';
const badIban = 'NL91ABNA0417164301';

beforeAll(async () => {
  logger.setLogLevel('DEBUG');
  for (const stream of [process.stdout, process.stderr]) {
    spies.push(
      vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown) => {
        captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
        return true;
      }) as never),
    );
  }
  gateway = await startTestGateway();
  tenant = await createTestTenant('logs', ['owner', 'admin', 'accountant', 'auditor']);
});

afterAll(async () => {
  for (const spy of spies) spy.mockRestore();
  logger.setLogLevel('SILENT');
  await gateway?.close();
});

function send(credential: string, method: string, path: string, body?: unknown): Promise<Response> {
  return gateway.call(path, {
    method,
    headers: {
      authorization: credential,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const bearer = (role: string) => `Bearer ${tenant.user(role).token}`;

describe('[LOG-1][DAT-3] no secret or personal data in any log line of a lifecycle run', () => {
  it('logs the run without IBAN, token, API key or email', async () => {
    const supplier = {
      kind: 'supplier',
      name: 'Logboek Leveranciers B.V.',
      address: { lines: ['Damrak 1'], city: 'Amsterdam', postalCode: '1012 LG', country: 'NL' },
      iban: ibanAsSent,
    };
    expect((await send(bearer('accountant'), 'POST', '/counterparties', supplier)).status).toBe(201);
    // Refused input that quotes the IBAN: logged as a refusal, without the value.
    expect(
      (await send(bearer('accountant'), 'POST', '/counterparties', { ...supplier, iban: badIban })).status,
    ).toBe(400);
    const invoice = await send(bearer('accountant'), 'POST', '/invoices', {
      currency: 'EUR',
      lines: [{ description: 'Logged work', quantity: '1', unitPrice: 1_000, vatRate: 2100 }],
    });
    expect(invoice.status).toBe(201);

    const created = await send(bearer('admin'), 'POST', '/api-keys', {
      name: 'Log sync',
      scopes: ['auditor'],
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { key } = (await created.json()) as { key: string };
    expect((await send(`ApiKey ${key}`, 'GET', '/invoices')).status).toBe(200);
    const wrongKey = `${key.slice(0, -4)}${key.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect((await send(`ApiKey ${wrongKey}`, 'GET', '/invoices')).status).toBe(401);
    expect(
      (await send(`Bearer ${tenant.user('owner').token.slice(0, -6)}abcdef`, 'GET', '/invoices')).status,
    ).toBe(401);

    const terminated = await send(bearer('owner'), 'POST', '/termination', {
      confirmTenantId: tenant.tenantId,
    });
    expect(terminated.status).toBe(202);
    expect(
      (await send(bearer('accountant'), 'POST', '/invoices', { currency: 'EUR', lines: [] })).status,
    ).toBeGreaterThanOrEqual(400);
    const { exportableUntil } = (await terminated.json()) as { exportableUntil: string };
    const config = localRuntimeConfig();
    await purgeTenant(
      { ...createServiceContext(config), now: () => new Date(Date.parse(exportableUntil) + 1) },
      tenant.tenantId,
      { signer: createCheckpointSigner(config) },
    );

    const text = [...captured, ...gateway.accessLog.map((entry) => JSON.stringify(entry))].join('');
    // The run did log: refusals, the API-key failure, the access log.
    expect(text).toContain('request refused');
    expect(text).toContain('api key refused');
    expect(gateway.accessLog.length).toBeGreaterThanOrEqual(9);
    const forbidden = [
      iban,
      ibanAsSent,
      badIban,
      key,
      wrongKey.slice(-20),
      ...['owner', 'admin', 'accountant', 'auditor'].flatMap((role) => [
        tenant.user(role).token,
        tenant.user(role).token.split('.')[2] ?? '',
        tenant.user(role).email,
      ]),
    ];
    for (const secret of forbidden)
      expect(text.includes(secret), `a log line holds ${secret.slice(0, 12)}…`).toBe(false);
    expect(text).not.toMatch(/@logs-[a-z0-9]+\.strongroom\.test/);
  });
});
