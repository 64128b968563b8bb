/**
 * deploy/kubernetes/, the kustomize base, checked without a cluster or kubectl: every object
 * against the Kubernetes (and Prometheus Operator) schemas of kubernetes-models, strictly (a field
 * the schema does not know fails too), and against the service itself (its variables, its routes,
 * its measured memory, how it migrates).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';
import {
  loadConfig,
  type Variable,
  VARIABLES,
  variableDefault,
} from '../apps/notification-service/src/config/load-config';
import { PROMETHEUS_RULE, renderPrometheusRule, RUN_RULES_GENERATOR } from './kubernetes-rules';

const ROOT = join(__dirname, '..');
const BASE = join(ROOT, 'deploy', 'kubernetes');
const SECRET_NAME = 'notification-service';
const NAME_LABEL = 'app.kubernetes.io/name';

/** What the Secret holds: credentials, and the URLs that carry them. */
const SECRET_VARIABLES = [
  'DATABASE_URL',
  'REDIS_URL',
  'SMS_PROVIDER_API_KEY',
  'SMS_PROVIDER_WEBHOOK_SECRET',
  'ADMIN_API_KEY',
  'SMS_PROVIDER_ACCOUNTS',
];
/** A variable named like this is a credential: it belongs in SECRET_VARIABLES. */
const LOOKS_SECRET = /(_KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL)/;

type Obj = Record<string, any>;
interface Manifest {
  file: string;
  object: Obj;
}

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

function readYaml(file: string): Obj[] {
  // YAML 1.1, as Kubernetes reads manifests (`yes` and `on` are booleans there).
  const docs = parseAllDocuments(readFileSync(join(BASE, file), 'utf8'), { version: '1.1' });
  if (!Array.isArray(docs)) throw new Error(`${file}: no YAML documents`);
  return docs.map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    return doc.toJS() as Obj;
  });
}

/**
 * An env file as kustomize's configMapGenerator reads it: `KEY=value` lines, values verbatim;
 * blank lines and `#` lines skipped. Stricter than kustomize where it would surprise: a line
 * without `=` takes its value from the environment of whoever runs kubectl, quotes stay in the
 * value, and a duplicate key silently wins.
 */
function readEnvFile(file: string): Record<string, string> {
  const data: Record<string, string> = {};
  readFileSync(join(BASE, file), 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (line.trim() === '' || line.trimStart().startsWith('#')) return;
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      const where = `${file}:${index + 1}`;
      if (!match) throw new Error(`${where}: not KEY=value: ${line}`);
      const [, key, value] = match;
      if (/^["']|\s#/.test(value)) throw new Error(`${where}: no quotes or comments in a value`);
      if (key in data) throw new Error(`${where}: ${key} a second time`);
      data[key] = value;
    });
  return data;
}

/** The base as `kubectl kustomize` builds it, before names get their hash suffix. */
function loadBase(): { kustomization: Obj; manifests: Manifest[] } {
  const kustomization = parse(readFileSync(join(BASE, 'kustomization.yaml'), 'utf8'), {
    version: '1.1',
  }) as Obj;
  const manifests: Manifest[] = (kustomization.resources as string[]).flatMap((file) =>
    readYaml(file).map((object) => ({ file, object })),
  );
  for (const generator of (kustomization.configMapGenerator ?? []) as Obj[]) {
    const data: Record<string, string> = {};
    for (const file of (generator.envs ?? []) as string[]) Object.assign(data, readEnvFile(file));
    manifests.push({
      file: 'kustomization.yaml (configMapGenerator)',
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data },
    });
  }
  return { kustomization, manifests };
}

/**
 * Fields the schema does not know, by path. kubernetes-models' schemas allow extra properties, so
 * a misspelt field (`livenessProbe.httpGet.paht`) would pass validate(). The generated validator
 * reads each property its schema defines, and lists the keys of a map: run it over a proxy that
 * records both, and an object it read whose key it never asked for has a field it does not know.
 * An object it never looked into (a schema that allows anything) is not judged.
 */
