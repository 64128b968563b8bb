import { analyzeMessage, MAX_MESSAGE_LENGTH, type SmsEncoding } from '@app/sms-provider/helpers';
import Handlebars from 'handlebars';
import { type SmartReplacement, smartEncode } from './smart-encoding';

/**
 * Handlebars for SMS templates: parsing, the list of variables a body uses, and strict rendering.
 *
 * Pure functions, no Nest: the service maps the errors below to HTTP answers, and anything else
 * (workers, scripts) can render without the framework.
 *
 * Variable naming — what `compileTemplate().variables` reports:
 * - names are paths from the caller's `variables` object, written with dots: `{{order.id}}` is
 *   `order.id` (not `order`), so a caller learns exactly which field to provide;
 * - `this.x`, `./x`, `@root.x` and a `../x` that climbs back to the top all mean `x`;
 * - inside `{{#each items}}` and `{{#with order}}` the context is the item / the object, so the
 *   paths there are fields of it and only `items` / `order` is reported (with block params,
 *   `{{#each items as |item|}}{{item.name}}` likewise reports `items`);
 * - helper names (`if`, `unless`, `each`, `with`, `lookup`) and `@index`-style data are not
 *   variables; each name is listed once, in order of first use.
 *
 * Strictness: every reported variable must be present and not null, even one only used inside an
 * `{{#if}}` (a caller switches a section off with `false` or `""`, never by leaving a name out),
 * and all absent ones are reported together. Fields of `each`/`with` contexts are checked by
 * Handlebars' own strict mode while rendering, which stops at the first one.
 */

export interface CompiledTemplate {
  /** Variable paths the body uses, each once, in order of first use. */
  readonly variables: readonly string[];
}

export interface RenderedMessage {
  /** What is sent: after smart encoding, when the template has it. */
  text: string;
  characters: number;
  encoding: SmsEncoding;
  segments: number;
  /** Only with smart encoding: the text as rendered, before the look-alikes were rewritten. */
  smartEncoded?: { original: string; replaced: SmartReplacement[] } | null;
}

export interface RenderOptions {
  /** Rewrite look-alikes to GSM-7 (smart-encoding.ts) before measuring the text. */
  smartEncoding?: boolean;
}

/** A renderer failure the API answers with a 422: `code` and `details` go to the caller as is. */
export abstract class TemplateError extends Error {
  abstract readonly code: string;
  abstract readonly details: Record<string, unknown> | undefined;
}

export class InvalidTemplateError extends TemplateError {
  readonly code = 'invalid_template';
  /** Where the problem is, 1-based like an editor shows it. */
  readonly details: { line: number; column?: number } | undefined;

  constructor(reason: string, line?: number, column?: number) {
    super(`Invalid template: ${reason}`);
    this.name = 'InvalidTemplateError';
    this.details = line === undefined ? undefined : { line, column };
  }
}

export class MissingVariablesError extends TemplateError {
  readonly code = 'missing_variables';
  readonly details: { missing: string[] };

  constructor(readonly missing: string[]) {
    super(`Missing template variables: ${missing.join(', ')}`);
    this.name = 'MissingVariablesError';
    this.details = { missing };
  }
}

export interface InvalidVariable {
  name: string;
  reason: string;
}

export class InvalidVariablesError extends TemplateError {
  readonly code = 'invalid_variables';
  readonly details: { invalid: InvalidVariable[] };

  constructor(readonly invalid: InvalidVariable[]) {
    super(`Invalid template variables: ${invalid.map((v) => `${v.name} ${v.reason}`).join('; ')}`);
    this.name = 'InvalidVariablesError';
    this.details = { invalid };
  }
}

export class MessageTooLongError extends TemplateError {
  readonly code = 'message_too_long';
  readonly details: { characters: number; max: number };

  constructor(characters: number, what = 'Rendered message', atLeast = false) {
    super(
      `${what} is ${atLeast ? 'over ' : ''}${characters} characters long; the maximum is ${MAX_MESSAGE_LENGTH}`,
    );
    this.name = 'MessageTooLongError';
    this.details = { characters, max: MAX_MESSAGE_LENGTH };
  }
}

export class EmptyMessageError extends TemplateError {
  readonly code = 'empty_message';
  readonly details = undefined;

  constructor() {
    super('The rendered message is empty; the provider refuses a message without text');
    this.name = 'EmptyMessageError';
  }
}

