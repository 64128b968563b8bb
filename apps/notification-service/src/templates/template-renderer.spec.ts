import {
  compileTemplate,
  EmptyMessageError,
  InvalidTemplateError,
  InvalidVariablesError,
  MessageTooLongError,
  MissingVariablesError,
  renderTemplate,
  TemplateTooComplexError,
} from './template-renderer';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe(compileTemplate.name, () => {
  it('lists simple variables once each, in order of first use', () => {
    expect(compileTemplate('Hi {{name}}, {{code}} is your code. Bye {{name}}!').variables).toEqual([
      'name',
      'code',
    ]);
  });

  it('reports dotted paths in full', () => {
    expect(compileTemplate('Order {{order.id}} ({{order.total}})').variables).toEqual([
      'order.id',
      'order.total',
    ]);
  });

  it('treats this., ./, @root. and a ../ back to the top as top-level names', () => {
    const body =
      '{{this.a}} {{./b}} {{@root.c}} {{#each items}}{{../d}}{{@root.e}}{{/each}} {{[first name]}}';
    expect(compileTemplate(body).variables).toEqual([
      'a',
      'b',
      'c',
      'items',
      'd',
      'e',
      'first name',
    ]);
  });

  it('includes conditions and with subjects but not helper names', () => {
    const body =
      '{{#if vip}}Dear {{title}}{{else if member}}Hi{{else}}Hello{{/if}} ' +
      '{{#unless quiet}}!{{/unless}}{{#with order}}{{id}}{{/with}} {{lookup prices currency}}';
    expect(compileTemplate(body).variables).toEqual([
      'vip',
      'title',
      'member',
      'quiet',
      'order',
      'prices',
      'currency',
    ]);
  });

  it('reports only the list of an each, not the fields of its items', () => {
    const body =
      '{{#each items}}{{name}} x{{qty}}{{#if @last}}.{{else}}, {{/if}}{{/each}}' +
      '{{#each lines as |line i|}}{{i}}:{{line.sku}}{{/each}}';
    expect(compileTemplate(body).variables).toEqual(['items', 'lines']);
  });

  it('lists no variables for fixed text', () => {
    expect(compileTemplate('Your parcel is on its way.').variables).toEqual([]);
  });

  it.each([
    ['an unclosed mustache', 'Hello {{name'],
    ['mismatched blocks', '{{#if a}}x{{/each}}'],
    ['a partial', 'Hi {{> footer}}'],
    ['an unknown helper', '{{shout name}}'],
    ['a section on a plain variable', '{{#items}}x{{/items}}'],
    ['an inverted section', '{{^items}}none{{/items}}'],
    ['a helper with the wrong number of arguments', '{{#if a b}}x{{/if}}'],
    ['a block helper used inline', 'Hello {{if}}'],
    ['a ../ above the variables', '{{../name}}'],
    ['@index outside an each', '{{@index}}'],
    ['this at the top level', '{{this}}'],
  ])('refuses %s with InvalidTemplateError', (_what, body) => {
    const error = thrown(() => compileTemplate(body));
    expect(error).toBeInstanceOf(InvalidTemplateError);
    expect((error as InvalidTemplateError).code).toBe('invalid_template');
  });

  it("passes the parser's message and line on", () => {
    const error = thrown(() => compileTemplate('line one\nHello {{name')) as InvalidTemplateError;
    expect(error.message).toMatch(/^Invalid template: Parse error on line 2:/);
    expect(error.details).toEqual({ line: 2, column: undefined });
  });

  it('locates its own refusals, 1-based', () => {
    const error = thrown(() => compileTemplate('Hi\n  {{shout name}}')) as InvalidTemplateError;
    expect(error.message).toContain('unknown helper "shout"');
    expect(error.details).toEqual({ line: 2, column: 3 });
  });

  it('refuses a template whose fixed text alone is over 1600 characters', () => {
    const error = thrown(() => compileTemplate(`${'a'.repeat(1601)}{{x}}`));
    expect(error).toBeInstanceOf(MessageTooLongError);
    expect((error as MessageTooLongError).details).toEqual({ characters: 1601, max: 1600 });
  });
});

