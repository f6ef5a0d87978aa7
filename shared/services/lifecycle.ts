/**
 * Tenant termination and purge (DAT-2). The owner terminates: one transaction marks the
 * registry record `terminated` (with time and export deadline) and appends the audit
 * entry, and from that commit on every business change of the tenant fails its registry
 * condition (mutation.ts): the tenant is read-only at once. Exports stay possible for
 * `exportWindowDays`. Then the purge (a platform job; locally on demand with an injectable
 * clock) deletes the tenant's items, schedules its KMS key for deletion (locally deletes the
 * key file), marks the record `purged` with the final audit entry, and signs a final
 * checkpoint. Every remaining copy of its items (backups, snapshots) holds only seals under
 * data keys that only the deleted key could unwrap.
 *
 * The audit log itself is kept (pseudonymous, DAT-3; verifiable without tenant keys).
 */
import { BatchWriteCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry } from '#shared/audit/entry';
import type { Principal } from '#shared/auth/principal';
import type { CheckpointSigner } from '#shared/crypto/signing';
import { ConflictError, StrongroomError, ValidationError } from '#shared/domain/errors';
import { newId } from '#shared/domain/ids';
import type { StoredCheckpoint } from '#shared/store/audit-log';
import { type TableId, tableName } from '#shared/store/tables';
import type { TenantRecord } from '#shared/store/tenants';
import { signCheckpoint } from './audit';
import { auditEntryFor } from './audit-entries';
import type { ServiceContext } from './context';

/** How long a terminated tenant stays exportable before the purge (DAT-2). */
export const exportWindowDays = 30;

/** Tables whose items of a tenant the purge deletes; the audit log stays. */
export const purgedTables: readonly TableId[] = ['data', 'idempotency', 'members'];

export class TenantNotActiveError extends StrongroomError {
  readonly code = 'tenant-not-active';
  readonly status = 409;
}

export interface TerminationView {
  readonly tenantId: string;
  readonly status: 'terminated';
  readonly terminatedAt: string;
  readonly exportableUntil: string;
}

export interface TerminateCommand {
  readonly principal: Principal;
  readonly requestId: string;
  /** The tenant id typed again by the owner: termination is never one stray click. */
  readonly confirmTenantId: string;
}

export async function terminateTenant(
  context: ServiceContext,
  command: TerminateCommand,
): Promise<TerminationView> {
  const { principal } = command;
  const { tenantId } = principal;
  if (command.confirmTenantId !== tenantId) {
    throw new ValidationError('confirmTenantId must be the id of the tenant being terminated.');
  }
  const keyring = context.clients.keyring;
  const platform = context.clients.platform();
  // A tenant that never sealed anything may have no record yet (locally): give it one.
  const record = (await keyring.registry.get(platform, tenantId)) ?? (await keyring.provision(tenantId));
  if (record.status !== 'active') {
    throw new TenantNotActiveError(`This tenant is already ${record.status}.`, { status: record.status });
  }
  const now = context.now();
  const exportableUntil = new Date(now.getTime() + exportWindowDays * 86_400_000).toISOString();
  const terminated: TenantRecord = {
    ...record,
    status: 'terminated',
    terminatedAt: now.toISOString(),
    terminatedBy: principal.actorId,
    exportableUntil,
    version: record.version + 1,
  };
  const view: TerminationView = {
    tenantId,
    status: 'terminated',
    terminatedAt: now.toISOString(),
    exportableUntil,
  };
  const entry = auditEntryFor(
    {
      principal,
      requestId: command.requestId,
      agentReason: undefined,
      inputs: { confirmTenantId: tenantId },
    },
    { action: 'tenant.terminate', target: { type: 'tenant', id: tenantId }, itemState: view },
    now,
  );
  // The registry is written by the platform's client: tenant sessions may only read it.
  await context.mutations.commit(platform, {
    tenantId,
    writes: [keyring.registry.replaceWrite(terminated, record.version)],
    entry,
    now,
    requireActiveTenant: false,
    conditionFailed: () => new ConflictError('The tenant changed while it was being terminated; retry.'),
  });
  keyring.forget(tenantId);
  return view;
}

/** The tenant's lifecycle state, for GET /termination. */
export async function tenantLifecycle(context: ServiceContext, tenantId: string) {
  const record = await context.clients.keyring.registry.get(context.clients.platform(), tenantId);
  return {
    tenantId,
    status: record?.status ?? 'active',
    ...(record?.terminatedAt ? { terminatedAt: record.terminatedAt } : {}),
    ...(record?.exportableUntil ? { exportableUntil: record.exportableUntil } : {}),
  };
}

// ---------------------------------------------------------------------------------------
// Purge

export interface PurgeResult {
  readonly tenantId: string;
  /** Items deleted per table. */
  readonly deleted: Readonly<Record<string, number>>;
  readonly keyDeletionDate: string | undefined;
  readonly finalEntryId: string;
  readonly checkpoint: StoredCheckpoint | undefined;
}

