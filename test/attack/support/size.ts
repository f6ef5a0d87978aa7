/**
 * The SIZE knob of the attack suite. `npm test` runs every scenario bounded (seconds
 * each); `npm run attack` sets STRONGROOM_ATTACK_SIZE=full for the figures of issue 9
 * (at least 100,000 fuzzed requests and 10,000 cross-tenant attempts).
 */
export type AttackSize = 'bounded' | 'full';

export const attackSizeVariable = 'STRONGROOM_ATTACK_SIZE';

export function attackSize(): AttackSize {
  const value = process.env[attackSizeVariable];
  if (value === undefined || value === '' || value === 'bounded') return 'bounded';
  if (value === 'full') return 'full';
  throw new Error(`${attackSizeVariable} must be "bounded" or "full", got ${JSON.stringify(value)}`);
}

/**
 * Picks a scenario's settings for the current size. Any numeric setting can be overridden
 * for one run with STRONGROOM_ATTACK_<SCENARIO>_<SETTING>, e.g.
 * STRONGROOM_ATTACK_FUZZ_REQUESTS=20000.
 */
export function sized<T extends object>(
  settings: { readonly bounded: T; readonly full: T },
  size: AttackSize,
  scenario: string,
): T {
  const chosen = { ...settings[size] } as Record<string, unknown>;
  for (const [name, value] of Object.entries(chosen)) {
    if (typeof value !== 'number') continue;
    const variable =
      `STRONGROOM_ATTACK_${scenario}_${name.replace(/[A-Z]/g, (letter) => `_${letter}`)}`.toUpperCase();
    const given = process.env[variable];
    if (given === undefined || given === '') continue;
    const number = Number(given);
    if (!Number.isFinite(number) || number < 0) throw new Error(`${variable} must be a non-negative number`);
    chosen[name] = number;
  }
  return chosen as T;
}

/**
 * Seed of the fast-check generators, named in every finding so that it replays with
 * STRONGROOM_ATTACK_SEED: fixed for bounded runs (npm test stays deterministic), new for
 * each full run (npm run attack explores).
 */
export function attackSeed(size = attackSize()): number {
  const given = process.env.STRONGROOM_ATTACK_SEED;
  if (given === undefined || given === '') return size === 'bounded' ? 20_260_909 : Date.now() % 2 ** 31;
  const value = Number(given);
  if (!Number.isSafeInteger(value)) throw new Error('STRONGROOM_ATTACK_SEED must be an integer');
  return value;
}
