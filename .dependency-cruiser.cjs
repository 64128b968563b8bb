// The module map of the repository, checked in `npm run lint` (docs/design.md draws it).
// Each feature folder of the service names the folders it may use; everything else is refused,
// so dependencies point one way and a new arrow is a decision, not an accident.
const SRC = '^apps/notification-service/src';

/** Folder → the folders it may import (besides itself and the lower layer below). */
const ALLOWED = {
  // Lower layer: depends on nothing of the service's features.
  common: [],
  config: ['common'],
  logging: ['common', 'config'],
  redis: ['config'],
  // Row caches that every instance invalidates through Redis.
  cache: ['config', 'redis'],
  auth: ['cache', 'common', 'config', 'redis'],
  // common: the @Operation decorator of its controller.
  metrics: ['auth', 'common'],
  // Serves the built web console (apps/console) as files; knows nothing of the features.
  console: ['common', 'config'],
  health: ['auth', 'common', 'redis'],
  // The database wiring lists every entity and migration.
  database: ['auth', 'config', 'delivery-status', 'notifications', 'suppressions', 'templates'],
  // Features, in the order they may build on each other.
  provider: ['common', 'config', 'metrics', 'redis'],
  // config: how many provider events for unknown messages may be parked (PARKED_EVENTS_*).
  'delivery-status': ['common', 'config', 'metrics'],
  templates: ['auth', 'cache', 'common', 'config'],
  'recipient-protection': ['common', 'config', 'metrics', 'redis'],
  // logging: maskPhone, the lists show numbers as the logs do.
  suppressions: ['auth', 'common', 'config', 'logging'],
  // metrics: the teams' budget gauge, read at scrape.
  teams: ['auth', 'common', 'config', 'delivery-status', 'metrics'],
  callbacks: ['auth', 'common', 'config', 'logging', 'metrics', 'tracing'],
  sending: [
    'common',
    'config',
    'delivery-status',
    'logging',
    'metrics',
    'provider',
    'recipient-protection',
    'redis',
    'teams',
    'tracing',
  ],
  reconcile: ['common', 'config', 'delivery-status', 'provider'],
  webhooks: ['auth', 'common', 'config', 'delivery-status', 'metrics', 'tracing'],
  notifications: [
    'auth',
    'common',
    'config',
    'delivery-status',
    'metrics',
    'recipient-protection',
    'sending',
    'suppressions',
    'teams',
    'templates',
  ],
  messages: ['auth', 'common', 'config', 'delivery-status', 'logging', 'sending', 'templates'],
  operations: ['auth', 'common', 'config', 'delivery-status', 'provider', 'sending'],
  reports: ['auth', 'common', 'delivery-status', 'templates'],
  // The OpenAPI document: the controllers' decorators (with @Operation, common/openapi) plus what
  // every operation shares.
  openapi: ['auth', 'common', 'config'],
  // OpenTelemetry: the SDK start (main.ts) and the job spans the queues carry.
  tracing: ['config', 'redis'],
};

const folderRules = Object.entries(ALLOWED).map(([folder, allowed]) => ({
  name: `${folder}-depends-only-on-its-layer`,
  comment: `${folder}/ may use ${allowed.length ? allowed.join(', ') : 'no other folder of the service'}`,
  severity: 'error',
  from: { path: `${SRC}/${folder}/` },
  to: {
    path: `${SRC}/[^/]+/`,
    pathNot: [`${SRC}/(${[folder, ...allowed].join('|')})/`],
  },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, whatever the folder.',
      severity: 'error',
      from: { path: '^(apps|libs|tools)/' },
      to: { circular: true },
    },
    {
      name: 'unknown-folder',
      comment: 'A new folder of the service needs its place in ALLOWED above.',
      severity: 'error',
      from: {
        path: `${SRC}/[^/]+/`,
        pathNot: [`${SRC}/(${Object.keys(ALLOWED).join('|')})/`],
      },
      to: {},
    },
    {
      name: 'library-stands-alone',
      comment:
        'The libraries (libs/sms-provider, libs/api-client) know nothing of the apps, their templates or their queues.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^(apps|test|bench|scripts|tools)/' },
    },
    {
      name: 'console-talks-http-only',
      comment:
        'The web console (apps/console) runs in a browser and knows the service only by its HTTP API, through the client generated from openapi.json (libs/api-client): it imports no app, other library, test or tool code.',
      severity: 'error',
      from: { path: '^apps/console/' },
      to: { path: '^(apps/(?!console/)|libs/(?!api-client/)|(test|bench|scripts|tools)/)' },
    },
    {
      name: 'api-client-runs-anywhere',
      comment:
        'libs/api-client runs in the browser (the console) and in Node (the tests): it holds the generated types and uses openapi-fetch, nothing else.',
      severity: 'error',
      from: { path: '^libs/api-client/' },
      to: {
        pathNot: ['^libs/api-client/', 'node_modules/(openapi-fetch|openapi-typescript-helpers)/'],
      },
    },
    {
      name: 'sandbox-is-not-the-service',
      comment:
        'The sandbox stands in for the provider: it shares only the library with the service.',
      severity: 'error',
      from: { path: '^apps/sms-provider-sandbox/' },
      to: { path: '^apps/notification-service/' },
    },
    {
      name: 'service-is-not-the-sandbox',
      severity: 'error',
      from: { path: '^apps/notification-service/' },
      to: { path: '^apps/sms-provider-sandbox/' },
    },
    {
      name: 'apps-do-not-use-tooling',
      comment: 'Tests, benchmarks, scripts and the kit use the apps, never the other way round.',
      severity: 'error',
      from: { path: '^(apps|libs)/' },
      to: { path: '^(test|bench|scripts|tools)/' },
    },
    {
      name: 'only-the-provider-port-holds-the-client',
      comment:
        'Every provider call takes its slot in provider/ (ProviderGateway); elsewhere only the ' +
        "library's pure helpers (@app/sms-provider/helpers) may be imported.",
      severity: 'error',
      from: { path: `${SRC}/`, pathNot: `${SRC}/(provider/|app\\.module\\.ts$)` },
      to: {
        path: '^libs/sms-provider/src/(index|sms-provider\\.client|sms-provider\\.module|sms-provider\\.module-definition)\\.ts$',
      },
    },
    {
      name: 'controllers-do-not-touch-storage',
      comment: 'Controllers call services; queries live in repositories, queues in their modules.',
      severity: 'error',
      from: { path: '\\.controller\\.ts$' },
      to: {
        path: [
          'node_modules/(typeorm|@nestjs/typeorm|pg|ioredis|bull|@nestjs/bull)/',
          '\\.repository\\.ts$',
          `${SRC}/redis/`,
        ],
      },
    },
    ...folderRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(apps|libs|tools|test|bench|scripts|node_modules)/',
    exclude: { path: '^dist/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['main', 'types', 'typings'],
    },
  },
};
