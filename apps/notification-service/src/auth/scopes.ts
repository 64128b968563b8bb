export const SCOPES = [
  'templates:read',
  'templates:write',
  'notifications:send',
  'notifications:read',
  'reports:read',
  'suppressions:read',
  'suppressions:write',
  // A team lead's key lists its own team's keys (never their secrets); making and revoking is admin's.
  'keys:read',
  'admin',
] as const;

export type Scope = (typeof SCOPES)[number];

/** Who is calling: resolved from the bearer key by the guard. */
export interface Principal {
  keyId: string | null;
  team: string;
  scopes: ReadonlySet<Scope>;
  /** Admin keys see every team's data. */
  isAdmin: boolean;
}

export const ADMIN_TEAM = 'platform';
