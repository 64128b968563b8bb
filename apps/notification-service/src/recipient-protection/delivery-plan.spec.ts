import type { AppConfig } from '../config/app-config';
import {
  MESSAGE_CATEGORIES,
  type MessageCategory,
  type SuppressionScope,
} from '../common/message-category';
import { type PlanInput, planDelivery } from './delivery-plan';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The defaults: quiet hours for marketing only, 21:00-08:00. */
const PROTECTION: AppConfig['protection'] = {
  caps: {
    otp: { limit: 5, windowMs: HOUR },
    transactional: { limit: 30, windowMs: HOUR },
    marketing: { limit: 2, windowMs: 24 * HOUR },
  },
  quietHours: {
    otp: null,
    transactional: null,
    marketing: { startMinute: 21 * 60, endMinute: 8 * 60 },
  },
  defaultTimezone: 'UTC',
  validityMs: { otp: 10 * MINUTE, transactional: 24 * HOUR, marketing: 72 * HOUR },
};

/** Noon in UTC and in Berlin's winter (13:00): outside the marketing window everywhere used here. */
const NOON = new Date('2026-01-15T12:00:00.000Z');
/** 22:00 UTC: inside the window for a UTC recipient. */
const NIGHT = new Date('2026-01-15T22:00:00.000Z');
const US = '+14155550100';
const DE = '+4915112345678';

function input(overrides: Partial<PlanInput> = {}): PlanInput {
  return {
    recipient: US,
    category: 'transactional',
    due: NOON,
    scheduled: false,
    requestedExpiry: null,
    requestedTimezone: undefined,
    suppressedScopes: undefined,
    ...overrides,
  };
}

const plan = (overrides: Partial<PlanInput> = {}) => planDelivery(input(overrides), PROTECTION);
const after = (at: Date, ms: number) => new Date(at.getTime() + ms);

