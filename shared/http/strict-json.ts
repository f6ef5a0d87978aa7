/**
 * Strict JSON for request bodies (API-1): syntax by JSON.parse, then what JSON.parse
 * lets through is refused: nesting deeper than the limit, duplicate keys (which
 * parsers resolve differently), prototype-polluting keys, and strings or keys that are
 * not well-formed Unicode (lone surrogates cannot be canonicalized for the audit log).
 */
import { MalformedRequestError } from '#shared/domain/errors';

const forbiddenKeys = new Set(['__proto__', 'constructor', 'prototype']);

export function parseStrictJson(text: string, maxDepth: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedRequestError('The request body is not valid JSON.');
  }
  checkStructure(text, maxDepth);
  checkValues(value);
  return value;
}

interface Container {
  readonly keys: Set<string> | undefined;
  expectKey: boolean;
}

/** Walks the raw text (already known to be valid JSON) for depth and duplicate keys. */
function checkStructure(text: string, maxDepth: number): void {
  const stack: Container[] = [];
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '"') {
      const start = index;
      for (index++; text[index] !== '"'; index++) if (text[index] === '\\') index++;
      const top = stack.at(-1);
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(start, index + 1)) as string;
        if (top.keys.has(key))
          throw new MalformedRequestError(`The request body repeats the key ${JSON.stringify(key)}.`);
        top.keys.add(key);
        top.expectKey = false;
      }
    } else if (char === '{' || char === '[') {
      stack.push({ keys: char === '{' ? new Set() : undefined, expectKey: char === '{' });
      if (stack.length > maxDepth) {
        throw new MalformedRequestError(`The request body is nested deeper than ${maxDepth} levels.`);
      }
    } else if (char === '}' || char === ']') {
      stack.pop();
    } else if (char === ',') {
      const top = stack.at(-1);
      if (top?.keys) top.expectKey = true;
    }
  }
}

function checkValues(value: unknown): void {
  if (typeof value === 'string') {
    if (!value.isWellFormed()) throw new MalformedRequestError('The request body contains a lone surrogate.');
  } else if (Array.isArray(value)) {
    for (const item of value) checkValues(item);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (!key.isWellFormed()) throw new MalformedRequestError('The request body contains a lone surrogate.');
      if (forbiddenKeys.has(key))
        throw new MalformedRequestError(`The key ${JSON.stringify(key)} is not allowed.`);
      checkValues(item);
    }
  }
}
