import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CustosError } from '@custos/core/errors';
import type { Allowlist, Baseline, Confidence, GitleaksIgnoreEntry } from '@custos/scan/light';
import { parseGitleaksIgnore, readBaseline } from '@custos/scan/light';

/** What the flags and the settings file give the scanner. */
export interface ScanSettings {
  readonly allowlist: Allowlist;
  readonly baseline?: Baseline;
  readonly minConfidence: Confidence;
  readonly maxFileBytes?: number;
  readonly scanMinified: boolean;
  /** Places silenced by a `.gitleaksignore` at the scan's root (migration). */
  readonly gitleaksIgnore: readonly GitleaksIgnoreEntry[];
}

export interface SettingsFlags {
  readonly config?: string;
  readonly baseline?: string;
  readonly minConfidence: Confidence;
  readonly maxFileSize?: number;
  readonly scanMinified: boolean;
}

const DEFAULT_CONFIG = '.custos-scan.json';

function strings(value: unknown, field: string, file: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new CustosError('ERR_SCAN_CONFIG', `${file}: ${field} must be an array of strings`);
  }
  return value;
}

async function readConfig(path: string, explicit: boolean): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    if (explicit) throw new CustosError('ERR_SCAN_CONFIG', `${path} cannot be read`);
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // reported below
  }
  throw new CustosError('ERR_SCAN_CONFIG', `${path} is not a JSON object`);
}

const SETTINGS = ['allowlist', 'baseline'];
const ALLOWLIST = ['paths', 'rules', 'fingerprints'];

/**
 * Refuses a key `known` does not hold: a misspelt setting (`allowList`, `path`) ignored in
 * silence would let a scan report what its author meant to allow, or allow nothing at all.
 */
function checkKeys(object: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const key of Object.keys(object)) {
    // `$comment` and `$schema`: JSON's conventions for notes and editors, not settings.
    if (!known.includes(key) && key !== '$comment' && key !== '$schema') {
      throw new CustosError(
        'ERR_SCAN_CONFIG',
        `${where}: unknown setting ${JSON.stringify(key)} (known: ${known.join(', ')})`,
      );
    }
  }
}

function allowlistOf(config: Record<string, unknown>, path: string): Record<string, unknown> {
  const allow = config.allowlist ?? {};
  if (typeof allow !== 'object' || allow === null || Array.isArray(allow))
    throw new CustosError('ERR_SCAN_CONFIG', `${path}: allowlist must be an object`);
  checkKeys(allow as Record<string, unknown>, ALLOWLIST, `${path}: allowlist`);
  return allow as Record<string, unknown>;
}

/**
 * Reads the scanner settings from `--config` or, when present, `.custos-scan.json` at the scan's
 * root: `{"allowlist": {"paths": [], "rules": [], "fingerprints": []}, "baseline": "file"}` (a
 * baseline the file names is relative to the root; flag paths to the current directory). Flags
 * win over the file; an unknown or misspelt setting is refused. `.gitleaksignore` is read at the
 * root too.
 */
export async function loadSettings(flags: SettingsFlags, root: string): Promise<ScanSettings> {
  const path = flags.config === undefined ? join(root, DEFAULT_CONFIG) : resolve(flags.config);
  const config = await readConfig(path, flags.config !== undefined);
  checkKeys(config, SETTINGS, path);
  const allow = allowlistOf(config, path);
  if (config.baseline !== undefined && typeof config.baseline !== 'string')
    throw new CustosError('ERR_SCAN_CONFIG', `${path}: baseline must be a file name`);
  const baselineFile =
    flags.baseline ??
    (config.baseline === undefined ? undefined : resolve(root, config.baseline as string));
  return {
    allowlist: {
      paths: strings(allow.paths, 'allowlist.paths', path),
      rules: strings(allow.rules, 'allowlist.rules', path),
      fingerprints: strings(allow.fingerprints, 'allowlist.fingerprints', path),
    },
    ...(baselineFile !== undefined ? { baseline: await readBaseline(baselineFile) } : {}),
    minConfidence: flags.minConfidence,
    ...(flags.maxFileSize !== undefined ? { maxFileBytes: flags.maxFileSize } : {}),
    scanMinified: flags.scanMinified,
    gitleaksIgnore: parseGitleaksIgnore(
      await readFile(join(root, '.gitleaksignore'), 'utf8').catch(() => ''),
    ),
  };
}