describe(planDelivery.name, () => {
  describe('suppression: which scopes stop which category', () => {
    const cases: [SuppressionScope[], MessageCategory, boolean][] = [
      [['marketing'], 'marketing', true],
      [['marketing'], 'transactional', false],
      [['marketing'], 'otp', false],
      [['all'], 'marketing', true],
      [['all'], 'transactional', true],
      [['all'], 'otp', false],
      [['marketing', 'all'], 'transactional', true],
      [['marketing', 'all'], 'otp', false],
      [[], 'marketing', false],
    ];
    it.each(cases)('scopes %j, %s message: stopped %s', (scopes, category, stopped) => {
      const result = plan({ category, suppressedScopes: new Set(scopes) });
      if (stopped) {
        expect(result.status).toBe('failed');
        expect(result.error).toEqual({
          code: 'recipient_suppressed',
          message: expect.stringContaining(category),
        });
        expect(result.deferred).toBeUndefined();
      } else {
        expect(result.status).toBe('pending');
        expect(result.error).toBeUndefined();
      }
    });

    it('passes every category of a number without entries', () => {
      for (const category of MESSAGE_CATEGORIES) {
        expect(plan({ category }).status).toBe('pending');
      }
    });

    it('fails a suppressed message inside quiet hours rather than deferring it', () => {
      const result = plan({
        category: 'marketing',
        due: NIGHT,
        suppressedScopes: new Set<SuppressionScope>(['marketing']),
      });
      expect(result).toMatchObject({ status: 'failed', error: { code: 'recipient_suppressed' } });
      expect(result.deferred).toBeUndefined();
    });

    it("keeps a suppressed scheduled message's scheduled_at", () => {
      const due = after(NOON, HOUR);
      const result = plan({ due, scheduled: true, suppressedScopes: new Set(['all'] as const) });
      expect(result).toMatchObject({ status: 'failed', scheduledAt: due });
    });
  });

  describe('quiet hours', () => {
    it('defers a marketing message due inside the window to its end in UTC', () => {
      const until = new Date('2026-01-16T08:00:00.000Z');
      expect(plan({ category: 'marketing', due: NIGHT, requestedTimezone: 'UTC' })).toEqual({
        status: 'scheduled',
        scheduledAt: until,
        nextAttemptAt: until,
        expiresAt: after(until, 72 * HOUR),
        timezone: 'UTC',
        deferred: { reason: 'quiet_hours', until, timezone: 'UTC' },
      });
    });

    it("reads the window on the number's country's clock when the request names no zone", () => {
      // 22:00 UTC is 23:00 in Berlin: the window ends at 08:00 Berlin, 07:00 UTC.
      const result = plan({ recipient: DE, category: 'marketing', due: NIGHT });
      expect(result.deferred).toEqual({
        reason: 'quiet_hours',
        until: new Date('2026-01-16T07:00:00.000Z'),
        timezone: 'Europe/Berlin',
      });
    });

    it("takes the request's zone over the country's", () => {
      // 22:00 UTC is 07:00 the next morning in Tokyo: inside the window, until 08:00 Tokyo.
      const result = plan({
        recipient: DE,
        category: 'marketing',
        due: NIGHT,
        requestedTimezone: 'Asia/Tokyo',
      });
      expect(result.deferred).toEqual({
        reason: 'quiet_hours',
        until: new Date('2026-01-15T23:00:00.000Z'),
        timezone: 'Asia/Tokyo',
      });
    });

    it('does not defer a message due outside the window, nor other categories inside it', () => {
      expect(plan({ category: 'marketing' })).toMatchObject({
        status: 'pending',
        scheduledAt: null,
        nextAttemptAt: NOON,
      });
      for (const category of ['otp', 'transactional'] as const) {
        const result = plan({ category, due: NIGHT });
        expect(result).toMatchObject({
          status: 'pending',
          scheduledAt: null,
          nextAttemptAt: NIGHT,
        });
        expect(result.deferred).toBeUndefined();
      }
    });

    it('defers a message scheduled into the window to its end', () => {
      const result = plan({ category: 'marketing', due: NIGHT, scheduled: true });
      const until = new Date('2026-01-16T08:00:00.000Z');
      expect(result).toMatchObject({
        status: 'scheduled',
        scheduledAt: until,
        nextAttemptAt: until,
      });
      expect(result.deferred?.until).toEqual(until);
    });

    it('keeps a scheduled message outside the window at its time', () => {
      const due = after(NOON, HOUR);
      expect(plan({ category: 'marketing', due, scheduled: true })).toMatchObject({
        status: 'scheduled',
        scheduledAt: due,
        nextAttemptAt: due,
        expiresAt: after(due, 72 * HOUR),
      });
    });
  });

  describe('the time zone kept on the message', () => {
    it('is kept only when the category has quiet hours', () => {
      expect(plan({ category: 'marketing' }).timezone).toBe('UTC');
      expect(plan({ category: 'marketing', recipient: DE }).timezone).toBe('Europe/Berlin');
      expect(plan({ category: 'marketing', requestedTimezone: 'Asia/Tokyo' }).timezone).toBe(
        'Asia/Tokyo',
      );
      expect(plan({ category: 'otp', requestedTimezone: 'Asia/Tokyo' }).timezone).toBeNull();
      expect(plan({ category: 'transactional', recipient: DE }).timezone).toBeNull();
    });

    it('follows the settings: quiet hours for transactional keep its zone, none for marketing keep none', () => {
      const swapped: AppConfig['protection'] = {
        ...PROTECTION,
        defaultTimezone: 'America/Chicago',
        quietHours: {
          otp: null,
          transactional: { startMinute: 0, endMinute: 60 },
          marketing: null,
        },
      };
      expect(planDelivery(input({ category: 'transactional' }), swapped).timezone).toBe(
        'America/Chicago',
      );
      expect(planDelivery(input({ category: 'marketing', due: NIGHT }), swapped)).toMatchObject({
        status: 'pending',
        timezone: null,
      });
    });
  });

  describe('validity', () => {
    it.each([
      ['otp', 10 * MINUTE],
      ['transactional', 24 * HOUR],
      ['marketing', 72 * HOUR],
    ] as const)('gives a %s message its validity from when it is due', (category, ms) => {
      expect(plan({ category }).expiresAt).toEqual(after(NOON, ms));
      const due = after(NOON, 2 * HOUR);
      expect(plan({ category, due, scheduled: true }).expiresAt).toEqual(after(due, ms));
    });

    it("takes the request's expires_at when it is earlier, the validity when it is later", () => {
      const soon = after(NOON, 2 * MINUTE);
      expect(plan({ category: 'otp', requestedExpiry: soon }).expiresAt).toEqual(soon);
      expect(plan({ category: 'otp', requestedExpiry: after(NOON, HOUR) }).expiresAt).toEqual(
        after(NOON, 10 * MINUTE),
      );
    });

    it('counts from the end of quiet hours for a deferred message, still capped by the request', () => {
      const until = new Date('2026-01-16T08:00:00.000Z');
      expect(plan({ category: 'marketing', due: NIGHT }).expiresAt).toEqual(
        after(until, 72 * HOUR),
      );
      const requested = after(NIGHT, HOUR);
      expect(
        plan({ category: 'marketing', due: NIGHT, requestedExpiry: requested }).expiresAt,
      ).toEqual(requested);
    });
  });
});
