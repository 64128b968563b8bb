import { type CursorPosition, decodeCursor } from '../common/pagination';
import type { Template } from './entities/template.entity';
import type { TemplateVersion } from './entities/template-version.entity';
import type { TemplatePosition } from './templates.repository';
import { OWNER_TEAM_PATTERN, TEMPLATE_KEY_PATTERN } from './templates.dto';

const MAX_VERSION = 2_147_483_647;

/** A template list's position: key, then owner ('' for the shared namespace, which sorts first). */
export function templatePosition(template: Template): CursorPosition {
  return [template.key, template.ownerTeam ?? ''];
}

export function readTemplateCursor(cursor: string): TemplatePosition {
  return decodeCursor(cursor, ([key, owner, ...rest]) =>
    typeof key === 'string' &&
    TEMPLATE_KEY_PATTERN.test(key) &&
    typeof owner === 'string' &&
    (owner === '' || OWNER_TEAM_PATTERN.test(owner)) &&
    rest.length === 0
      ? { key, owner }
      : null,
  );
}

/** A version list's position: the version number. */
export function versionPosition(version: TemplateVersion): CursorPosition {
  return [version.version];
}

export function readVersionCursor(cursor: string): number {
  return decodeCursor(cursor, ([n, ...rest]) =>
    Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_VERSION && rest.length === 0
      ? (n as number)
      : null,
  );
}
