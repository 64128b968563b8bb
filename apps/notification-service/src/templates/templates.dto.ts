import {
  DEFAULT_CATEGORY,
  MESSAGE_CATEGORIES,
  type MessageCategory,
} from '../common/message-category';
import { isE164, MAX_MESSAGE_LENGTH } from '@app/sms-provider/helpers';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';

export const TEMPLATE_KEY_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
/** Same shape as the team of an API key (auth/api-keys.dto.ts). */
export const OWNER_TEAM_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * Templates and versions per page: 50 unless `limit` says otherwise, at most 100. A version's body
 * is at most MAX_BODY_LENGTH characters, so a page stays around a megabyte at the very most.
 */
export const TEMPLATE_PAGE = { fallback: 50, max: 100 } as const;

/**
 * The body may be longer than the 1600 characters a message may have: block helpers, comments and
 * whitespace control take room the rendered text doesn't. The cap only keeps bodies reasonable.
 */
export const MAX_BODY_LENGTH = 10_000;
export const MAX_DESCRIPTION_LENGTH = 500;
/** Versions are PostgreSQL integers: a larger number in a request is a 400, not a database error. */
const MAX_VERSION = 2_147_483_647;

// Carriers register alphanumeric senders of 1–11 letters and digits; an all-digit value without
// '+' would be a phone number in national form, which only E.164 makes unambiguous.
const ALPHANUMERIC_SENDER = /^(?=[A-Za-z0-9]{1,11}$)[0-9]*[A-Za-z][A-Za-z0-9]*$/;

export function isSenderId(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  return value.startsWith('+') ? isE164(value) : ALPHANUMERIC_SENDER.test(value);
}

function IsSenderId(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSenderId',
      validator: {
        validate: isSenderId,
        defaultMessage: () =>
          'sender_id must be an alphanumeric sender id of 1 to 11 letters and digits with at ' +
          'least one letter (e.g. "AcmeShop"), or a phone number in E.164 form (e.g. "+14155550100")',
      },
    },
    options,
  );
}

const NAMESPACE_RULE =
  'Keys are unique per owner: each team has its own namespace, and the shared templates (made ' +
  'with an admin key) are one more. A team key resolves a key to its own template, else the ' +
  'shared one.';

function IsOwnerTeam(): PropertyDecorator {
  return Matches(OWNER_TEAM_PATTERN, {
    message: `owner_team must match ${OWNER_TEAM_PATTERN.source}`,
  });
}

const SENDER_ID_DOC = {
  type: String,
  nullable: true,
  maxLength: 16,
  example: 'AcmeShop',
  description:
    'Sender shown on the phone: 1–11 letters and digits (at least one letter) or an E.164 number. ' +
    'A notification request may override it with `from`.',
};

/** What the category of a template means for its messages (docs/recipient-protection.md). */
const CATEGORY_DOC =
  'What the messages are for, frozen on each one: otp (never suppressed, 5 per number per hour, ' +
  'valid 10 min), transactional (stopped by a suppression of scope all, 30 per hour, valid 24 h) ' +
  'or marketing (stopped by any suppression, 2 per 24 h, waits out quiet hours 21:00-08:00 local, ' +
  'valid 72 h); the figures are the defaults.';

const SMART_ENCODING_DOC =
  'Rewrite look-alikes to GSM-7 when rendering (curly quotes to straight ones, en/em dashes and ' +
  'the minus sign to "-", the ellipsis to "...", no-break and other Unicode spaces to a space, ' +
  'zero-width marks to nothing; the table is in docs/api.md), so one ’ does not make the message ' +
  'UCS-2. Frozen on each version, like the category.';

export class CreateTemplateDto {
  @ApiProperty({ example: 'order_shipped', pattern: TEMPLATE_KEY_PATTERN.source })
  @IsString()
  @Matches(TEMPLATE_KEY_PATTERN, {
    message:
      'key must start with a lowercase letter or digit, then up to 63 lowercase letters, digits, ' +
      '"_", "." or "-"',
  })
  key!: string;

