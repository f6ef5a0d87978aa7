/**
 * Onboarding (DESIGN.md, Identity): the platform operator creates a tenant. One
 * transaction registers the tenant id (refused if taken or reserved), makes the owner a
 * member, and writes the first entry of the new tenant's audit log and an entry in the
 * platform's own log. The owner is invited through the user directory (Cognito
 * AdminCreateUser in AWS, which mails the invitation).
 *
 * Keys: the tenant's multi-Region KMS key, its first data key and its registry record come
 * from the data-protection work's keyring (`tenantKeyProvisioner` in
 * shared/store/tenant-keyring.ts) through the `TenantKeyProvisioner` seam, called before
 * the transaction: a key failure registers nothing, and a retry finds the keys made.
 */
import type { ActorKind } from '#shared/audit/entry';
import { ConflictError, ValidationError } from '#shared/domain/errors';
import { platformTenantId } from '#shared/rbac/permissions';
import { requestFingerprint, type StoredResponse } from '#shared/store/idempotency';
import { identityIdOf, type Member } from '#shared/store/members';
import { type OnboardingRecord, OnboardingRecords } from '#shared/store/onboarding-records';
import { TenantRegistry } from '#shared/store/tenants';
import { isTenantId } from '#shared/tenancy/tenant-id';
import { accessEntry } from './access-audit';
import type { IdentityContext } from './identity-context';

/** The seam to the KeyService: creates the tenant's keys and says how to find them. */
export interface TenantKeyProvisioner {
  provision(tenantId: string): Promise<Readonly<Record<string, string>>>;
}

/** Ids no customer may take: the platform's own, and the demo tenants of the local runtime. */
export const reservedTenantIds: readonly string[] = [platformTenantId, 'admin', 'api', 'www', 'strongroom'];

export interface OnboardCommand {
  readonly tenantId: string;
  readonly ownerEmail: string;
  /** The operator or the onboarding command. */
  readonly actor: { readonly id: string; readonly kind: ActorKind };
  readonly requestId: string;
  readonly idempotencyKey: string | undefined;
  readonly respond: (tenant: OnboardingRecord, owner: Member) => StoredResponse;
}

export interface OnboardingContext extends IdentityContext {
  readonly keys: TenantKeyProvisioner;
}

export async function onboardTenant(
  context: OnboardingContext,
  command: OnboardCommand,
): Promise<StoredResponse> {
  const { tenantId } = command;
  if (!isTenantId(tenantId) || reservedTenantIds.includes(tenantId)) {
    throw new ValidationError(
      'The tenant id must match [a-z0-9-]+ (up to 63 characters) and not be reserved.',
    );
  }
  // Onboarding crosses tenants (registry, new tenant, platform log): its own platform client.
  const client = context.clients.platform();
  const registry = new OnboardingRecords(context.config.stage);
  const fingerprint = requestFingerprint(command.actor.id, 'createTenant', {
    tenantId,
    ownerEmail: command.ownerEmail.toLowerCase(),
  });
  // The idempotency record lives with the tenant the request creates (the commit writes it there).
  if (command.idempotencyKey !== undefined) {
    const replayed = await context.mutations.replay(client, tenantId, command.idempotencyKey, fingerprint);
    if (replayed) return replayed;
  }
  // Taken if onboarded before, or known to the key registry in any state (terminated, purged).
  const known = await Promise.all([
    registry.get(client, tenantId),
    new TenantRegistry(context.config.stage).get(client, tenantId),
  ]);
  if (known.some((record) => record !== undefined)) throw new ConflictError('A tenant with this id exists.');

  const keys = await context.keys.provision(tenantId);
  const { subject } = await context.directory().ensureUser(command.ownerEmail);
  const now = context.now();
  const tenant: OnboardingRecord = {
    tenantId,
    status: 'active',
    createdAt: now.toISOString(),
    createdBy: command.actor.id,
    keys,
  };
  const owner: Member = {
    tenantId,
    identityId: identityIdOf(context.issuer, subject),
    issuer: context.issuer,
    subject,
    roles: ['owner'],
    status: 'active',
    createdAt: now.toISOString(),
    version: 1,
    invitedBy: command.actor.id,
  };
  const created = (target: { type: string; id: string }, logTenant: string) =>
    accessEntry(
      {
        tenantId: logTenant,
        actor: command.actor,
        action: 'tenant.create',
        target,
        outcome: 'success',
        requestId: command.requestId,
        detail: { tenantId, owner: owner.identityId, keys: tenant.keys.status ?? 'provisioned' },
        itemState: tenant,
      },
      now,
    );
  const tenantEntry = created({ type: 'tenant', id: tenantId }, tenantId);
  const platformEntry = created({ type: 'tenant', id: tenantId }, platformTenantId);
  const response = command.respond(tenant, owner);
  const result = await context.mutations.commit(client, {
    tenantId,
    writes: [
      registry.createWrite(tenant),
      context.members.write(owner, undefined),
      ...context.auditLog.pendingEntryWrites(platformEntry),
    ],
    entry: tenantEntry,
    ...(command.idempotencyKey === undefined
      ? {}
      : { idempotency: { key: command.idempotencyKey, record: { fingerprint, response } } }),
    now,
  });
  if (result.kind === 'replayed') return result.response;
  // The new tenant's entry is folded by the commit; the platform log's here (or by the poller).
  await context.auditLog.fold(client, platformTenantId, platformEntry.id).catch(() => undefined);
  return response;
}
