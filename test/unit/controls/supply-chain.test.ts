/**
 * Supply chain (SEC-2, VUL-2): the secret scanner `npm test` runs finds a committed secret
 * with the project's configuration, the production-dependency audit is a script of its own,
 * and the build writes a CycloneDX SBOM from the lockfile, offline.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateSbom, supplyChainFacts } from '#tools/security-report/supply-chain';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const scripts = (
  JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;

/** A GitHub token-shaped string, assembled so that this file itself holds no secret. */
const plantedToken = ['ghp', '_', 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A'].join('');

function secretlint(cwd: string): { status: number | null; output: string } {
  const run = spawnSync(
    process.execPath,
    [join(repoRoot, 'node_modules/secretlint/bin/secretlint.js'), '**/*'],
    {
      cwd,
      encoding: 'utf8',
    },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('[SEC-2] the secret scan', () => {
  it('fails on a committed token, in source and dot folders, and skips installed and generated files', () => {
    const tree = mkdtempSync(join(tmpdir(), 'strongroom-secretlint-'));
    for (const file of ['.secretlintrc.json', '.secretlintignore'])
      copyFileSync(join(repoRoot, file), join(tree, file));
    for (const dir of ['src', '.ci', 'node_modules/pkg', 'cdk.out', '.strongroom'])
      mkdirSync(join(tree, dir), { recursive: true });
    for (const file of [
      'src/config.ts',
      '.ci/run',
      'node_modules/pkg/index.js',
      'cdk.out/out.json',
      '.strongroom/data.json',
    ]) {
      writeFileSync(join(tree, file), `export const token = '${plantedToken}';\n`);
    }
    const { status, output } = secretlint(tree);
    expect(status).toBe(1);
    expect(output).toContain('src/config.ts');
    expect(output).toContain('.ci/run');
    expect(output).not.toContain('node_modules');
    expect(output).not.toContain('cdk.out');
    expect(output).not.toContain('.strongroom');
    expect(output).not.toContain(plantedToken);
  });

  it('passes on a tree without secrets', () => {
    const tree = mkdtempSync(join(tmpdir(), 'strongroom-secretlint-'));
    for (const file of ['.secretlintrc.json', '.secretlintignore'])
      copyFileSync(join(repoRoot, file), join(tree, file));
    writeFileSync(join(tree, 'clean.ts'), "export const greeting = 'hello';\n");
    expect(secretlint(tree).status).toBe(0);
  });

  it('runs in npm test with the recommended preset; the production audit is its own script at level high', () => {
    const facts = supplyChainFacts(repoRoot);
    expect(facts.secretScan).toBe('secretlint "**/*"');
    expect(facts.secretScanInTest).toBe(true);
    expect(facts.secretlintRules).toEqual(['@secretlint/secretlint-rule-preset-recommend']);
    expect(facts.audit).toBe('npm audit --omit=dev --audit-level=high');
    // It needs the registry, so the offline npm test does not run it.
    expect(scripts.test).not.toContain('audit');
  });
});

describe('[VUL-2] the SBOM', () => {
  it('is CycloneDX, from the lockfile, with production and development components told apart', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'strongroom-sbom-')), 'sbom.cdx.json');
    const summary = generateSbom(repoRoot, out);
    const sbom = JSON.parse(readFileSync(out, 'utf8')) as {
      bomFormat: string;
      specVersion: string;
      components: { name: string; version: string; scope: string; purl: string }[];
    };
    expect(sbom.bomFormat).toBe('CycloneDX');
    expect(summary.components).toBe(sbom.components.length);
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    const zod = sbom.components.find((component) => component.name === 'zod');
    expect(zod?.version).toBe(lock.packages['node_modules/zod']?.version);
    expect(zod?.scope).toBe('required');
    expect(sbom.components.find((component) => component.name === 'aws-cdk-lib')?.scope).not.toBe('required');
    expect(summary.production).toBeGreaterThan(0);
    expect(summary.production).toBeLessThan(summary.components);
  });

  it('is written by every build: npm run synth runs npm run sbom', () => {
    expect(scripts.sbom).toBe('tsx tools/security-report/sbom.ts');
    expect(scripts.synth).toMatch(/^cdk synth .*&& npm run sbom$/);
  });
});

type LockEntry = {
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
};

/**
 * What `npm ci` refuses a lockfile for: a dependency (optional ones included, such as a
 * tool's binaries for other platforms) that resolves to no entry, walking up the
 * node_modules folders as Node does.
 */
function missingLockEntries(packages: Readonly<Record<string, LockEntry>>): string[] {
  const missing: string[] = [];
  for (const [location, entry] of Object.entries(packages)) {
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      let folder = location;
      let found = false;
      for (;;) {
        if (packages[`${folder === '' ? '' : `${folder}/`}node_modules/${name}`]) {
          found = true;
          break;
        }
        if (folder === '') break;
        const parent = folder.lastIndexOf('/node_modules/');
        folder = parent < 0 ? '' : folder.slice(0, parent);
      }
      if (!found) missing.push(`${location || '(root)'} -> ${name}`);
    }
  }
  return missing;
}

describe('[SEC-2] the lockfile', () => {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };

  it('has an entry for every dependency of every locked package, so that npm ci on a clean checkout accepts it', () => {
    expect(missingLockEntries(lock.packages)).toEqual([]);
  });

  it('would be refused without the binaries of other platforms (as with Biome 2.6, which the registry lacks them for)', () => {
    const broken = { ...lock.packages };
    delete broken['node_modules/@biomejs/cli-darwin-x64'];
    expect(missingLockEntries(broken)).toEqual(['node_modules/@biomejs/biome -> @biomejs/cli-darwin-x64']);
  });
});
