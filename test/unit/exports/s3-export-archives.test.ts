/**
 * The exports bucket's side of DAT-1 in AWS. Puts go to a mocked S3 client
 * (aws-sdk-client-mock): S3 is an AWS-only path, so the test pins the request. Presigning
 * sends nothing, so the link is made for real with fixed credentials and a fixed clock and
 * read back as a user's browser would get it. The local side is proven end to end by
 * test/integration/exports.test.ts.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { downloadLinkSeconds, S3ExportArchives } from '#shared/store/export-archives';

const s3 = mockClient(S3Client);
const bucket = 'strongroom-dev-exports-111122223333-eu-central-1';
const exportId = 'exp_01JDZ8Q5N2X3Y4Z5A6B7C8D9EF';
const credentials = { accessKeyId: 'AKIDEXAMPLETENANT', secretAccessKey: 'not-a-real-secret' };

afterEach(() => s3.reset());

describe('[DAT-1] S3ExportArchives with a mocked S3 client (AWS-only path)', () => {
  it('puts the message under the tenant prefix without ever overwriting', async () => {
    s3.on(PutObjectCommand).resolves({});
    const archives = new S3ExportArchives({ bucket, region: 'eu-central-1' });
    const key = await archives.put('acme', exportId, Buffer.from('message'));
    expect(key).toBe(`tenants/acme/${exportId}.esdk`);
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: bucket,
      Key: key,
      IfNoneMatch: '*',
    });
  });

  it('presigns a GET of that object for 5 minutes with the tenant session, and nothing of another tenant', async () => {
    const asked: string[] = [];
    const archives = new S3ExportArchives({
      bucket,
      region: 'eu-central-1',
      tenantCredentials: (tenantId) => {
        asked.push(tenantId);
        return credentials;
      },
    });
    const now = new Date('2026-11-22T10:00:00Z');
    const link = await archives.downloadLink('acme', `tenants/acme/${exportId}.esdk`, now);
    const url = new URL(link.url);
    expect(url.hostname).toContain(bucket);
    expect(url.pathname).toBe(`/tenants/acme/${exportId}.esdk`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(downloadLinkSeconds));
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLETENANT\/20261122\//);
    expect(url.searchParams.get('response-content-disposition')).toContain('attachment');
    expect(link.expiresAt).toBe('2026-11-22T10:05:00.000Z');
    expect(asked).toEqual(['acme']);
    await expect(archives.downloadLink('acme', `tenants/globex/${exportId}.esdk`, now)).rejects.toThrow(
      /not one of tenant acme's exports/,
    );
  });
});
