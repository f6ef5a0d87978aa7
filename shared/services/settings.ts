/**
 * Tenant settings: read by anyone with settings:read, replaced by owners and admins with
 * If-Match. A retention below the legal minimum of the tenant's jurisdiction is refused
 * before anything is written (DAT-4); a body without `retention` keeps the current one.
 */
import type { Principal } from '#shared/auth/principal';
import { PreconditionFailedError } from '#shared/domain/errors';
import { checkRetention, type TenantSettings } from '#shared/domain/settings';
import type { SettingsBody } from '#shared/http/schemas/settings';
import type { StoredResponse } from '#shared/store/idempotency';
import { auditEntryFor } from './audit-entries';
import type { ServiceContext } from './context';

export function getSettings(context: ServiceContext, principal: Principal): Promise<TenantSettings> {
  return context.settings.get(context.clients.forTenant(principal.tenantId), principal.tenantId);
}

export interface UpdateSettingsCommand {
  readonly principal: Principal;
  readonly requestId: string;
  readonly body: SettingsBody;
  /** The versions the client's If-Match names. */
  readonly expectedVersions: readonly number[];
  readonly respond: (settings: TenantSettings) => StoredResponse;
}

export async function updateSettings(
  context: ServiceContext,
  command: UpdateSettingsCommand,
): Promise<StoredResponse> {
  const { principal } = command;
  const client = context.clients.forTenant(principal.tenantId);
  const current = await context.settings.get(client, principal.tenantId);
  // Settings that were never saved are at version 0 and their ETag is "v1"-less: accept the defaults' ETag.
  const currentVersion = Math.max(current.version, 1);
  if (!command.expectedVersions.includes(currentVersion)) {
    throw new PreconditionFailedError('The settings changed since you read them; read them again.');
  }
  const retention = command.body.retention ?? current.retention;
  checkRetention(retention);
  const now = context.now();
  const settings: TenantSettings = {
    ...command.body,
    retention,
    version: currentVersion + 1,
    updatedAt: now.toISOString(),
    updatedBy: principal.actorId,
  };
  const entry = auditEntryFor(
    { principal, requestId: command.requestId, agentReason: undefined, inputs: command.body },
    { action: 'settings.update', target: { type: 'settings', id: principal.tenantId }, itemState: settings },
    now,
  );
  await context.mutations.commit(client, {
    tenantId: principal.tenantId,
    writes: [context.settings.saveWrite(principal.tenantId, settings, current.version)],
    entry,
    now,
    conditionFailed: () =>
      new PreconditionFailedError('The settings changed since you read them; read them again.'),
  });
  return command.respond(settings);
}
