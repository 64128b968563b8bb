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
import type { TemplateVersion } from './entities/template-version.entity';
import type { Template } from './entities/template.entity';
import {
  compileTemplate,
  type RenderedMessage,
  renderTemplate,
  TemplateError,
} from './template-renderer';
import type {
  CreateTemplateDto,
  RenderedTemplateResponse,
  TemplateResponse,
  TemplateVersionResponse,
  UpdateTemplateDto,
} from './templates.dto';
import {
  type TemplateViewer,
  type TemplateWithVersion,
  TemplatesRepository,
} from './templates.repository';

/** The version a notification is rendered from, with the key it was looked up by. */
export type ActiveTemplateVersion = TemplateVersion & { templateKey: string };

/**
 * Templates: versioned Handlebars bodies. Entities stay in here; callers get response objects,
 * except the notifications intake, which needs the version row to record what it rendered.
 *
 * Archiving is final: an archived template answers 404 `template_not_found` to every request
 * (unless `include_archived` is asked for when reading) and its key stays reserved, so POST
 * answers 409 `template_exists` and PUT 404. A key therefore always means one template, and
 * messages that recorded `key` + `version` keep pointing at what they were rendered from.
 *
 * Ownership: a template made with an admin key is shared (every team reads it and sends with it,
 * only admins change or archive it); one made with a team's key belongs to that team, and to any
 * other team it does not exist (404). Keys are one namespace, so another team cannot take the key
 * of a template it cannot see (409, as for an archived one).
 */
/** An edit reaches intake on every instance within this, even with Redis away. */
export const TEMPLATE_EDIT_BOUND_MS = ROW_CACHE_DEFAULTS.deafTtlMs;
const CACHE_TOPIC = 'templates';

@Injectable()
export class TemplatesService {
  /** Current versions as intake looks them up, by key and viewer; null for "no such template". */
  private readonly active: InvalidatedCache<ActiveTemplateVersion | null>;

  constructor(
    private readonly templates: TemplatesRepository,
    @Inject(CacheInvalidation) private readonly invalidation: RowCaches,
  ) {
    this.active = invalidation.cache(CACHE_TOPIC);
  }

  async create(principal: Principal, dto: CreateTemplateDto): Promise<TemplateResponse> {
    const { variables } = compile(dto.body);
    const created = await this.templates.createWithFirstVersion(dto.key, viewer(principal), {
      body: dto.body,
      variables: [...variables],
      senderId: dto.sender_id ?? null,
      description: dto.description ?? null,
    });
    // Intake may have cached "no such template" for this key.
    await this.changed(dto.key);
    if (!created) {
      throw new ConflictError(
        'template_exists',
        `A template with key "${dto.key}" already exists (archived templates keep their key)`,
        { key: dto.key },
      );
    }
    return toTemplateResponse(created);
  }

  async update(
    principal: Principal,
    key: string,
    dto: UpdateTemplateDto,
  ): Promise<TemplateResponse> {
    const { variables } = compile(dto.body);
    const updated = await this.templates.addVersion(key, viewer(principal), (current) => ({
      body: dto.body,
      variables: [...variables],
      senderId: dto.sender_id === undefined ? current.senderId : dto.sender_id,
      description: dto.description === undefined ? current.description : dto.description,
    }));
    if (!updated) throw await this.notEditable(principal, key);
    await this.changed(key);
    return toTemplateResponse(updated);
  }

  async list(principal: Principal, includeArchived = false): Promise<TemplateResponse[]> {
    return (await this.templates.listCurrent(viewer(principal), includeArchived)).map(
      toTemplateResponse,
    );
  }

  async get(principal: Principal, key: string, includeArchived = false): Promise<TemplateResponse> {
    return toTemplateResponse(await this.current(principal, key, includeArchived));
  }

  async getVersion(
    principal: Principal,
    key: string,
    n: number,
    includeArchived = false,
  ): Promise<TemplateVersionResponse> {
    const template = await this.template(principal, key, includeArchived);
    const version = await this.templates.findVersion(template.id, n);
    if (!version) {
      throw new NotFoundError(
        'template_version_not_found',
        `Template "${key}" has no version ${n} (the current version is ${template.currentVersion})`,
      );
    }
    return toVersionResponse(template, version);
  }

  /** The template's history: every version, oldest first, as messages recorded them. */
  async listVersions(
    principal: Principal,
    key: string,
    includeArchived = false,
  ): Promise<TemplateVersionResponse[]> {
    const template = await this.template(principal, key, includeArchived);
    const versions = await this.templates.listVersions(template.id);
    return versions.map((version) => toVersionResponse(template, version));
  }

  async archive(principal: Principal, key: string): Promise<void> {
    if (!(await this.templates.archive(key, viewer(principal)))) {
      throw await this.notEditable(principal, key);
    }
    await this.changed(key);
  }

  /** Renders the current version as a notification would be, without sending anything. */
  async preview(
    principal: Principal,
    key: string,
    variables: Record<string, unknown>,
  ): Promise<RenderedTemplateResponse> {
    const { version } = await this.current(principal, key, false);
    return this.render(version, variables);
  }

  /**
   * The version new notifications of `key` sent by `principal` use. 404 `template_not_found` when
   * there is no such template, it is archived or it is another team's.
   */
  async getActiveVersion(principal: Principal, key: string): Promise<ActiveTemplateVersion> {
    const who = viewer(principal);
    const found = await this.active.get(cachePrefix(key) + JSON.stringify(who), async () => {
      const current = await this.templates.findCurrent(key, who, false);
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
    principal: Principal,
    key: string,
    includeArchived: boolean,
  ): Promise<Template> {
    const found = await this.templates.findTemplate(key, viewer(principal), includeArchived);
    if (!found) throw templateNotFound(key);
    return found;
  }

  private async current(
    principal: Principal,
    key: string,
    includeArchived: boolean,
  ): Promise<TemplateWithVersion> {
    const found = await this.templates.findCurrent(key, viewer(principal), includeArchived);
    if (!found) throw templateNotFound(key);
    return found;
  }

  /** Why `principal` could not change `key`: it is shared (403), or not there for them (404). */
  private async notEditable(principal: Principal, key: string): Promise<Error> {
    const visible = await this.templates.findTemplate(key, viewer(principal), false);
    return visible
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

function viewer(principal: Principal): TemplateViewer {
  return principal.isAdmin ? null : principal.team;
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

function templateNotFound(key: string): NotFoundError {
  return new NotFoundError('template_not_found', `No template with key "${key}"`);
}

function toVersionResponse(template: Template, version: TemplateVersion): TemplateVersionResponse {
  return {
    ...versionFields(template, version),
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
  };
}
