/**
 * Builds the audit entry of a change (AUD-1): actor, time, action, target, outcome,
 * request id, the digest of the item state produced, and for agents their stated
 * reason with a digest of the inputs they sent (AZ-4).
 */
import { type AuditEntry, type AuditOutcome, itemDigest } from '#shared/audit/entry';
import type { Principal } from '#shared/auth/principal';
import { newId } from '#shared/domain/ids';

/** Who asked, in which request, with which inputs. */
export interface Actor {
  readonly principal: Principal;
  readonly requestId: string;
  readonly agentReason: string | undefined;
  /** The validated request body (or parameters) the change was made from. */
  readonly inputs: unknown;
}

export interface AuditedChange {
  readonly action: string;
  readonly target: { readonly type: string; readonly id: string };
  /** The item state the change produced; omitted for removals. */
  readonly itemState?: unknown;
  readonly outcome?: AuditOutcome;
}

export function auditEntryFor(actor: Actor, change: AuditedChange, now: Date): AuditEntry {
  const { principal } = actor;
  return {
    v: 1,
    id: newId('aud', now.getTime()),
    tenantId: principal.tenantId,
    time: now.toISOString(),
    actor: { id: principal.actorId, kind: principal.kind },
    action: change.action,
    target: change.target,
    outcome: change.outcome ?? 'success',
    requestId: actor.requestId,
    ...(change.itemState === undefined ? {} : { itemDigest: itemDigest(change.itemState) }),
    ...(principal.kind === 'agent'
      ? { agent: { reason: actor.agentReason ?? '', inputDigest: itemDigest(actor.inputs ?? null) } }
      : {}),
  };
}
