/**
 * `npm run security-report`: synthesizes the app (offline, as `cdk synth` does), runs the
 * tests (or reads the results `npm test` wrote), the report policy packs and the SBOM, and
 * writes docs/security-report.md, docs/security-report.html and docs/architecture.svg.
 *
 *   --results <file>   read vitest JSON results instead of running the tests
 *   --projects a,b     vitest projects to run when no results are given (default: all)
 *   --out <dir>        where to write (default: docs)
 *   --fail-on-red      exit 1 when a control row is red or a pack finding is unacknowledged
 *
 * `npm test` runs it with the results of its own vitest run, into cdk.out/security-report,
 * with --fail-on-red: so CI builds the report from the current code and fails on a red row.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import cdkJson from '../../cdk.json' with { type: 'json' };
import { controlsMdPath, readControlsMd } from './controls-md';
import { architectureDot, renderSvg } from './diagram';
import { checksFor } from './evidence';
import { buildRows, type ControlRow } from './model';
import { runPolicyPacks } from './policy-packs';
import { renderHtml, renderMarkdown } from './render';
import { generateSbom, supplyChainFacts } from './supply-chain';
import { synthesize } from './synth';
import { outcomesByControl, readResults, runTests } from './test-results';
import { scanTestTags, testsByControl } from './test-tags';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function git(...args: string[]): string | undefined {
  try {
    return execFileSync('git', args, {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/** The status column of a committed report, by control ID. */
function committedStatuses(path: string): Map<string, string> {
  const statuses = new Map<string, string>();
  if (!existsSync(path)) return statuses;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^\| \[([A-Z]+-\d+)\]\([^)]*\) \|[^|]*\|[^|]*\| [^ ]+ (green|planned|red) \|/.exec(line);
    if (match?.[1] && match[2]) statuses.set(match[1], match[2]);
  }
  return statuses;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      results: { type: 'string' },
      projects: { type: 'string' },
      out: { type: 'string', default: 'docs' },
      'fail-on-red': { type: 'boolean', default: false },
    },
  });
  const started = Date.now();
  const out = resolve(repoRoot, values.out ?? 'docs');
  mkdirSync(out, { recursive: true });

  const tests =
    values.results !== undefined
      ? readResults(resolve(repoRoot, values.results), repoRoot)
      : runTests(repoRoot, (values.projects ?? '').split(',').filter(Boolean));
  console.log(`security-report: ${tests.outcomes.length} test results (${tests.source})`);

  const synthesis = synthesize(cdkJson.context);
  console.log(`security-report: synthesized ${synthesis.stacks.length} stacks`);
  const checks = checksFor(synthesis.stacks);
  const packs = runPolicyPacks(synthesis.built.app, synthesis.stacks, synthesis.validation);
  console.log(
    `security-report: policy packs ${packs.packs.map((pack) => `${pack.pack}=${pack.findings.length}`).join(' ')}`,
  );

  const controlsMd = readControlsMd(repoRoot);
  if (controlsMd === undefined) {
    console.warn(
      `security-report: ${controlsMdPath(repoRoot)} not found; rows come from the catalogue alone`,
    );
  }
  const rows = buildRows({
    repoRoot,
    controlsMd: controlsMd?.entries,
    checks,
    outcomes: outcomesByControl(tests),
    tagged: testsByControl(scanTestTags(repoRoot)),
  });

  const sbom = generateSbom(repoRoot, join(repoRoot, 'cdk.out', 'sbom.cdx.json'));
  const dot = architectureDot(synthesis.stacks);
  writeFileSync(join(out, 'architecture.svg'), await renderSvg(dot));
  const markdown = renderMarkdown({
    generatedAt: new Date().toISOString(),
    commit: git('rev-parse', '--short', 'HEAD') ?? 'unknown',
    dirty: (git('status', '--porcelain', '--untracked-files=no') ?? '') !== '',
    rows,
    tests,
    packs,
    sbom: { ...sbom, path: relative(repoRoot, sbom.path) },
    supplyChain: supplyChainFacts(repoRoot),
    stacks: synthesis.stacks.map((stack) => ({
      name: stack.name,
      region: stack.region,
      resources: Object.keys(stack.resources).length,
    })),
    diagram: 'architecture.svg',
    controlsMd: controlsMd === undefined ? 'CONTROLS.md' : '[`CONTROLS.md`](../../shared/CONTROLS.md)',
  });
  writeFileSync(join(out, 'security-report.md'), markdown);
  writeFileSync(join(out, 'security-report.html'), renderHtml(markdown));

  const red = rows.filter((row) => row.status === 'red');
  const unacknowledged =
    packs.packs.reduce((sum, pack) => sum + pack.unacknowledged, 0) + packs.awsSolutions.violations;
  const count = (status: ControlRow['status']) => rows.filter((row) => row.status === status).length;
  console.log(
    `security-report: ${rows.length} controls: ${count('green')} green, ${count('planned')} planned, ${red.length} red; ` +
      `open pack findings ${packs.packs.map((pack) => `${pack.pack}=${pack.open}`).join(' ')}; ` +
      `wrote ${relative(repoRoot, out)}/security-report.{md,html} and architecture.svg in ${Math.round((Date.now() - started) / 1000)} s`,
  );
  for (const row of red) console.error(`  red ${row.id}: ${row.problems.join(' ')}`);
  if (unacknowledged > 0)
    console.error(`  ${unacknowledged} policy-pack finding(s) neither fixed nor acknowledged`);

  const docs = join(repoRoot, 'docs', 'security-report.md');
  if (out !== join(repoRoot, 'docs')) {
    const committed = committedStatuses(docs);
    const changed = rows.filter((row) => committed.size > 0 && committed.get(row.id) !== row.status);
    if (changed.length > 0) {
      console.warn(
        `security-report: docs/security-report.md is behind the code for ${changed
          .map((row) => `${row.id} (${committed.get(row.id) ?? 'absent'} -> ${row.status})`)
          .join(', ')}; run npm run security-report and commit docs/`,
      );
    }
  }
  if (values['fail-on-red'] && (red.length > 0 || unacknowledged > 0)) process.exitCode = 1;
}

await main();
