import type { Config } from 'jest';

// ts-jest only transpiles (tsconfig's isolatedModules): `npm run typecheck` does the type checking once
// for the whole tree, which keeps each test file's start-up fast on a 2-core machine.
const transform: Config['transform'] = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
};
const moduleNameMapper = {
  '^@app/sms-provider(|/.*)$': '<rootDir>/libs/sms-provider/src$1',
  '^@app/api-client$': '<rootDir>/libs/api-client/src',
};

const config: Config = {
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testEnvironment: 'node',
      // scripts/: the checks that generated docs are current and Markdown links resolve.
      roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/scripts'],
      testRegex: '\\.spec\\.ts$',
      transform,
      moduleNameMapper,
    },
    {
      displayName: 'e2e',
      rootDir: __dirname,
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testRegex: '\\.e2e-spec\\.ts$',
      testPathIgnorePatterns: ['/test/throttle', '/test/crash'],
      transform,
      moduleNameMapper,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      slowTestThreshold: 30,
    },
    {
      // Repository statements against a real PostgreSQL database (a clone of the migrated
      // template per file): the tier between pure unit specs and end-to-end tests over HTTP.
      displayName: 'repository',
      rootDir: __dirname,
      testEnvironment: 'node',
      roots: ['<rootDir>/test/repository'],
      testRegex: '\\.db-spec\\.ts$',
      transform,
      moduleNameMapper,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
    {
      // The rate-limit properties (never more than the limit in any sliding second, as the
      // provider sees it) are about timing: `npm test` runs these alone, one file at a time, so
      // that another suite's load on the same two cores is not what they measure.
      displayName: 'timing',
      rootDir: __dirname,
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testRegex: '/test/(throttle|crash)[^/]*\\.e2e-spec\\.ts$',
      transform,
      moduleNameMapper,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
  testTimeout: 60_000,
  // Two cores: one worker per core keeps timing-sensitive end-to-end tests honest.
  maxWorkers: 2,
};

export default config;
