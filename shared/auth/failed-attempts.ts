/**
 * Throttling of failed API-key attempts (the app part of AUTH-2) and their audit (AUD-1).
 *
 * Failures are counted per key id AND source address in fixed windows. Once a pair has
 * `limit` failures in a window, further attempts from that pair are refused without
 * checking the secret until the window ends. The pair, not the key: a stranger who knows
 * a key id can only throttle themselves, while the real integration calling from its own
 * address keeps working.
 *
 * Counts live in the members table (atomic ADD, so every authorizer container sees the
 * same count) and in memory (so a throttled pair costs no read). The tenant's audit log
 * gets counted windows, not one entry per attempt: an entry when a pair's window sees its
 * first failure, one when it reaches the limit, and one at every tenfold of the limit
 * after that, each carrying the count so far.
 */
import type { AccessAuditor } from '#shared/services/access-audit';
import type { ApiKeyStore } from '#shared/store/api-keys';
import type { DataClients } from '#shared/store/dynamo';

export interface FailedAttemptSettings {
  /** Failures of one key id from one source per window before that pair is throttled. */
  readonly limit: number;
  readonly windowMs: number;
}

export const defaultFailedAttemptSettings: FailedAttemptSettings = { limit: 10, windowMs: 5 * 60_000 };

export interface FailedAttemptDependencies {
  readonly keys: Pick<ApiKeyStore, 'countFailure'>;
  readonly clients: Pick<DataClients, 'forTenant'>;
  readonly auditor: AccessAuditor;
  readonly now: () => number;
  readonly settings?: FailedAttemptSettings;
}

const maxTrackedPairs = 10_000;

/** Whether the count is one the log records: the first, the limit, and every tenfold after. */
export function isAuditedCount(failures: number, limit: number): boolean {
  if (failures === 1) return true;
  if (failures < limit || failures % limit !== 0) return false;
  let multiple = failures / limit;
  while (multiple % 10 === 0) multiple /= 10;
  return multiple === 1;
}

export class FailedAttempts {
  readonly #deps: FailedAttemptDependencies;
  readonly #settings: FailedAttemptSettings;
  readonly #counts = new Map<string, { windowStart: number; failures: number }>();

  constructor(deps: FailedAttemptDependencies) {
    this.#deps = deps;
    this.#settings = deps.settings ?? defaultFailedAttemptSettings;
  }

  get settings(): FailedAttemptSettings {
    return this.#settings;
  }

  #windowStart(): number {
    const now = this.#deps.now();
    return now - (now % this.#settings.windowMs);
  }

  /** Whether this key id from this source is throttled in the current window. */
  isThrottled(keyId: string, sourceId: string): boolean {
    const state = this.#counts.get(`${keyId}|${sourceId}`);
    return (
      state !== undefined &&
      state.windowStart === this.#windowStart() &&
      state.failures >= this.#settings.limit
    );
  }

  /**
   * Counts a failed attempt. With the key's tenant known, the count is shared and
   * audited; for a key id that exists nowhere it stays in memory (there is no tenant).
   */
  async record(
    tenantId: string | undefined,
    keyId: string,
    sourceId: string,
    requestId: string,
  ): Promise<number> {
    const windowStart = this.#windowStart();
    const pair = `${keyId}|${sourceId}`;
    const local = this.#counts.get(pair);
    let failures = local !== undefined && local.windowStart === windowStart ? local.failures + 1 : 1;
    if (tenantId !== undefined) {
      failures = Math.max(
        failures,
        await this.#deps.keys.countFailure(
          this.#deps.clients.forTenant(tenantId),
          tenantId,
          keyId,
          sourceId,
          windowStart,
        ),
      );
    }
    this.#counts.delete(pair);
    if (this.#counts.size >= maxTrackedPairs) this.#counts.delete(this.#counts.keys().next().value ?? '');
    this.#counts.set(pair, { windowStart, failures });

    if (tenantId !== undefined && isAuditedCount(failures, this.#settings.limit)) {
      const window = {
        keyId,
        source: sourceId,
        windowStart: new Date(windowStart).toISOString(),
        windowSeconds: this.#settings.windowMs / 1000,
        failures,
      };
      await this.#deps.auditor.record({
        tenantId,
        actor: { id: 'authorizer', kind: 'system' },
        action: 'apikey.authentication-failed',
        target: { type: 'apiKey', id: keyId },
        outcome: 'denied',
        requestId,
        detail: {
          failures,
          windowStart: window.windowStart,
          windowSeconds: window.windowSeconds,
          source: sourceId,
          throttled: failures >= this.#settings.limit,
        },
        itemState: window,
      });
    }
    return failures;
  }
}
