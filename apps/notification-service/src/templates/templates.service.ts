import { DEFAULT_CATEGORY } from '../common/message-category';
import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '../auth/scopes';
import { CacheInvalidation } from '../cache/cache-invalidation.service';
import {
  type InvalidatedCache,
  ROW_CACHE_DEFAULTS,
  type RowCaches,
} from '../cache/invalidated-cache';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnprocessableError,
} from '../common/errors/api-error';
import { type Page, pageLimit, toPage } from '../common/pagination';
import type { TemplateDraft } from './entities/template-draft.entity';
import { TemplateVersion } from './entities/template-version.entity';
import type { Template } from './entities/template.entity';
import { costWarnings, type CostWarning } from './cost-lint';
import { smartEncode } from './smart-encoding';
import { diffWords } from './template-diff';
import {
  compileTemplate,
  type RenderedMessage,
  renderTemplate,
  TemplateError,
} from './template-renderer';
import { namespaceOf, listScopeOf, readScopeOf, sendingScopeOf } from './template-address';
import {
  readTemplateCursor,
  readVersionCursor,
  templatePosition,
  versionPosition,
} from './template-cursors';
import type { Namespace, TemplateScope } from './template-scope';
import {
  type CreateTemplateDto,
  type PreviewTemplateDto,
  type RenderedTemplateResponse,
  TEMPLATE_PAGE,
  type TemplateDiffResponse,
  type TemplateDraftResponse,
  type TemplateListQuery,
  type TemplateResponse,
  type TemplateVersionResponse,
  type UpdateTemplateDto,
} from './templates.dto';
import {
  type TemplateWithVersion,
  TemplatesRepository,
  type VersionContent,
} from './templates.repository';

/** The version a notification is rendered from, with the key it was looked up by. */
export type ActiveTemplateVersion = TemplateVersion & { templateKey: string };

/**
 * Templates: versioned Handlebars bodies. Entities stay in here; callers get response objects,
 * except the notifications intake, which needs the version row to record what it rendered.
 *
 * Archiving is final: an archived template answers 404 `template_not_found` to every request
 * (unless `include_archived` is asked for when reading) and its key stays reserved in its
 * namespace, so POST answers 409 `template_exists` and PUT 404.
 *
 * Namespaces: a key is unique per owner. A template made with an admin key is shared (every team
 * reads it and sends with it, only admins change or archive it); one made with a team's key (or
 * by an admin with `owner_team`) belongs to that team, and to any other team it does not exist
 * (404, never 409: the other team may make its own of that key). A team's key resolves to its own
 * template, else the shared one (`template-scope.ts`), and a team may not create a key the shared
 * templates hold. So for each team a key always means one template, and notifications that
 * recorded team + key + version keep pointing at what they were rendered from.
 */
/** An edit reaches intake on every instance within this, even with Redis away. */
export const TEMPLATE_EDIT_BOUND_MS = ROW_CACHE_DEFAULTS.deafTtlMs;
/** Open drafts per template: a few people's proposals, not a second history. */
export const MAX_DRAFTS = 20;
/** The version number a draft's test send is recorded with: no published version has it. */
export const DRAFT_VERSION = 0;
const CACHE_TOPIC = 'templates';

@Injectable()
export class TemplatesService {
  /** Current versions as intake looks them up, by key and team; null for "no such template". */
  private readonly active: InvalidatedCache<ActiveTemplateVersion | null>;

  constructor(
    private readonly templates: TemplatesRepository,
    @Inject(CacheInvalidation) private readonly invalidation: RowCaches,
  ) {
    this.active = invalidation.cache(CACHE_TOPIC);
  }

  async create(principal: Principal, dto: CreateTemplateDto): Promise<TemplateResponse> {
    const namespace = namespaceOf(principal, dto.owner_team);
    const { variables } = compile(dto.body);
    const result = await this.templates.createWithFirstVersion(dto.key, namespace, {
      body: dto.body,
      variables: [...variables],
      senderId: dto.sender_id ?? null,
      description: dto.description ?? null,
      category: dto.category ?? DEFAULT_CATEGORY,
      smartEncoding: dto.smart_encoding ?? false,
    });
    // Intake may have cached "no such template" for this key.
    await this.changed(dto.key);
    if ('takenBy' in result) throw templateExists(dto.key, result.takenBy);
    return toTemplateResponse(result.created);
  }

