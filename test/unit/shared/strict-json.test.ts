import { describe, expect, it } from 'vitest';
import { MalformedRequestError } from '#shared/domain/errors';
import { parseStrictJson } from '#shared/http/strict-json';

describe('[API-1] strict JSON parsing of request bodies', () => {
  it('parses ordinary JSON', () => {
    expect(parseStrictJson('{"a":[1,{"b":"c"}],"d":null}', 8)).toEqual({ a: [1, { b: 'c' }], d: null });
  });

  it.each([
    ['broken syntax', '{"a":'],
    ['a duplicate key', '{"a":1,"a":2}'],
    ['a duplicate key written with escapes', '{"a":1,"\\u0061":2}'],
    ['a __proto__ key', '{"__proto__":{"admin":true}}'],
    ['a constructor key', '{"x":{"constructor":{"prototype":{}}}}'],
    ['a lone surrogate in a value', '{"a":"\\ud800"}'],
    ['a lone surrogate in a key', '{"\\udc00":1}'],
    ['nesting deeper than the limit', `${'['.repeat(9)}${']'.repeat(9)}`],
  ])('refuses %s', (_name, text) => {
    expect(() => parseStrictJson(text, 8)).toThrow(MalformedRequestError);
  });

  it('accepts nesting at the limit and the same key in sibling objects', () => {
    expect(parseStrictJson(`${'['.repeat(8)}${']'.repeat(8)}`, 8)).toBeDefined();
    expect(parseStrictJson('[{"a":1},{"a":2}]', 8)).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('accepts a well-formed surrogate pair and keys containing escaped quotes', () => {
    expect(parseStrictJson('{"a\\"b":"\\ud83d\\ude00","c":"\\\\"}', 8)).toEqual({ 'a"b': '😀', c: '\\' });
  });
});
