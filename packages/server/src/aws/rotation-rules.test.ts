import { describe, expect, it } from 'vitest';
import { policyOf } from '../rotation/rotation-policy.js';
import { rotatorOfArn, rulesOfPolicy, scheduleOfRules } from './rotation-rules.js';

const site = { mount: 'secret', region: 'eu-west-1', accountId: '111122223333' };
const now = '2026-01-01T00:00:00.000Z';

/** The RotationRules DescribeSecret shows for a policy written from `rules`. */
const roundTrip = (rules: Record<string, unknown>) => {
  const { schedule, window } = scheduleOfRules(rules);
  const policy = policyOf(
    {
      rotator: 'random',
      schedule: schedule.kind === 'cron' ? schedule.expression : `${schedule.seconds}s`,
      ...(window === undefined ? {} : { window }),
    },
    now,
  );
  return { schedule, described: rulesOfPolicy(policy) };
};

describe('RotationRules ↔ rotation schedules', () => {
  it.each([
    ['cron(0 3 ? * 2 *)', '0 3 * * 1'],
    ['cron(30 4 ? * 2-6 *)', '30 4 * * 1-5'],
    ['cron(0 0 ? * 1,7 *)', '0 0 * * 0,6'],
    ['cron(0 12 ? * MON-FRI *)', '0 12 * * MON-FRI'],
    ['cron(0 1 1,15 * ? *)', '0 1 1,15 * *'],
    ['cron(0 */4 * * ? *)', '0 */4 * * *'],
  ])('reads %s as %s and describes it back as written', (expression, custos) => {
    const { schedule, described } = roundTrip({ ScheduleExpression: expression });
    expect(schedule).toEqual({ kind: 'cron', expression: custos });
    expect(described).toEqual({ ScheduleExpression: expression });
  });

  it('reads intervals, and a Duration as a cron window', () => {
    expect(roundTrip({ AutomaticallyAfterDays: 30 }).described).toEqual({
      AutomaticallyAfterDays: 30,
      ScheduleExpression: 'rate(30 days)',
    });
    expect(roundTrip({ ScheduleExpression: 'rate(1 day)' }).schedule).toEqual({
      kind: 'interval',
      seconds: 86_400,
    });
    expect(roundTrip({ ScheduleExpression: 'rate(12 hours)' }).described).toEqual({
      ScheduleExpression: 'rate(12 hours)',
    });
    expect(
      roundTrip({ ScheduleExpression: 'cron(0 3 ? * 2 *)', Duration: '3h' }).described,
    ).toEqual({ ScheduleExpression: 'cron(0 3 ? * 2 *)', Duration: '3h' });
  });

  it('describes a cron schedule written through sys/rotation in AWS form (Sunday 0 and 7 are 1)', () => {
    for (const [custos, aws] of [
      ['0 3 * * 0', 'cron(0 3 ? * 1 *)'],
      ['0 3 * * 7', 'cron(0 3 ? * 1 *)'],
      ['15 2 1 * *', 'cron(15 2 1 * ? *)'],
    ])
      expect(rulesOfPolicy(policyOf({ rotator: 'random', schedule: custos }, now))).toEqual({
        ScheduleExpression: aws,
      });
  });

  it('reads only the custos rotator ARN form of this region and account', () => {
    expect(rotatorOfArn(site, 'arn:aws:lambda:eu-west-1:111122223333:function:custos-random')).toBe(
      'random',
    );
    for (const arn of [
      'arn:aws:lambda:us-east-1:111122223333:function:custos-random',
      'arn:aws:lambda:eu-west-1:000000000000:function:custos-random',
      'arn:aws:lambda:eu-west-1:111122223333:function:random',
      'arn:aws:lambda:eu-west-1:111122223333:function:custos-Random',
      'arn:aws:lambda:eu-west-1:111122223333:function:custos-random:prod',
      'arn:aws:lambda:eu-west-1:111122223333:function:custos-',
      42,
    ])
      expect(() => rotatorOfArn(site, arn)).toThrow(/RotationLambdaARN/);
  });
});
