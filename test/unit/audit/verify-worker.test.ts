import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordedHashEquals } from '../../../shared/audit/verify-worker.mjs';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ .';

describe('[AUD-3] the verifier hot loop', () => {
  it('accepts a recorded leaf hash exactly when it is the canonical base64 of the computed one', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat(43),
        fc.constantFrom(...alphabet),
        fc.boolean(),
        (hash, at, replacement, mutate) => {
          const canonical = Buffer.from(hash).toString('base64');
          const text = mutate ? canonical.slice(0, at) + replacement + canonical.slice(at + 1) : canonical;
          const line = Buffer.from(`xx${text} {}`, 'latin1');
          const hashes = Buffer.concat([Buffer.alloc(5), Buffer.from(hash)]);
          expect(recordedHashEquals(line, 2, hashes, 5)).toBe(text === canonical);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses non-canonical base64 that decodes to the same bytes', () => {
    const hash = Buffer.alloc(32, 0);
    const canonical = hash.toString('base64');
    expect(canonical.slice(40)).toBe('AAA=');
    const lenient = `${canonical.slice(0, 42)}B=`;
    expect(Buffer.from(lenient, 'base64').equals(hash)).toBe(true);
    expect(recordedHashEquals(Buffer.from(canonical), 0, hash, 0)).toBe(true);
    expect(recordedHashEquals(Buffer.from(lenient), 0, hash, 0)).toBe(false);
  });

  it('refuses characters outside the alphabet even where their bits would match', () => {
    const hash = Buffer.alloc(32, 0xff);
    const canonical = hash.toString('base64');
    expect(canonical.startsWith('////')).toBe(true);
    // '=' counts as -1, and -1 << 18 | 0x3ffff is all ones: only the alphabet check refuses it.
    expect(recordedHashEquals(Buffer.from(`=${canonical.slice(1)}`), 0, hash, 0)).toBe(false);
    expect(recordedHashEquals(Buffer.from(canonical), 0, hash, 0)).toBe(true);
  });
});
