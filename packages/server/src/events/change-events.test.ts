import { describe, expect, it } from 'vitest';
import { createChangeEvents } from './change-events.js';

const change = (key: string) => ({
  mount: 'secret',
  engine: 'kv-2' as const,
  key,
  kind: 'write' as const,
});

describe('change events of one node', () => {
  it('tells an index older than the window, ahead of the node, or 0 to resync', async () => {
    const events = createChangeEvents({ window: 2 });
    const { index: start } = await events.waitAfter(0, 0);
    for (const key of ['a', 'b', 'c']) events.publish(change(key));
    expect((await events.waitAfter(start, 0)).resync).toBe(true); // a fell out of the window
    const recent = await events.waitAfter(start + 1, 0);
    expect(recent.resync).toBe(false);
    expect(recent.events.map((e) => e.key)).toEqual(['b', 'c']);
    expect((await events.waitAfter(start + 99, 0)).resync).toBe(true);
  });

  it('answers every index as a list of all events cut to the window would, around the ring', async () => {
    for (const window of [1, 3, 4]) {
      const events = createChangeEvents({ window });
      const { index: start } = await events.waitAfter(0, 0);
      const all: string[] = [];
      for (let n = 0; n < 11; n++) {
        all.push(`k${n}`);
        events.publish(change(`k${n}`));
        const last = start + all.length;
        const oldest = last - Math.min(window, all.length) + 1;
        for (let index = start - 1; index <= last + 1; index++) {
          const answer = await events.waitAfter(index, 0);
          const answerable = index >= oldest - 1 && index <= last && index > 0;
          expect(answer.resync, `window ${window}, ${all.length} events, index ${index}`).toBe(
            !answerable,
          );
          expect(answer.index).toBe(last);
          const expected = answerable ? all.slice(index - start) : [];
          expect(answer.events.map((e) => e.key)).toEqual(expected);
          expect(answer.events.map((e) => e.index)).toEqual(expected.map((_, i) => index + 1 + i));
        }
      }
    }
  });

  it('refuses a window that holds no event', () => {
    for (const window of [0, -1, 1.5, Number.NaN])
      expect(() => createChangeEvents({ window })).toThrow(RangeError);
  });

  it('keeps waiting through events the caller may not see, and ends every wait on close', async () => {
    const events = createChangeEvents();
    const { index } = await events.waitAfter(0, 0);
    const waiting = events.waitAfter(index, 60_000, (e) => e.key === 'visible');
    events.publish(change('hidden'));
    events.publish(change('visible'));
    expect((await waiting).events.map((e) => e.key)).toEqual(['visible']);
    const closed = events.waitAfter(index + 2, 60_000);
    events.close();
    expect(await closed).toEqual({ index: index + 2, resync: false, events: [] });
  });

  it('after a resync tells every index given before to resync, the waits in progress at once', async () => {
    const events = createChangeEvents();
    const { index: start } = await events.waitAfter(0, 0);
    events.publish(change('a'));
    const current = events.current();
    const waiting = events.waitAfter(current, 60_000);
    events.resync();
    const told = await waiting;
    expect(told.resync).toBe(true);
    for (const given of [start, current])
      expect((await events.waitAfter(given, 0)).resync).toBe(true);
    // From the index the resync answered, events follow as before.
    events.publish(change('b'));
    const next = await events.waitAfter(told.index, 0);
    expect(next.resync).toBe(false);
    expect(next.events.map((e) => e.key)).toEqual(['b']);
  });
});
