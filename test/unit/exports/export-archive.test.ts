/**
 * The pieces of the tenant export (DAT-1) that need no database: the tar round trip, the
 * Encryption SDK message with its explicit context check (a real raw AES keyring, no mocks),
 * the local one-time links with an injected clock, and the stream keys that start the worker.
 */
import { randomBytes } from 'node:crypto';
import { RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/client-node';
import { describe, expect, it } from 'vitest';
import {
  contextDifferences,
  decryptExport,
  ExportContextMismatchError,
  encryptExport,
  exportEncryptionContext,
} from '#shared/exports/archive';
import { readTar, TarFormatError, writeTar } from '#shared/exports/tar';
import { exportJobOfStreamKeys } from '#shared/services/exports';
import { downloadLinkSeconds, exportObjectKey, LocalDownloadLinks } from '#shared/store/export-archives';

const exportId = 'exp_01JDZ8Q5N2X3Y4Z5A6B7C8D9EF';

function keyring(material = randomBytes(32)) {
  return new RawAesKeyringNode({
    keyNamespace: 'test',
    keyName: 'tenant',
    unencryptedMasterKey: new Uint8Array(material),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
}

describe('[DAT-1] export archive', () => {
  it('writes a ustar archive that reads back file by file', () => {
    const files = [
      { name: 'strongroom-export/README.txt', content: Buffer.from('read me\n') },
      { name: 'strongroom-export/data/empty.jsonl', content: Buffer.alloc(0) },
      { name: 'strongroom-export/audit.bundle', content: randomBytes(1500) },
    ];
    const tar = writeTar(files, new Date('2026-11-22T00:00:00Z'));
    expect(tar.length % 512).toBe(0);
    const read = readTar(tar);
    expect([...read.keys()]).toEqual(files.map((file) => file.name));
    for (const file of files) expect(read.get(file.name)).toEqual(file.content);
    expect(() => readTar(tar.subarray(0, 1024))).toThrow(TarFormatError);
    expect(() => writeTar([{ name: 'x'.repeat(101), content: Buffer.alloc(0) }], new Date())).toThrow(
      RangeError,
    );
  });

  it('decrypts only with exactly the expected encryption context', async () => {
    const material = randomBytes(32);
    const context = exportEncryptionContext('acme', exportId);
    expect(context).toEqual({ purpose: 'strongroom-tenant-export', tenantId: 'acme', exportId });
    const message = await encryptExport(keyring(material), Buffer.from('the archive'), context);
    expect((await decryptExport(keyring(material), message, context)).toString()).toBe('the archive');

    await expect(
      decryptExport(keyring(material), message, { ...context, tenantId: 'globex' }),
    ).rejects.toThrow(ExportContextMismatchError);
    const missing = await decryptExport(keyring(material), message, { ...context, extra: 'x' }).catch(
      (error: unknown) => error,
    );
    expect(missing).toMatchObject({ code: 'export-context-mismatch', keys: ['extra'] });
    const { exportId: _dropped, ...fewer } = context;
    await expect(decryptExport(keyring(material), message, fewer)).rejects.toMatchObject({
      keys: ['exportId'],
    });
    // Another key opens nothing, whatever context is expected.
    await expect(decryptExport(keyring(), message, context)).rejects.toThrow();
  });

  it('ignores only the SDK’s own public-key entry when comparing contexts', () => {
    const expected = exportEncryptionContext('acme', exportId);
    expect(contextDifferences({ ...expected, 'aws-crypto-public-key': 'AAAA' }, expected)).toEqual([]);
    expect(contextDifferences({ ...expected, purpose: 'other', added: '1' }, expected)).toEqual([
      'added',
      'purpose',
    ]);
  });

  it('hands out local links that work once and expire after minutes', () => {
    const links = new LocalDownloadLinks();
    const now = Date.parse('2026-11-22T10:00:00Z');
    const once = links.issue('/data/exports/a.esdk', 'acme', now);
    expect(once.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(once.expiresAt - now).toBe(downloadLinkSeconds * 1000);
    expect(links.redeem(once.token, now + 1000)?.file).toBe('/data/exports/a.esdk');
    expect(links.redeem(once.token, now + 2000)).toBeUndefined();

    const late = links.issue('/data/exports/b.esdk', 'acme', now);
    expect(links.redeem(late.token, now + downloadLinkSeconds * 1000)).toBeUndefined();
    expect(links.redeem('not-a-token', now)).toBeUndefined();
  });

  it('keeps exports under the tenant’s own prefix and starts the worker only for export inserts', () => {
    expect(exportObjectKey('acme', exportId)).toBe(`tenants/acme/${exportId}.esdk`);
    expect(() => exportObjectKey('acme', '../other')).toThrow();
    expect(exportJobOfStreamKeys('acme#export', exportId)).toEqual({ tenantId: 'acme', exportId });
    expect(exportJobOfStreamKeys('acme#invoice', 'inv_01JDZ8Q5N2X3Y4Z5A6B7C8D9EF')).toBeUndefined();
    expect(exportJobOfStreamKeys('acme#export', 'settings')).toBeUndefined();
    expect(exportJobOfStreamKeys(undefined, exportId)).toBeUndefined();
  });
});
