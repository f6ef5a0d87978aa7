/**
 * Supply chain (SEC-2, VUL-2): the CycloneDX SBOM of every build (`npm sbom` from the
 * lockfile, offline) and the facts the report shows about the secret scan and the
 * production-dependency audit.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface SbomSummary {
  readonly path: string;
  readonly format: string;
  readonly specVersion: string;
  readonly components: number;
  /** Components with scope `required`: what production installs and the functions bundle from. */
  readonly production: number;
}

/** Runs npm sbom (CycloneDX, from package-lock.json only: no registry, no node_modules needed). */
export function generateSbom(repoRoot: string, outPath: string): SbomSummary {
  // Under `npm run`, npm_execpath is npm's own CLI; otherwise npm from PATH.
  const npmCli = process.env.npm_execpath;
  const [command, prefix] =
    npmCli !== undefined && /npm-cli\.[cm]?js$/.test(npmCli) ? [process.execPath, [npmCli]] : ['npm', []];
  const run = spawnSync(command, [...prefix, 'sbom', '--sbom-format', 'cyclonedx', '--package-lock-only'], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`npm sbom failed (${run.status}): ${run.stderr}`);
  const sbom = JSON.parse(run.stdout) as {
    bomFormat: string;
    specVersion: string;
    components?: { scope?: string }[];
  };
  if (sbom.bomFormat !== 'CycloneDX') throw new Error(`npm sbom wrote ${sbom.bomFormat}, not CycloneDX`);
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, `${JSON.stringify(sbom, null, 2)}\n`);
  const components = sbom.components ?? [];
  return {
    path: outPath,
    format: sbom.bomFormat,
    specVersion: sbom.specVersion,
    components: components.length,
    production: components.filter((component) => component.scope === 'required').length,
  };
}

export interface SupplyChainFacts {
  /** The npm script that scans the tree for secrets, run by `npm test`. */
  readonly secretScan: string | undefined;
  readonly secretScanInTest: boolean;
  readonly secretlintRules: readonly string[];
  /** The npm script that audits production dependencies. */
  readonly audit: string | undefined;
  readonly sbomScript: string | undefined;
  readonly sbomInBuild: boolean;
}

export function supplyChainFacts(repoRoot: string): SupplyChainFacts {
  const scripts =
    (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts?: Record<string, string> })
      .scripts ?? {};
  const configPath = join(repoRoot, '.secretlintrc.json');
  const rules = existsSync(configPath)
    ? ((JSON.parse(readFileSync(configPath, 'utf8')) as { rules?: { id: string }[] }).rules ?? []).map(
        (rule) => rule.id,
      )
    : [];
  return {
    secretScan: scripts.secrets,
    secretScanInTest: (scripts.test ?? '').includes('npm run secrets'),
    secretlintRules: rules,
    audit: scripts['audit:prod'],
    sbomScript: scripts.sbom,
    sbomInBuild: (scripts.synth ?? '').includes('npm run sbom'),
  };
}
