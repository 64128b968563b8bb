import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOpenApi } from './render';

const ROOT = join(__dirname, '..', '..', '..', '..');
const HINT = 'the committed file is stale: run `npm run openapi` and commit the result';

describe('the committed OpenAPI document', () => {
  it('is what the code generates (openapi.json)', async () => {
    const committed = readFileSync(join(ROOT, 'openapi.json'), 'utf8');
    const generated = await renderOpenApi();
    if (generated !== committed) throw new Error(`openapi.json: ${HINT}`);
  });

  it('has the client types openapi-typescript makes of it (test/client/openapi-types.ts)', () => {
    const run = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'),
        'openapi.json',
        '--default-non-nullable',
        'false',
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status).toBe(0);
    const committed = readFileSync(join(ROOT, 'test', 'client', 'openapi-types.ts'), 'utf8');
    if (run.stdout !== committed) throw new Error(`test/client/openapi-types.ts: ${HINT}`);
  });
});
