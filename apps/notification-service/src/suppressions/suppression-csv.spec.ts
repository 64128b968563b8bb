import { exportHeader, exportLines, MAX_IMPORT_ROWS, parseImport } from './suppression-csv';

describe('parseImport', () => {
  it('reads the rows under a header, reason optional, quoted fields and CRLF included', () => {
    const parsed = parseImport(
      '\uFEFFto,scope,reason\r\n+4915123456789,marketing,"Called, asked ""no more"""\r\n' +
        '+14155550100,all,\n\n',
    );
    expect(parsed).toEqual({
      ok: true,
      rows: [
        {
          to: '+4915123456789',
          scope: 'marketing',
          reason: 'Called, asked "no more"',
          source: null,
        },
        { to: '+14155550100', scope: 'all', reason: null, source: null },
      ],
    });
  });

  it('takes the columns in the header’s order, and a header without reason', () => {
    expect(parseImport('scope,to\nall,+14155550100\n')).toEqual({
      ok: true,
      rows: [{ to: '+14155550100', scope: 'all', reason: null, source: null }],
    });
  });

  it('reads an export as it is: source per row, created_at ignored', () => {
    expect(
      parseImport(`${exportHeader()}+14155550100,all,moved,crm,2026-12-01T09:30:00.000Z\r\n`),
    ).toEqual({
      ok: true,
      rows: [{ to: '+14155550100', scope: 'all', reason: 'moved', source: 'crm' }],
    });
  });

  it('names the line of every problem, a quoted line break counting as a line', () => {
    const parsed = parseImport(
      'to,scope,reason\n+14155550100,all,"two\nlines"\n4155550101,all,\n+14155550102,never,\n' +
        '+14155550103,all\n',
    );
    expect(parsed).toEqual({
      ok: false,
      problemCount: 3,
      problems: [
        { line: 4, problem: expect.stringContaining('E.164') },
        { line: 5, problem: 'scope must be marketing or all' },
        { line: 6, problem: expect.stringContaining('has 2 fields; the header has 3') },
      ],
    });
  });

  it('refuses a file without the header, or an empty one, on line 1', () => {
    for (const text of ['+14155550100,all,\n', 'to,reason\n', '']) {
      const parsed = parseImport(text);
      expect(parsed.ok).toBe(false);
      expect(parsed.ok === false && !parsed.tooManyRows && parsed.problems[0].line).toBe(1);
    }
  });

  it('refuses an unterminated quote and control characters in a reason', () => {
    const parsed = parseImport(
      'to,scope,reason\n+14155550100,all,"open\n+14155550101,all,a\u0007b\n',
    );
    expect(parsed).toMatchObject({ ok: false, problems: [{ line: 2 }] });
    const bell = parseImport('to,scope,reason\n+14155550101,all,a\u0007b\n');
    expect(bell).toMatchObject({
      ok: false,
      problems: [{ line: 2, problem: expect.stringContaining('control') }],
    });
  });

  it('counts rows past the bound as too many, whatever they hold', () => {
    const text = `to,scope\n${'+14155550100,all\n'.repeat(MAX_IMPORT_ROWS + 1)}`;
    expect(parseImport(text)).toEqual({ ok: false, tooManyRows: true });
  });
});

describe('export lines', () => {
  it('keep the number as stored and guard free text against formulas', () => {
    const text =
      exportHeader() +
      exportLines([
        {
          to: '+14155550100',
          scope: 'all',
          reason: '=HYPERLINK("x")',
          source: null,
          created_at: '2026-12-01T09:30:00.000Z',
        },
      ]);
    expect(text).toBe(
      'to,scope,reason,source,created_at\r\n' +
        `+14155550100,all,"'=HYPERLINK(""x"")",,2026-12-01T09:30:00.000Z\r\n`,
    );
  });
});
