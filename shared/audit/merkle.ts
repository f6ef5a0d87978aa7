/**
 * RFC 9162 Merkle tree hashing (section 2.1): leaf = SHA-256(0x00 ‖ entry bytes),
 * node = SHA-256(0x01 ‖ left ‖ right). The log keeps a compact range (the roots of
 * the perfect subtrees that make up the tree, largest first); appending a leaf merges
 * equal-sized subtrees and yields the completed nodes to store, so proofs later need
 * O(log n) stored nodes.
 */
import { createHash } from 'node:crypto';

const leafPrefix = Buffer.from([0x00]);
const nodePrefix = Buffer.from([0x01]);

export function hashLeaf(entryBytes: Uint8Array): Buffer {
  return createHash('sha256').update(leafPrefix).update(entryBytes).digest();
}

export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(nodePrefix).update(left).update(right).digest();
}

/** The root of the empty tree: SHA-256 of nothing. */
export const emptyRoot: Buffer = createHash('sha256').digest();

/** A node of a perfect subtree: covers leaves [index·2^level, (index+1)·2^level). */
export interface NodeAddress {
  readonly level: number;
  readonly index: number;
}

export interface StoredNode extends NodeAddress {
  readonly hash: Buffer;
}

/** The largest power of two strictly below n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The perfect subtrees that make up a tree of `size` leaves, largest (leftmost) first. */
export function frontierAddresses(size: number): NodeAddress[] {
  const addresses: NodeAddress[] = [];
  let start = 0;
  for (let level = 52; level >= 0; level--) {
    const width = 2 ** level;
    if (size - start >= width) {
      addresses.push({ level, index: start / width });
      start += width;
    }
  }
  return addresses;
}

/** A compact range over [0, size): appends leaves and computes the root. */
export class CompactRange {
  #size: number;
  readonly #nodes: StoredNode[];

  constructor(size = 0, frontier: readonly Buffer[] = []) {
    const addresses = frontierAddresses(size);
    if (addresses.length !== frontier.length) {
      throw new Error(
        `a tree of ${size} leaves has ${addresses.length} frontier nodes, got ${frontier.length}`,
      );
    }
    this.#size = size;
    this.#nodes = addresses.map((address, position) => ({ ...address, hash: frontier[position] as Buffer }));
  }

  get size(): number {
    return this.#size;
  }

  /** Frontier hashes, largest subtree first (what the head stores). */
  get frontier(): Buffer[] {
    return this.#nodes.map((node) => node.hash);
  }

  /** Appends a leaf hash; returns every perfect-subtree node this completes, the leaf included. */
  append(leaf: Buffer): StoredNode[] {
    const completed: StoredNode[] = [{ level: 0, index: this.#size, hash: leaf }];
    let current: StoredNode = completed[0] as StoredNode;
    while (this.#nodes.length > 0 && (this.#nodes.at(-1) as StoredNode).level === current.level) {
      const left = this.#nodes.pop() as StoredNode;
      current = {
        level: current.level + 1,
        index: left.index / 2,
        hash: hashChildren(left.hash, current.hash),
      };
      completed.push(current);
    }
    this.#nodes.push(current);
    this.#size++;
    return completed;
  }

  root(): Buffer {
    if (this.#nodes.length === 0) return emptyRoot;
    let root = (this.#nodes.at(-1) as StoredNode).hash;
    for (let position = this.#nodes.length - 2; position >= 0; position--) {
      root = hashChildren((this.#nodes[position] as StoredNode).hash, root);
    }
    return root;
  }
}

/** Key of a stored node, for maps and store sort keys. */
export function nodeKey(address: NodeAddress): string {
  return `${address.level}:${address.index}`;
}

/**
 * Hash of the leaves [start, end) computed from stored perfect-subtree nodes. Every
 * range this is asked for splits into O(log n) stored nodes.
 */
export function rangeHash(start: number, end: number, node: (address: NodeAddress) => Buffer): Buffer {
  const width = end - start;
  if (width <= 0) throw new RangeError(`empty range [${start}, ${end})`);
  if ((width & (width - 1)) === 0 && start % width === 0) {
    return node({ level: Math.log2(width), index: start / width });
  }
  const k = splitPoint(width);
  return hashChildren(rangeHash(start, start + k, node), rangeHash(start + k, end, node));
}

/** The stored nodes `rangeHash(start, end)` reads, so a store can fetch them in one batch. */
export function rangeNodes(start: number, end: number, into: NodeAddress[] = []): NodeAddress[] {
  const width = end - start;
  if ((width & (width - 1)) === 0 && start % width === 0) {
    into.push({ level: Math.log2(width), index: start / width });
    return into;
  }
  const k = splitPoint(width);
  rangeNodes(start, start + k, into);
  rangeNodes(start + k, end, into);
  return into;
}

/** The ranges whose hashes make the RFC 9162 inclusion path of leaf m in a tree of n leaves. */
export function inclusionRanges(m: number, n: number): [number, number][] {
  if (m < 0 || m >= n) throw new RangeError(`leaf ${m} is outside a tree of ${n} leaves`);
  const ranges: [number, number][] = [];
  let start = 0;
  let end = n;
  const path: [number, number][] = [];
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < start + k) {
      path.push([start + k, end]);
      end = start + k;
    } else {
      path.push([start, start + k]);
      start += k;
    }
  }
  // RFC 9162 lists the path from the leaf upwards.
  for (let position = path.length - 1; position >= 0; position--)
    ranges.push(path[position] as [number, number]);
  return ranges;
}

/** The ranges whose hashes make the RFC 9162 consistency proof from size m to size n. */
export function consistencyRanges(m: number, n: number): [number, number][] {
  if (m < 1 || m > n) throw new RangeError(`no consistency proof from ${m} to ${n}`);
  if (m === n) return [];
  const proof: [number, number][] = [];
  subproof(m, 0, n, true, proof);
  return proof;
}

function subproof(m: number, start: number, end: number, complete: boolean, proof: [number, number][]): void {
  const n = end - start;
  if (m === n) {
    if (!complete) proof.push([start, end]);
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproof(m, start, start + k, complete, proof);
    proof.push([start + k, end]);
  } else {
    subproof(m - k, start + k, end, false, proof);
    proof.push([start, start + k]);
  }
}
