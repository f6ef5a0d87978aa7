/**
 * Joins the catalogue, CONTROLS.md, the CloudFormation checks, the tagged tests and their
 * results into one row per control, with its status:
 * - green: implemented, at least one tagged test ran and none failed, every CloudFormation
 *   check passed and every code path the catalogue names exists;
 * - planned: marked planned with a reason, and no tagged test failed;
 * - red: anything else, including a control of CONTROLS.md that is not in the catalogue
 *   (removed from the code) and a catalogue entry that CONTROLS.md does not have.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Control, controls, type Enforcement } from '#shared/controls/catalogue';
import type { ControlsMdEntry } from './controls-md';
import type { CheckResult } from './evidence';
import type { TestOutcome } from './test-results';
import type { TaggedTest } from './test-tags';

export type RowStatus = 'green' | 'planned' | 'red';

export interface ControlRow {
  readonly id: string;
  readonly area: string;
  readonly title: string;
  readonly text: string;
  readonly enforcement: Enforcement | undefined;
  readonly catalogue: 'implemented' | 'planned' | 'missing';
  readonly plannedReason: string | undefined;
  readonly status: RowStatus;
  /** Why the row is red (or what a planned row still lacks). */
  readonly problems: readonly string[];
  readonly checks: readonly CheckResult[];
  readonly tests: readonly TestOutcome[];
  /** Tagged in the sources but not in this run's results. */
  readonly notRun: readonly TaggedTest[];
  readonly resourceTypes: readonly string[];
  readonly code: readonly { readonly path: string; readonly exists: boolean }[];
  readonly openItems: readonly string[];
}

export interface RowInputs {
  readonly repoRoot: string;
  readonly controlsMd: readonly ControlsMdEntry[] | undefined;
  readonly checks: ReadonlyMap<string, readonly CheckResult[]>;
  readonly outcomes: ReadonlyMap<string, readonly TestOutcome[]>;
  readonly tagged: ReadonlyMap<string, readonly TaggedTest[]>;
  /** Override of the catalogue (tests use it to remove a control). */
  readonly catalogue?: readonly Control[];
}

export function buildRows(inputs: RowInputs): ControlRow[] {
  const catalogue = inputs.catalogue ?? controls;
  const documented = inputs.controlsMd;
  const ids = [
    ...(documented ?? []).map((entry) => entry.id),
    ...catalogue
      .map((control) => control.id)
      .filter((id) => !(documented ?? []).some((entry) => entry.id === id)),
  ];
  return ids.map((id) => {
    const control = catalogue.find((candidate) => candidate.id === id);
    const entry = documented?.find((candidate) => candidate.id === id);
    const checks = inputs.checks.get(id) ?? [];
    const tests = inputs.outcomes.get(id) ?? [];
    const ranFiles = new Set(tests.map((test) => test.file));
    const notRun = (inputs.tagged.get(id) ?? []).filter((test) => !test.skipped && !ranFiles.has(test.file));
    const code = (control?.code ?? []).map((path) => ({
      path,
      exists: existsSync(join(inputs.repoRoot, path)),
    }));
    const problems: string[] = [];
    if (control === undefined)
      problems.push(
        'In CONTROLS.md but not in the catalogue (shared/controls/catalogue.ts): removed from the code.',
      );
    if (documented !== undefined && entry === undefined)
      problems.push('In the catalogue but not in CONTROLS.md.');
    if (control !== undefined && entry !== undefined && control.text !== entry.text) {
      problems.push('The catalogue states the control differently from CONTROLS.md.');
    }
    const failed = tests.filter((test) => test.status === 'failed');
    if (failed.length > 0) problems.push(`${failed.length} tagged test(s) failed.`);
    for (const path of code.filter((each) => !each.exists))
      problems.push(`Code path ${path.path} does not exist.`);
    let status: RowStatus;
    if (control?.status === 'planned') {
      status = problems.length > 0 ? 'red' : 'planned';
    } else {
      const passed = tests.filter((test) => test.status === 'passed');
      if (control !== undefined && passed.length === 0) {
        problems.push(
          notRun.length > 0
            ? `No tagged test ran in this report's test run (${notRun.length} tagged test(s) in files that did not run).`
            : 'No test carries this control ID.',
        );
      }
      for (const check of checks.filter((each) => !each.passed)) {
        problems.push(`CloudFormation check failed: ${check.description} (${check.problem ?? 'failed'}).`);
      }
      status = problems.length > 0 ? 'red' : 'green';
    }
    return {
      id,
      area: entry?.area ?? control?.area ?? '',
      title: control?.title ?? '(not in the catalogue)',
      text: entry?.text ?? control?.text ?? '',
      enforcement: control?.enforcement,
      catalogue: control === undefined ? 'missing' : control.status,
      plannedReason: control?.status === 'planned' ? control.reason : undefined,
      status,
      problems,
      checks,
      tests,
      notRun,
      resourceTypes: control?.resourceTypes ?? [],
      code,
      openItems: control?.openItems ?? [],
    };
  });
}