  @ApiProperty({
    example: 'Hi {{name}}, your order {{order.id}} has shipped.',
    maxLength: MAX_BODY_LENGTH,
    description: `Handlebars text, not HTML-escaped. The rendered message may have at most ${MAX_MESSAGE_LENGTH} characters.`,
  })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_BODY_LENGTH)
  @Matches(/\S/, { message: 'body must not be blank' })
  body!: string;

  @ApiPropertyOptional(SENDER_ID_DOC)
  @IsOptional()
  @IsString()
  @IsSenderId()
  sender_id?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: MAX_DESCRIPTION_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DESCRIPTION_LENGTH)
  description?: string | null;

  @ApiPropertyOptional({
    enum: MESSAGE_CATEGORIES,
    default: DEFAULT_CATEGORY,
    description: CATEGORY_DOC,
  })
  @IsOptional()
  @IsIn(MESSAGE_CATEGORIES)
  category?: MessageCategory;

  @ApiPropertyOptional({ type: Boolean, default: false, description: SMART_ENCODING_DOC })
  @IsOptional()
  @IsBoolean()
  smart_encoding?: boolean;

  @ApiPropertyOptional({
    example: 'checkout',
    pattern: OWNER_TEAM_PATTERN.source,
    description:
      `The namespace to create in. Admin keys: a team's name makes the template that team's; ` +
      `left out, it is shared. Team keys: their own team or left out (another team is 403). ` +
      `${NAMESPACE_RULE} A team's key may not be one the shared templates hold (409).`,
  })
  @IsOptional()
  @IsString()
  @IsOwnerTeam()
  owner_team?: string;
}

/**
 * A new version. `sender_id` and `description` left out are carried over from the current
 * version; `null` clears them.
 */
export class UpdateTemplateDto {
  @ApiProperty({
    example: 'Hi {{name}}, order {{order.id}} is on its way.',
    maxLength: MAX_BODY_LENGTH,
  })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_BODY_LENGTH)
  @Matches(/\S/, { message: 'body must not be blank' })
  body!: string;

  @ApiPropertyOptional({
    ...SENDER_ID_DOC,
    description: `${SENDER_ID_DOC.description} Omitted: kept; null: cleared.`,
  })
  @IsOptional()
  @IsString()
  @IsSenderId()
  sender_id?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: MAX_DESCRIPTION_LENGTH,
    description: 'Omitted: kept; null: cleared.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DESCRIPTION_LENGTH)
  description?: string | null;

  @ApiPropertyOptional({
    enum: MESSAGE_CATEGORIES,
    description: `${CATEGORY_DOC} Omitted: kept.`,
  })
  @IsOptional()
  @IsIn(MESSAGE_CATEGORIES)
  category?: MessageCategory;

  @ApiPropertyOptional({ type: Boolean, description: `${SMART_ENCODING_DOC} Omitted: kept.` })
  @IsOptional()
  @IsBoolean()
  smart_encoding?: boolean;
}

const VARIABLES_DOC = {
  type: 'object',
  additionalProperties: true,
  example: { name: 'Ada', order: { id: 'A-1042' } },
  description:
    'Values for the variables: strings, numbers, booleans, objects for dotted paths, lists for #each.',
} as const;

export class PreviewTemplateDto {
  @ApiPropertyOptional(VARIABLES_DOC)
  @IsOptional()
  @IsObject()
  variables?: Record<string, unknown>;

