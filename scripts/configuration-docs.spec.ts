import { readFileSync } from 'node:fs';
import { CONFIGURATION_DOCS, renderConfigurationDocs } from './configuration-docs';

describe('the committed configuration reference', () => {
  it('is what the schema generates (docs/configuration.md)', () => {
    const committed = readFileSync(CONFIGURATION_DOCS, 'utf8');
    if (renderConfigurationDocs() !== committed) {
      throw new Error(
        'docs/configuration.md is stale: run `npm run docs:config` and commit the result',
      );
    }
  });
});