export function unknownFields(model: { validate(): void }): string[] {
  const asked = new WeakMap<object, Set<string>>();
  const listed = new WeakSet<object>();
  const proxies = new WeakMap<object, object>();
  const note = (target: object, key: string | symbol) => {
    if (typeof key !== 'string') return;
    if (!asked.has(target)) asked.set(target, new Set());
    asked.get(target)!.add(key);
  };
  const track = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    let proxy = proxies.get(value);
    if (!proxy) {
      proxy = new Proxy(value, {
        get: (target, key, receiver) => {
          note(target, key);
          return track(Reflect.get(target, key, receiver));
        },
        has: (target, key) => {
          note(target, key);
          return Reflect.has(target, key);
        },
        ownKeys: (target) => {
          listed.add(target);
          return Reflect.ownKeys(target);
        },
      });
      proxies.set(value, proxy);
    }
    return proxy;
  };
  try {
    model.validate.call(track(model));
  } catch {
    // Schema errors are validate()'s own report; only the unknown fields are wanted here.
  }
  const unknown: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach((item, index) => walk(item, `${path}[${index}]`));
      return;
    }
    const keys = asked.get(value);
    if (!keys || listed.has(value)) return;
    for (const [key, child] of Object.entries(value)) {
      if (keys.has(key)) walk(child, path === '' ? key : `${path}.${key}`);
      else unknown.push(path === '' ? key : `${path}.${key}`);
    }
  };
  walk(model, '');
  return unknown;
}

/** Schema errors and unknown fields of one object, or [] when it is valid. */
function problemsOf(object: Obj): string[] {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) return [`${object.apiVersion} ${object.kind} is not a kind this spec can validate`];
  const model = new Model(object);
  const problems: string[] = [];
  try {
    model.validate();
  } catch (error) {
    problems.push((error as Error).message);
  }
  return [...problems, ...unknownFields(model).map((path) => `unknown field ${path}`)];
}

const base = loadBase();
const objects = base.manifests.map((m) => m.object);
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
const named = (kind: string, name: string) => {
  const found = ofKind(kind).find((o) => o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return found;
};
const deployments = ofKind('Deployment');
const configMaps = ofKind('ConfigMap');
const containersOf = (deployment: Obj): Obj[] => deployment.spec.template.spec.containers;
const roleOf = (container: Obj): string =>
  (container.env as Obj[]).find((e) => e.name === 'APP_ROLE')?.value;
const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

/** The environment a container starts with: the image's ENV, then envFrom, then env. */
function containerEnvironment(container: Obj): Record<string, string> {
  const secretExample = readEnvFile('secret.env.example');
  const env: Record<string, string> = { ...dockerfileEnv() };
  for (const source of (container.envFrom ?? []) as Obj[]) {
    Object.assign(env, named('ConfigMap', source.configMapRef.name).data);
  }
  for (const entry of container.env as Obj[]) {
    const fromSecret = entry.valueFrom?.secretKeyRef?.key as string | undefined;
    env[entry.name] = fromSecret === undefined ? entry.value : secretExample[fromSecret];
  }
  return env;
}

/** The ENV lines of the Dockerfile's last stage, the runtime image. */
function dockerfileEnv(): Record<string, string> {
  const stages = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split(/^FROM /m);
  const env: Record<string, string> = {};
  for (const [, key, quoted, plain] of stages[stages.length - 1].matchAll(
    /^ENV (\w+)=(?:"([^"]*)"|(\S+))$/gm,
  )) {
    env[key] = quoted ?? plain;
  }
  return env;
}

