import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  consistencyRanges,
  emptyRoot,
  hashLeaf,
  inclusionRanges,
  type NodeAddress,
  nodeKey,
  rangeHash,
  rangeNodes,
} from '#shared/audit/merkle';
import { verifyConsistency, verifyInclusion } from '#shared/audit/proofs';
import {
  referenceConsistency,
  referenceLeafHash,
  referencePath,
  referenceRoot,
  referenceRootFromInclusion,
  referenceRootsFromConsistency,
} from '#test/support/rfc9162';

function buildLog(size: number) {
  const leaves = Array.from({ length: size }, (_, index) => hashLeaf(Buffer.from(`entry ${index}`)));
  const range = new CompactRange();
  const stored = new Map<string, Buffer>();
  const roots: Buffer[] = [emptyRoot];
  for (const leaf of leaves) {
    for (const node of range.append(leaf)) stored.set(nodeKey(node), node.hash);
    roots.push(range.root());
  }
  const node = (address: NodeAddress) => {
    const hash = stored.get(nodeKey(address));
    if (!hash) throw new Error(`node ${nodeKey(address)} was never stored`);
    return hash;
  };
  return { leaves, range, roots, node };
}

describe('[AUD-3] RFC 9162 Merkle log', () => {
  it('hashes leaves as SHA-256(0x00 ‖ bytes), like the reference', () => {
    expect(hashLeaf(Buffer.from('abc'))).toEqual(referenceLeafHash(Buffer.from('abc')));
    expect(emptyRoot.toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('computes the same root as the reference at every size up to 130', () => {
    const { leaves, roots } = buildLog(130);
    for (let size = 0; size <= 130; size++) expect(roots[size]).toEqual(referenceRoot(leaves.slice(0, size)));
  });

  it('resumes from a stored frontier exactly', () => {
    const { leaves, range } = buildLog(77);
    const resumed = new CompactRange(range.size, range.frontier);
    const extra = hashLeaf(Buffer.from('next'));
    resumed.append(extra);
    expect(resumed.root()).toEqual(referenceRoot([...leaves, extra]));
    expect(() => new CompactRange(5, [])).toThrow(/frontier/);
  });

  it('builds inclusion proofs equal to the reference PATH, which verify', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1))),
        ([n, m]) => {
          const { leaves, roots, node } = buildLog(n);
          const proof = inclusionRanges(m, n).map(([start, end]) => rangeHash(start, end, node));
          expect(proof).toEqual(referencePath(m, leaves.slice(0, n)));
          expect(verifyInclusion(m, n, leaves[m] as Buffer, proof, roots[n] as Buffer)).toBe(true);
          expect(verifyInclusion(m, n, hashLeaf(Buffer.from('forged')), proof, roots[n] as Buffer)).toBe(
            false,
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('builds consistency proofs equal to the reference PROOF, which verify', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 200 })
          .chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n))),
        ([m, n]) => {
          const { leaves, roots, node } = buildLog(n);
          const proof = consistencyRanges(m, n).map(([start, end]) => rangeHash(start, end, node));
          expect(proof).toEqual(referenceConsistency(m, leaves));
          expect(verifyConsistency(m, n, roots[m] as Buffer, roots[n] as Buffer, proof)).toBe(true);
          if (m < n) {
            const rewritten = hashLeaf(Buffer.from('rewritten'));
            expect(verifyConsistency(m, n, rewritten, roots[n] as Buffer, proof)).toBe(false);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('needs only O(log n) stored nodes for a proof at a million entries', () => {
    const n = 1_000_000;
    const reads = (ranges: [number, number][]) =>
      ranges.reduce((count, [start, end]) => count + rangeNodes(start, end).length, 0);
    expect(reads(inclusionRanges(123_456, n))).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n)));
    expect(reads(consistencyRanges(777_777, n))).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n)));
  });
});

describe('the independent reference verifiers (test support) agree with the RFC', () => {
  it('accept the reference proofs and refuse a flipped hash', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 80 })
          .chain((n) => fc.tuple(fc.nat(n - 1), fc.integer({ min: 1, max: n }), fc.constant(n))),
        ([leafIndex, m, n]) => {
          const leaves = Array.from({ length: n }, (_, index) => hashLeaf(Buffer.from(`e${index}`)));
          const root = referenceRoot(leaves);
          const path = referencePath(leafIndex, leaves);
          expect(referenceRootFromInclusion(leafIndex, n, leaves[leafIndex] as Buffer, path)).toEqual(root);
          const oldRoot = referenceRoot(leaves.slice(0, m));
          const proof = referenceConsistency(m, leaves);
          expect(referenceRootsFromConsistency(m, n, oldRoot, proof)).toEqual({ old: oldRoot, new: root });
          if (path.length > 0) {
            const flipped = path.map((hash, index) => (index === 0 ? hashLeaf(hash) : hash));
            expect(
              referenceRootFromInclusion(leafIndex, n, leaves[leafIndex] as Buffer, flipped),
            ).not.toEqual(root);
          }
        },
      ),
      { numRuns: 80 },
    );
  });
});
