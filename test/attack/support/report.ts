/**
 * What each attack scenario reports: the figures of `npm run attack`'s table and the
 * findings behind any figure that is not zero. A finding names the request or the state
 * that broke an invariant, so it can be replayed.
 */

export interface ScenarioReport {
  readonly scenario: string;
  /** Requests sent to the API (or, for in-process scenarios, operations run). */
  readonly requests: number;
  /** Responses with a 5xx status where none is allowed. */
  readonly serverErrors: number;
  /** Anything of another tenant read, written, or confirmed to exist. */
  readonly crossTenantLeaks: number;
  /** A change without its audit entry, an entry without its change, or half a transaction. */
  readonly partialWrites: number;
  /** A change applied more than once (a retry or a race that acted twice). */
  readonly duplicates: number;
  /** A changed log, bundle or item that the verifier or the API did not catch. */
  readonly undetectedTampering: number;
  /** Other broken invariants (a wrong response shape, state changed by a refusal, a process left behind). */
  readonly otherViolations: number;
  readonly findings: readonly string[];
  readonly seconds: number;
  /** Free-form figures worth printing (requests per second, kills, ...). */
  readonly notes: readonly string[];
}

export type Figure =
  | 'serverErrors'
  | 'crossTenantLeaks'
  | 'partialWrites'
  | 'duplicates'
  | 'undetectedTampering'
  | 'otherViolations';

/** Collects the figures of one scenario while it runs. */
export class Tally {
  readonly #scenario: string;
  readonly #started = performance.now();
  readonly #findings: string[] = [];
  readonly #notes: string[] = [];
  readonly #figures: Record<Figure, number> = {
    serverErrors: 0,
    crossTenantLeaks: 0,
    partialWrites: 0,
    duplicates: 0,
    undetectedTampering: 0,
    otherViolations: 0,
  };
  requests = 0;

  constructor(scenario: string) {
    this.#scenario = scenario;
  }

  /** Counts a broken invariant; keeps the first findings of each scenario (enough to replay them). */
  fail(figure: Figure, finding: string): void {
    this.#figures[figure]++;
    if (this.#findings.length < 50) this.#findings.push(`[${figure}] ${finding}`);
  }

  note(text: string): void {
    this.#notes.push(text);
  }

  get findings(): readonly string[] {
    return this.#findings;
  }

  report(): ScenarioReport {
    return {
      scenario: this.#scenario,
      requests: this.requests,
      ...this.#figures,
      findings: [...this.#findings],
      seconds: (performance.now() - this.#started) / 1000,
      notes: [...this.#notes],
    };
  }
}

/** Every figure of a report that must be zero. */
export function violations(report: ScenarioReport): number {
  return (
    report.serverErrors +
    report.crossTenantLeaks +
    report.partialWrites +
    report.duplicates +
    report.undetectedTampering +
    report.otherViolations
  );
}

/** The table `npm run attack` prints. */
export function renderReportTable(reports: readonly ScenarioReport[]): string {
  const header = [
    'scenario',
    'requests',
    '5xx',
    'cross-tenant leaks',
    'partial writes',
    'duplicates',
    'undetected tampering',
    'other',
    'seconds',
  ];
  const row = (report: ScenarioReport) => [
    report.scenario,
    String(report.requests),
    String(report.serverErrors),
    String(report.crossTenantLeaks),
    String(report.partialWrites),
    String(report.duplicates),
    String(report.undetectedTampering),
    String(report.otherViolations),
    report.seconds.toFixed(1),
  ];
  const total = {
    scenario: 'total',
    requests: 0,
    serverErrors: 0,
    crossTenantLeaks: 0,
    partialWrites: 0,
    duplicates: 0,
    undetectedTampering: 0,
    otherViolations: 0,
    findings: [],
    seconds: 0,
    notes: [],
  };
  for (const report of reports) {
    total.requests += report.requests;
    total.serverErrors += report.serverErrors;
    total.crossTenantLeaks += report.crossTenantLeaks;
    total.partialWrites += report.partialWrites;
    total.duplicates += report.duplicates;
    total.undetectedTampering += report.undetectedTampering;
    total.otherViolations += report.otherViolations;
    total.seconds += report.seconds;
  }
  const lines = [...reports.map(row), row(total)];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => line[column]?.length ?? 0)),
  );
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join(' | ');
  const rule = widths.map((width) => '-'.repeat(width)).join('-|-');
  return [render(header), rule, ...lines.slice(0, -1).map(render), rule, render(lines.at(-1) ?? [])].join(
    '\n',
  );
}

/** Progress lines on stderr for long runs (STRONGROOM_ATTACK_PROGRESS=1, as npm run attack sets it). */
export function progress(line: string): void {
  if (process.env.STRONGROOM_ATTACK_PROGRESS === '1') process.stderr.write(`${line}\n`);
}