  @ApiPropertyOptional({
    maxLength: MAX_BODY_LENGTH,
    description:
      'A body to render instead of the saved one (what an editor holds, unsaved); invalid ones ' +
      'answer 422 invalid_template as a save would.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_BODY_LENGTH)
  body?: string;

  @ApiPropertyOptional({
    type: Boolean,
    description: 'Render with or without smart encoding instead of as saved.',
  })
  @IsOptional()
  @IsBoolean()
  smart_encoding?: boolean;
}

/**
 * A preview of a body that is not saved anywhere yet (the create form). Its own class, not a
 * subclass: class-validator would carry the optional `body` of PreviewTemplateDto over.
 */
export class PreviewBodyDto {
  @ApiPropertyOptional(VARIABLES_DOC)
  @IsOptional()
  @IsObject()
  variables?: Record<string, unknown>;

  @ApiProperty({ maxLength: MAX_BODY_LENGTH, example: 'Hi {{name}}, it’s on its way…' })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_BODY_LENGTH)
  body!: string;

  @ApiPropertyOptional({ type: Boolean, default: false, description: SMART_ENCODING_DOC })
  @IsOptional()
  @IsBoolean()
  smart_encoding?: boolean;
}

/** A test send: one number, the variables to render with. */
export class TestSendDto {
  @ApiProperty({ example: '+14155550100', description: 'One E.164 number' })
  @IsString()
  @MaxLength(32)
  to!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { name: 'Ada' } })
  @IsOptional()
  @IsObject()
  variables?: Record<string, unknown>;
}

/** Which namespace a request about one key addresses (see `template-address.ts`). */
export class TemplateAddressQuery {
  @ApiPropertyOptional({
    example: 'checkout',
    pattern: OWNER_TEAM_PATTERN.source,
    description:
      `Admin keys: the team whose template is meant; left out, the shared one. Team keys: ` +
      `their own team (then only their own templates) or left out (their own template of the ` +
      `key, else the shared one); another team is 403. ${NAMESPACE_RULE}`,
  })
  @IsOptional()
  @IsString()
  @IsOwnerTeam()
  owner_team?: string;
}

export class TemplateReadQuery extends TemplateAddressQuery {
  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description: 'Also show archived templates.',
  })
  @IsOptional()
  // Query strings are text: only the two spellings of a boolean become one, anything else fails.
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean({ message: 'include_archived must be true or false' })
  include_archived?: boolean;
}

export class TemplateListQuery extends TemplateReadQuery {
  @ApiPropertyOptional({
    example: '50',
    default: TEMPLATE_PAGE.fallback,
    description: `Items per page, 1–${TEMPLATE_PAGE.max} (422 invalid_limit otherwise).`,
  })
  @IsOptional()
  @Matches(/^\d{1,3}$/, {
    message: `limit must be an integer between 1 and ${TEMPLATE_PAGE.max}`,
  })
  limit?: string;

  @ApiPropertyOptional({ maxLength: 200, description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export class TemplateVersionParams {
  @ApiProperty({ example: 'order_shipped' })
  @IsString()
  key!: string;

  @ApiProperty({ example: 2, minimum: 1 })
  @Type(() => Number)
  // The version column is a PostgreSQL integer: anything larger would be a database error.
  @IsInt({ message: 'n must be a version number' })
  @Min(1)
  @Max(MAX_VERSION)
  n!: number;
}

export class CostWarningResponse {
  @ApiProperty({
    enum: ['forces_ucs2'],
    description:
      'forces_ucs2: characters GSM-7 cannot carry make the whole message UCS-2 (70 characters a ' +
      'part, 67 when split, instead of 160 and 153).',
  })
  code!: 'forces_ucs2';
  @ApiProperty({
    type: [String],
    example: ['’'],
    description: 'Each character forcing UCS-2, once, in order of first appearance',
  })
  characters!: string[];
  @ApiProperty({ example: 3, description: 'Segments (credits per recipient) as the text is' })
  segments_now!: number;
  @ApiProperty({
    example: 1,
    description:
      'Segments once they are dealt with: look-alikes rewritten as smart encoding would, any ' +
      'other (emoji, letters GSM-7 lacks) left out',
  })
  segments_without!: number;
  @ApiProperty({
    type: [String],
    example: ['’'],
    description: 'Those of characters that smart_encoding would rewrite',
  })
  replaceable!: string[];
}

const WARNINGS_DOC =
  'The cost lint of the body as written (placeholders such as {{name}} count as their own ' +
  'text, since the values are not known), after smart encoding when the version has it.';

export class TemplateResponse {
  @ApiProperty({ example: 'order_shipped' }) key!: string;
  @ApiProperty({ example: 1, description: 'The current version.' }) version!: number;
  @ApiProperty() body!: string;
  @ApiProperty({ type: [String], example: ['name', 'order.id'] }) variables!: string[];
  @ApiProperty({ type: String, nullable: true }) sender_id!: string | null;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ enum: MESSAGE_CATEGORIES, example: 'transactional' }) category!: MessageCategory;
  @ApiProperty({ example: false, description: SMART_ENCODING_DOC }) smart_encoding!: boolean;
  @ApiProperty({ type: CostWarningResponse, isArray: true, description: WARNINGS_DOC })
  warnings!: CostWarningResponse[];
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'The namespace of the template: the team that owns it (only it and admins see it), or ' +
      'null for a shared one (every team sends with it, only admins change it).',
  })
  owner_team!: string | null;
  @ApiProperty({ description: 'When the template (version 1) was created.' }) created_at!: string;
  @ApiProperty({ description: 'When the current version was made, or the template archived.' })
  updated_at!: string;
  @ApiProperty({ example: false }) archived!: boolean;
}

