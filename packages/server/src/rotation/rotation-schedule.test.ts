import { describe, expect, it } from 'vitest';
import { nextDue, parseSchedule, withinWindow } from './rotation-schedule.js';

/** The refusal parseSchedule gives `value`, as code and message. */
function refusal(value: unknown): { code: string; message: string } {
  try {
    parseSchedule(value);
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { code, message };
  }
  throw new Error('the schedule was accepted');
}

describe('parseSchedule', () => {
  it.each([
    ['empty', ''],
    ['blank', '  \t '],
    ['a number', 86_400],
    ['absent', undefined],
  ])('refuses a schedule that is %s, saying what one is', (_, value) => {
    expect(refusal(value)).toEqual({
      code: 'ERR_INVALID_REQUEST',
      message: 'schedule must be a duration such as "90d" or a cron expression',
    });
  });

  it('reads a duration with blanks around it', () => {
    expect(parseSchedule(' 90d ')).toEqual({ kind: 'interval', seconds: 90 * 86_400 });
    expect(parseSchedule('4h')).toEqual({ kind: 'interval', seconds: 4 * 3600 });
  });

  it('refuses an interval under 4 hours and a word that is no duration, naming the field', () => {
    expect(refusal('3h59m').message).toBe('schedule must be at least 4h (or a cron expression)');
    expect(refusal('often')).toMatchObject({
      code: 'ERR_INVALID_REQUEST',
      message: expect.stringContaining('schedule'),
    });
  });

  it('reads a cron expression whatever blanks separate its fields, written back with one', () => {
    expect(parseSchedule('0  3 *\t* 0')).toEqual({ kind: 'cron', expression: '0 3 * * 0' });
    expect(parseSchedule('  0 3 * * 0  ')).toEqual({ kind: 'cron', expression: '0 3 * * 0' });
  });

  it('refuses a cron expression with other than five fields or a field out of range', () => {
    expect(refusal('0 3 * * 0 2026').message).toBe(
      'schedule: a cron expression has five fields (minute hour day month weekday)',
    );
    expect(refusal('0 25 * * 0').message).toBe(
      'schedule is neither a duration nor a valid cron expression',
    );
  });
});

describe('nextDue', () => {
  const from = Date.parse('2026-01-01T00:00:00Z'); // a Thursday

  it('counts an interval from the given time', () => {
    expect(nextDue({ kind: 'interval', seconds: 86_400 }, from)).toBe(
      Date.parse('2026-01-02T00:00:00Z'),
    );
  });

  it('takes a cron schedule’s first time after the given one, in UTC', () => {
    const sunday3am = { kind: 'cron', expression: '0 3 * * 0' } as const;
    expect(nextDue(sunday3am, from)).toBe(Date.parse('2026-01-04T03:00:00Z'));
    expect(nextDue(sunday3am, Date.parse('2026-01-04T03:00:00Z'))).toBe(
      Date.parse('2026-01-11T03:00:00Z'),
    );
  });
});

describe('withinWindow', () => {
  const cron = { kind: 'cron', expression: '0 3 * * 0' } as const;
  const due = Date.parse('2026-01-04T03:00:00Z');

  it('never starts before the due time', () => {
    expect(withinWindow(cron, 600, due, due - 1)).toBe(false);
    expect(withinWindow({ kind: 'interval', seconds: 86_400 }, undefined, due, due - 1)).toBe(
      false,
    );
  });

  it('starts any time after it for an interval or a cron schedule without a window', () => {
    const late = due + 30 * 86_400_000;
    expect(withinWindow({ kind: 'interval', seconds: 86_400 }, undefined, due, late)).toBe(true);
    // A window belongs to cron schedules only: an interval's is ignored, never a reason to wait.
    expect(withinWindow({ kind: 'interval', seconds: 86_400 }, 60, due, late)).toBe(true);
    expect(withinWindow(cron, undefined, due, late)).toBe(true);
    expect(withinWindow(cron, 0, due, late)).toBe(true);
  });

  it.each([
    [0, true],
    [1000, true],
    [59_999, true],
    [60_000, false],
    [3_600_000, false],
  ])('with a 60 s window, starts %d ms after the due time: %s', (after, starts) => {
    expect(withinWindow(cron, 60, due, due + after)).toBe(starts);
  });
});