  async update(
    principal: Principal,
    key: string,
    dto: UpdateTemplateDto,
    ownerTeam?: string,
  ): Promise<TemplateResponse> {
    const namespace = namespaceOf(principal, ownerTeam);
    const { variables } = compile(dto.body);
    const updated = await this.templates.addVersion(key, namespace, (current) =>
      edited(current, dto, variables),
    );
    if (!updated) throw await this.notEditable(principal, key, ownerTeam);
    await this.changed(key);
    return toTemplateResponse(updated);
  }

  /** One page of templates: by key, then owner (see `TemplatePage`). */
  async list(principal: Principal, query: TemplateListQuery = {}): Promise<Page<TemplateResponse>> {
    const limit = pageLimit(query.limit, TEMPLATE_PAGE);
    const after = query.cursor === undefined ? undefined : readTemplateCursor(query.cursor);
    const scope = listScopeOf(principal, query.owner_team);
    const rows = await this.templates.listCurrent(
      scope,
      query.include_archived ?? false,
      after,
      limit + 1,
    );
    return toPage(rows, limit, (row) => templatePosition(row.template), toTemplateResponse);
  }

  async get(
    principal: Principal,
    key: string,
    includeArchived = false,
    ownerTeam?: string,
  ): Promise<TemplateResponse> {
    return toTemplateResponse(
      await this.current(key, readScopeOf(principal, ownerTeam), includeArchived),
    );
  }

  async getVersion(
    principal: Principal,
    key: string,
    n: number,
    includeArchived = false,
    ownerTeam?: string,
  ): Promise<TemplateVersionResponse> {
    const template = await this.template(key, readScopeOf(principal, ownerTeam), includeArchived);
    const version = await this.templates.findVersion(template.id, n);
    if (!version) throw versionNotFound(key, n, template.currentVersion);
    return toVersionResponse(template, version);
  }

  /** The template's history, a page at a time, oldest first, as messages recorded it. */
  async listVersions(
    principal: Principal,
    key: string,
    query: TemplateListQuery = {},
  ): Promise<Page<TemplateVersionResponse>> {
    const limit = pageLimit(query.limit, TEMPLATE_PAGE);
    const after = query.cursor === undefined ? 0 : readVersionCursor(query.cursor);
    const scope = readScopeOf(principal, query.owner_team);
    const template = await this.template(key, scope, query.include_archived ?? false);
    const versions = await this.templates.listVersions(template.id, after, limit + 1);
    return toPage(versions, limit, versionPosition, (version) =>
      toVersionResponse(template, version),
    );
  }

  async archive(principal: Principal, key: string, ownerTeam?: string): Promise<void> {
    if (!(await this.templates.archive(key, namespaceOf(principal, ownerTeam)))) {
      throw await this.notEditable(principal, key, ownerTeam);
    }
    await this.changed(key);
  }

  /**
   * Renders the current version as a notification would be, without sending anything; `body` and
   * `smart_encoding` in `dto` stand in for the saved ones (an editor's unsaved text).
   */
  async preview(
    principal: Principal,
    key: string,
    dto: PreviewTemplateDto,
    ownerTeam?: string,
  ): Promise<RenderedTemplateResponse> {
    const { version } = await this.current(key, readScopeOf(principal, ownerTeam), false);
    return this.previewOf(version, dto);
  }

  /** Renders a body that is saved nowhere (a template being created). */
  previewBody(dto: PreviewTemplateDto & { body: string }): RenderedTemplateResponse {
    return this.previewOf({ body: dto.body, smartEncoding: false }, dto);
  }

  /** A new version equal to version `n`: history is never edited, a roll back is one more step. */
  async restore(
    principal: Principal,
    key: string,
    n: number,
    ownerTeam?: string,
  ): Promise<TemplateResponse> {
    const namespace = namespaceOf(principal, ownerTeam);
    const updated = await this.templates.addVersion(key, namespace, async (_current, source) => {
      const old = await source.findVersion(n);
      if (!old) throw versionNotFound(key, n);
      return contentOf(old);
    });
    if (!updated) throw await this.notEditable(principal, key, ownerTeam);
    await this.changed(key);
    return toTemplateResponse(updated);
  }

  /** Two versions side by side, with which fields differ and a word diff of the bodies. */
  async diff(
    principal: Principal,
    key: string,
    from: number,
    to: number,
    includeArchived = false,
    ownerTeam?: string,
  ): Promise<TemplateDiffResponse> {
    const template = await this.template(key, readScopeOf(principal, ownerTeam), includeArchived);
    const [before, after] = await Promise.all(
      [from, to].map(async (n) => {
        const version = await this.templates.findVersion(template.id, n);
        if (!version) throw versionNotFound(key, n, template.currentVersion);
        return version;
      }),
    );
    const changed = (
      [
        ['body', (v: TemplateVersion) => v.body],
        ['sender_id', (v: TemplateVersion) => v.senderId],
        ['description', (v: TemplateVersion) => v.description],
        ['category', (v: TemplateVersion) => v.category],
        ['smart_encoding', (v: TemplateVersion) => v.smartEncoding],
      ] as const
    )
      .filter(([, field]) => field(before) !== field(after))
      .map(([name]) => name);
    return {
      from: toVersionResponse(template, before),
      to: toVersionResponse(template, after),
      changed,
      body_diff: diffWords(before.body, after.body),
    };
  }

