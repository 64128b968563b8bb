import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, VARIABLES } from './load-config';

const ROOT = join(__dirname, '..', '..', '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

describe('every variable is documented', () => {
  const example = read('.env.example');
  const assigned = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)];

  it('.env.example assigns each one, and nothing else', () => {
    expect(assigned.map((m) => m[1]).sort()).toEqual([...VARIABLES].sort());
  });

  it('.env.example as written is a valid configuration with the defaults', () => {
    const env = Object.fromEntries(assigned.map((m) => [m[1], m[2]]));
    expect(loadConfig(env)).toEqual(loadConfig({}));
  });

  it('the README configuration table names each one', () => {
    const readme = read('README.md');
    const missing = VARIABLES.filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
