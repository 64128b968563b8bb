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
import type { TemplateVersion } from './entities/template-version.entity';
import type { Template } from './entities/template.entity';
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
  type RenderedTemplateResponse,
  TEMPLATE_PAGE,
  type TemplateListQuery,
  type TemplateResponse,
  type TemplateVersionResponse,
  type UpdateTemplateDto,
} from './templates.dto';
import { type TemplateWithVersion, TemplatesRepository } from './templates.repository';

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
    const updated = await this.templates.addVersion(key, namespace, (current) => ({
      body: dto.body,
      variables: [...variables],
      senderId: dto.sender_id === undefined ? current.senderId : dto.sender_id,
      description: dto.description === undefined ? current.description : dto.description,
      category: dto.category ?? current.category,
    }));
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
    if (!version) {
      throw new NotFoundError(
        'template_version_not_found',
        `Template "${key}" has no version ${n} (the current version is ${template.currentVersion})`,
      );
    }
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

  /** Renders the current version as a notification would be, without sending anything. */
  async preview(
    principal: Principal,
    key: string,
    variables: Record<string, unknown>,
    ownerTeam?: string,
  ): Promise<RenderedTemplateResponse> {
    const { version } = await this.current(key, readScopeOf(principal, ownerTeam), false);
    return this.render(version, variables);
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
  render(version: TemplateVersion, variables: Record<string, unknown>): RenderedMessage {
    try {
      return renderTemplate(version.body, variables);
    } catch (error) {
      throw toApiError(error);
    }
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
  };
}