  /**
   * A draft of `key`, from the current version with what `dto` changes (fields left out are the
   * current version's). Drafts belong to the namespace the key is created and changed in.
   */
  async createDraft(
    principal: Principal,
    key: string,
    dto: UpdateTemplateDto,
    ownerTeam?: string,
  ): Promise<TemplateDraftResponse> {
    const namespace = namespaceOf(principal, ownerTeam);
    const { variables } = compile(dto.body);
    const result = await this.templates.createDraft(key, namespace, MAX_DRAFTS, (current) => ({
      ...edited(current, dto, variables),
      basedOnVersion: current.version,
    }));
    if (result === 'not_found') throw await this.notEditable(principal, key, ownerTeam);
    if (result === 'full') {
      throw new ConflictError(
        'too_many_drafts',
        `Template "${key}" has ${MAX_DRAFTS} drafts already; publish or discard one first`,
        { max: MAX_DRAFTS },
      );
    }
    return toDraftResponse(result.created.template, result.created.draft);
  }

  async listDrafts(
    principal: Principal,
    key: string,
    ownerTeam?: string,
  ): Promise<TemplateDraftResponse[]> {
    const template = await this.draftsTemplate(principal, key, ownerTeam);
    const drafts = await this.templates.listDrafts(template.id);
    return drafts.map((draft) => toDraftResponse(template, draft));
  }

  async getDraft(
    principal: Principal,
    key: string,
    id: string,
    ownerTeam?: string,
  ): Promise<TemplateDraftResponse> {
    const { template, draft } = await this.draft(principal, key, id, ownerTeam);
    return toDraftResponse(template, draft);
  }

  /**
   * Saves a draft again: what `dto` leaves out is kept from the draft, and it is now based on
   * the current version (saving is when its author has looked at what is live).
   */
  async updateDraft(
    principal: Principal,
    key: string,
    id: string,
    dto: UpdateTemplateDto,
    ownerTeam?: string,
  ): Promise<TemplateDraftResponse> {
    const { template, draft } = await this.draft(principal, key, id, ownerTeam);
    const { variables } = compile(dto.body);
    const saved = await this.templates.updateDraft(template.id, id, {
      ...edited(draft, dto, variables),
      basedOnVersion: template.currentVersion,
    });
    if (!saved) throw draftNotFound(key, id);
    return toDraftResponse(template, saved);
  }

  async discardDraft(principal: Principal, key: string, id: string, ownerTeam?: string) {
    const template = await this.draftsTemplate(principal, key, ownerTeam);
    if (!(await this.templates.deleteDraft(template.id, id))) throw draftNotFound(key, id);
  }

  async previewDraft(
    principal: Principal,
    key: string,
    id: string,
    dto: PreviewTemplateDto,
    ownerTeam?: string,
  ): Promise<RenderedTemplateResponse> {
    const { draft } = await this.draft(principal, key, id, ownerTeam);
    return this.previewOf(draft, dto);
  }

  /**
   * Makes the draft the next version, live for every caller, and deletes it; 409
   * `draft_outdated` when another version was made since the draft was last saved.
   */
  async publishDraft(
    principal: Principal,
    key: string,
    id: string,
    ownerTeam?: string,
  ): Promise<TemplateResponse> {
    const namespace = namespaceOf(principal, ownerTeam);
    const updated = await this.templates.addVersion(key, namespace, async (current, source) => {
      const draft = await source.findDraft(id);
      if (!draft) throw draftNotFound(key, id);
      if (draft.basedOnVersion !== current.version) {
        throw new ConflictError(
          'draft_outdated',
          `The draft was based on version ${draft.basedOnVersion}, but version ${current.version} ` +
            'is current now; compare them, save the draft again, then publish',
          { based_on_version: draft.basedOnVersion, current_version: current.version },
        );
      }
      await source.deleteDraft(id);
      return contentOf(draft);
    });
    if (!updated) throw await this.notEditable(principal, key, ownerTeam);
    await this.changed(key);
    return toTemplateResponse(updated);
  }

