/**
 * The environment every attack scenario runs in: the local stack (DynamoDB Local and
 * cognito-local, from the integration global setup or from `npm run attack`), the local
 * gateway with the same authorizer and handlers as `npm start`, and between the handlers
 * and DynamoDB Local the fault proxy (pass-through until a scenario arms it). The
 * scenarios' own reads (censuses, ledger checks) go straight to DynamoDB Local.
 */
import { LocalCheckpointSigner, signingKeyNamePrefix } from '#shared/crypto/signing';
import { signCheckpoint } from '#shared/services/audit';
import { AuditLog } from '#shared/store/audit-log';
import { startTestGateway, type TestGateway } from '#test/integration/support/gateway';
import { Identities, type TestMember, uniqueTenantId } from '#test/integration/support/identities';
import type { LocalStackInfo } from '#test/integration/support/local-stack';
import { FixtureWorld } from '#test/integration/support/route-fixtures';
import { type FaultProxy, startFaultProxy } from './fault-proxy';
import type { LedgerContext } from './ledger';
import { endpointOf, lastRequestByPort, type RawEndpoint } from './raw-http';

export interface AttackEnv {
  readonly stack: LocalStackInfo;
  readonly gateway: TestGateway;
  /** The gateway's address for raw-socket requests. */
  readonly endpoint: RawEndpoint;
  readonly proxy: FaultProxy;
  readonly identities: Identities;
  readonly ledger: LedgerContext;
  /** Moves the authorizer's clock forward (cache lifetimes, key expiry, throttling windows). */
  advanceAuthorizerClock(milliseconds: number): void;
  close(): Promise<void>;
}

export async function startAttackEnv(stack: LocalStackInfo): Promise<AttackEnv> {
  const proxy = await startFaultProxy(stack.dynamoEndpoint);
  let offset = 0;
  const gateway = await startTestGateway(
    { ...stack, dynamoEndpoint: proxy.endpoint },
    { authorizerClock: () => Date.now() + offset },
  );
  const identities = new Identities(stack);
  return {
    stack,
    gateway,
    endpoint: endpointOf(gateway.url),
    proxy,
    identities,
    ledger: {
      clients: identities.clients,
      auditLog: new AuditLog(stack.stage),
      stage: stack.stage,
      dataDir: stack.dataDir,
    },
    advanceAuthorizerClock(milliseconds) {
      offset += milliseconds;
    },
    async close() {
      const closing = gateway.close();
      if (process.env.STRONGROOM_ATTACK_DEBUG_CLOSE === '1') {
        const late = setTimeout(() => {
          const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
          for (const handle of handles) {
            const socket = handle as {
              constructor: { name: string };
              localPort?: number;
              remotePort?: number;
              destroyed?: boolean;
              pending?: boolean;
              readyState?: string;
            };
            process.stderr.write(
              `open handle ${socket.constructor.name} ${socket.localPort}->${socket.remotePort} ${socket.readyState} ${JSON.stringify(lastRequestByPort.get(socket.remotePort ?? 0))}\n`,
            );
          }
        }, 15_000);
        await closing;
        clearTimeout(late);
      }
      await closing;
      await proxy.close();
      identities.destroy();
    },
  };
}

/** A tenant of its own with one person per role (real cognito-local users and tokens). */
export interface AttackTenant {
  readonly tenantId: string;
  readonly owner: TestMember;
  readonly admin: TestMember;
  readonly accountant: TestMember;
  readonly approver: TestMember;
  readonly auditor: TestMember;
  /** Builds targets in this tenant through the API, as its own people would. */
  readonly world: FixtureWorld;
}

export const laneRoles = ['owner', 'admin', 'accountant', 'approver', 'auditor'] as const;

export async function createAttackTenant(
  env: AttackEnv,
  prefixOrId: string,
  exactId = false,
): Promise<AttackTenant> {
  const tenantId = exactId ? prefixOrId : uniqueTenantId(prefixOrId);
  const people: Partial<Record<(typeof laneRoles)[number], TestMember>> = {};
  for (const role of laneRoles) people[role] = await env.identities.addMember(tenantId, [role]);
  const { owner, admin, accountant, approver, auditor } = people as Record<
    (typeof laneRoles)[number],
    TestMember
  >;
  return {
    tenantId,
    owner,
    admin,
    accountant,
    approver,
    auditor,
    world: new FixtureWorld(env.gateway, tenantId, {
      owner: owner.token,
      maker: accountant.token,
      checker: approver.token,
    }),
  };
}

/**
 * Gives the tenant an invoice, a signed checkpoint (as the scheduled signer would) and the
 * id of its first audit entry in `world.auditEntryId`, so the audit routes have targets.
 */
export async function withAuditTargets(env: AttackEnv, tenant: AttackTenant): Promise<void> {
  await tenant.world.invoice('draft', false);
  const context = { clients: env.identities.clients, auditLog: env.ledger.auditLog, now: () => new Date() };
  await signCheckpoint(
    context,
    new LocalCheckpointSigner(env.stack.dataDir, signingKeyNamePrefix(env.stack.stage)),
    tenant.tenantId,
  );
  const [first] = await env.ledger.auditLog.entriesFrom(
    env.identities.clients.forTenant(tenant.tenantId),
    tenant.tenantId,
    0,
    1,
  );
  tenant.world.auditEntryId = first?.entry.id ?? '';
}
