import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { keyText, parseYamlMapText, quoteString, YamlWriter } from '../../../src/state/yaml';

describe('YAML writer', () => {
  const strings = [
    '',
    'plain words',
    'true',
    '0123',
    '1e3',
    'null',
    '~',
    '- dash',
    'key: value',
    '# hash',
    'quote " and backslash \\',
    'tab\tnew\nline\r\n',
    'bell \x07 escape \x1b nul \0 del \x7f',
    'line separator \u2028 paragraph \u2029 bom \ufeff',
    'é ü 😀',
  ];
  for (const s of strings) {
    it(`writes ${JSON.stringify(s)} as a one-line double-quoted scalar that reads back the same`, () => {
      const text = quoteString(s);
      assert.equal(text.includes('\n'), false);
      assert.equal((parse(`v: ${text}\n`) as { v: unknown }).v, s);
    });
  }

  const keys: [string, string][] = [
    ['deployment_id', 'deployment_id'],
    ['k0s-controller-1', 'k0s-controller-1'],
    ['kof-regional-q7m2xk4p-southeastasia', 'kof-regional-q7m2xk4p-southeastasia'],
    ['yes', '"yes"'],
    ['True', '"True"'],
    ['123', '"123"'],
    ['a b', '"a b"'],
    ['', '""'],
  ];
  for (const [key, expected] of keys) {
    it(`writes the key ${JSON.stringify(key)} as ${expected}`, () => {
      assert.equal(keyText(key), expected);
    });
  }

  it('writes nested maps and lists in block style, empty ones in flow style', () => {
    const text = new YamlWriter()
      .comment('header')
      .blank()
      .entry('a', { b: [{ c: 1, d: [true, null] }, [2, 3], {}, []], e: {}, f: undefined })
      .entry('g', new Map<unknown, unknown>([[1, 'one']]))
      .toString();
    assert.equal(
      text,
      [
        '# header',
        '',
        'a:',
        '  b:',
        '    - c: 1',
        '      d:',
        '        - true',
        '        - null',
        '    - - 2',
        '      - 3',
        '    - {}',
        '    - []',
        '  e: {}',
        'g:',
        '  1: "one"',
        '',
      ].join('\n')
    );
    const back = parseYamlMapText(text);
    assert.deepEqual((back.get('g') as Map<unknown, unknown>).get(1), 'one');
  });
});
