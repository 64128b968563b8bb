import { Injectable } from '@nestjs/common';
import { ConflictError, NotFoundError, UnprocessableError } from '../common/errors/api-error';
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
import { type TemplateWithVersion, TemplatesRepository } from './templates.repository';

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
 */
@Injectable()
export class TemplatesService {
  constructor(private readonly templates: TemplatesRepository) {}

  async create(dto: CreateTemplateDto): Promise<TemplateResponse> {
    const { variables } = compile(dto.body);
    const created = await this.templates.createWithFirstVersion(dto.key, {
      body: dto.body,
      variables: [...variables],
      senderId: dto.sender_id ?? null,
      description: dto.description ?? null,
    });
    if (!created) {
      throw new ConflictError(
        'template_exists',
        `A template with key "${dto.key}" already exists (archived templates keep their key)`,
        { key: dto.key },
      );
    }
    return toTemplateResponse(created);
  }

  async update(key: string, dto: UpdateTemplateDto): Promise<TemplateResponse> {
    const { variables } = compile(dto.body);
    const updated = await this.templates.addVersion(key, (current) => ({
      body: dto.body,
      variables: [...variables],
      senderId: dto.sender_id === undefined ? current.senderId : dto.sender_id,
      description: dto.description === undefined ? current.description : dto.description,
    }));
    if (!updated) throw templateNotFound(key);
    return toTemplateResponse(updated);
  }

  async list(includeArchived = false): Promise<TemplateResponse[]> {
    return (await this.templates.listCurrent(includeArchived)).map(toTemplateResponse);
  }

  async get(key: string, includeArchived = false): Promise<TemplateResponse> {
    return toTemplateResponse(await this.current(key, includeArchived));
  }

  async getVersion(
    key: string,
    n: number,
    includeArchived = false,
  ): Promise<TemplateVersionResponse> {
    const template = await this.template(key, includeArchived);
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
  async listVersions(key: string, includeArchived = false): Promise<TemplateVersionResponse[]> {
    const template = await this.template(key, includeArchived);
    const versions = await this.templates.listVersions(template.id);
    return versions.map((version) => toVersionResponse(template, version));
  }

  async archive(key: string): Promise<void> {
    if (!(await this.templates.archive(key))) throw templateNotFound(key);
  }

  /** Renders the current version as a notification would be, without sending anything. */
  async preview(
    key: string,
    variables: Record<string, unknown>,
  ): Promise<RenderedTemplateResponse> {
    const { version } = await this.current(key, false);
    return this.render(version, variables);
  }

  /**
   * The version new notifications of `key` use. 404 `template_not_found` when there is no such
   * template or it is archived.
   */
  async getActiveVersion(key: string): Promise<ActiveTemplateVersion> {
    const { template, version } = await this.current(key, false);
    return Object.assign(version, { templateKey: template.key });
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

  private async template(key: string, includeArchived: boolean): Promise<Template> {
    const found = await this.templates.findTemplate(key, includeArchived);
    if (!found) throw templateNotFound(key);
    return found;
  }

  private async current(key: string, includeArchived: boolean): Promise<TemplateWithVersion> {
    const found = await this.templates.findCurrent(key, includeArchived);
    if (!found) throw templateNotFound(key);
    return found;
  }
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
