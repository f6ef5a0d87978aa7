/** Helpers of the ENC-3 tests: items as stored, and the error a sealed item fails to open with. */
import { expect } from 'vitest';
import { SealedItemError } from '#shared/crypto/seal';

/** An item as stored, its binary attributes as latin1 text, to search for what must not be in the clear. */
export function rawText(item: Record<string, unknown>): string {
  return JSON.stringify(item, (_key, value) =>
    value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value,
  );
}

/** The SealedItemError a read fails with (the test fails if it succeeds or fails otherwise). */
export async function openError(read: () => Promise<unknown>): Promise<SealedItemError> {
  const error = await read().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SealedItemError);
  return error as SealedItemError;
}
