import { ApiError } from '../errors/api-error';
import {
  checkRawQuery,
  MAX_JSON_DEPTH,
  nestsDeeperThan,
  parseJsonBody,
  textProblem,
} from './request-rules';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return error.code;
    throw error;
  }
  return undefined;
}

describe('request rules', () => {
  it('measures nesting on the raw text, ignoring brackets inside strings', () => {
    expect(nestsDeeperThan('[[1]]', 2)).toBe(false);
    expect(nestsDeeperThan('[[[1]]]', 2)).toBe(true);
    expect(nestsDeeperThan('{"a":"[[[[[[\\"[[["}', 1)).toBe(false);
    expect(nestsDeeperThan('['.repeat(150_000), MAX_JSON_DEPTH)).toBe(true);
  });

  it('parses a body up to the depth limit and refuses one level more', () => {
    const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(parseJsonBody(nest(MAX_JSON_DEPTH))).toBeDefined();
    expect(code(() => parseJsonBody(nest(MAX_JSON_DEPTH + 1)))).toBe('json_too_deep');
  });

  it('refuses NUL and control characters in values and names, keeping tabs and newlines', () => {
    expect(parseJsonBody('{"body":"line 1\\nline 2\\ttab\\r"}')).toEqual({
      body: 'line 1\nline 2\ttab\r',
    });
    expect(code(() => parseJsonBody('{"key":"a\\u0000b"}'))).toBe('invalid_characters');
    expect(code(() => parseJsonBody('{"v":{"x":["ok","\\u001b[31m"]}}'))).toBe(
      'invalid_characters',
    );
    expect(code(() => parseJsonBody('{"a\\nb":1}'))).toBe('invalid_characters');
  });

  it('refuses lone surrogates but keeps proper pairs', () => {
    expect(parseJsonBody('{"e":"\\ud83c\\udf89"}')).toEqual({ e: '🎉' });
    expect(code(() => parseJsonBody('{"e":"\\ud83c"}'))).toBe('invalid_characters');
    expect(code(() => parseJsonBody('{"e":"x\\udf89"}'))).toBe('invalid_characters');
  });

  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    expect(code(() => parseJsonBody(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])))).toBe(
      'invalid_json',
    );
  });

  it('refuses prototype-polluting names', () => {
    expect(code(() => parseJsonBody('{"__proto__":{"admin":true}}'))).toBe('invalid_characters');
    expect(code(() => parseJsonBody('{"constructor":{"prototype":{}}}'))).toBe(
      'invalid_characters',
    );
  });

  it('reads an empty body as no body', () => {
    expect(parseJsonBody(Buffer.alloc(0))).toBeUndefined();
    expect(parseJsonBody('  ')).toBeUndefined();
  });

  it('refuses duplicated, control-laden or non-UTF-8 query parameters', () => {
    expect(code(() => checkRawQuery('a=1&b=2&c'))).toBeUndefined();
    expect(code(() => checkRawQuery('a=1&a=2'))).toBe('duplicate_query_parameter');
    expect(code(() => checkRawQuery('a=x%00y'))).toBe('invalid_characters');
    expect(code(() => checkRawQuery('a=%0A'))).toBe('invalid_characters');
    expect(code(() => checkRawQuery('a=%FF'))).toBe('invalid_url');
    expect(code(() => checkRawQuery('a=%ED%A0%80'))).toBe('invalid_url');
  });

  it('names the problem', () => {
    expect(textProblem('a\u0000', true)).toBe('contains a NUL character');
    expect(textProblem('a\u0085', true)).toBe('contains a control character');
    expect(textProblem('fine text, ünïcødé 🎉', false)).toBeNull();
  });
});
