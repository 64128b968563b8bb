import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The web console's source and where `npm run build` puts it (the service's CONSOLE_DIR). */
export const CONSOLE_SOURCE = join(ROOT, 'apps', 'console');
/** The API client the console bundles: a change to it is a change to the console. */
const CONSOLE_LIBRARY = join(ROOT, 'libs', 'api-client');
export const CONSOLE_DIST = join(ROOT, 'dist', 'console');

function newestChange(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestChange(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds the console when its files are missing or older than its source, so that the tests and
 * the demo serve what the source says without a manual `npm run build` first (about a second).
 */
export function ensureConsoleBuilt(): void {
  const index = join(CONSOLE_DIST, 'index.html');
  if (
    existsSync(index) &&
    statSync(index).mtimeMs >= Math.max(newestChange(CONSOLE_SOURCE), newestChange(CONSOLE_LIBRARY))
  ) {
    return;
  }
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const run = spawnSync(
    process.execPath,
    [vite, 'build', '--config', join(CONSOLE_SOURCE, 'vite.config.mts')],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
    },
  );
  if (run.status !== 0) {
    throw new Error(`console build failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
}
