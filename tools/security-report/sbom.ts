/**
 * `npm run sbom` (VUL-2): writes the CycloneDX SBOM of the build beside the cloud assembly,
 * `cdk.out/sbom.cdx.json` (or the path given as the first argument). `npm run synth` runs it
 * after `cdk synth`, and `npm run security-report` writes one with every report.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSbom } from './supply-chain';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const out = resolve(repoRoot, process.argv[2] ?? 'cdk.out/sbom.cdx.json');
const summary = generateSbom(repoRoot, out);
console.log(
  `${summary.format} ${summary.specVersion} SBOM: ${summary.components} components (${summary.production} production) -> ${out}`,
);
