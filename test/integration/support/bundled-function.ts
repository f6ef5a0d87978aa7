/**
 * A function as AWS runs it: bundled by esbuild with the options of the CDK RouteFunction
 * construct (node platform, ESM, node24 target, module-first main fields, a `require`
 * banner, minified), then invoked in a fresh Node process with only the environment the
 * stack would set. Nothing from the test process (preloaded keys, local mode) leaks in.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { projectRoot } from '#infra/local/settings';

const requireBanner =
  "import { createRequire as __createRequire } from 'node:module';const require = __createRequire(import.meta.url);";

const runner = `
import { writeFileSync } from 'node:fs';
const [, , bundle, eventFile, resultFile] = process.argv;
const { handler } = await import(bundle);
const event = JSON.parse((await import('node:fs')).readFileSync(eventFile, 'utf8'));
try {
  // A Lambda context of the fields handlers read (the logger's addContext).
  const context = {
    functionName: 'bundled',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-central-1:000000000000:function:bundled',
    memoryLimitInMB: '1024',
    awsRequestId: 'bundled',
    logGroupName: 'bundled',
    logStreamName: 'bundled',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 30000,
  };
  writeFileSync(resultFile, JSON.stringify({ result: await handler(event, context) }));
} catch (error) {
  writeFileSync(resultFile, JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
}
`;

export interface BundledFunction {
  /** Calls the bundle's `handler` once in a new process; resolves with its result or its error message. */
  invoke(
    event: unknown,
    environment: Record<string, string>,
  ): Promise<{ readonly result?: unknown; readonly error?: string }>;
  remove(): Promise<void>;
}

export async function bundleFunction(entry: string): Promise<BundledFunction> {
  const dir = await mkdtemp(path.join(tmpdir(), 'strongroom-bundle-'));
  const bundle = path.join(dir, 'index.mjs');
  await build({
    entryPoints: [path.join(projectRoot, entry)],
    absWorkingDir: projectRoot,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    mainFields: ['module', 'main'],
    banner: { js: requireBanner },
    minify: true,
    outfile: bundle,
    logLevel: 'silent',
  });
  await writeFile(path.join(dir, 'runner.mjs'), runner);

  return {
    async invoke(event, environment) {
      const eventFile = path.join(dir, 'event.json');
      const resultFile = path.join(dir, 'result.json');
      await writeFile(eventFile, JSON.stringify(event));
      await rm(resultFile, { force: true });
      await promisify(execFile)(
        process.execPath,
        [path.join(dir, 'runner.mjs'), bundle, eventFile, resultFile],
        {
          cwd: dir,
          // Only what a Lambda function would have: no local mode, no endpoints, no data folder.
          env: { PATH: process.env.PATH ?? '', ...environment },
          timeout: 30_000,
        },
      );
      return JSON.parse(await readFile(resultFile, 'utf8')) as { result?: unknown; error?: string };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
