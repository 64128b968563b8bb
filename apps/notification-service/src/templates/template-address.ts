import type { Principal } from '../auth/scopes';
import { ForbiddenError } from '../common/errors/api-error';
import type { Namespace, TemplateScope } from './template-scope';

/*
 * Which templates a request names, from its key and the optional `owner_team` (query or body).
 *
 * Admin keys: the shared namespace, or the team's that `owner_team` names; lists without it show
 * every namespace. Team keys: their own namespace for creating and changing, and for reading what
 * their keys resolve to (their own template of a key, else the shared one); `owner_team` may only
 * name their own team (then: their own namespace alone). Naming another team is 403 whatever that
 * team holds, so the answer tells nothing about its templates.
 */

/** Where a create, a change or an archive goes. */
export function namespaceOf(principal: Principal, ownerTeam: string | undefined): Namespace {
  if (principal.isAdmin) return ownerTeam ?? null;
  checkOwnTeam(principal, ownerTeam);
  return principal.team;
}

/** What a read of one key sees. */
export function readScopeOf(principal: Principal, ownerTeam: string | undefined): TemplateScope {
  if (principal.isAdmin) return { kind: 'namespace', namespace: ownerTeam ?? null };
  checkOwnTeam(principal, ownerTeam);
  return ownerTeam === undefined
    ? { kind: 'team', team: principal.team }
    : { kind: 'namespace', namespace: principal.team };
}

/** What a list sees. */
export function listScopeOf(principal: Principal, ownerTeam: string | undefined): TemplateScope {
  return principal.isAdmin && ownerTeam === undefined
    ? { kind: 'all' }
    : readScopeOf(principal, ownerTeam);
}

/**
 * What a notification sent with `principal`'s key renders: its team's own template of the key,
 * else the shared one. For admin keys too: a notification belongs to the key's team, so each
 * team's (key, version) in notifications, reports and message search names one template.
 */
export function sendingScopeOf(principal: Principal): TemplateScope {
  return { kind: 'team', team: principal.team };
}

function checkOwnTeam(principal: Principal, ownerTeam: string | undefined): void {
  if (ownerTeam !== undefined && ownerTeam !== principal.team) {
    throw new ForbiddenError(
      `A team key addresses only its own templates and the shared ones; owner_team must be ` +
        `"${principal.team}" or left out`,
      { owner_team: ownerTeam },
    );
  }
}
