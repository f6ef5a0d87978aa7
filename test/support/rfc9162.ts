/**
 * An independent RFC 9162 implementation written straight from the RFC's recursive
 * definitions (2.1.1, 2.1.3.1, 2.1.4.1), sharing no code with shared/audit. Tests use
 * it as the reference the production code must agree with.
 */
import { createHash } from 'node:crypto';

const sha256 = (...parts: Uint8Array[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

export const referenceLeafHash = (entry: Uint8Array) => sha256(Uint8Array.of(0), entry);

const largestPowerOfTwoBelow = (n: number) => 2 ** Math.floor(Math.log2(n - 1));

/** MTH(D[n]) over leaf hashes. */
export function referenceRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0] as Buffer;
  const k = largestPowerOfTwoBelow(leaves.length);
  return sha256(Uint8Array.of(1), referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/** PATH(m, D[n]). */
export function referencePath(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = largestPowerOfTwoBelow(leaves.length);
  return m < k
    ? [...referencePath(m, leaves.slice(0, k)), referenceRoot(leaves.slice(k))]
    : [...referencePath(m - k, leaves.slice(k)), referenceRoot(leaves.slice(0, k))];
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true). */
export function referenceConsistency(m: number, leaves: readonly Buffer[]): Buffer[] {
  const subproof = (size: number, part: readonly Buffer[], complete: boolean): Buffer[] => {
    if (size === part.length) return complete ? [] : [referenceRoot(part)];
    const k = largestPowerOfTwoBelow(part.length);
    return size <= k
      ? [...subproof(size, part.slice(0, k), complete), referenceRoot(part.slice(k))]
      : [...subproof(size - k, part.slice(k), false), referenceRoot(part.slice(0, k))];
  };
  return m === leaves.length ? [] : subproof(m, leaves, true);
}