describe(renderTemplate.name, () => {
  it('renders without HTML escaping', () => {
    const result = renderTemplate('{{a}} {{{a}}}', { a: `<b>&"'` });
    expect(result.text).toBe(`<b>&"' <b>&"'`);
  });

  it('renders numbers and booleans', () => {
    expect(
      renderTemplate('{{n}} {{f}} {{z}} {{ok}}', { n: 42, f: 9.5, z: 0, ok: false }).text,
    ).toBe('42 9.5 0 false');
  });

  it('renders dotted paths, conditions and lists', () => {
    const body =
      'Order {{order.id}}: {{#each items}}{{name}}{{#unless @last}}, {{/unless}}{{/each}}' +
      '{{#if vip}} (VIP){{/if}}';
    const variables = {
      order: { id: 'A1' },
      items: [{ name: 'tea' }, { name: 'cake' }],
      vip: true,
    };
    expect(renderTemplate(body, variables).text).toBe('Order A1: tea, cake (VIP)');
  });

  it('lists every missing variable at once', () => {
    const error = thrown(() => renderTemplate('{{a}} {{b}} {{c}} {{d.e}}', { b: 'x' }));
    expect(error).toBeInstanceOf(MissingVariablesError);
    expect((error as MissingVariablesError).details).toEqual({ missing: ['a', 'c', 'd.e'] });
    expect((error as MissingVariablesError).code).toBe('missing_variables');
  });

  it('counts null and undefined as missing', () => {
    const error = thrown(() => renderTemplate('{{a}} {{b}}', { a: null, b: undefined }));
    expect((error as MissingVariablesError).missing).toEqual(['a', 'b']);
  });

  it('requires variables used only as conditions, accepting false', () => {
    expect(thrown(() => renderTemplate('x{{#if vip}}!{{/if}}', {}))).toBeInstanceOf(
      MissingVariablesError,
    );
    expect(renderTemplate('x{{#if vip}}!{{/if}}', { vip: false }).text).toBe('x');
  });

  it('does not read inherited properties', () => {
    const error = thrown(() => renderTemplate('{{constructor}}', {}));
    expect((error as MissingVariablesError).missing).toEqual(['constructor']);
  });

  it('names a missing field of a list item', () => {
    const error = thrown(() =>
      renderTemplate('{{#each items}}{{name}}{{/each}}', { items: [{ name: 'a' }, {}] }),
    );
    expect((error as MissingVariablesError).missing).toEqual(['items[].name']);
  });

  it('refuses objects where text is printed and scalars given to each', () => {
    const error = thrown(() =>
      renderTemplate('{{a}} {{#each b}}{{this}}{{/each}}', { a: { x: 1 }, b: 'text' }),
    );
    expect(error).toBeInstanceOf(InvalidVariablesError);
    expect((error as InvalidVariablesError).details.invalid.map((v) => v.name)).toEqual(['a', 'b']);
  });

  it('accepts 1600 rendered characters and refuses 1601', () => {
    expect(renderTemplate('{{text}}', { text: 'a'.repeat(1600) }).characters).toBe(1600);
    const error = thrown(() => renderTemplate('{{text}}!', { text: 'a'.repeat(1600) }));
    expect(error).toBeInstanceOf(MessageTooLongError);
    expect((error as MessageTooLongError).details).toEqual({ characters: 1601, max: 1600 });
  });

  it('reports encoding and segments', () => {
    expect(renderTemplate('Hi {{name}}', { name: 'Ada' })).toEqual({
      text: 'Hi Ada',
      characters: 6,
      encoding: 'GSM-7',
      segments: 1,
    });
    const unicode = renderTemplate('Hi {{name}} 🎉', { name: 'Ada' });
    expect(unicode.encoding).toBe('UCS-2');
    expect(unicode.characters).toBe(9);
  });

  it('with smart encoding, measures and checks the rewritten text, keeping the original', () => {
    const rendered = renderTemplate(
      '{{name}}’s order… ready',
      { name: 'Ada' },
      { smartEncoding: true },
    );
    expect(rendered).toEqual({
      text: "Ada's order... ready",
      characters: 20,
      encoding: 'GSM-7',
      segments: 1,
      smartEncoded: {
        original: 'Ada’s order… ready',
        replaced: [
          { character: '’', replacement: "'", count: 1 },
          { character: '…', replacement: '...', count: 1 },
        ],
      },
    });
    // 600 ellipses fit as UCS-2 but are 1800 characters once rewritten.
    expect(
      thrown(() => renderTemplate('{{t}}', { t: '…'.repeat(600) }, { smartEncoding: true })),
    ).toBeInstanceOf(MessageTooLongError);
    expect(
      thrown(() => renderTemplate('{{t}}', { t: '\u200B' }, { smartEncoding: true })),
    ).toBeInstanceOf(EmptyMessageError);
  });

  it('refuses a message that renders to nothing but whitespace', () => {
    expect(thrown(() => renderTemplate(' {{a}} ', { a: '' }))).toBeInstanceOf(EmptyMessageError);
  });

  it('gives the same result from the cache as the first time', () => {
    const body = 'cached {{x}}';
    expect(renderTemplate(body, { x: 1 }).text).toBe('cached 1');
    expect(renderTemplate(body, { x: 2 }).text).toBe('cached 2');
    expect(compileTemplate(body).variables).toEqual(['x']);
  });
});

