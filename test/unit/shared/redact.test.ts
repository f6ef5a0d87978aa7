import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { redactingReplacer, redactText } from '#shared/observability/redact';

const jwt =
  'eyJraWQiOiJ0ZXN0IiwiYWxnIjoiUlMyNTYifQ.eyJzdWIiOiIxMjM0NTY3ODkwIiwidG9rZW5fdXNlIjoiYWNjZXNzIn0.c2lnbmF0dXJlLWJ5dGVz';
const apiKey = 'srk_local_k3y1d_4xT9vQpZrL2mN8bW6cY1dF5gH7jK0sA3eU9iO2pR4tV';

describe('[LOG-1] log redaction', () => {
  it('removes tokens, API keys, emails and IBANs wherever they appear in a string', () => {
    const text = `auth Bearer ${jwt} then ${jwt} key ${apiKey} by owner@demo.strongroom.test for DE89 3704 0044 0532 0130 00 and DE89370400440532013000 and pl61 1090 1014 0000 0712 1981 2874`;
    const redacted = redactText(text);
    for (const secret of [
      jwt,
      apiKey,
      'owner@demo',
      'DE89',
      '3704 0044',
      '0532013000',
      'pl61',
      '1981 2874',
    ]) {
      expect(redacted, secret).not.toContain(secret);
    }
    expect(redacted).toContain('[REDACTED:iban]');
  });

  it('keeps pseudonymous ids and ordinary words', () => {
    const text =
      'actor usr_AbCdEfGhIjKlMnOpQrStUvWxYz012345 on inv_01JZ8X6Q3W4E5R6T7Y8U9I0OPA in tenant demo-two, request 8f14e45f-ceea-467f-a2f3-0c8b5e9d1a2b, function request 2f4cb3ab-7969-45df-bb9b-de4851691234';
    expect(redactText(text)).toBe(text);
  });

  it('replaces secret attributes whole, and redacts inside errors and nested objects', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG', jsonReplacerFn: redactingReplacer });
    (logger as unknown as { console: Console }).console = new Console({ stdout: sink, stderr: sink });
    logger.info('login', {
      authorization: `Bearer ${jwt}`,
      password: 'hunter2-hunter2',
      nested: { email: 'x@y.example', note: 'mail owner@demo.strongroom.test' },
      error: new Error(`rejected ${apiKey} for DE89370400440532013000`),
    });
    const text = lines.join('');
    expect(text).toContain('"message":"login"');
    for (const secret of [jwt, 'hunter2', 'x@y.example', 'owner@demo', apiKey, 'DE89370400440532013000']) {
      expect(text, secret).not.toContain(secret);
    }
    expect(text).toContain('"name":"Error"');
  });
});