/**
 * Block bodies (an `each` item, a `with`, an `if` branch) one render may run. A 1600-character
 * SMS needs far fewer; nested `each` over `@root` lists grow as a power of the list length, and
 * this stops them after a few milliseconds even when they print nothing.
 */
export const RENDER_STEP_LIMIT = 10_000;

/** A render that would loop more than `RENDER_STEP_LIMIT` times, whatever it prints. */
export class TemplateTooComplexError extends TemplateError {
  readonly code = 'template_too_complex';
  readonly details: { max_iterations: number };

  constructor() {
    super(
      `Rendering takes more than ${RENDER_STEP_LIMIT} block iterations; an SMS needs far fewer`,
    );
    this.name = 'TemplateTooComplexError';
    this.details = { max_iterations: RENDER_STEP_LIMIT };
  }
}

/** Handlebars failed while rendering for a reason other than a missing field. */
export class RenderFailedError extends TemplateError {
  readonly code = 'render_failed';
  readonly details = undefined;

  constructor(reason: string) {
    super(`Template could not be rendered: ${reason}`);
    this.name = 'RenderFailedError';
  }
}

// An environment of our own: nothing registered elsewhere in the process (helpers, partials)
// can change what a template means.
const handlebars = Handlebars.create();

// Every helper the environment knows, including ones we don't offer (log, helperMissing): a bare
// `{{log}}` would call the helper rather than print a variable, so none of them can be a name.
const HELPER_NAMES: ReadonlySet<string> = new Set(Object.keys(handlebars.helpers));

/**
 * What a render has spent so far. Rendering is synchronous, so one module-level budget, reset by
 * `renderTemplate`, is never shared by two renders.
 */
let steps = 0;

/**
 * Wraps the built-in block helpers so that each body run counts against the step budget and a
 * block's output is measured as it grows: a block can only ever add to the message (nothing
 * discards a block's text), so once one block has produced more than the limit the whole message
 * is too long and rendering stops there, long before a nested loop can build millions of
 * characters. Bounds what a completed block returns to the limit; what one body run can print
 * between two checks is bounded by the template's size and `MAX_VARIABLE_LENGTH`.
 */
for (const name of ['each', 'with', 'if', 'unless']) {
  const original = handlebars.helpers[name];
  // Each takes exactly one argument (the analyzer refuses other counts), then the options.
  handlebars.registerHelper(
    name,
    function (this: unknown, subject: unknown, options: Handlebars.HelperOptions) {
      let produced = 0;
      const measured = (body: Handlebars.TemplateDelegate) =>
        Object.assign((context: unknown, runtime?: Handlebars.RuntimeOptions): string => {
          steps += 1;
          if (steps > RENDER_STEP_LIMIT) throw new TemplateTooComplexError();
          const text = body(context, runtime);
          produced += text.length;
          if (produced > MAX_MESSAGE_LENGTH) {
            throw new MessageTooLongError(MAX_MESSAGE_LENGTH, 'Rendered message', true);
          }
          return text;
        }, body);
      const bounded = { ...options, fn: measured(options.fn), inverse: measured(options.inverse) };
      return original.call(this, subject, bounded) as unknown;
    },
  );
}

/**
 * The longest string a variable may hold. A longer one could never be printed in a message, and
 * the cap keeps what one `{{name}}` adds to the output small, so the block checks above are never
 * far behind.
 */
export const MAX_VARIABLE_LENGTH = MAX_MESSAGE_LENGTH;
const BLOCK_HELPERS: ReadonlySet<string> = new Set(['if', 'unless', 'each', 'with']);
const INLINE_HELPERS: ReadonlySet<string> = new Set(['lookup']);
// The runtime throws on a wrong count ("#if requires exactly one argument"): refuse it up front.
const HELPER_ARITY: Readonly<Partial<Record<string, number>>> = {
  if: 1,
  unless: 1,
  each: 1,
  with: 1,
  lookup: 2,
};
const EACH_DATA: ReadonlySet<string> = new Set(['index', 'key', 'first', 'last']);

const COMPILE_OPTIONS: CompileOptions = {
  // SMS is plain text: `&` must stay `&`, not `&amp;`.
  noEscape: true,
  // Catches what the pre-check can't see: a missing field of an `each` item or `with` object.
  strict: true,
  knownHelpersOnly: true,
};

