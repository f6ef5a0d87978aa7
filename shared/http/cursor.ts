/**
 * Opaque, authenticated list cursors. A cursor carries a position and an HMAC over the
 * tenant, the list it belongs to (route and filters) and that position, under a key of
 * its own (cursor-key). A forged cursor, one altered by a byte, or one replayed in
 * another tenant or with other filters is refused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SecretSource } from '#shared/crypto/secrets';
import { MalformedRequestError } from '#shared/domain/errors';

const tagBytes = 16;

export class CursorCodec {
  readonly #secrets: SecretSource;

  constructor(secrets: SecretSource) {
    this.#secrets = secrets;
  }

  async encode(tenantId: string, scope: string, position: unknown): Promise<string> {
    const payload = Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
    return `${payload}.${(await this.#tag(tenantId, scope, payload)).toString('base64url')}`;
  }

  /** The position in a cursor made by `encode` for this tenant and scope; 400 otherwise. */
  async decode(tenantId: string, scope: string, cursor: string): Promise<unknown> {
    const match = /^([A-Za-z0-9_-]{1,2048})\.([A-Za-z0-9_-]{22})$/.exec(cursor);
    const tag = match ? Buffer.from(match[2] as string, 'base64url') : undefined;
    const expected = match ? await this.#tag(tenantId, scope, match[1] as string) : undefined;
    if (!match || !tag || !expected || tag.length !== tagBytes || !timingSafeEqual(tag, expected)) {
      throw new MalformedRequestError('The cursor is not valid for this list.');
    }
    try {
      return JSON.parse(Buffer.from(match[1] as string, 'base64url').toString('utf8'));
    } catch {
      throw new MalformedRequestError('The cursor is not valid for this list.');
    }
  }

  async #tag(tenantId: string, scope: string, payload: string): Promise<Buffer> {
    const key = await this.#secrets.get('cursor-key');
    return createHmac('sha256', key)
      .update(`${tenantId}\n${scope}\n${payload}`)
      .digest()
      .subarray(0, tagBytes);
  }
}
