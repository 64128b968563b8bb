import { parseFaultsPatch } from '../admin/admin.dto';
import { SandboxError } from '../common/sandbox-error';
import { loadSandboxConfig, resolveSandboxConfig } from '../config';
import { FaultsService } from './faults.service';

describe('the network delays (forward_delay_ms, return_delay_ms)', () => {
  it('reads SANDBOX_FORWARD_DELAY_MS / SANDBOX_RETURN_DELAY_MS as ms or min-max', () => {
    expect(
      loadSandboxConfig({ SANDBOX_FORWARD_DELAY_MS: '60-80', SANDBOX_RETURN_DELAY_MS: ' 120 ' }),
    ).toMatchObject({ forwardDelayMs: [60, 80], returnDelayMs: [120, 120] });
    expect(resolveSandboxConfig({})).toMatchObject({
      forwardDelayMs: [0, 0],
      returnDelayMs: [0, 0],
    });
  });

  it.each([
    [{ SANDBOX_FORWARD_DELAY_MS: '80-60' }, 'SANDBOX_FORWARD_DELAY_MS (forwardDelayMs) must not'],
    [{ SANDBOX_FORWARD_DELAY_MS: 'fast' }, 'must be milliseconds or min-max, got "fast"'],
    [{ SANDBOX_RETURN_DELAY_MS: '70000' }, 'SANDBOX_RETURN_DELAY_MS (returnDelayMs) must be'],
  ])('refuses %j', (env, message) => {
    expect(() => loadSandboxConfig(env)).toThrow(message);
  });

  it('takes one number from code as a fixed delay, and checks it like the environment', () => {
    expect(resolveSandboxConfig({ forwardDelayMs: 5 }).forwardDelayMs).toEqual([5, 5]);
    expect(() => resolveSandboxConfig({ returnDelayMs: [3, 1] })).toThrow('must not');
  });

  it('POST /__admin/faults takes ms or [min, max] and refuses anything else with a 400', () => {
    expect(parseFaultsPatch({ forward_delay_ms: [1, 2], return_delay_ms: 3 })).toEqual({
      forwardDelayMs: [1, 2],
      returnDelayMs: [3, 3],
    });
    for (const bad of [[2, 1], [1], [1, 2, 3], '5', -1, [0, 60_001], 1.5]) {
      let error: unknown;
      try {
        parseFaultsPatch({ forward_delay_ms: bad });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(SandboxError);
      expect((error as SandboxError).status).toBe(400);
    }
  });

  it('draws each request its own delay within the range', () => {
    const faults = new FaultsService(resolveSandboxConfig({ forwardDelayMs: [60, 80] }));
    const draws = Array.from({ length: 200 }, () => faults.forwardDelay());
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(60);
    expect(Math.max(...draws)).toBeLessThanOrEqual(80);
    expect(new Set(draws).size).toBeGreaterThan(100);
    expect(faults.returnDelay()).toBe(0);
  });
});
