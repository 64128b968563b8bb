import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The console is served by the service at /console/ from dist/console (CONSOLE_DIR). Everything
// it needs is bundled: no CDN, no web font, so it works on a machine without internet access.
export default defineConfig({
  root,
  base: '/console/',
  publicDir: false,
  // The API client generated from openapi.json (libs/api-client), as tsconfig.json names it.
  resolve: {
    alias: {
      '@app/api-client': fileURLToPath(new URL('../../libs/api-client/src', import.meta.url)),
    },
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  logLevel: 'warn',
});
