import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, type Repository, type SelectQueryBuilder } from 'typeorm';
import { TemplateVersion } from './entities/template-version.entity';
import { Template } from './entities/template.entity';

/** What a version holds besides its number. */
export interface VersionContent {
  body: string;
  variables: string[];
  senderId: string | null;
  description: string | null;
}

/** A template with one of its versions (the current one unless said otherwise). */
export interface TemplateWithVersion {
  template: Template;
  version: TemplateVersion;
}

/**
 * Whose templates a statement sees: `null` for an admin, who sees all of them, otherwise a team,
 * which sees the shared ones (no owner) and its own.
 */
export type TemplateViewer = string | null;

@Injectable()
export class TemplatesRepository {
  constructor(
    @InjectRepository(Template) private readonly templates: Repository<Template>,
    @InjectRepository(TemplateVersion) private readonly versions: Repository<TemplateVersion>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * Inserts the template and its version 1 together. Null when the key is taken, archived or not:
   * the unique index decides, so two concurrent creations of one key can't both succeed.
   */
  async createWithFirstVersion(
    key: string,
    ownerTeam: string | null,
    content: VersionContent,
  ): Promise<TemplateWithVersion | null> {
    return this.dataSource.transaction(async (manager) => {
      // ON CONFLICT DO NOTHING rather than catching the unique violation: a taken key is an
      // ordinary answer (409), and a failed statement would be logged as a database error.
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(Template)
        .values({ key, ownerTeam, currentVersion: 1, archivedAt: null })
        .orIgnore()
        .execute();
      if ((inserted.raw as unknown[]).length === 0) return null;
      const template = await manager.findOneByOrFail(Template, { key });
      const version = await manager.save(
        manager.create(TemplateVersion, { ...content, templateId: template.id, version: 1 }),
      );
      return { template, version };
    });
  }

  /**
   * Adds the next version of an active template, built by `next` from the current one. The
   * template row is locked first, so concurrent updates queue up and each gets its own number.
   * Null when there is no active template with that key that `editor` may change: its own, or any
   * for an admin (`null`).
   */
  async addVersion(
    key: string,
    editor: TemplateViewer,
    next: (current: TemplateVersion) => VersionContent,
  ): Promise<TemplateWithVersion | null> {
    return this.dataSource.transaction(async (manager) => {
      const query = manager
        .createQueryBuilder(Template, 't')
        .setLock('pessimistic_write')
        .where('t.key = :key', { key })
        .andWhere('t.archivedAt IS NULL');
      if (editor !== null) query.andWhere('t.ownerTeam = :editor', { editor });
      const template = await query.getOne();
      if (!template) return null;
      const current = await manager.findOneOrFail(TemplateVersion, {
        where: { templateId: template.id, version: template.currentVersion },
      });

      const number = template.currentVersion + 1;
      const version = await manager.save(
        manager.create(TemplateVersion, {
          ...next(current),
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
    viewer: TemplateViewer,
    includeArchived: boolean,
  ): Promise<TemplateWithVersion | null> {
    const query = this.currentVersionsQuery().where('t.key = :key', { key });
    visibleTo(query, viewer, includeArchived);
    const version = await query.getOne();
    return version ? split(version) : null;
  }

  async listCurrent(
    viewer: TemplateViewer,
    includeArchived: boolean,
  ): Promise<TemplateWithVersion[]> {
    const query = this.currentVersionsQuery().where('TRUE');
    visibleTo(query, viewer, includeArchived);
    // Sorted here in code-point order: the database's collation would place "_", "." and "-"
    // according to its locale, which differs between installations.
    return (await query.getMany())
      .map(split)
      .sort((a, b) =>
        a.template.key < b.template.key ? -1 : a.template.key > b.template.key ? 1 : 0,
      );
  }

  findTemplate(
    key: string,
    viewer: TemplateViewer,
    includeArchived: boolean,
  ): Promise<Template | null> {
    const query = this.templates.createQueryBuilder('t').where('t.key = :key', { key });
    visibleTo(query, viewer, includeArchived);
    return query.getOne();
  }

  findVersion(templateId: string, version: number): Promise<TemplateVersion | null> {
    return this.versions.findOne({ where: { templateId, version } });
  }

  /** Every version of the template, oldest first. */
  listVersions(templateId: string): Promise<TemplateVersion[]> {
    return this.versions.find({ where: { templateId }, order: { version: 'ASC' } });
  }

  /** True when an active template that `editor` may change (see `addVersion`) was archived now. */
  async archive(key: string, editor: TemplateViewer): Promise<boolean> {
    const query = this.templates
      .createQueryBuilder()
      .update(Template)
      .set({ archivedAt: () => 'now()' })
      .where('key = :key', { key })
      .andWhere('archived_at IS NULL');
    if (editor !== null) query.andWhere('owner_team = :editor', { editor });
    const result = await query.execute();
    return (result.affected ?? 0) > 0;
  }

  private currentVersionsQuery() {
    return this.versions
      .createQueryBuilder('v')
      .innerJoinAndSelect('v.template', 't', 't.currentVersion = v.version');
  }
}

/** Narrows `query` (on templates as `t`) to what `viewer` may read. */
function visibleTo<T extends object>(
  query: SelectQueryBuilder<T>,
  viewer: TemplateViewer,
  includeArchived: boolean,
): void {
  if (!includeArchived) query.andWhere('t.archivedAt IS NULL');
  if (viewer !== null) query.andWhere('(t.ownerTeam IS NULL OR t.ownerTeam = :viewer)', { viewer });
}

function split(version: TemplateVersion): TemplateWithVersion {
  const { template, ...rest } = version;
  if (!template) throw new Error(`template_versions ${version.id} was loaded without its template`);
  return { template, version: Object.assign(new TemplateVersion(), rest) };
}
