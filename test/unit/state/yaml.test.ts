import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { parseYamlMapText, quoteString, YamlWriter } from '../../../src/state/yaml';

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
      assert.equal(new YamlWriter().entry(key, 1).toString(), `${expected}: 1\n`);
    });
  }

  const scalars: [string, unknown, string][] = [
    ['an empty string', '', '""'],
    ['words YAML would read as other types', 'true', '"true"'],
    ['C0 controls that have short escapes', '\0\x07\b\t\n\v\f\r\x1b', '"\\0\\a\\b\\t\\n\\v\\f\\r\\e"'],
    ['other C0 controls', '\x01\x1f', '"\\u0001\\u001f"'],
    ['DEL and C1 controls', '\x7f\x85\x9f', '"\\u007f\\u0085\\u009f"'],
    ['a no-break space unescaped', 'a\xa0b', '"a\xa0b"'],
    ['line and paragraph separators and the BOM', '\u2028\u2029\ufeff', '"\\u2028\\u2029\\ufeff"'],
    [
      'lone surrogates escaped and a surrogate pair unescaped',
      '\ud800x\udfff\u{1f600}',
      '"\\ud800x\\udfff\u{1f600}"',
    ],
    ['a space before a line break', 'a \nb', '"a \\nb"'],
    ['quotes and backslashes', 'say "\\"', '"say \\"\\\\\\""'],
    ['a long string with spaces, on one line', 'word '.repeat(40), `"${'word '.repeat(40)}"`],
    ['a long string with line breaks, on one line', 'line\n'.repeat(20), `"${'line\\n'.repeat(20)}"`],
    ['a large number', 1e21, '1e+21'],
    ['negative zero', -0, '0'],
    ['a fraction', 0.5, '0.5'],
    ['NaN', NaN, '.nan'],
    ['infinity', Infinity, '.inf'],
    ['negative infinity', -Infinity, '-.inf'],
    ['a bigint', 12345678901234567890n, '12345678901234567890'],
    ['false', false, 'false'],
    ['null', null, 'null'],
    ['a date', new Date(Date.UTC(2025, 11, 1, 8, 56, 5)), '"2025-12-01T08:56:05.000Z"'],
    ['bytes', new Uint8Array([1, 2, 250]), '"AQL6"'],
  ];
  for (const [what, value, expected] of scalars) {
    it(`writes ${what} byte for byte, as a value and as a list item`, () => {
      const text = new YamlWriter().entry('v', value).entry('l', [value]).toString();
      assert.equal(text, `v: ${expected}\nl:\n  - ${expected}\n`);
    });
  }

  const layouts: [string, (w: YamlWriter) => YamlWriter, string[]][] = [
    [
      'header comments, a blank line and a section comment before the first entry',
      (w) => w.comment('title').comment('').blank().comment('section').entry('a', 1),
      ['# title', '#', '', '# section', 'a: 1'],
    ],
    [
      'a blank line and a comment between entries, and a comment after the last',
      (w) => w.entry('a', 1).blank().comment('next').entry('b', 2).comment('end'),
      ['a: 1', '', '# next', 'b: 2', '# end'],
    ],
    [
      'a blank line before the first entry and before a trailing comment',
      (w) => w.blank().entry('a', { b: [] }).blank().comment('end'),
      ['', 'a:', '  b: []', '', '# end'],
    ],
    [
      'line breaks in a comment as spaces',
      (w) => w.comment('one\ntwo\r\nthree\u2028four').entry('a', 1),
      ['# one two three four', 'a: 1'],
    ],
    [
      'an entry whose value is undefined as nothing, keeping the comment for the next one',
      (w) => w.comment('kept').entry('gone', undefined).entry('a', 1),
      ['# kept', 'a: 1'],
    ],
    [
      'keys of other types plain, and complex keys as quoted JSON',
      (w) =>
        w
          .entry(
            'm',
            new Map<unknown, unknown>([
              [true, 1],
              [null, 2],
              [2.5, 3],
              [{ k: 1 }, 4],
            ])
          )
          .entry(7, 'x'),
      ['m:', '  true: 1', '  null: 2', '  2.5: 3', '  "{\\"k\\":1}": 4', '7: "x"'],
    ],
    [
      'a run of blank lines as one, and none at the end',
      (w) => w.entry('a', 1).blank().blank().comment('b').blank().blank().entry('b', 2).blank(),
      ['a: 1', '', '# b', '', 'b: 2'],
    ],
    [
      'no entries as an empty map, followed by the comments',
      (w) => w.comment('only').blank(),
      ['{}', '# only'],
    ],
  ];
  for (const [what, build, lines] of layouts) {
    it(`writes ${what}`, () => {
      assert.equal(build(new YamlWriter()).toString(), `${lines.join('\n')}\n`);
    });
  }

  it('writes a key too long for an implicit key as an explicit one that reads back', () => {
    const key = 'k'.repeat(1100);
    const text = new YamlWriter().entry(key, 1).entry('b', 2).toString();
    assert.equal(text, `? ${key}\n: 1\nb: 2\n`);
    assert.equal(parseYamlMapText(text).get(key), 1);
  });

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
