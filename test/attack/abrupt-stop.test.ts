/**
 * [API-3][AUD-1][AUD-3] `npm start` killed with SIGKILL during writes, then started again
 * (test/attack/scenarios/abrupt-stop.ts); one kill here, several in `npm run attack`.
 */
import { describe, expect, it } from 'vitest';
import { abruptStopScenario } from './scenarios/abrupt-stop';
import { violations } from './support/report';
import { attackSize } from './support/size';

describe('[API-3][AUD-1][AUD-3] npm start killed during a write load', () => {
  it('leaves no process behind, loses no acknowledged write, writes nothing twice or by half, and its log verifies', async () => {
    const report = await abruptStopScenario(attackSize());
    console.info(report.notes.join('\n'));
    expect(report.findings).toEqual([]);
    expect(violations(report)).toBe(0);
  }, 900_000);
});