describe('bounded rendering', () => {
  /** Milliseconds `fn` took, and what it threw. */
  function timed(fn: () => unknown): { ms: number; error: unknown } {
    const started = performance.now();
    const error = thrown(fn);
    return { ms: performance.now() - started, error };
  }

  it('stops the nested each bomb (512 million characters) at the limit, in milliseconds', () => {
    const body =
      '{{#each a}}{{#each @root.a}}{{#each @root.a}}' +
      'x'.repeat(1000) +
      '{{/each}}{{/each}}{{/each}}';
    const { ms, error } = timed(() => renderTemplate(body, { a: Array<number>(80).fill(0) }));
    expect(error).toBeInstanceOf(MessageTooLongError);
    expect((error as MessageTooLongError).code).toBe('message_too_long');
    // The unbounded render took minutes and then aborted V8; a generous bound for a shared CPU.
    expect(ms).toBeLessThan(250);
  });

  it('stops a single each over a long list as soon as the output passes the limit', () => {
    const body = '{{#each a}}' + 'y'.repeat(1500) + '{{/each}}';
    const { ms, error } = timed(() => renderTemplate(body, { a: Array<number>(10_000).fill(0) }));
    expect(error).toBeInstanceOf(MessageTooLongError);
    expect(ms).toBeLessThan(250);
  });

  it('stops nested loops that print nothing after a bounded number of iterations', () => {
    const body = '{{#each a}}{{#each @root.a}}{{#each @root.a}}{{/each}}{{/each}}{{/each}}';
    const { ms, error } = timed(() => renderTemplate(body, { a: Array<number>(1000).fill(0) }));
    expect(error).toBeInstanceOf(TemplateTooComplexError);
    expect((error as TemplateTooComplexError).code).toBe('template_too_complex');
    expect(ms).toBeLessThan(250);
  });

  it('refuses a variable longer than a whole message, wherever it is nested', () => {
    const error = thrown(() =>
      renderTemplate('{{#each a}}{{x}}{{/each}}', { a: [{ x: 'ok' }, { x: 'z'.repeat(1601) }] }),
    );
    expect(error).toBeInstanceOf(InvalidVariablesError);
    expect((error as InvalidVariablesError).details.invalid).toEqual([
      { name: 'a[1].x', reason: 'is longer than 1600 characters' },
    ]);
  });

  it('still renders loops and blocks whose output fits', () => {
    const body =
      '{{#each items}}{{#if @first}}{{else}}, {{/if}}{{name}}{{/each}}{{#with o}} {{p}}{{/with}}';
    const items = Array.from({ length: 200 }, (_, i) => ({ name: `n${i}` }));
    const text = renderTemplate(body, { items, o: { p: 'end' } }).text;
    expect(text.startsWith('n0, n1, n2')).toBe(true);
    expect(text.endsWith('n199 end')).toBe(true);
  });
});
