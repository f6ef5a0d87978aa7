/**
 * Test results for the report: vitest's JSON reporter output (the Jest-compatible format),
 * either from a file `npm test` wrote or from a run the report starts itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { tagsIn } from './test-tags';

export type TestStatus = 'passed' | 'failed' | 'skipped';

export interface TestOutcome {
  /** Path relative to the repository root. */
  readonly file: string;
  /** Suite names and test name joined with " > ". */
  readonly name: string;
  readonly status: TestStatus;
  readonly ids: readonly string[];
}

export interface TestRun {
  /** When the run started. */
  readonly startedAt: string;
  readonly outcomes: readonly TestOutcome[];
  /** Where the results came from (a file, or the projects the report ran). */
  readonly source: string;
}

interface JsonResults {
  readonly startTime?: number;
  readonly testResults?: readonly {
    readonly name: string;
    readonly assertionResults?: readonly {
      readonly ancestorTitles?: readonly string[];
      readonly title: string;
      readonly status: string;
    }[];
  }[];
}

function statusOf(raw: string): TestStatus {
  if (raw === 'passed') return 'passed';
  if (raw === 'failed') return 'failed';
  return 'skipped';
}

export function parseResults(text: string, repoRoot: string, source: string): TestRun {
  const results = JSON.parse(text) as JsonResults;
  const outcomes: TestOutcome[] = [];
  for (const file of results.testResults ?? []) {
    for (const assertion of file.assertionResults ?? []) {
      const names = [...(assertion.ancestorTitles ?? []), assertion.title];
      outcomes.push({
        file: relative(repoRoot, file.name).split('\\').join('/'),
        name: names.join(' > '),
        status: statusOf(assertion.status),
        ids: [...new Set(names.flatMap(tagsIn))],
      });
    }
  }
  const startedAt = new Date(results.startTime ?? Date.now()).toISOString();
  return { startedAt, outcomes, source };
}

export function readResults(path: string, repoRoot: string): TestRun {
  return parseResults(readFileSync(path, 'utf8'), repoRoot, relative(repoRoot, path));
}

/**
 * Runs vitest with the JSON reporter for the given projects (all when empty) and reads the
 * results. Failing tests do not throw: they are results too.
 */
export function runTests(repoRoot: string, projects: readonly string[]): TestRun {
  const output = join(mkdtempSync(join(tmpdir(), 'strongroom-tests-')), 'results.json');
  const args = [
    join(repoRoot, 'node_modules/vitest/vitest.mjs'),
    'run',
    '--reporter=dot',
    '--reporter=json',
    `--outputFile.json=${output}`,
    ...projects.flatMap((project) => ['--project', project]),
  ];
  const run = spawnSync(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.error) throw run.error;
  const source =
    projects.length === 0 ? 'vitest run (all projects)' : `vitest run --project ${projects.join(',')}`;
  return { ...readResults(output, repoRoot), source };
}

/** Outcomes by control ID. */
export function outcomesByControl(run: TestRun): Map<string, TestOutcome[]> {
  const byId = new Map<string, TestOutcome[]>();
  for (const outcome of run.outcomes) {
    for (const id of outcome.ids) byId.set(id, [...(byId.get(id) ?? []), outcome]);
  }
  return byId;
}