export interface PurgeOptions {
  /** The checkpoint signer (KeyService.checkpointSigner()). */
  readonly signer: CheckpointSigner;
  /** Purge before the export window ended (an operator's decision, audited as such). @default false */
  readonly beforeExportWindowEnds?: boolean;
}

/** Every key (pk, sk) of the tenant in a table: a cross-tenant job's scan, keys only (nothing to open). */
async function tenantKeys(
  client: DynamoDBDocumentClient,
  table: string,
  tenantId: string,
): Promise<{ pk: string; sk: string }[]> {
  const keys: { pk: string; sk: string }[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: table,
        ProjectionExpression: 'pk, sk',
        FilterExpression: 'begins_with(pk, :prefix)',
        ExpressionAttributeValues: { ':prefix': `${tenantId}#` },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) keys.push({ pk: String(item.pk), sk: String(item.sk) });
    start = page.LastEvaluatedKey;
  } while (start);
  return keys;
}

async function deleteAll(
  client: DynamoDBDocumentClient,
  table: string,
  keys: readonly { pk: string; sk: string }[],
): Promise<void> {
  for (let offset = 0; offset < keys.length; offset += 25) {
    let request: Record<string, { DeleteRequest: { Key: Record<string, unknown> } }[]> | undefined = {
      [table]: keys.slice(offset, offset + 25).map((Key) => ({ DeleteRequest: { Key } })),
    };
    while (request && Object.keys(request).length > 0) {
      const result = await client.send(new BatchWriteCommand({ RequestItems: request }));
      request = result.UnprocessedItems as typeof request;
    }
  }
}

/**
 * Purges one terminated tenant whose export window has ended (DAT-2). Safe to run again
 * after a crash: deletions and the key's scheduled deletion are idempotent, and the record
 * turns `purged` only with the final audit entry.
 */
export async function purgeTenant(
  context: ServiceContext,
  tenantId: string,
  options: PurgeOptions,
): Promise<PurgeResult> {
  const keyring = context.clients.keyring;
  const platform = context.clients.platform();
  const record = await keyring.registry.get(platform, tenantId);
  if (!record) throw new TenantNotActiveError(`Tenant ${tenantId} has no registry record.`);
  if (record.status !== 'terminated') {
    throw new TenantNotActiveError(`Only a terminated tenant is purged; ${tenantId} is ${record.status}.`);
  }
  const now = context.now();
  if (
    !options.beforeExportWindowEnds &&
    record.exportableUntil &&
    now.toISOString() < record.exportableUntil
  ) {
    throw new TenantNotActiveError(`Tenant ${tenantId} stays exportable until ${record.exportableUntil}.`);
  }

  const deleted: Record<string, number> = {};
  for (const table of purgedTables) {
    const name = tableName(context.config.stage, table);
    const keys = await tenantKeys(platform, name, tenantId);
    await deleteAll(platform, name, keys);
    deleted[table] = keys.length;
  }

  const scheduled = await keyring.keyService.scheduleTenantKeyDeletion(tenantId, record.keyRef);
  const keyDeletionDate = scheduled.deletionDate?.toISOString();
  const purged: TenantRecord = {
    ...record,
    status: 'purged',
    purgedAt: now.toISOString(),
    // The wrapped keys are useless without the tenant key; the record keeps none.
    dataKeys: new Map(),
    ...(keyDeletionDate ? { keyDeletionDate } : {}),
    version: record.version + 1,
  };
  const entry: AuditEntry = {
    v: 1,
    id: newId('aud', now.getTime()),
    tenantId,
    time: now.toISOString(),
    actor: { id: 'system:purge', kind: 'system' },
    action: 'tenant.purge',
    target: { type: 'tenant', id: tenantId },
    outcome: 'success',
    requestId: `purge-${now.getTime()}`,
    detail: {
      ...Object.fromEntries(Object.entries(deleted).map(([table, count]) => [`deleted.${table}`, count])),
      keyDeletion: keyDeletionDate ?? 'deleted',
      beforeExportWindowEnds: options.beforeExportWindowEnds === true,
    },
  };
  await context.mutations.commit(platform, {
    tenantId,
    writes: [keyring.registry.replaceWrite(purged, record.version)],
    entry,
    now,
    requireActiveTenant: false,
  });
  keyring.forget(tenantId);
  // The final checkpoint covers the final entry: the log's last word is signed.
  const checkpoint = await signCheckpoint(context, options.signer, tenantId);
  return { tenantId, deleted, keyDeletionDate, finalEntryId: entry.id, checkpoint };
}

/** The scheduled job: purges every terminated tenant whose export window has ended at `now`. */
export async function purgeExpiredTenants(
  context: ServiceContext,
  options: PurgeOptions,
): Promise<PurgeResult[]> {
  const now = context.now().toISOString();
  const due = (await context.clients.keyring.registry.list(context.clients.platform())).filter(
    (record) =>
      record.status === 'terminated' && record.exportableUntil !== undefined && record.exportableUntil <= now,
  );
  const results: PurgeResult[] = [];
  for (const record of due) results.push(await purgeTenant(context, record.tenantId, options));
  return results;
}