/** Bounded: over time every version ever stored may pass through here, but few are in use. */
const CACHE_SIZE = 500;

type Usage = 'text' | 'list' | 'value';

interface Reference {
  name: string;
  parts: readonly string[];
  usages: Set<Usage>;
}

interface Prepared {
  variables: readonly string[];
  references: readonly Reference[];
  /** Display names of paths by source position, to name the field a strict-mode error is about. */
  positions: ReadonlyMap<string, string>;
  template: HandlebarsTemplateDelegate;
}

const cache = new Map<string, Prepared>();

/**
 * Parses `body` and lists the variables it uses. Throws `InvalidTemplateError` for a syntax error
 * or a construct we don't offer (partials, decorators, unknown helpers), and `MessageTooLongError`
 * when the fixed text alone is over the limit, since such a template could never be sent.
 */
export function compileTemplate(body: string): CompiledTemplate {
  return { variables: [...prepare(body).variables] };
}

/**
 * Renders `body` with `variables`. Throws `MissingVariablesError` naming every absent (or null)
 * variable, `InvalidVariablesError` when a printed value is not a string, number or boolean (or an
 * `each` is given something that isn't a list), `MessageTooLongError` over 1600 characters and
 * `EmptyMessageError` when nothing but whitespace is left. With `smartEncoding` the limits apply
 * to the rewritten text, since that is what is sent (an ellipsis becomes three characters).
 */
export function renderTemplate(
  body: string,
  variables: Readonly<Record<string, unknown>>,
  options: RenderOptions = {},
): RenderedMessage {
  const prepared = prepare(body);
  checkVariables(prepared.references, variables);
  checkLengths(variables);

  let text: string;
  steps = 0;
  try {
    text = prepared.template(variables);
  } catch (error) {
    throw translateRuntimeError(error, prepared.positions);
  }

  let smartEncoded: RenderedMessage['smartEncoded'] = null;
  if (options.smartEncoding) {
    const encoded = smartEncode(text);
    smartEncoded = { original: text, replaced: encoded.replaced };
    text = encoded.text;
  }
  if (text.trim() === '') throw new EmptyMessageError();
  const analysis = analyzeMessage(text);
  if (analysis.characters > MAX_MESSAGE_LENGTH) throw new MessageTooLongError(analysis.characters);
  return smartEncoded ? { text, ...analysis, smartEncoded } : { text, ...analysis };
}

function prepare(body: string): Prepared {
  const cached = cache.get(body);
  if (cached) {
    // Re-inserting moves the entry to the end, so the first key is always the least recently used.
    cache.delete(body);
    cache.set(body, cached);
    return cached;
  }

  const program = parse(body);
  const analysis = analyze(program);
  const fixedLength = program.body
    .filter((node): node is hbs.AST.ContentStatement => node.type === 'ContentStatement')
    .reduce((sum, node) => sum + node.value.length, 0);
  if (fixedLength > MAX_MESSAGE_LENGTH) {
    throw new MessageTooLongError(fixedLength, "The template's fixed text");
  }

  try {
    // compile() is lazy; precompiling surfaces compiler errors now rather than at the first send.
    handlebars.precompile(body, COMPILE_OPTIONS);
  } catch (error) {
    throw toInvalidTemplate(error);
  }

  const prepared: Prepared = {
    ...analysis,
    template: handlebars.compile(body, COMPILE_OPTIONS),
  };
  cache.set(body, prepared);
  if (cache.size > CACHE_SIZE) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  return prepared;
}

function parse(body: string): hbs.AST.Program {
  try {
    return handlebars.parse(body);
  } catch (error) {
    throw toInvalidTemplate(error);
  }
}

function toInvalidTemplate(error: unknown): InvalidTemplateError {
  if (!(error instanceof Error)) return new InvalidTemplateError(String(error));
  const located = error as Error & { lineNumber?: unknown; column?: unknown };
  if (typeof located.lineNumber === 'number') {
    const column = typeof located.column === 'number' ? located.column : 0;
    // Handlebars appends " - line:column"; we say it the way our own checks do.
    const reason = error.message.replace(/ - \d+:\d+$/, '');
    return new InvalidTemplateError(
      `${reason} (line ${located.lineNumber}, column ${column + 1})`,
      located.lineNumber,
      column + 1,
    );
  }
  // The parser's own messages locate themselves as "Parse error on line N:" plus a caret drawing.
  const line = /^Parse error on line (\d+):/.exec(error.message)?.[1];
  return new InvalidTemplateError(error.message, line === undefined ? undefined : Number(line));
}

