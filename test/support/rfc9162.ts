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

const node = (left: Buffer, right: Buffer) => sha256(Uint8Array.of(1), left, right);

/**
 * Recomputes the root from a leaf and its inclusion path by walking the RFC's recursive
 * definition of PATH (the last proof element is the top-level sibling); undefined when
 * the proof has the wrong length.
 */
export function referenceRootFromInclusion(
  m: number,
  n: number,
  leaf: Buffer,
  proof: readonly Buffer[],
): Buffer | undefined {
  if (n === 1) return proof.length === 0 ? leaf : undefined;
  const sibling = proof.at(-1);
  if (!sibling || m >= n) return undefined;
  const k = largestPowerOfTwoBelow(n);
  const rest = proof.slice(0, -1);
  if (m < k) {
    const left = referenceRootFromInclusion(m, k, leaf, rest);
    return left && node(left, sibling);
  }
  const right = referenceRootFromInclusion(m - k, n - k, leaf, rest);
  return right && node(sibling, right);
}

/**
 * Recomputes the old and new roots from a consistency proof by walking SUBPROOF's
 * recursive definition; undefined when the proof does not have the expected shape.
 */
export function referenceRootsFromConsistency(
  m: number,
  n: number,
  oldRoot: Buffer,
  proof: readonly Buffer[],
): { old: Buffer; new: Buffer } | undefined {
  type Roots = { old: Buffer; new: Buffer } | undefined;
  const walk = (size: number, width: number, complete: boolean, part: readonly Buffer[]): Roots => {
    if (size === width) {
      if (complete) return part.length === 0 ? { old: oldRoot, new: oldRoot } : undefined;
      return part.length === 1 ? { old: part[0] as Buffer, new: part[0] as Buffer } : undefined;
    }
    const sibling = part.at(-1);
    if (!sibling) return undefined;
    const k = largestPowerOfTwoBelow(width);
    const rest = part.slice(0, -1);
    if (size <= k) {
      const sub = walk(size, k, complete, rest);
      return sub && { old: sub.old, new: node(sub.new, sibling) };
    }
    const sub = walk(size - k, width - k, false, rest);
    return sub && { old: node(sibling, sub.old), new: node(sibling, sub.new) };
  };
  if (m < 1 || m > n) return undefined;
  if (m === n) return proof.length === 0 ? { old: oldRoot, new: oldRoot } : undefined;
  return walk(m, n, true, proof);
}