/** `192Mi` or `1Gi` in MiB; the manifests use nothing else. */
function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(String(quantity));
  if (!match) throw new Error(`memory "${quantity}": write it in Mi or Gi`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

describe('deploy/kubernetes, the kustomize base', () => {
  it('lists every manifest in kustomization.yaml, and only files that exist', () => {
    expect(base.kustomization).toMatchObject({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
    });
    const inDirectory = readdirSync(BASE).filter(
      (file) => /\.ya?ml$/.test(file) && file !== 'kustomization.yaml',
    );
    expect([...(base.kustomization.resources as string[])].sort()).toEqual(inDirectory.sort());
  });

  it('has only objects valid against their schemas, with no field the schemas do not know', () => {
    const problems = base.manifests.flatMap(({ file, object }) =>
      problemsOf(object).map((p) => `${file}: ${object.kind} ${object.metadata?.name}: ${p}`),
    );
    expect(problems).toEqual([]);
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('would catch a misspelt field, a wrong type and a missing required field', () => {
    const api = structuredClone(named('Deployment', 'notification-service-api'));
    const container = containersOf(api)[0];
    container.livenessProbe.httpGet.paht = '/health/live';
    container.resources.limitz = { memory: '1Gi' };
    api.spec.template.spce = {};
    expect(unknownFields(new Deployment(api)).sort()).toEqual([
      'spec.template.spce',
      'spec.template.spec.containers[0].livenessProbe.httpGet.paht',
      'spec.template.spec.containers[0].resources.limitz',
    ]);
    container.ports[0].containerPort = '3000';
    delete container.name;
    expect(problemsOf(api).join('\n')).toMatch(/containerPort must be integer/);
    expect(problemsOf(api).join('\n')).toMatch(/containers\/0 must have required property name/);
    const monitor = structuredClone(named('ServiceMonitor', 'notification-service'));
    monitor.spec.endpoints[0].pathh = '/metrics';
    expect(problemsOf(monitor)).toEqual(['unknown field spec.endpoints[0].pathh']);
  });

  it('runs the service as two Deployments: api (autoscaled, disruption budget) and worker', () => {
    expect(deployments.map((d) => [d.metadata.name, containersOf(d).map(roleOf)])).toEqual([
      ['notification-service-api', ['api']],
      ['notification-service-worker', ['worker']],
    ]);
    const hpa = ofKind('HorizontalPodAutoscaler');
    expect(hpa.map((h) => h.spec.scaleTargetRef)).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'notification-service-api' },
    ]);
    expect(hpa[0].spec.minReplicas).toBeGreaterThanOrEqual(2);
    // An applied replica count would fight the autoscaler's.
    expect(named('Deployment', 'notification-service-api').spec.replicas).toBeUndefined();
    expect(named('Deployment', 'notification-service-worker').spec.replicas).toBeGreaterThan(1);
  });

  it('has selectors that match the labels of what they select', () => {
    const podsOf = (selector: Record<string, string>) =>
      deployments.filter((d) => selects(selector, d.spec.template.metadata.labels));
    // Each Deployment owns its own pods only: overlapping selectors make them fight over pods.
    for (const deployment of deployments) {
      expect(podsOf(deployment.spec.selector.matchLabels).map((d) => d.metadata.name)).toEqual([
        deployment.metadata.name,
      ]);
    }
    for (const pdb of ofKind('PodDisruptionBudget')) {
      expect(podsOf(pdb.spec.selector.matchLabels).map((d) => d.metadata.name)).toEqual([
        pdb.metadata.name,
      ]);
    }
    const services = ofKind('Service');
    for (const service of services) {
      const matched = podsOf(service.spec.selector);
      expect([service.metadata.name, matched.length]).toEqual([service.metadata.name, 1]);
      const [deployment] = matched;
      const portNames = containersOf(deployment).flatMap((c) => c.ports.map((p: Obj) => p.name));
      for (const port of service.spec.ports) expect(portNames).toContain(port.targetPort);
    }
    for (const monitor of ofKind('ServiceMonitor')) {
      const scraped = services.filter((s) =>
        selects(monitor.spec.selector.matchLabels, s.metadata.labels),
      );
      // Both roles: the api's HTTP and webhook metrics, the workers' send and callback ones.
      expect(scraped.map((s) => s.metadata.name).sort()).toEqual([
        'notification-service',
        'notification-service-worker',
      ]);
      for (const endpoint of monitor.spec.endpoints) {
        for (const service of scraped) {
          expect(service.spec.ports.map((p: Obj) => p.name)).toContain(endpoint.port);
        }
      }
    }
    for (const object of objects.filter((o) => o.kind !== 'ConfigMap')) {
      expect([object.metadata.name, object.metadata.labels?.[NAME_LABEL]]).toEqual([
        object.metadata.name,
        'notification-service',
      ]);
    }
  });

  it('gives every container every variable the service reads, from the ConfigMap, the Secret or its own env', () => {
    for (const deployment of deployments) {
      for (const container of containersOf(deployment)) {
        const sources = new Map<string, string[]>();
        const add = (name: string, source: string) =>
          sources.set(name, [...(sources.get(name) ?? []), source]);
        for (const from of (container.envFrom ?? []) as Obj[]) {
          // A secretRef would hide which keys a container needs until it starts without one.
          expect(Object.keys(from)).toEqual(['configMapRef']);
          const configMap = named('ConfigMap', from.configMapRef.name);
          for (const name of Object.keys(configMap.data)) add(name, 'config.env');
        }
        for (const entry of container.env as Obj[]) add(entry.name, 'env');
        const where = `${deployment.metadata.name}`;
        const missing = VARIABLES.filter((name) => !sources.has(name));
        if (missing.length > 0) {
          throw new Error(
            `${where} does not set ${missing.join(', ')}: add \`NAME=\` (blank: the default) to ` +
              'deploy/kubernetes/config.env, or for a credential a secretKeyRef in both ' +
              'Deployments and a line in secret.env.example',
          );
        }
        expect([...sources.keys()].filter((n) => !(VARIABLES as string[]).includes(n))).toEqual([]);
        expect([...sources].filter(([, from]) => from.length > 1)).toEqual([]);
      }
    }
  });

  it('reads credentials from the Secret only, by the keys secret.env.example lists', () => {
    const credentials = VARIABLES.filter((name) => LOOKS_SECRET.test(name));
    expect(credentials.filter((name) => !SECRET_VARIABLES.includes(name))).toEqual([]);
    expect(Object.keys(readEnvFile('secret.env.example'))).toEqual(SECRET_VARIABLES);
    for (const configMap of configMaps) {
      expect(Object.keys(configMap.data).filter((k) => SECRET_VARIABLES.includes(k))).toEqual([]);
    }
    for (const container of deployments.flatMap(containersOf)) {
      const fromSecret = (container.env as Obj[])
        .filter((entry) => entry.valueFrom?.secretKeyRef)
        .map((entry) => {
          const { name, key } = entry.valueFrom.secretKeyRef;
          expect([name, key]).toEqual([SECRET_NAME, entry.name]);
          return entry.name;
        });
      expect(fromSecret).toEqual(SECRET_VARIABLES);
      expect(
        (container.env as Obj[]).filter((e) => e.value !== undefined).map((e) => e.name),
      ).toEqual(['APP_ROLE']);
    }
  });

  it('configures a service that starts: valid settings, listening on the pod address in production', () => {
    const imageEnv = dockerfileEnv();
    for (const configMap of configMaps) {
      // A blank value would replace what the image sets with the service's own default.
      for (const [name, value] of Object.entries(imageEnv)) {
        if (name in configMap.data) expect([name, configMap.data[name]]).toEqual([name, value]);
      }
    }
    for (const deployment of deployments) {
      for (const container of containersOf(deployment)) {
        const config = loadConfig(containerEnvironment(container));
        expect(config).toMatchObject({
          appRole: roleOf(container),
          host: '0.0.0.0',
          nodeEnv: 'production',
        });
        const http = container.ports.find((p: Obj) => p.name === 'http');
        expect(http.containerPort).toBe(config.port);
      }
    }
  });

  it('probes /health/live and /health/ready, and scrapes /metrics: routes the service answers', () => {
    const { paths } = JSON.parse(readFileSync(join(ROOT, 'openapi.json'), 'utf8')) as {
      paths: Record<string, Obj>;
    };
    const answered = (path: string) => paths[path]?.get !== undefined;
    for (const container of deployments.flatMap(containersOf)) {
      expect([
        container.startupProbe.httpGet,
        container.livenessProbe.httpGet,
        container.readinessProbe.httpGet,
      ]).toEqual([
        { path: '/health/live', port: 'http' },
        { path: '/health/live', port: 'http' },
        { path: '/health/ready', port: 'http' },
      ]);
    }
    expect(['/health/live', '/health/ready'].filter((p) => !answered(p))).toEqual([]);
    for (const endpoint of ofKind('ServiceMonitor').flatMap((m) => m.spec.endpoints)) {
      expect([endpoint.path, answered(endpoint.path)]).toEqual(['/metrics', true]);
    }
  });

  it('requests the measured memory, and limits it above the V8 heap cap', () => {
    const results = readFileSync(join(ROOT, 'bench', 'RESULTS.md'), 'utf8');
    const peak = /\*\*overall: (\d+) MB\*\*/.exec(results);
    if (!peak) throw new Error('bench/RESULTS.md names no overall peak RSS ("**overall: N MB**")');
    for (const container of deployments.flatMap(containersOf)) {
      const { requests, limits } = container.resources;
      const heapCap = /--max-old-space-size=(\d+)/.exec(
        containerEnvironment(container).NODE_OPTIONS ?? '',
      );
      if (!heapCap) throw new Error('the image sets no --max-old-space-size: size the limit anew');
      expect(mebibytes(requests.memory)).toBeGreaterThanOrEqual(Number(peak[1]));
      // The young generation, code and buffers live outside the old generation's cap.
      expect(mebibytes(limits.memory)).toBeGreaterThanOrEqual(Number(heapCap[1]) + 128);
      expect(requests.cpu).toBeDefined();
    }
  });

  it('gives a stopping worker the time its sends in flight may take', () => {
    const worker = named('Deployment', 'notification-service-worker');
    const env = containerEnvironment(containersOf(worker)[0]);
    const timeoutMs = (name: Variable) =>
      env[name] ? Number(env[name]) : (variableDefault(name) as number);
    expect(worker.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      timeoutMs('SMS_PROVIDER_TIMEOUT_MS') + timeoutMs('CALLBACK_TIMEOUT_MS'),
    );
  });

  it('needs no migration Job: every instance migrates at start under an advisory lock', () => {
    const source = (file: string) =>
      readFileSync(join(ROOT, 'apps/notification-service/src/database', file), 'utf8');
    // If start-up stops migrating, the manifests need a Job (or an init container) instead.
    expect(source('database.module.ts')).toMatch(/await runMigrations\(/);
    expect(source('ensure-database.ts')).toMatch(/pg_advisory_lock/);
    expect(ofKind('Job')).toEqual([]);
  });

  it('has the PrometheusRule that docs/monitoring/alerts.yml generates', () => {
    if (renderPrometheusRule() !== readFileSync(PROMETHEUS_RULE, 'utf8')) {
      throw new Error(
        `deploy/kubernetes/prometheus-rule.yaml is stale: run \`${RUN_RULES_GENERATOR}\` and commit it`,
      );
    }
  });

  it('names its image once, for an overlay to set', () => {
    const images = (base.kustomization.images as Obj[]).map((image) => image.name);
    for (const container of deployments.flatMap(containersOf)) {
      expect(images).toContain(container.image);
    }
  });
});
