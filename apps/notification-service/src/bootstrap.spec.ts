import { SHUTDOWN_SIGNALS } from './bootstrap';

describe('shutdown hooks', () => {
  // Nest's default list handles these too; a handler for them, which only runs on the event loop,
  // can keep a process whose V8 aborted from dying, and then no supervisor restarts it.
  it('leave out the signals a crashing process raises', () => {
    for (const signal of ['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGTRAP']) {
      expect(SHUTDOWN_SIGNALS).not.toContain(signal);
    }
    expect(SHUTDOWN_SIGNALS).toEqual(expect.arrayContaining(['SIGTERM', 'SIGINT']));
  });
});
