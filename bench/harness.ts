/**
 * The benchmark harness: each benchmark measures a figure and the baseline it is
 * compared with in the same run, on the same machine, and reports the ratio. Figures
 * are local (DynamoDB Local, this machine's cores), never AWS numbers.
 */
export interface BenchRow {
  /** What was measured, e.g. `POST /invoices p50 latency`. */
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The baseline measured in the same run, in the same unit. */
  readonly baseline?: { readonly name: string; readonly value: number };
  /** Whether higher values are better (throughput) or lower (latency). */
  readonly higherIsBetter: boolean;
  /** The target, in words, e.g. `≥ 50% of raw SHA-256`. */
  readonly target?: string;
  /** Whether the target is met, when there is one. */
  readonly met?: boolean;
}

export interface Benchmark {
  readonly name: string;
  run(): Promise<BenchRow[]>;
}

/** value / baseline: for throughput, the share of the baseline reached; for latency, the overhead factor. */
export function ratio(row: BenchRow): number | undefined {
  return row.baseline ? row.value / row.baseline.value : undefined;
}

function format(value: number): string {
  if (Math.abs(value) >= 1000) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(3);
}

export function renderTable(rows: readonly BenchRow[]): string {
  const header = ['benchmark', 'value', 'baseline', 'ratio', 'target', 'met'];
  const lines = rows.map((row) => {
    const r = ratio(row);
    return [
      row.name,
      `${format(row.value)} ${row.unit}`,
      row.baseline ? `${format(row.baseline.value)} ${row.unit} (${row.baseline.name})` : '',
      r === undefined ? '' : `${r.toFixed(2)}×`,
      row.target ?? '',
      row.met === undefined ? '' : row.met ? 'yes' : 'NO',
    ];
  });
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => line[column]?.length ?? 0)),
  );
  const render = (cells: readonly string[]) =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ');
  return [render(header), widths.map((width) => '-'.repeat(width)).join('-|-'), ...lines.map(render)].join(
    '\n',
  );
}

/** Percentile of a sample (nearest rank). */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}
