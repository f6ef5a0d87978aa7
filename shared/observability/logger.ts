/**
 * The structured JSON logger (LOG-1), created once per process. Request handlers add
 * the request id and tenant id as persistent keys per invocation; nothing secret
 * (tokens, API keys, passwords) is ever passed to it, and every line passes the
 * redacting replacer (redact.ts) in case something is.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { redactingReplacer } from './redact';

export const logger = new Logger({
  serviceName: 'strongroom',
  logLevel: (process.env.STRONGROOM_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO',
  jsonReplacerFn: redactingReplacer,
});