// ---------------------------------------------------------------------------------------------
// Static analysis: which paths come from the caller's variables, and how each is used.

/** A context `this` can be: the caller's variables (root) or an `each` item / `with` object. */
interface Frame {
  kind: 'root' | 'each' | 'with';
  /** How paths inside this context are shown to a caller: `items[]`, `order`, `items[].lines[]`. */
  label: string;
}

/** A block param (`as |item index|`): the item of an `each`, the object of a `with`, or an index. */
interface BlockParam {
  name: string;
  label: string | null;
}

interface Scope {
  frames: readonly Frame[];
  blockParams: readonly BlockParam[];
  /** Inside some `each`, where `@index`, `@key`, `@first` and `@last` exist. */
  inEach: boolean;
}

type Resolved =
  { kind: 'root'; parts: readonly string[] } | { kind: 'inner'; label: string } | { kind: 'data' };

class Analyzer {
  readonly references = new Map<string, Reference>();
  readonly positions = new Map<string, string>();

  program(program: hbs.AST.Program | undefined, scope: Scope): void {
    // Block statements carry `undefined` programs (`{{^x}}` has no main block) despite the typings.
    for (const node of program?.body ?? []) this.statement(node, scope);
  }

  private statement(node: hbs.AST.Statement, scope: Scope): void {
    switch (node.type) {
      case 'ContentStatement':
      case 'CommentStatement':
        return;
      case 'MustacheStatement':
        this.mustache(node as hbs.AST.MustacheStatement, scope);
        return;
      case 'BlockStatement':
        this.block(node as hbs.AST.BlockStatement, scope);
        return;
      case 'PartialStatement':
      case 'PartialBlockStatement':
        throw invalidAt(node, 'partials ({{> name}}) are not supported');
      case 'Decorator':
      case 'DecoratorBlock':
        throw invalidAt(node, 'decorators ({{* name}}) are not supported');
      default:
        throw invalidAt(node, `unsupported construct ${node.type}`);
    }
  }

  private mustache(node: hbs.AST.MustacheStatement, scope: Scope): void {
    if (node.path.type !== 'PathExpression') {
      throw invalidAt(node, 'a {{...}} expression must name a variable, not a literal value');
    }
    const path = node.path as hbs.AST.PathExpression;
    if (node.params.length > 0 || (node.hash as hbs.AST.Hash | undefined) !== undefined) {
      this.helperCall(node, path, scope);
      return;
    }
    if (isSimpleName(path) && HELPER_NAMES.has(path.original)) {
      throw invalidAt(
        node,
        BLOCK_HELPERS.has(path.original)
          ? `{{${path.original}}} is a block helper: write {{#${path.original} ...}}...{{/${path.original}}}`
          : `"${path.original}" is a helper name; to print a variable of that name write {{this.${path.original}}}`,
      );
    }
    this.path(path, 'text', scope);
  }

  private helperCall(
    node: hbs.AST.MustacheStatement | hbs.AST.SubExpression,
    path: hbs.AST.PathExpression,
    scope: Scope,
  ): void {
    const name = path.original;
    if (!isSimpleName(path) || !INLINE_HELPERS.has(name)) {
      throw invalidAt(
        node,
        BLOCK_HELPERS.has(name)
          ? `${name} is a block helper: write {{#${name} ...}}...{{/${name}}}`
          : `unknown helper "${name}"; the only inline helper is lookup`,
      );
    }
    this.checkArity(node, name, node.params.length);
    this.arguments(node, scope, 'value');
  }

