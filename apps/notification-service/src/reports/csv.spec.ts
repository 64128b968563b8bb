import { toCsv } from './csv';

describe(toCsv.name, () => {
  it('writes a header row and one CRLF-terminated line per row', () => {
    expect(
      toCsv(
        ['template', 'total'],
        [
          ['a', 1],
          ['b', 2],
        ],
      ),
    ).toBe('template,total\r\na,1\r\nb,2\r\n');
  });

  it('writes only the header when there are no rows', () => {
    expect(toCsv(['day', 'total'], [])).toBe('day,total\r\n');
  });

  it('writes null and undefined as empty cells, numbers and booleans as-is', () => {
    expect(toCsv(['a', 'b', 'c', 'd', 'e'], [[null, undefined, 0.6667, true, 0]])).toBe(
      'a,b,c,d,e\r\n,,0.6667,true,0\r\n',
    );
  });

  it('writes non-finite numbers as empty cells', () => {
    expect(toCsv(['a', 'b'], [[Number.NaN, Number.POSITIVE_INFINITY]])).toBe('a,b\r\n,\r\n');
  });

  it.each([
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['line\nbreak', '"line\nbreak"'],
    ['carriage\rreturn', '"carriage\rreturn"'],
    ['crlf\r\nend', '"crlf\r\nend"'],
    ['"', '""""'],
    ['plain text', 'plain text'],
    ["it's", "it's"],
    ['', ''],
  ])('quotes %j as %j (RFC 4180)', (value, expected) => {
    expect(toCsv(['h'], [[value]])).toBe(`h\r\n${expected}\r\n`);
  });

  it.each([
    ['=SUM(A1:A9)', "'=SUM(A1:A9)"],
    ['+1', "'+1"],
    ['-2+3', "'-2+3"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['=HYPERLINK("http://x","y")', '"\'=HYPERLINK(""http://x"",""y"")"'],
    ['=1,2', `"'=1,2"`],
    ['a=b', 'a=b'],
  ])('defuses formula cell %j as %j', (value, expected) => {
    expect(toCsv(['h'], [[value]])).toBe(`h\r\n${expected}\r\n`);
  });

  it('leaves negative numbers alone: only text can be a formula', () => {
    expect(toCsv(['n'], [[-5]])).toBe('n\r\n-5\r\n');
  });

  it('applies the same rules to header cells', () => {
    expect(toCsv(['=x', 'a,b'], [])).toBe(`'=x,"a,b"\r\n`);
  });
});