export class TemplateVersionResponse {
  @ApiProperty({ example: 'order_shipped' }) key!: string;
  @ApiProperty({ example: 1 }) version!: number;
  @ApiProperty() body!: string;
  @ApiProperty({ type: [String], example: ['name', 'order.id'] }) variables!: string[];
  @ApiProperty({ type: String, nullable: true }) sender_id!: string | null;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ enum: MESSAGE_CATEGORIES, example: 'transactional' }) category!: MessageCategory;
  @ApiProperty({ example: false, description: SMART_ENCODING_DOC }) smart_encoding!: boolean;
  @ApiProperty({ type: CostWarningResponse, isArray: true, description: WARNINGS_DOC })
  warnings!: CostWarningResponse[];
  @ApiProperty({ description: 'When this version was made.' }) created_at!: string;
  @ApiProperty({ type: String, nullable: true, description: 'As in the template.' })
  owner_team!: string | null;
  @ApiProperty({ description: 'Whether this is the version new notifications use.' })
  current!: boolean;
}

export class TemplatePage {
  @ApiProperty({
    type: TemplateResponse,
    isArray: true,
    description:
      'By key, then owner (shared first), in code-point order. Admin keys see every namespace ' +
      "(or owner_team's); team keys see each key once, as it resolves for them.",
  })
  data!: TemplateResponse[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as cursor for the next page; null on the last one',
  })
  next_cursor!: string | null;
}

export class TemplateVersionPage {
  @ApiProperty({ type: TemplateVersionResponse, isArray: true, description: 'Oldest first' })
  data!: TemplateVersionResponse[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as cursor for the next page; null on the last one',
  })
  next_cursor!: string | null;
}

export class SmartReplacementResponse {
  @ApiProperty({ example: '’' }) character!: string;
  @ApiProperty({ example: "'" }) replacement!: string;
  @ApiProperty({ example: 1, description: 'How many times it was replaced' }) count!: number;
}

export class RenderedTemplateResponse {
  @ApiProperty({
    example: 'Hi Ada, your order A-1042 has shipped.',
    description: 'What is sent: after smart encoding, when it is on.',
  })
  text!: string;
  @ApiProperty({ example: 38, description: 'Length as the provider counts it (UTF-16 units).' })
  characters!: number;
  @ApiProperty({ enum: ['GSM-7', 'UCS-2'] }) encoding!: 'GSM-7' | 'UCS-2';
  @ApiProperty({ example: 1, description: 'SMS parts the message will be billed as.' })
  segments!: number;
  @ApiProperty({
    example: 1,
    description: 'Provider credits each recipient costs: one per segment.',
  })
  credits_per_recipient!: number;
  @ApiProperty({
    type: [String],
    example: ['name', 'order.id'],
    description: 'The variables the rendered body uses, in order of first use.',
  })
  variables!: string[];
  @ApiProperty({ example: false, description: 'Whether smart encoding was applied.' })
  smart_encoding!: boolean;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'With smart encoding: the text as rendered, before look-alikes were rewritten.',
  })
  original_text!: string | null;
  @ApiProperty({
    type: SmartReplacementResponse,
    isArray: true,
    description: 'What smart encoding rewrote (empty without it).',
  })
  replaced!: SmartReplacementResponse[];
  @ApiProperty({
    type: CostWarningResponse,
    isArray: true,
    description: 'The cost lint of the text that is sent.',
  })
  warnings!: CostWarningResponse[];
}

