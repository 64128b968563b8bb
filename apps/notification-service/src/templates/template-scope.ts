import type { SelectQueryBuilder } from 'typeorm';

/** Where a template's key is unique: a team's name, or null for the shared templates. */
export type Namespace = string | null;

/**
 * Which templates a read sees.
 *
 * - `team`: what the team's keys resolve to. Its own template of a key wins; the shared one of
 *   that key is seen only when the team has none, active or archived. So a key names at most one
 *   template for a team, and archiving its own never silently switches it to the shared text.
 * - `namespace`: exactly one namespace (an admin's default is the shared one).
 * - `all`: every namespace (an admin's list).
 */
export type TemplateScope =
  { kind: 'team'; team: string } | { kind: 'namespace'; namespace: Namespace } | { kind: 'all' };

/** Narrows `query` (on templates as `t`) to the templates `scope` sees. */
export function applyScope<T extends object>(
  query: SelectQueryBuilder<T>,
  scope: TemplateScope,
  includeArchived: boolean,
): void {
  if (!includeArchived) query.andWhere('t.archivedAt IS NULL');
  switch (scope.kind) {
    case 'all':
      return;
    case 'namespace':
      if (scope.namespace === null) query.andWhere('t.ownerTeam IS NULL');
      else query.andWhere('t.ownerTeam = :namespace', { namespace: scope.namespace });
      return;
    case 'team':
      query.andWhere(
        `(t.ownerTeam = :team OR (t.ownerTeam IS NULL AND NOT EXISTS (
           SELECT 1 FROM templates own WHERE own.key = t.key AND own.owner_team = :team)))`,
        { team: scope.team },
      );
  }
}
