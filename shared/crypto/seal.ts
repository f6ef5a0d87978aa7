/**
 * The sealing codec (ENC-3): a tenant item's payload as ONE AES-256-GCM ciphertext under
 * the tenant's data key, bound to where it lives. This is the hot path of every read and
 * write, so it is raw AES-GCM from node:crypto, not a message format.
 *
 * Sealed bytes, format 1 (all integers big-endian):
 *
 * ```
 * offset  size  field
 *      0     1  format (0x01)
 *      1     4  key version: which of the tenant's data keys sealed it
 *      5     8  tenant tag  = SHA-256("strongroom-seal/tenant\0" ‖ tenantId)[0..8]
 *     13     4  table tag   = SHA-256("strongroom-seal/table\0" ‖ table)[0..4]
 *     17     8  item tag    = SHA-256("strongroom-seal/item\0" ‖ pk ‖ 0x00 ‖ sk)[0..8]
 *     25    12  IV (random)
 *     37     n  ciphertext of the payload bytes
 *   37+n    16  GCM tag
 * ```
 *
 * The associated data is the 37-byte header followed by the full binding, each part
 * length-prefixed (u16): tenantId, table, pk, sk. So a ciphertext moved to another tenant,
 * table or item, or sealed under another key version, does not decrypt (GCM fails), and
 * the tags (authenticated as part of the header) let `open` say which move it was before
 * it tries. The tags are derived from the key attributes stored next to the payload in
 * plain text anyway, so they reveal nothing new.
 */
import { createCipheriv, createDecipheriv, hash, type KeyObject, randomFillSync } from 'node:crypto';

export const sealFormat = 1;

const headerLength = 37;
const ivLength = 12;
const tagLength = 16;
const maxBindingPartBytes = 0xffff;

/** Where a sealed payload belongs: the tenant, the logical table id and the item's key. */
export interface SealBinding {
  readonly tenantId: string;
  /** Logical table id (`data`, `idempotency`), not the physical name: a restore renames tables. */
  readonly table: string;
  readonly pk: string;
  readonly sk: string;
}

/** One version of a tenant's data key, unwrapped. */
export interface DataKey {
  readonly version: number;
  /** AES-256 secret key object; the bytes stay inside node:crypto. */
  readonly key: KeyObject;
}

export type SealedItemErrorCode =
  | 'sealed-item-malformed'
  | 'sealed-item-unknown-format'
  | 'sealed-item-wrong-tenant'
  | 'sealed-item-wrong-table'
  | 'sealed-item-wrong-item'
  | 'sealed-item-tampered'
  | 'sealed-item-key-unavailable'
  | 'sealed-item-unsealed-attributes'
  /** A plain index attribute names another tenant or item than the key the seal is bound to. */
  | 'sealed-item-index-mismatch';

/**
 * A sealed payload that does not open where it was found. `code` is stable; the message
 * names the item by its keys only (ids, never payload).
 */
export class SealedItemError extends Error {
  readonly code: SealedItemErrorCode;
  readonly binding: SealBinding | undefined;

  constructor(code: SealedItemErrorCode, message: string, binding?: SealBinding) {
    super(message);
    this.name = 'SealedItemError';
    this.code = code;
    this.binding = binding;
  }
}

// ---------------------------------------------------------------------------------------
// Tags and associated data

const tagCache = new Map<string, Buffer>();
const maxCachedTags = 4096;

function tag(kind: 'tenant' | 'table', value: string, length: number): Buffer {
  const cacheKey = `${kind}\0${value}`;
  let cached = tagCache.get(cacheKey);
  if (!cached) {
    cached = hash('sha256', `strongroom-seal/${kind}\0${value}`, 'buffer').subarray(0, length);
    if (tagCache.size >= maxCachedTags) tagCache.clear();
    tagCache.set(cacheKey, cached);
  }
  return cached;
}

function itemTag(pk: string, sk: string): Buffer {
  // One-shot hash: no Hash object per item on the hot path.
  return hash('sha256', `strongroom-seal/item\0${pk}\0${sk}`, 'buffer').subarray(0, 8);
}

function writeHeader(header: Buffer, binding: SealBinding, keyVersion: number): void {
  header[0] = sealFormat;
  header.writeUInt32BE(keyVersion, 1);
  tag('tenant', binding.tenantId, 8).copy(header, 5);
  tag('table', binding.table, 4).copy(header, 13);
  itemTag(binding.pk, binding.sk).copy(header, 17);
}

function associatedData(header: Buffer, binding: SealBinding): Buffer {
  const parts = [binding.tenantId, binding.table, binding.pk, binding.sk];
  let length = headerLength;
  for (const part of parts) {
    const bytes = Buffer.byteLength(part, 'utf8');
    if (bytes > maxBindingPartBytes) throw new RangeError('a seal binding part is too long');
    length += 2 + bytes;
  }
  const aad = Buffer.allocUnsafe(length);
  header.copy(aad, 0, 0, headerLength);
  let offset = headerLength;
  for (const part of parts) {
    const written = aad.write(part, offset + 2, 'utf8');
    aad.writeUInt16BE(written, offset);
    offset += 2 + written;
  }
  return aad;
}