export class TemplateDraftResponse {
  @ApiProperty({ example: '5a0e7c52-3d47-4c8e-9a55-0d2f4a2b9f10' }) id!: string;
  @ApiProperty({ example: 'order_shipped' }) key!: string;
  @ApiProperty({ type: String, nullable: true, description: 'As in the template.' })
  owner_team!: string | null;
  @ApiProperty({
    example: 2,
    description:
      'The current version when the draft was made or last saved; publishing answers 409 ' +
      'draft_outdated once another version has been made since (save the draft again to rebase).',
  })
  based_on_version!: number;
  @ApiProperty() body!: string;
  @ApiProperty({ type: [String], example: ['name', 'order.id'] }) variables!: string[];
  @ApiProperty({ type: String, nullable: true }) sender_id!: string | null;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ enum: MESSAGE_CATEGORIES, example: 'transactional' }) category!: MessageCategory;
  @ApiProperty({ example: false, description: SMART_ENCODING_DOC }) smart_encoding!: boolean;
  @ApiProperty({ type: CostWarningResponse, isArray: true, description: WARNINGS_DOC })
  warnings!: CostWarningResponse[];
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
}

export class TemplateDraftList {
  @ApiProperty({ type: TemplateDraftResponse, isArray: true, description: 'Oldest first' })
  data!: TemplateDraftResponse[];
}

export class TemplateDraftParams {
  @ApiProperty({ example: 'order_shipped' })
  @IsString()
  key!: string;

  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'id must be a draft id (a UUID)' })
  id!: string;
}

export class TemplateDiffQuery extends TemplateReadQuery {
  @ApiProperty({
    type: 'integer',
    example: 1,
    minimum: 1,
    description: 'The older side: a version number',
  })
  @Type(() => Number)
  @IsInt({ message: 'from must be a version number' })
  @Min(1)
  @Max(MAX_VERSION)
  from!: number;

  @ApiProperty({
    type: 'integer',
    example: 3,
    minimum: 1,
    description: 'The newer side: a version number',
  })
  @Type(() => Number)
  @IsInt({ message: 'to must be a version number' })
  @Min(1)
  @Max(MAX_VERSION)
  to!: number;
}

export class DiffPartResponse {
  @ApiProperty({ enum: ['equal', 'insert', 'delete'] }) op!: 'equal' | 'insert' | 'delete';
  @ApiProperty({ example: 'your order' }) text!: string;
}

export class TemplateDiffResponse {
  @ApiProperty({ type: TemplateVersionResponse }) from!: TemplateVersionResponse;
  @ApiProperty({ type: TemplateVersionResponse }) to!: TemplateVersionResponse;
  @ApiProperty({
    type: [String],
    example: ['body', 'smart_encoding'],
    description:
      'Which of body, sender_id, description, category and smart_encoding differ between the two',
  })
  changed!: string[];
  @ApiProperty({
    type: DiffPartResponse,
    isArray: true,
    description:
      'Word-level diff of the bodies (runs of words and of whitespace are the units): equal, ' +
      'delete (only in from) and insert (only in to) runs in order; the equal and delete runs ' +
      'joined give from.body, the equal and insert runs give to.body. Over 500 edited units it ' +
      'is one delete and one insert.',
  })
  body_diff!: DiffPartResponse[];
}
