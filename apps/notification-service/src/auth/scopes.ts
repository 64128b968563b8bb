export const SCOPES = [
  'templates:read',
  'templates:write',
  'notifications:send',
  'notifications:read',
  'reports:read',
  'suppressions:read',
  'suppressions:write',
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
