/**
 * `npm run bench`: runs every benchmark and prints one table of local figures with the
 * ratio of each to its same-run baseline. `npm run bench -- <name fragment>` runs a subset.
 */
import { availableParallelism } from 'node:os';
import { auditAppendBenchmark } from './audit-append';
import { auditVerifyBenchmark } from './audit-verify';
import { type Benchmark, type BenchRow, renderTable } from './harness';
import { invoicesBenchmark } from './invoices';
import { sealBenchmark } from './seal';

// The CPU-bound benchmarks run first: the API benchmarks keep both cores busy, and the
// verifier picks its worker threads by the 1-minute load average, which would still count
// that load for a minute after they end.
const benchmarks: readonly Benchmark[] = [
  sealBenchmark,
  auditVerifyBenchmark,
  invoicesBenchmark,
  auditAppendBenchmark,
];

const filter = process.argv[2]?.toLowerCase();
const selected = benchmarks.filter((each) => !filter || each.name.toLowerCase().includes(filter));
const rows: BenchRow[] = [];
const started = performance.now();
for (const benchmark of selected) {
  process.stderr.write(`running ${benchmark.name}…\n`);
  rows.push(...(await benchmark.run()));
}
console.log(
  `Local figures (DynamoDB Local and cognito-local on 127.0.0.1, ${availableParallelism()} cores, Node ${process.version}); not AWS numbers.`,
);
console.log(renderTable(rows));
console.log(`${selected.length} benchmarks in ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (rows.some((row) => row.met === false)) process.exitCode = 1;