  /** What a test send of the current version renders: the one `principal` reads as `key`. */
  async testVersion(
    principal: Principal,
    key: string,
    ownerTeam?: string,
  ): Promise<ActiveTemplateVersion> {
    const { template, version } = await this.current(key, readScopeOf(principal, ownerTeam), false);
    return Object.assign(version, { templateKey: template.key });
  }

  /** What a test send of a draft renders, as a version numbered DRAFT_VERSION. */
  async testDraft(
    principal: Principal,
    key: string,
    id: string,
    ownerTeam?: string,
  ): Promise<ActiveTemplateVersion> {
    const { template, draft } = await this.draft(principal, key, id, ownerTeam);
    return Object.assign(new TemplateVersion(), {
      ...contentOf(draft),
      id: draft.id,
      templateId: template.id,
      version: DRAFT_VERSION,
      createdAt: draft.updatedAt,
      templateKey: template.key,
    });
  }

  /**
   * The version new notifications of `key` sent by `principal` use: its team's own template of
   * the key, else the shared one. 404 `template_not_found` when there is none, or it is archived.
   */
  async getActiveVersion(principal: Principal, key: string): Promise<ActiveTemplateVersion> {
    const scope = sendingScopeOf(principal);
    const found = await this.active.get(cachePrefix(key) + JSON.stringify(scope), async () => {
      const current = await this.templates.findCurrent(key, scope, false);
      return current ? Object.assign(current.version, { templateKey: current.template.key }) : null;
    });
    if (!found) throw templateNotFound(key);
    return found;
  }

  /** Every instance forgets what it cached of `key`. */
  private changed(key: string): Promise<void> {
    return this.invalidation.invalidate(CACHE_TOPIC, cachePrefix(key));
  }

  /**
   * Renders `version` with `variables` and measures the result as the provider will bill it.
   * Throws 422 `missing_variables` (details.missing lists every absent name),
   * `invalid_variables`, `message_too_long` (details: characters, max), `empty_message` or
   * `render_failed`.
   */
  render(
    version: Pick<TemplateVersion, 'body' | 'smartEncoding'>,
    variables: Record<string, unknown>,
  ): RenderedMessage {
    try {
      return renderTemplate(version.body, variables, { smartEncoding: version.smartEncoding });
    } catch (error) {
      throw toApiError(error);
    }
  }

  private previewOf(
    saved: Pick<TemplateVersion, 'body' | 'smartEncoding'>,
    dto: PreviewTemplateDto,
  ): RenderedTemplateResponse {
    const content = {
      body: dto.body ?? saved.body,
      smartEncoding: dto.smart_encoding ?? saved.smartEncoding,
    };
    const { variables } = compile(content.body);
    const rendered = this.render(content, dto.variables ?? {});
    return {
      text: rendered.text,
      characters: rendered.characters,
      encoding: rendered.encoding,
      segments: rendered.segments,
      credits_per_recipient: rendered.segments,
      variables: [...variables],
      smart_encoding: content.smartEncoding,
      original_text: rendered.smartEncoded?.original ?? null,
      replaced: rendered.smartEncoded?.replaced ?? [],
      warnings: costWarnings(rendered.text),
    };
  }

  /** The template whose drafts `principal` may work on: in the namespace it changes. */
  private async draftsTemplate(
    principal: Principal,
    key: string,
    ownerTeam?: string,
  ): Promise<Template> {
    const namespace = namespaceOf(principal, ownerTeam);
    const found = await this.templates.findTemplate(key, { kind: 'namespace', namespace }, false);
    if (!found) throw await this.notEditable(principal, key, ownerTeam);
    return found;
  }

  private async draft(
    principal: Principal,
    key: string,
    id: string,
    ownerTeam?: string,
  ): Promise<{ template: Template; draft: TemplateDraft }> {
    const template = await this.draftsTemplate(principal, key, ownerTeam);
    const draft = await this.templates.findDraft(template.id, id);
    if (!draft) throw draftNotFound(key, id);
    return { template, draft };
  }

  private async template(
    key: string,
    scope: TemplateScope,
    includeArchived: boolean,
  ): Promise<Template> {
    const found = await this.templates.findTemplate(key, scope, includeArchived);
    if (!found) throw templateNotFound(key);
    return found;
  }

  private async current(
    key: string,
    scope: TemplateScope,
    includeArchived: boolean,
  ): Promise<TemplateWithVersion> {
    const found = await this.templates.findCurrent(key, scope, includeArchived);
    if (!found) throw templateNotFound(key);
    return found;
  }

