/**
 * Reads CONTROLS.md, the steering catalogue that sits beside the repository
 * (`../shared/CONTROLS.md`; in CI the shared folder sits beside the clone too).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface ControlsMdEntry {
  readonly id: string;
  readonly area: string;
  readonly text: string;
}

/** Where CONTROLS.md is expected, relative to the repository root. */
export function controlsMdPath(repoRoot: string): string {
  return resolve(repoRoot, '../shared/CONTROLS.md');
}

/** The rows `| ID | text |` of CONTROLS.md, with the `## area` heading above them. */
export function parseControlsMd(markdown: string): ControlsMdEntry[] {
  const entries: ControlsMdEntry[] = [];
  let area = '';
  for (const line of markdown.split(/\r?\n/)) {
    const heading = /^##\s+(.+?)\s*$/.exec(line);
    if (heading?.[1] !== undefined) {
      area = heading[1];
      continue;
    }
    const row = /^\|\s*([A-Z]+-\d+)\s*\|\s*(.*?)\s*\|\s*$/.exec(line);
    if (row?.[1] !== undefined && row[2] !== undefined) entries.push({ id: row[1], area, text: row[2] });
  }
  return entries;
}

/** CONTROLS.md's entries, or undefined when the file is not there (a clone without shared/). */
export function readControlsMd(repoRoot: string): { path: string; entries: ControlsMdEntry[] } | undefined {
  const path = controlsMdPath(repoRoot);
  if (!existsSync(path)) return undefined;
  return { path, entries: parseControlsMd(readFileSync(path, 'utf8')) };
}
