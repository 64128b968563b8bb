import { loadConfig } from '../config/load-config';
import { ADMIN_TEAM, type Principal } from '../auth/scopes';
import { ApiError } from '../common/errors/api-error';
import type { ActiveTemplateVersion } from '../templates/templates.service';
import {
  buildIntakeRecord,
  resolveTiming,
  SCHEDULE_PAST_TOLERANCE_MS,
  toAccepted,
} from './intake-record';
import type { SendNotificationDto } from './notifications.dto';

const NOW = new Date('2026-12-06T12:00:00Z');
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs).toISOString();
const dto = (extra: Partial<SendNotificationDto> = {}): SendNotificationDto => ({
  template: 'welcome',
  to: ['+14155550100'],
  ...extra,
});
const codeOf = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return (error as ApiError).code;
  }
  return null;
};

describe(resolveTiming.name, () => {
  it('takes a time just past as now, and a later one as a schedule', () => {
    expect(resolveTiming(dto({ scheduled_at: at(-60_000) }), NOW)).toEqual({
      scheduledAt: null,
      expiresAt: null,
      nextAttemptAt: NOW,
    });
    const later = resolveTiming(dto({ scheduled_at: at(60_000) }), NOW);
    expect(later.scheduledAt?.toISOString()).toBe(at(60_000));
    expect(later.nextAttemptAt).toEqual(later.scheduledAt);
  });

  it('refuses a schedule too far back or ahead, and an expiry before it', () => {
    const past = at(-SCHEDULE_PAST_TOLERANCE_MS - 1000);
    expect(codeOf(() => resolveTiming(dto({ scheduled_at: past }), NOW))).toBe(
      'scheduled_at_in_past',
    );
    expect(codeOf(() => resolveTiming(dto({ scheduled_at: at(40 * 86_400_000) }), NOW))).toBe(
      'scheduled_at_too_far',
    );
    const expiry = dto({ scheduled_at: at(60_000), expires_at: at(30_000) });
    expect(codeOf(() => resolveTiming(expiry, NOW))).toBe('invalid_expiry');
  });
});

describe(buildIntakeRecord.name, () => {
  it('makes one message per recipient with the rendered text, and answers them all', () => {
    const principal: Principal = {
      keyId: null,
      team: ADMIN_TEAM,
      scopes: new Set(),
      isAdmin: true,
    };
    const version = {
      templateKey: 'welcome',
      version: 3,
      senderId: 'ACME',
      category: 'transactional',
    } as ActiveTemplateVersion;
    const record = buildIntakeRecord(
      principal,
      dto({ priority: 'high' }),
      {
        version,
        recipients: ['+14155550100', '+14155550101'],
        rendered: { text: 'Hi', characters: 2, encoding: 'GSM-7', segments: 1 },
        timing: resolveTiming(dto(), NOW),
        suppressions: new Map(),
      },
      loadConfig({}).protection,
      NOW,
    );
    expect(record.messages.map((m) => [m.recipient, m.body, m.priority, m.status])).toEqual([
      ['+14155550100', 'Hi', 1, 'pending'],
      ['+14155550101', 'Hi', 1, 'pending'],
    ]);
    expect(record.notification).toMatchObject({ templateVersion: 3, senderId: 'ACME' });
    expect(toAccepted(record)).toMatchObject({ status: 'accepted', template_version: 3 });
    expect(toAccepted(record).messages).toHaveLength(2);
  });
});