  private block(node: hbs.AST.BlockStatement, scope: Scope): void {
    const name = node.path.original;
    // Sections on plain variables ({{#items}}, {{^flag}}) change the context depending on the
    // value's type at run time, which would make the variable list a guess: we ask for helpers.
    if (!isSimpleName(node.path) || !BLOCK_HELPERS.has(name)) {
      throw invalidAt(node, `unknown block helper "${name}"; use #if, #unless, #each or #with`);
    }
    this.checkArity(node, name, node.params.length);
    this.arguments(node, scope, name === 'each' ? 'list' : 'value');

    if (name === 'if' || name === 'unless') {
      this.program(node.program, scope);
      this.program(node.inverse, scope);
      return;
    }

    // each/with: the main block runs with the item / object as `this`; `{{else}}` runs with the
    // enclosing context, as the helpers call `options.inverse(this)`.
    const subject = node.params[0];
    const subjectLabel =
      subject.type === 'PathExpression'
        ? this.label(subject as hbs.AST.PathExpression, scope)
        : '?';
    const label = name === 'each' ? `${subjectLabel}[]` : subjectLabel;
    const declared = (node.program as hbs.AST.Program | undefined)?.blockParams ?? [];
    const blockParams: BlockParam[] = declared.map((param, index) => ({
      name: param,
      label: index === 0 ? label : null,
    }));
    this.program(node.program, {
      frames: [...scope.frames, { kind: name === 'each' ? 'each' : 'with', label }],
      // Innermost first, so a nested `as |item|` shadows an outer one as it does in Handlebars.
      blockParams: [...blockParams, ...scope.blockParams],
      inEach: scope.inEach || name === 'each',
    });
    this.program(node.inverse, scope);
  }

  private checkArity(node: hbs.AST.Node, name: string, count: number): void {
    const expected = HELPER_ARITY[name];
    if (expected !== undefined && count !== expected) {
      const noun = expected === 1 ? 'argument' : 'arguments';
      throw invalidAt(node, `${name} takes exactly ${expected} ${noun}, got ${count}`);
    }
  }

  private arguments(
    node: { params: hbs.AST.Expression[]; hash?: hbs.AST.Hash },
    scope: Scope,
    usage: Usage,
  ): void {
    for (const param of node.params) this.expression(param, usage, scope);
    for (const pair of node.hash?.pairs ?? []) this.expression(pair.value, 'value', scope);
  }

  private expression(node: hbs.AST.Expression, usage: Usage, scope: Scope): void {
    if (node.type === 'PathExpression') {
      this.path(node as hbs.AST.PathExpression, usage, scope);
    } else if (node.type === 'SubExpression') {
      const sub = node as hbs.AST.SubExpression;
      this.helperCall(sub, sub.path, scope);
    }
    // Literals ("text", 1, true, null) need nothing from the caller.
  }

  private path(path: hbs.AST.PathExpression, usage: Usage, scope: Scope): void {
    const resolved = this.resolve(path, scope);
    if (resolved.kind === 'data') return;
    const position = `${path.loc.start.line}:${path.loc.start.column}`;
    if (resolved.kind === 'inner') {
      this.positions.set(position, resolved.label);
      return;
    }
    const name = resolved.parts.join('.');
    this.positions.set(position, name);
    const existing = this.references.get(name);
    if (existing) existing.usages.add(usage);
    else this.references.set(name, { name, parts: resolved.parts, usages: new Set([usage]) });
  }

  /** How a caller should read `path`: `order.id`, or `items[].name` inside an `each`. */
  private label(path: hbs.AST.PathExpression, scope: Scope): string {
    const resolved = this.resolve(path, scope);
    if (resolved.kind === 'root') return resolved.parts.join('.');
    if (resolved.kind === 'inner') return resolved.label;
    return `@${path.parts.join('.')}`;
  }

  private resolve(path: hbs.AST.PathExpression, scope: Scope): Resolved {
    const { parts } = path;
    if (path.data) {
      if (parts[0] === 'root' && path.depth === 0) {
        if (parts.length === 1) throw invalidAt(path, '@root alone is the whole variables object');
        return { kind: 'root', parts: parts.slice(1) };
      }
      if (scope.inEach && EACH_DATA.has(parts[0] ?? '')) return { kind: 'data' };
      throw invalidAt(path, `@${parts.join('.')} is not available here`);
    }

    // Handlebars checks block params first, for a path with no ../ and no this./ prefix.
    if (path.depth === 0 && !isScoped(path)) {
      const param = scope.blockParams.find((p) => p.name === parts[0]);
      if (param) {
        if (param.label === null) return { kind: 'data' };
        return { kind: 'inner', label: joinLabel(param.label, parts.slice(1)) };
      }
    }

    // Only each/with bodies add a level for ../ (Handlebars 4 skips blocks that keep `this`).
    const target = scope.frames.length - 1 - path.depth;
    const frame = scope.frames[target] as Frame | undefined;
    if (frame === undefined) throw invalidAt(path, `${path.original} goes above the variables`);
    if (frame.kind !== 'root') return { kind: 'inner', label: joinLabel(frame.label, parts) };
    if (parts.length === 0) {
      throw invalidAt(path, `${path.original} at the top level is the whole variables object`);
    }
    return { kind: 'root', parts };
  }
}

