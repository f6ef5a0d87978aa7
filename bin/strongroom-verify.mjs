#!/usr/bin/env node
// strongroom-verify: verifies a Strongroom audit export offline (docs/audit-bundle.md).
// A plain-JavaScript shim: it checks the Node.js version, registers tsx so the TypeScript
// verifier loads as it is, and hands over to shared/audit/cli.ts.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(`strongroom-verify needs Node.js 22 or later; this is ${process.version}\n`);
  process.exit(2);
}
const { register } = await import('tsx/esm/api');
register();
const { runVerifyCli } = await import('../shared/audit/cli.ts');
process.exitCode = await runVerifyCli(process.argv.slice(2));
