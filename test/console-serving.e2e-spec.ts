import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSOLE_DIST } from '../tools/stack';
import { type Harness, startHarness } from './support/harness';

/** The service serves the built console as plain files, self-contained, or says how to build it. */
describe('Console files (e2e)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { APP_ROLE: 'api' } });
  });

  afterAll(() => h?.close());

  it('redirects /console to /console/ and serves index.html with a strict CSP', async () => {
    const bare = await fetch(`${h.url}/console`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([302, '/console/']);
    const index = await fetch(`${h.url}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await index.text();
    expect(html).toContain('<title>Notification console</title>');
    // Every script and stylesheet comes from the service itself: nothing from a CDN.
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref).toMatch(/^\/console\/assets\//);
      const asset = await fetch(`${h.url}${ref}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toContain('immutable');
    }
  });

  it('loads nothing from another origin at run time', () => {
    const assets = join(CONSOLE_DIST, 'assets');
    for (const file of readdirSync(assets).filter((f) => /\.(js|css)$/.test(f))) {
      const text = readFileSync(join(assets, file), 'utf8');
      // No import(), fetch or url() to an absolute http(s) address (XML namespaces aside).
      const external = [...text.matchAll(/["'(](https?:\/\/[^"')\s]+)/g)]
        .map((m) => m[1])
        .filter((url) => !url.startsWith('http://www.w3.org/'));
      expect({ file, external }).toEqual({ file, external: [] });
    }
  });

  it('answers 404 console_not_built when the files are missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'console-missing-'));
    const other = await startHarness({ env: { APP_ROLE: 'api', CONSOLE_DIR: empty } });
    try {
      const res = await other.api('GET', '/console/', { key: null });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({
        success: false,
        error: { code: 'console_not_built' },
      });
      expect(res.body.error.message).toContain('npm run build:console');
    } finally {
      await other.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
