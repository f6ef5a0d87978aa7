/**
 * Time-ordered, unguessable identifiers: a type prefix, then 48 bits of milliseconds
 * and 80 random bits in Crockford base32 (26 characters, ULID layout). Ordering by id
 * is ordering by creation time, which lets lists page newest-first without an index.
 */
import { randomBytes } from 'node:crypto';

const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type IdPrefix = 'inv' | 'aud' | 'cp' | 'pay' | 'key' | 'sgr' | 'exp';

export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  let time = '';
  let remaining = now;
  for (let index = 0; index < 10; index++) {
    time = alphabet[remaining % 32] + time;
    remaining = Math.floor(remaining / 32);
  }
  const random = randomBytes(10);
  let bits = 0n;
  for (const byte of random) bits = (bits << 8n) | BigInt(byte);
  let tail = '';
  for (let index = 0; index < 16; index++) {
    tail = alphabet[Number(bits & 31n)] + tail;
    bits >>= 5n;
  }
  return `${prefix}_${time}${tail}`;
}