// IVs come from a pool refilled by the CSPRNG: one randomFillSync per 341 seals, not one per seal.
const ivPool = Buffer.allocUnsafe(ivLength * 341);
let ivOffset = ivPool.length;

function nextIv(target: Buffer, offset: number): void {
  if (ivOffset + ivLength > ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  ivPool.copy(target, offset, ivOffset, ivOffset + ivLength);
  // Never hand out the same pool bytes twice.
  ivPool.fill(0, ivOffset, ivOffset + ivLength);
  ivOffset += ivLength;
}

// ---------------------------------------------------------------------------------------
// Seal and open

/** Seals `plaintext` for `binding` under `dataKey`. */
export function sealBytes(dataKey: DataKey, binding: SealBinding, plaintext: Uint8Array): Buffer {
  if (!Number.isInteger(dataKey.version) || dataKey.version < 1 || dataKey.version > 0xffffffff) {
    throw new RangeError('data key versions are integers from 1');
  }
  const sealed = Buffer.allocUnsafe(headerLength + plaintext.length + tagLength);
  writeHeader(sealed, binding, dataKey.version);
  nextIv(sealed, headerLength - ivLength);
  const cipher = createCipheriv(
    'aes-256-gcm',
    dataKey.key,
    sealed.subarray(headerLength - ivLength, headerLength),
  );
  cipher.setAAD(associatedData(sealed, binding));
  let offset = headerLength;
  offset += cipher.update(plaintext).copy(sealed, offset);
  offset += cipher.final().copy(sealed, offset);
  cipher.getAuthTag().copy(sealed, offset);
  return sealed;
}

/** The key version a sealed payload names (to fetch that key before `openBytes`). */
export function sealedKeyVersion(sealed: Uint8Array, binding?: SealBinding): number {
  if (sealed.length < headerLength + tagLength) {
    throw new SealedItemError(
      'sealed-item-malformed',
      `${describe(binding)} is too short to be sealed`,
      binding,
    );
  }
  if (sealed[0] !== sealFormat) {
    throw new SealedItemError(
      'sealed-item-unknown-format',
      `${describe(binding)} is sealed in unknown format ${sealed[0]}`,
      binding,
    );
  }
  return Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length).readUInt32BE(1);
}

/**
 * Opens what `sealBytes` sealed for exactly this binding. Throws `SealedItemError`:
 * `sealed-item-wrong-tenant|table|item` when the payload was sealed for another place,
 * `sealed-item-tampered` when any byte (or the key) is not the one it was sealed with.
 */
export function openBytes(dataKey: DataKey, binding: SealBinding, sealed: Uint8Array): Buffer {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
  const version = sealedKeyVersion(bytes, binding);
  if (!bytes.subarray(5, 13).equals(tag('tenant', binding.tenantId, 8))) {
    throw new SealedItemError(
      'sealed-item-wrong-tenant',
      `${describe(binding)} holds a payload sealed for another tenant`,
      binding,
    );
  }
  if (!bytes.subarray(13, 17).equals(tag('table', binding.table, 4))) {
    throw new SealedItemError(
      'sealed-item-wrong-table',
      `${describe(binding)} holds a payload sealed for another table`,
      binding,
    );
  }
  if (!bytes.subarray(17, 25).equals(itemTag(binding.pk, binding.sk))) {
    throw new SealedItemError(
      'sealed-item-wrong-item',
      `${describe(binding)} holds a payload sealed for another item`,
      binding,
    );
  }
  if (version !== dataKey.version) {
    throw new SealedItemError(
      'sealed-item-key-unavailable',
      `${describe(binding)} is sealed under key version ${version}, not ${dataKey.version}`,
      binding,
    );
  }
  const decipher = createDecipheriv(
    'aes-256-gcm',
    dataKey.key,
    bytes.subarray(headerLength - ivLength, headerLength),
    { authTagLength: tagLength },
  );
  decipher.setAAD(associatedData(bytes, binding));
  decipher.setAuthTag(bytes.subarray(bytes.length - tagLength));
  const body = decipher.update(bytes.subarray(headerLength, bytes.length - tagLength));
  try {
    const last = decipher.final();
    return last.length === 0 ? body : Buffer.concat([body, last]);
  } catch {
    throw new SealedItemError(
      'sealed-item-tampered',
      `${describe(binding)} does not authenticate: it was altered or sealed with another key`,
      binding,
    );
  }
}

/** Seals a JSON value (the item's payload attributes). */
export function sealValue(dataKey: DataKey, binding: SealBinding, value: unknown): Buffer {
  return sealBytes(dataKey, binding, Buffer.from(JSON.stringify(value), 'utf8'));
}

/** Opens a JSON value sealed with `sealValue`. */
export function openValue(dataKey: DataKey, binding: SealBinding, sealed: Uint8Array): unknown {
  const bytes = openBytes(dataKey, binding, sealed);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    // Authentic bytes that are not JSON: written by something other than this codec.
    throw new SealedItemError('sealed-item-malformed', `${describe(binding)} holds no JSON payload`, binding);
  }
}

function describe(binding: SealBinding | undefined): string {
  if (!binding) return 'the payload';
  return `item ${JSON.stringify(binding.pk)}/${JSON.stringify(binding.sk)} in table ${binding.table}`;
}
