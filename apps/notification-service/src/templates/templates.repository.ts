import type { MessageCategory } from '../common/message-category';
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, type EntityManager, MoreThan, type Repository } from 'typeorm';
import { TemplateDraft } from './entities/template-draft.entity';
import { TemplateVersion } from './entities/template-version.entity';
import { Template } from './entities/template.entity';
import { applyScope, type Namespace, type TemplateScope } from './template-scope';

/** What a version holds besides its number. */
export interface VersionContent {
  body: string;
  variables: string[];
  senderId: string | null;
  description: string | null;
  category: MessageCategory;
  smartEncoding: boolean;
}

/** What a draft holds besides its id: a version's content and the version it started from. */
export interface DraftContent extends VersionContent {
  basedOnVersion: number;
}

/** What building a new version may read and change, inside the transaction that adds it. */
export interface VersionSource {
  findVersion(version: number): Promise<TemplateVersion | null>;
  findDraft(id: string): Promise<TemplateDraft | null>;
  deleteDraft(id: string): Promise<void>;
}

/** A template with one of its versions (the current one unless said otherwise). */
export interface TemplateWithVersion {
  template: Template;
  version: TemplateVersion;
}

/** A sort position in a template list: key, then owner ('' for shared, which sorts first). */
export interface TemplatePosition {
  key: string;
  owner: string;
}

