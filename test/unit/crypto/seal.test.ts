import { createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type DataKey,
  openBytes,
  openValue,
  type SealBinding,
  SealedItemError,
  sealBytes,
  sealedKeyVersion,
  sealValue,
} from '#shared/crypto/seal';

const keyOf = (version = 1): DataKey => ({ version, key: createSecretKey(randomBytes(32)) });
const binding: SealBinding = { tenantId: 't1', table: 'data', pk: 't1#counterparty', sk: 'cp_01' };
const payload = { name: 'Muster GmbH', iban: 'DE89370400440532013000', lines: [{ description: 'Advisory' }] };

function openError(run: () => unknown): SealedItemError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SealedItemError);
    return error as SealedItemError;
  }
  throw new Error('expected the payload not to open');
}

describe('[ENC-3] sealing codec', () => {
  it('round-trips a payload and hides it: no plaintext in the sealed bytes', () => {
    const key = keyOf(3);
    const sealed = sealValue(key, binding, payload);
    expect(sealed.includes(Buffer.from('DE89370400440532013000'))).toBe(false);
    expect(sealed.includes(Buffer.from('Muster'))).toBe(false);
    expect(sealed[0]).toBe(1);
    expect(sealedKeyVersion(sealed)).toBe(3);
    expect(openValue(key, binding, sealed)).toEqual(payload);
  });

  it('uses a fresh IV per seal: the same payload seals to different bytes', () => {
    const key = keyOf();
    const a = sealValue(key, binding, payload);
    const b = sealValue(key, binding, payload);
    expect(a.subarray(25, 37).equals(b.subarray(25, 37))).toBe(false);
    expect(a.equals(b)).toBe(false);
  });

  it('a payload moved to another tenant fails with sealed-item-wrong-tenant', () => {
    const key = keyOf();
    const sealed = sealValue(key, binding, payload);
    const moved = { ...binding, tenantId: 't2', pk: 't2#counterparty' };
    // Even with the original tenant's key in hand, the binding refuses it.
    const error = openError(() => openBytes(key, moved, sealed));
    expect(error.code).toBe('sealed-item-wrong-tenant');
    expect(error.message).toContain('another tenant');
    expect(error.message).not.toContain('Muster');
  });

  it('a payload moved to another item of the same tenant fails with sealed-item-wrong-item', () => {
    const key = keyOf();
    const sealed = sealValue(key, binding, payload);
    expect(openError(() => openBytes(key, { ...binding, sk: 'cp_02' }, sealed)).code).toBe(
      'sealed-item-wrong-item',
    );
    expect(openError(() => openBytes(key, { ...binding, pk: 't1#invoice' }, sealed)).code).toBe(
      'sealed-item-wrong-item',
    );
  });

  it('a payload moved to another table fails with sealed-item-wrong-table', () => {
    const key = keyOf();
    const sealed = sealValue(key, binding, payload);
    expect(openError(() => openBytes(key, { ...binding, table: 'idempotency' }, sealed)).code).toBe(
      'sealed-item-wrong-table',
    );
  });

  it('a changed byte anywhere fails with sealed-item-tampered (or the binding it names)', () => {
    const key = keyOf();
    const sealed = sealValue(key, binding, payload);
    const codes = new Set<string>();
    for (let offset = 0; offset < sealed.length; offset++) {
      const tampered = Buffer.from(sealed);
      tampered[offset] = (tampered[offset] ?? 0) ^ 0x01;
      codes.add(openError(() => openBytes(key, binding, tampered)).code);
    }
    // Header fields say which check caught it; IV, ciphertext and tag fail authentication.
    expect([...codes].sort()).toEqual(
      [
        'sealed-item-key-unavailable',
        'sealed-item-tampered',
        'sealed-item-unknown-format',
        'sealed-item-wrong-item',
        'sealed-item-wrong-table',
        'sealed-item-wrong-tenant',
      ].sort(),
    );
    const body = Buffer.from(sealed);
    body[40] = (body[40] ?? 0) ^ 0x80;
    expect(openError(() => openBytes(key, binding, body)).code).toBe('sealed-item-tampered');
  });

  it('a header rewritten to match the new place still fails: the full binding is authenticated', () => {
    const key = keyOf();
    const sealed = sealValue(key, binding, payload);
    const moved = { ...binding, sk: 'cp_02' };
    // Take the tags of a payload legitimately sealed for the new place and graft them on.
    const donor = sealValue(key, moved, {});
    const grafted = Buffer.from(sealed);
    donor.copy(grafted, 5, 5, 25);
    expect(openError(() => openBytes(key, moved, grafted)).code).toBe('sealed-item-tampered');
  });

  it('another key of the same version fails with sealed-item-tampered', () => {
    const sealed = sealValue(keyOf(1), binding, payload);
    expect(openError(() => openBytes(keyOf(1), binding, sealed)).code).toBe('sealed-item-tampered');
  });

  it('refuses truncated bytes and unknown formats by name', () => {
    const key = keyOf();
    const sealed = sealBytes(key, binding, Buffer.from('{}'));
    expect(openError(() => openBytes(key, binding, sealed.subarray(0, 30))).code).toBe(
      'sealed-item-malformed',
    );
    const future = Buffer.from(sealed);
    future[0] = 2;
    expect(openError(() => openBytes(key, binding, future)).code).toBe('sealed-item-unknown-format');
  });
});
