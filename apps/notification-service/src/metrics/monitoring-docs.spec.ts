import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricsService } from './metrics.service';

const DOCS = join(__dirname, '..', '..', '..', '..', 'docs', 'monitoring');

describe('the dashboard and the alert rules', () => {
  const exported = new Set(
    new MetricsService().registry.getMetricsAsArray().flatMap((m) => {
      const { name } = m;
      return [name, `${name}_bucket`, `${name}_count`, `${name}_sum`];
    }),
  );

  it.each(['grafana-dashboard.json', 'alerts.yml'])(
    '%s uses only metrics the service exports',
    (file) => {
      const text = readFileSync(join(DOCS, file), 'utf8');
      const used = [...new Set(text.match(/\bnotify_[a-z0-9_]+/g) ?? [])];
      expect(used.length).toBeGreaterThan(5);
      expect(used.filter((name) => !exported.has(name))).toEqual([]);
    },
  );
});