  /**
   * Why `principal` could not change `key`: what its key resolves to is shared (403), or there is
   * nothing it may see (404).
   */
  private async notEditable(principal: Principal, key: string, ownerTeam?: string): Promise<Error> {
    const visible = principal.isAdmin
      ? null
      : await this.templates.findTemplate(key, readScopeOf(principal, ownerTeam), false);
    return visible && visible.ownerTeam === null
      ? new ForbiddenError(`Template "${key}" is shared: only an admin key may change it`, {
          key,
        })
      : templateNotFound(key);
  }
}

/** JSON never holds a raw newline, so the prefix of one key never matches another's entries. */
function cachePrefix(key: string): string {
  return `${JSON.stringify(key)}\n`;
}

function compile(body: string): { variables: readonly string[] } {
  try {
    return compileTemplate(body);
  } catch (error) {
    throw toApiError(error);
  }
}

function toApiError(error: unknown): unknown {
  return error instanceof TemplateError
    ? new UnprocessableError(error.code, error.message, error.details)
    : error;
}

/** A 409 names only a namespace the caller sees: its own (or the one it named) or the shared one. */
function templateExists(key: string, takenBy: Namespace): ConflictError {
  const where =
    takenBy === null
      ? 'among the shared templates (a team cannot take a shared key for itself)'
      : `among the templates of team ${takenBy}`;
  return new ConflictError(
    'template_exists',
    `A template with key "${key}" already exists ${where}; archived templates keep their key`,
    { key, owner_team: takenBy },
  );
}

function versionNotFound(key: string, n: number, current?: number): NotFoundError {
  const hint = current === undefined ? '' : ` (the current version is ${current})`;
  return new NotFoundError(
    'template_version_not_found',
    `Template "${key}" has no version ${n}${hint}`,
  );
}

function draftNotFound(key: string, id: string): NotFoundError {
  return new NotFoundError(
    'template_draft_not_found',
    `Template "${key}" has no draft ${id} (published drafts are versions now; discarded ones are gone)`,
  );
}

/** A version's content as `dto` changes it from `base`: left out is kept, null clears. */
function edited(
  base: VersionContent,
  dto: UpdateTemplateDto,
  variables: readonly string[],
): VersionContent {
  return {
    body: dto.body,
    variables: [...variables],
    senderId: dto.sender_id === undefined ? base.senderId : dto.sender_id,
    description: dto.description === undefined ? base.description : dto.description,
    category: dto.category ?? base.category,
    smartEncoding: dto.smart_encoding ?? base.smartEncoding,
  };
}

/** The content of a version or a draft, to make a new version of. */
function contentOf(from: VersionContent): VersionContent {
  return {
    body: from.body,
    variables: [...from.variables],
    senderId: from.senderId,
    description: from.description,
    category: from.category,
    smartEncoding: from.smartEncoding,
  };
}

/** The cost lint of a body as written, as it would be sent (after smart encoding, if on). */
function lint(content: Pick<VersionContent, 'body' | 'smartEncoding'>): CostWarning[] {
  return costWarnings(content.smartEncoding ? smartEncode(content.body).text : content.body);
}

function toDraftResponse(template: Template, draft: TemplateDraft): TemplateDraftResponse {
  return {
    id: draft.id,
    key: template.key,
    owner_team: template.ownerTeam,
    based_on_version: draft.basedOnVersion,
    body: draft.body,
    variables: draft.variables,
    sender_id: draft.senderId,
    description: draft.description,
    category: draft.category,
    smart_encoding: draft.smartEncoding,
    warnings: lint(draft),
    created_at: draft.createdAt.toISOString(),
    updated_at: draft.updatedAt.toISOString(),
  };
}

function templateNotFound(key: string): NotFoundError {
  return new NotFoundError('template_not_found', `No template with key "${key}"`);
}

function toVersionResponse(template: Template, version: TemplateVersion): TemplateVersionResponse {
  return {
    ...versionFields(template, version),
    owner_team: template.ownerTeam,
    created_at: version.createdAt.toISOString(),
    current: version.version === template.currentVersion,
  };
}

function toTemplateResponse({ template, version }: TemplateWithVersion): TemplateResponse {
  return {
    ...versionFields(template, version),
    owner_team: template.ownerTeam,
    created_at: template.createdAt.toISOString(),
    updated_at: template.updatedAt.toISOString(),
    archived: template.archivedAt !== null,
  };
}

/** What a template and a version response share: the key and the version's content. */
function versionFields(template: Template, version: TemplateVersion) {
  return {
    key: template.key,
    version: version.version,
    body: version.body,
    variables: version.variables,
    sender_id: version.senderId,
    description: version.description,
    category: version.category,
    smart_encoding: version.smartEncoding,
    warnings: lint(version),
  };
}
