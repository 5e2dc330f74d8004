import type { Finding } from '../engine/finding.js';
import type { SkipReason } from '../files/classify.js';
import type { Confidence, Rule } from '../rules/rule.js';

const LEVEL: Record<Confidence, 'error' | 'warning' | 'note'> = {
  high: 'error',
  medium: 'warning',
  low: 'note',
};

interface SarifRule {
  readonly id: string;
  readonly name?: string;
  readonly shortDescription: { readonly text: string };
  readonly helpUri?: string;
  readonly help: { readonly text: string };
}

/** Descriptions of the ids a rule set can report (each rule and its variants). */
function describeRules(rules: readonly Rule[]): SarifRule[] {
  const described: SarifRule[] = [];
  const add = (id: string, rule: Rule) => {
    const url = /^https:\/\//.test(rule.source);
    // SARIF wants a name distinct from the id, or none (`jwt` would only change case).
    const name = id.replace(/(^|-)([a-z])/g, (_m, _dash, c: string) => c.toUpperCase());
    described.push({
      id,
      ...(name.toLowerCase() === id.toLowerCase() ? {} : { name }),
      shortDescription: { text: rule.description },
      ...(url ? { helpUri: rule.source } : {}),
      help: {
        text: `${rule.description}. Format documented at ${rule.source}. Revoke the secret at its provider, then remove it (from history too) or allowlist it by fingerprint.`,
      },
    });
  };
  for (const rule of rules) {
    add(rule.id, rule);
    for (const variant of rule.variants ?? []) add(variant, rule);
  }
  return described;
}

/** The SARIF descriptor of whole-file PKCS#12 findings. */
const PKCS12_RULE: SarifRule = {
  id: 'pkcs12-file',
  name: 'Pkcs12File',
  shortDescription: { text: 'PKCS#12 key store (.p12, .pfx) committed as a file' },
  helpUri: 'https://www.rfc-editor.org/rfc/rfc7292',
  help: { text: 'A PKCS#12 file holds private keys; keep it out of the repository.' },
};

/**
 * A finding's file as a SARIF artifact location: a path under the scanned root (`%SRCROOT%`)
 * as a relative URI reference, each segment percent-encoded (`#` and `?` would otherwise read as
 * a fragment and a query); a path outside it (absolute) as a `file:` URI.
 */
function artifactLocation(file: string): { uri: string; uriBaseId?: string } {
  const encoded = file.split('/').map(encodeURIComponent).join('/');
  return file.startsWith('/')
    ? { uri: `file://${encoded}` }
    : { uri: encoded, uriBaseId: '%SRCROOT%' };
}

const SKIPPED_TEXT: Record<SkipReason, string> = {
  binary: 'not scanned: binary content',
  minified: 'not scanned: minified or generated (--scan-minified scans it)',
  huge: 'not scanned: larger than the size limit (--max-file-size)',
  unreadable: 'could not be read',
};

/** A file listed but not scanned (see `ScanReport.skipped`). */
interface SarifSkipped {
  readonly file: string;
  readonly reason: SkipReason;
  readonly error?: string;
}

/** The run's invocation: files it could not read are errors (the run did not succeed), skips warnings. */
function invocation(skipped: readonly SarifSkipped[]): object {
  return {
    executionSuccessful: !skipped.some((entry) => entry.reason === 'unreadable'),
    toolExecutionNotifications: skipped.map((entry) => ({
      level: entry.reason === 'unreadable' ? 'error' : 'warning',
      descriptor: { id: `skipped-${entry.reason}` },
      message: {
        text: `${SKIPPED_TEXT[entry.reason]}${entry.error === undefined ? '' : ` (${entry.error})`}`,
      },
      locations: [{ physicalLocation: { artifactLocation: artifactLocation(entry.file) } }],
    })),
  };
}

/**
 * A SARIF 2.1.0 log of the findings, as code-scanning services (GitHub code scanning and
 * others) accept: one run, the rules with their documented sources, each result with its
 * location and the secret's fingerprint as `partialFingerprints`. Secrets appear only redacted.
 * Files not scanned (`skipped`) are the invocation's notifications: errors for files that could
 * not be read (then `executionSuccessful` is false), warnings for the others.
 *
 * @example
 * ```ts
 * const sarif = toSarif(findings, { rules: defaultRules, version: scannerVersion });
 * ```
 */
export function toSarif(
  findings: readonly Finding[],
  options: {
    readonly rules: readonly Rule[];
    readonly version: string;
    readonly skipped?: readonly SarifSkipped[];
  },
): object {
  const rules = [...describeRules(options.rules), PKCS12_RULE];
  const index = new Map(rules.map((rule, i) => [rule.id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'custos scan',
            version: options.version,
            rules,
          },
        },
        invocations: [invocation(options.skipped ?? [])],
        columnKind: 'utf16CodeUnits',
        results: findings.map((f) => ({
          ruleId: f.rule,
          ...(index.has(f.rule) ? { ruleIndex: index.get(f.rule) } : {}),
          level: LEVEL[f.confidence],
          message: {
            text: `${f.rule}: ${f.redacted} (confidence ${f.confidence}${f.commit ? `, introduced in ${f.commit.slice(0, 12)}` : ''})`,
          },
          locations: [
            {
              physicalLocation: {
                artifactLocation: artifactLocation(f.file),
                region: {
                  startLine: f.line,
                  startColumn: f.column,
                  endLine: f.endLine,
                  endColumn: f.endColumn,
                },
              },
            },
          ],
          partialFingerprints: { 'custosSecret/v1': f.fingerprint },
          properties: {
            confidence: f.confidence,
            ...(f.commit !== undefined ? { commit: f.commit } : {}),
            ...(f.author !== undefined ? { author: f.author } : {}),
            ...(f.date !== undefined ? { date: f.date } : {}),
          },
        })),
      },
    ],
  };
}
