/**
 * The deployment pipeline's configuration (INF-8), from CDK context `strongroom:pipeline`:
 *
 * ```json
 * "strongroom:pipeline": {
 *   "connectionArn": "arn:aws:codeconnections:eu-central-1:<account>:connection/<uuid>",
 *   "repository": "<owner>/<repository>",
 *   "branch": "main"
 * }
 * ```
 *
 * The connection (AWS CodeConnections, formerly CodeStar Connections) is created and
 * authorized once in the console; the app only names it, so synthesis needs no lookup.
 */
import type { ContextReader } from './config';

export const pipelineContextKey = 'strongroom:pipeline';

export interface PipelineConfig {
  /** ARN of the CodeConnections connection to the repository host. */
  readonly connectionArn: string;
  /** `owner/repository` on the connected host. */
  readonly repository: string;
  /** The branch whose pushes start the pipeline. */
  readonly branch: string;
}

const connectionArnPattern =
  /^arn:aws:(codestar-connections|codeconnections):eu-[a-z]+-\d:\d{12}:connection\/[0-9a-f-]{36}$/;

export function loadPipelineConfig(read: ContextReader): PipelineConfig {
  const raw = read(pipelineContextKey);
  const value = typeof raw === 'string' ? parse(raw) : raw;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${pipelineContextKey} must be an object, got ${show(raw)}`);
  }
  const { connectionArn, repository, branch, ...unknown } = value as Record<string, unknown>;
  const extra = Object.keys(unknown);
  if (extra.length > 0)
    throw new Error(`${pipelineContextKey} has an unknown setting, got ${show(extra[0])}`);
  if (typeof connectionArn !== 'string' || !connectionArnPattern.test(connectionArn)) {
    throw new Error(
      `${pipelineContextKey}.connectionArn must be a codeconnections connection arn in an eu region, got ${show(connectionArn)}`,
    );
  }
  if (typeof repository !== 'string' || !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repository)) {
    throw new Error(`${pipelineContextKey}.repository must be owner/name, got ${show(repository)}`);
  }
  if (typeof branch !== 'string' || !/^[A-Za-z0-9._/-]{1,100}$/.test(branch) || branch.includes('..')) {
    throw new Error(`${pipelineContextKey}.branch must be a branch name, got ${show(branch)}`);
  }
  return { connectionArn, repository, branch };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${pipelineContextKey} must be json, got ${show(text)}`);
  }
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}
