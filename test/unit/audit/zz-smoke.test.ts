import { it, expect } from 'vitest';
import { genuineLog, signerIn, workspace, writeBundleFile } from '#test/unit/audit/bundle-fixtures';
import { verifyBundle } from '#shared/audit/verify';
it('smoke', async () => {
  const ws = await workspace();
  const signer = signerIn(ws.dir);
  const log = await genuineLog(signer, 123, [5, 37, 64, 100, 123]);
  const path = await writeBundleFile(ws.file('b.txt'), log);
  const r = await verifyBundle(path, { keys: log.header.keys });
  console.log(r);
  const r2 = await verifyBundle(path, { workers: 2, batchLines: 8 });
  console.log(r2.consistencyProofs, r2.root.equals(r.root));
  await ws.remove();
});
