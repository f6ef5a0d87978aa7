/**
 * Audit entries the authorizer writes itself (AUD-1, AZ-5): an operator's request under
 * a support grant, and counted windows of failed API-key attempts. Each is committed to
 * the tenant's own log through the tenant-scoped client, like any other entry, with no
 * business write beside it.
 */
import { type ActorKind, type AuditEntry, type AuditOutcome, itemDigest } from '#shared/audit/entry';
import { newId } from '#shared/domain/ids';
import type { DataClients } from '#shared/store/dynamo';
import type { MutationWriter } from '#shared/store/mutation';

export interface AccessEvent {
  readonly tenantId: string;
  readonly actor: { readonly id: string; readonly kind: ActorKind };
  readonly action: string;
  readonly target: { readonly type: string; readonly id: string };
  readonly outcome: AuditOutcome;
  readonly requestId: string;
  readonly detail: NonNullable<AuditEntry['detail']>;
  /** The state the event produced (for example a failure window), digested into the entry. */
  readonly itemState?: unknown;
}

export function accessEntry(event: AccessEvent, now: Date): AuditEntry {
  return {
    v: 1,
    id: newId('aud', now.getTime()),
    tenantId: event.tenantId,
    time: now.toISOString(),
    actor: event.actor,
    action: event.action,
    target: event.target,
    outcome: event.outcome,
    requestId: event.requestId,
    ...(event.itemState === undefined ? {} : { itemDigest: itemDigest(event.itemState) }),
    detail: event.detail,
  };
}

export interface AccessAuditor {
  /** Commits the event's entry to the tenant's log; throws if it could not. */
  record(event: AccessEvent): Promise<string>;
}

export class LogAccessAuditor implements AccessAuditor {
  readonly #clients: Pick<DataClients, 'forTenant'>;
  readonly #mutations: Pick<MutationWriter, 'commit'>;
  readonly #now: () => Date;

  constructor(
    clients: Pick<DataClients, 'forTenant'>,
    mutations: Pick<MutationWriter, 'commit'>,
    now: () => Date = () => new Date(),
  ) {
    this.#clients = clients;
    this.#mutations = mutations;
    this.#now = now;
  }

  async record(event: AccessEvent): Promise<string> {
    const now = this.#now();
    const entry = accessEntry(event, now);
    await this.#mutations.commit(this.#clients.forTenant(event.tenantId), {
      tenantId: event.tenantId,
      writes: [],
      entry,
      now,
    });
    return entry.id;
  }
}
