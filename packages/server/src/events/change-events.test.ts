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