@Injectable()
export class TemplatesRepository {
  constructor(
    @InjectRepository(Template) private readonly templates: Repository<Template>,
    @InjectRepository(TemplateVersion) private readonly versions: Repository<TemplateVersion>,
    @InjectRepository(TemplateDraft) private readonly drafts: Repository<TemplateDraft>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * Inserts the template and its version 1 into `namespace`, or answers which namespace already
   * holds the key: the same one, or (for a team's) the shared one, active or archived. A team may
   * not shadow a shared key, so the key it has been sending with never changes meaning under it.
   * Creations of one key are serialised by a transaction lock on the key: check and insert are one
   * step even across namespaces, which the unique indexes alone cannot make them.
   */
  async createWithFirstVersion(
    key: string,
    namespace: Namespace,
    content: VersionContent,
  ): Promise<{ created: TemplateWithVersion } | { takenBy: Namespace }> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
        `templates:${key}`,
      ]);
      const taken = await manager
        .createQueryBuilder(Template, 't')
        .where('t.key = :key', { key })
        .andWhere('(t.ownerTeam IS NULL OR t.ownerTeam = :namespace)', { namespace })
        // Its own namespace first: that is what the caller asked for.
        .orderBy('t.ownerTeam', 'ASC', 'NULLS LAST')
        .getOne();
      if (taken) return { takenBy: taken.ownerTeam };
      const template = await manager.save(
        manager.create(Template, {
          key,
          ownerTeam: namespace,
          currentVersion: 1,
          archivedAt: null,
        }),
      );
      const version = await manager.save(
        manager.create(TemplateVersion, { ...content, templateId: template.id, version: 1 }),
      );
      return { created: { template, version } };
    });
  }

  /**
   * Adds the next version of an active template, built by `next` from the current one (and, for
   * a restore or a publish, from an older version or a draft it reads through `source`; what it
   * throws rolls everything back). The template row is locked first, so concurrent updates queue
   * up and each gets its own number. Null when `namespace` has no active template with that key.
   */
  async addVersion(
    key: string,
    namespace: Namespace,
    next: (
      current: TemplateVersion,
      source: VersionSource,
    ) => VersionContent | Promise<VersionContent>,
  ): Promise<TemplateWithVersion | null> {
    return this.dataSource.transaction(async (manager) => {
      const template = await lockTemplate(manager, key, namespace);
      if (!template) return null;
      const current = await manager.findOneOrFail(TemplateVersion, {
        where: { templateId: template.id, version: template.currentVersion },
      });
      const source: VersionSource = {
        findVersion: (n) =>
          manager.findOne(TemplateVersion, { where: { templateId: template.id, version: n } }),
        findDraft: (id) =>
          manager.findOne(TemplateDraft, { where: { templateId: template.id, id } }),
        deleteDraft: async (id) => {
          await manager.delete(TemplateDraft, { templateId: template.id, id });
        },
      };
      const content = await next(current, source);

      const number = template.currentVersion + 1;
      const version = await manager.save(
        manager.create(TemplateVersion, {
          ...content,
          templateId: template.id,
          version: number,
        }),
      );
      await manager.update(Template, { id: template.id }, { currentVersion: number });
      // Read back for updated_at, which the database sets.
      const updated = await manager.findOneByOrFail(Template, { id: template.id });
      return { template: updated, version };
    });
  }

  async findCurrent(
    key: string,
    scope: TemplateScope,
    includeArchived: boolean,
  ): Promise<TemplateWithVersion | null> {
    const query = this.currentVersionsQuery().where('t.key = :key', { key });
    applyScope(query, scope, includeArchived);
    const version = await query.getOne();
    return version ? split(version) : null;
  }

  /**
   * Up to `limit` templates after `after`, at their current versions, by key then owner. In
   * code-point order ("C"), not the database's collation, which places "_", "." and "-" by its
   * locale and differs between installations.
   */
  async listCurrent(
    scope: TemplateScope,
    includeArchived: boolean,
    after: TemplatePosition | undefined,
    limit: number,
  ): Promise<TemplateWithVersion[]> {
    const query = this.currentVersionsQuery().where('TRUE');
    applyScope(query, scope, includeArchived);
    if (after) {
      query.andWhere(
        `(t.key COLLATE "C", COALESCE(t.ownerTeam, '') COLLATE "C") > (:afterKey, :afterOwner)`,
        { afterKey: after.key, afterOwner: after.owner },
      );
    }
    const versions = await query
      .orderBy('t.key COLLATE "C"', 'ASC')
      .addOrderBy(`COALESCE(t.ownerTeam, '') COLLATE "C"`, 'ASC')
      .limit(limit)
      .getMany();
    return versions.map(split);
  }

  findTemplate(
    key: string,
    scope: TemplateScope,
    includeArchived: boolean,
  ): Promise<Template | null> {
    const query = this.templates.createQueryBuilder('t').where('t.key = :key', { key });
    applyScope(query, scope, includeArchived);
    return query.getOne();
  }

  findVersion(templateId: string, version: number): Promise<TemplateVersion | null> {
    return this.versions.findOne({ where: { templateId, version } });
  }

  /** Up to `limit` versions of the template after version `after`, oldest first. */
  listVersions(templateId: string, after: number, limit: number): Promise<TemplateVersion[]> {
    return this.versions.find({
      where: { templateId, version: MoreThan(after) },
      order: { version: 'ASC' },
      take: limit,
    });
  }

  /**
   * Adds a draft to `namespace`'s active template of `key`, built by `build` from the current
   * version, unless the template has `max` drafts already. The template row is locked, so
   * concurrent additions cannot pass the limit together.
   */
  async createDraft(
    key: string,
    namespace: Namespace,
    max: number,
    build: (current: TemplateVersion) => DraftContent,
  ): Promise<{ created: { template: Template; draft: TemplateDraft } } | 'not_found' | 'full'> {
    return this.dataSource.transaction(async (manager) => {
      const template = await lockTemplate(manager, key, namespace);
      if (!template) return 'not_found';
      if ((await manager.count(TemplateDraft, { where: { templateId: template.id } })) >= max) {
        return 'full';
      }
      const current = await manager.findOneOrFail(TemplateVersion, {
        where: { templateId: template.id, version: template.currentVersion },
      });
      const draft = await manager.save(
        manager.create(TemplateDraft, { ...build(current), templateId: template.id }),
      );
      return { created: { template, draft } };
    });
  }

  listDrafts(templateId: string): Promise<TemplateDraft[]> {
    return this.drafts.find({ where: { templateId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  findDraft(templateId: string, id: string): Promise<TemplateDraft | null> {
    return this.drafts.findOne({ where: { templateId, id } });
  }

  /** Saves the draft's new content; null when it is gone (published or discarded meanwhile). */
  async updateDraft(
    templateId: string,
    id: string,
    content: DraftContent,
  ): Promise<TemplateDraft | null> {
    const result = await this.drafts.update({ templateId, id }, content);
    return (result.affected ?? 0) > 0 ? this.findDraft(templateId, id) : null;
  }

  /** True when the draft was there to delete. */
  async deleteDraft(templateId: string, id: string): Promise<boolean> {
    const result = await this.drafts.delete({ templateId, id });
    return (result.affected ?? 0) > 0;
  }

  /** True when `namespace`'s active template of `key` was archived now. */
  async archive(key: string, namespace: Namespace): Promise<boolean> {
    const query = this.templates
      .createQueryBuilder()
      .update(Template)
      .set({ archivedAt: () => 'now()' })
      .where('key = :key', { key })
      .andWhere('archived_at IS NULL');
    if (namespace === null) query.andWhere('owner_team IS NULL');
    else query.andWhere('owner_team = :namespace', { namespace });
    const result = await query.execute();
    return (result.affected ?? 0) > 0;
  }

  private currentVersionsQuery() {
    return this.versions
      .createQueryBuilder('v')
      .innerJoinAndSelect('v.template', 't', 't.currentVersion = v.version');
  }
}

/** `namespace`'s active template of `key`, its row locked until the transaction ends. */
function lockTemplate(
  manager: EntityManager,
  key: string,
  namespace: Namespace,
): Promise<Template | null> {
  const query = manager
    .createQueryBuilder(Template, 't')
    .setLock('pessimistic_write')
    .where('t.key = :key', { key });
  applyScope(query, { kind: 'namespace', namespace }, false);
  return query.getOne();
}

function split(version: TemplateVersion): TemplateWithVersion {
  const { template, ...rest } = version;
  if (!template) throw new Error(`template_versions ${version.id} was loaded without its template`);
  return { template, version: Object.assign(new TemplateVersion(), rest) };
}
