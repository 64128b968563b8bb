/*
 * One kit for everything that runs the stack from outside the apps: the e2e tests (test/support),
 * the benchmarks (bench/) and the demo (scripts/demo.ts). Waiting, ports, child processes of the
 * service and the sandbox, throwaway databases and Redis prefixes, HTTP calls.
 */
export * from './database';
export * from './http';
export * from './ipc';
export * from './ports';
export * from './postgres-server';
export * from './processes';
export * from './redis';
export * from './throwaway';
export * from './wait';
export * from './console';
