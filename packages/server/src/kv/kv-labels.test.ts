import { describe, expect, it } from 'vitest';
import {
  CURRENT_LABEL,
  labelsOf,
  PENDING_LABEL,
  PREVIOUS_LABEL,
  removeLabel,
  setLabel,
} from './kv-labels.js';
import { addVersion, DEFAULT_KV_CONFIG, emptyMetadata } from './kv-metadata.js';

const version = () => ({
  created_time: '2026-01-01T00:00:00.000Z',
  deletion_time: '',
  destroyed: false,
});

describe('version labels', () => {
  it('reads metadata written before labels existed as AWSCURRENT on its current version', () => {
    const legacy = emptyMetadata('2026-01-01T00:00:00.000Z');
    addVersion(legacy, version(), DEFAULT_KV_CONFIG);
    addVersion(legacy, version(), DEFAULT_KV_CONFIG);
    delete legacy.labels; // as stored before labels existed
    expect(labelsOf(legacy)).toEqual({ [CURRENT_LABEL]: 2 });
    addVersion(legacy, version(), DEFAULT_KV_CONFIG);
    expect(legacy.labels).toEqual({ [CURRENT_LABEL]: 3, [PREVIOUS_LABEL]: 2 });
  });

  it('moves a label (AWSCURRENT leaves AWSPREVIOUS behind), never duplicates one, and keeps __proto__ a label', () => {
    const meta = emptyMetadata('2026-01-01T00:00:00.000Z');
    for (let i = 0; i < 3; i++) addVersion(meta, version(), DEFAULT_KV_CONFIG, { labels: [] });
    setLabel(meta, CURRENT_LABEL, 1);
    setLabel(meta, CURRENT_LABEL, 3);
    setLabel(meta, '__proto__', 2);
    expect(JSON.stringify(meta.labels)).toBe('{"AWSCURRENT":3,"AWSPREVIOUS":1,"__proto__":2}');
    removeLabel(meta, '__proto__', 3); // held by another version: nothing happens
    expect(Object.hasOwn(meta.labels ?? {}, '__proto__')).toBe(true);
    removeLabel(meta, '__proto__', 2);
    expect(Object.hasOwn(meta.labels ?? {}, '__proto__')).toBe(false);
  });

  it('drops the labels and client ids of versions that fall out of max_versions', () => {
    const meta = emptyMetadata('2026-01-01T00:00:00.000Z');
    const config = { ...DEFAULT_KV_CONFIG, max_versions: 2 };
    addVersion(meta, version(), config, { versionId: 'first-version-id-000000000000000000' });
    addVersion(meta, version(), config, { labels: ['AWSPENDING'] });
    expect(meta.labels).toEqual({ [CURRENT_LABEL]: 1, AWSPENDING: 2 });
    expect(addVersion(meta, version(), config)).toEqual([1]);
    expect(meta.labels).toEqual({ [CURRENT_LABEL]: 3, AWSPENDING: 2 });
    expect(meta.version_ids).toEqual({});
  });

  it('never trims the current or the pending version, and trims them once their label moved', () => {
    const meta = emptyMetadata('2026-01-01T00:00:00.000Z');
    const config = { ...DEFAULT_KV_CONFIG, max_versions: 3 };
    addVersion(meta, version(), config); // 1: current
    // Rotations that roll back write pending versions without moving current.
    const trimmed: number[] = [];
    for (let i = 0; i < 5; i++) {
      trimmed.push(...addVersion(meta, version(), config, { labels: [PENDING_LABEL] }));
      removeLabel(meta, PENDING_LABEL, meta.current_version);
    }
    expect(trimmed).toEqual([2, 3]);
    expect(Object.keys(meta.versions)).toEqual(['1', '4', '5', '6']);
    expect(meta.labels).toEqual({ [CURRENT_LABEL]: 1 });
    // A plain write: 1 is no longer current, no longer held, and goes with the window.
    expect(addVersion(meta, version(), config)).toEqual([1, 4]);
    expect(Object.keys(meta.versions)).toEqual(['5', '6', '7']);
    expect(meta.labels).toEqual({ [CURRENT_LABEL]: 7 });
  });
});