function analyze(program: hbs.AST.Program): Omit<Prepared, 'template'> {
  const analyzer = new Analyzer();
  analyzer.program(program, {
    frames: [{ kind: 'root', label: '' }],
    blockParams: [],
    inEach: false,
  });
  const references = [...analyzer.references.values()];
  return {
    variables: references.map((r) => r.name),
    references,
    positions: analyzer.positions,
  };
}

function isScoped(path: hbs.AST.PathExpression): boolean {
  return /^(\.|this\b)/.test(path.original);
}

function isSimpleName(path: hbs.AST.PathExpression): boolean {
  return !path.data && path.depth === 0 && path.parts.length === 1 && !isScoped(path);
}

function joinLabel(label: string, parts: readonly string[]): string {
  return parts.length === 0 ? label : `${label}.${parts.join('.')}`;
}

function invalidAt(node: hbs.AST.Node, reason: string): InvalidTemplateError {
  const line = node.loc.start.line;
  const column = node.loc.start.column;
  return new InvalidTemplateError(
    `${reason} (line ${line}, column ${column + 1})`,
    line,
    column + 1,
  );
}

// ---------------------------------------------------------------------------------------------
// Rendering.

function checkVariables(
  references: readonly Reference[],
  variables: Readonly<Record<string, unknown>>,
): void {
  const missing: string[] = [];
  const invalid: InvalidVariable[] = [];
  for (const reference of references) {
    const value = lookup(variables, reference.parts);
    if (value === undefined || value === null) {
      missing.push(reference.name);
      continue;
    }
    if (reference.usages.has('text') && !isPrintable(value)) {
      invalid.push({ name: reference.name, reason: 'must be a string, number or boolean' });
    } else if (reference.usages.has('list') && typeof value !== 'object') {
      invalid.push({ name: reference.name, reason: 'must be a list (#each)' });
    }
  }
  if (missing.length > 0) throw new MissingVariablesError(missing);
  if (invalid.length > 0) throw new InvalidVariablesError(invalid);
}

/** Every string anywhere in `variables` (list items and fields too) fits `MAX_VARIABLE_LENGTH`. */
function checkLengths(variables: Readonly<Record<string, unknown>>): void {
  const invalid: InvalidVariable[] = [];
  // A stack rather than recursion: the depth is the caller's to choose.
  const pending: [string, unknown][] = Object.entries(variables);
  while (pending.length > 0 && invalid.length < 10) {
    const [name, value] = pending.pop() as [string, unknown];
    if (typeof value === 'string' && value.length > MAX_VARIABLE_LENGTH) {
      invalid.push({ name, reason: `is longer than ${MAX_VARIABLE_LENGTH} characters` });
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push([`${name}[${index}]`, item]));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) pending.push([`${name}.${key}`, item]);
    }
  }
  if (invalid.length > 0) throw new InvalidVariablesError(invalid);
}

/** Own properties only, as Handlebars itself refuses to read inherited ones (`constructor`). */
function lookup(root: unknown, parts: readonly string[]): unknown {
  let value = root;
  for (const part of parts) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function isPrintable(value: unknown): boolean {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function translateRuntimeError(error: unknown, positions: ReadonlyMap<string, string>): Error {
  if (error instanceof TemplateError) return error;
  if (!(error instanceof handlebars.Exception)) {
    // The template and variables are the caller's: whatever breaks while rendering them (a `../`
    // the runtime cannot follow, say) is theirs to fix, not a fault of the service.
    return new RenderFailedError(error instanceof Error ? error.message : String(error));
  }
  const { lineNumber, column } = error as { lineNumber?: unknown; column?: unknown };
  const name = positions.get(`${String(lineNumber)}:${String(column)}`);
  // Strict mode's only runtime complaint is a missing field, reported at the path's position.
  if (name !== undefined && /not defined in/.test(error.message)) {
    return new MissingVariablesError([name]);
  }
  return new RenderFailedError(error.message);
}
