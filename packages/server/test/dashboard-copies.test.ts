/**
 * The dashboard bundles no server code: the lists and shapes it shares with the server are
 * copies (packages/ui/src/server-lists.ts). Each is held equal to the server's own here.
 */
import { DATA_CLASSES } from '@custos/core/classification';
import { KEY_STATES, KEY_TRANSITIONS } from '@custos/core/kms';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  NEXT_STATES,
  DATA_CLASSES as SHOWN_DATA_CLASSES,
  type UsageEntry,
} from '../../ui/src/server-lists.js';
import type { KeyUsageEntry } from '../src/transit/usage-log.js';

describe("the dashboard's copies of server lists", () => {
  it('offers the data classes the server accepts, in its order', () => {
    expect([...SHOWN_DATA_CLASSES]).toEqual([...DATA_CLASSES]);
  });

  it('offers from each key state exactly the moves the server allows, in its order', () => {
    expect(Object.keys(NEXT_STATES).sort()).toEqual([...KEY_STATES].sort());
    for (const state of KEY_STATES) expect(NEXT_STATES[state]).toEqual(KEY_TRANSITIONS[state]);
  });

  it('reads usage entries in the shape the server writes them', () => {
    expectTypeOf<UsageEntry>().toEqualTypeOf<KeyUsageEntry>();
  });
});
