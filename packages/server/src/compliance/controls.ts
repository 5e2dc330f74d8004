import { DATA_CLASSES, type DataClass } from '@custos/core/classification';
import { type ColumnSummary, columnEvidence, columnSummary } from './column-evidence.js';
import type { ComplianceEvidence } from './evidence.js';

/** How a control stands. */
export type ControlStatus = 'pass' | 'fail' | 'partial' | 'not-applicable';

/** One claim read from the live system, and the command that re-checks it. */
export interface EvidenceItem {
  readonly claim: string;
  /** `true` supports the control, `false` counts against it, absent: a fact. */
  readonly supports?: boolean;
  readonly recheck: string;
  /** The data class of the secret or key the claim is about, when it has one. */
  readonly dataClass?: DataClass;
}

/** A control of a framework, judged. */
export interface ControlResult {
  readonly id: string;
  readonly framework: 'hipaa' | 'soc2';
  readonly title: string;
  readonly status: ControlStatus;
  readonly evidence: readonly EvidenceItem[];
  /** Re-checks the whole control. */
  readonly recheck: string;
}

/** Frameworks a report covers. */
export type Framework = 'hipaa' | 'soc2' | 'all';

/** The report, as `--format json` prints it. */
export interface ComplianceReport {
  readonly framework: Framework;
  readonly generatedAt: string;
  readonly server: string;
  readonly controls: readonly ControlResult[];
  /** The classified secrets, transit keys and columns, by class (only the classes that occur). */
  readonly dataClasses?: readonly DataClassSummary[];
  /** Columns given with `--encryption-status` without a class (present only when there are some). */
  readonly unclassifiedColumns?: readonly ColumnSummary[];
}

/** How a secret with a rotation policy stands: `none` when it has no policy. */
export type SecretRotation = 'on-schedule' | 'overdue' | 'failed' | 'none';

/** What the report found of one data class. */
export interface DataClassSummary {
  readonly dataClass: DataClass;
  readonly secrets: readonly { readonly path: string; readonly rotation: SecretRotation }[];
  readonly transitKeys: readonly {
    readonly name: string;
    readonly latestVersion: number;
    readonly ageDays: number;
    readonly limitDays: number;
  }[];
  /** Encrypted columns of this class (`--encryption-status`); present only when there are some. */
  readonly columns?: readonly ColumnSummary[];
}

/** Classes whose secrets must rotate: all but `internal`. */
const REGULATED: ReadonlySet<DataClass> = new Set(['PHI', 'PII', 'credential', 'payment']);

/** Longest token lifetime the report accepts (Vault's default maximum, 32 days). */
export const MAX_TOKEN_TTL_SECONDS = 32 * 86_400;
/** Longest default token lifetime before authentication is only partial (a working day). */
export const DEFAULT_TOKEN_TTL_SECONDS = 24 * 3600;
/** Oldest a key may be without a rotation period of its own (NIST SP 800-57's one year). */
export const MAX_KEY_AGE_DAYS = 365;
/** A certificate expiring sooner leaves transmission security partial (renew it now). */
export const CERTIFICATE_WARN_DAYS = 30;
/** Oldest a passed backup drill may be (a quarterly restore test). */
export const MAX_DRILL_AGE_DAYS = 90;

interface Judgement {
  readonly status: ControlStatus;
  readonly evidence: readonly EvidenceItem[];
}

const DAY_MS = 86_400_000;
const RANK: Record<ControlStatus, number> = { 'not-applicable': 0, pass: 1, partial: 2, fail: 3 };
const worst = (...statuses: ControlStatus[]) =>
  statuses.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'not-applicable' as ControlStatus);
const fromEvidence = (evidence: EvidenceItem[], unsure = false): Judgement => ({
  status: evidence.some((e) => e.supports === false) ? 'fail' : unsure ? 'partial' : 'pass',
  evidence,
});
const hours = (seconds: number) => `${Math.round(seconds / 3600)}h`;

function access(e: ComplianceEvidence): Judgement {
  const evidence: EvidenceItem[] = [];
  for (const grant of e.policies.broad) {
    evidence.push({
      claim: `policy "${grant.policy}" grants ${grant.capabilities.join(', ')} on "${grant.path}"`,
      supports: false,
      recheck: `custos policy read ${grant.policy}`,
    });
  }
  if (e.policies.broad.length === 0) {
    evidence.push({
      claim: `none of the ${e.policies.names.length} policies grants writes or sudo on every path, or on policies, auth methods, mounts, audit devices or the seal`,
      supports: true,
      recheck: 'custos policy list, then custos policy read <name>',
    });
  }
  evidence.push({
    claim: `tokens live at most ${hours(e.tokenTtl.maxSeconds)} (limit ${hours(MAX_TOKEN_TTL_SECONDS)})`,
    supports: e.tokenTtl.maxSeconds <= MAX_TOKEN_TTL_SECONDS,
    recheck: 'custos read sys/auth/token/tune',
  });
  return fromEvidence(evidence);
}

function authentication(e: ComplianceEvidence): Judgement {
  const evidence: EvidenceItem[] = [
    {
      claim: `auth methods: ${e.authMethods.join(', ')}; every request carries a token checked on the server`,
      recheck: 'custos auth list',
    },
    {
      claim: `tokens live at most ${hours(e.tokenTtl.maxSeconds)} (limit ${hours(MAX_TOKEN_TTL_SECONDS)})`,
      supports: e.tokenTtl.maxSeconds <= MAX_TOKEN_TTL_SECONDS,
      recheck: 'custos read sys/auth/token/tune',
    },
  ];
  const longDefault = e.tokenTtl.defaultSeconds > DEFAULT_TOKEN_TTL_SECONDS;
  evidence.push({
    claim: `new tokens live ${hours(e.tokenTtl.defaultSeconds)} by default${longDefault ? ` (more than ${hours(DEFAULT_TOKEN_TTL_SECONDS)}: sessions outlive a working day)` : ''}`,
    recheck: 'custos read sys/auth/token/tune',
  });
  return fromEvidence(evidence, longDefault);
}

function encryption(e: ComplianceEvidence): Judgement {
  const evidence: EvidenceItem[] = [
    {
      claim: `the storage barrier (AES-256-GCM) key is term ${e.barrierKey.term}, ${e.barrierKey.ageDays} days old (limit ${MAX_KEY_AGE_DAYS})`,
      supports: e.barrierKey.ageDays <= MAX_KEY_AGE_DAYS,
      recheck: 'custos read sys/key-status',
    },
  ];
  const oneShare = e.seal.type === 'shamir' && e.seal.threshold < 2;
  evidence.push({
    claim:
      e.seal.type === 'shamir'
        ? `unsealing takes ${e.seal.threshold} of ${e.seal.shares} key shares${oneShare ? ' (one person alone can unseal)' : ''}`
        : `the root key is held by the ${e.seal.type} seal (auto-unseal)`,
    recheck: 'custos read sys/seal-status',
  });
  for (const key of e.transitKeys) {
    const limit = keyAgeLimit(key.autoRotateDays);
    evidence.push({
      claim: `${key.dataClass === undefined ? '' : `${key.dataClass} `}transit key ${key.name}: version ${key.latestVersion} is ${key.ageDays} days old (limit ${limit}${key.autoRotateDays > 0 ? ', its rotation period' : ''})`,
      // NaN (a creation time that does not parse) is not young enough: it fails.
      supports: key.ageDays <= limit,
      recheck: `custos read ${keyPath(key.name)}`,
      ...(key.dataClass === undefined ? {} : { dataClass: key.dataClass }),
    });
  }
  if (e.transitKeys.length === 0) {
    evidence.push({
      claim:
        e.transitMounts.length === 0
          ? 'no transit mount'
          : `no transit keys on ${e.transitMounts.join(', ')}`,
      recheck:
        e.transitMounts.length === 0
          ? 'custos secrets list'
          : `custos list ${e.transitMounts[0]}keys`,
    });
  }
  const classified = classifiedSecretEvidence(e);
  const columns = columnEvidence(e.columns);
  return fromEvidence(
    [...evidence, ...classified.evidence, ...columns.evidence],
    oneShare || classified.unsure || columns.unsure,
  );
}

const keyAgeLimit = (autoRotateDays: number) =>
  autoRotateDays > 0 ? autoRotateDays : MAX_KEY_AGE_DAYS;
/** `<mount>/<name>` → `<mount>/keys/<name>` (a mount may have several segments). */
const keyPath = (name: string) => name.replace(/\/(?=[^/]*$)/, '/keys/');

function rotationOf(e: ComplianceEvidence, path: string): SecretRotation {
  const state = e.rotation.find((r) => r.secret === path);
  if (state === undefined) return 'none';
  if (state.lastResult === 'failed') return 'failed';
  return state.overdue ? 'overdue' : 'on-schedule';
}

/**
 * The rotation of each secret of a regulated class (PHI, PII, credential, payment): on
 * schedule supports, overdue or failed counts against, no rotation policy leaves the control
 * partial, naming the secret. `internal` secrets are only counted.
 */
function classifiedSecretEvidence(e: ComplianceEvidence): {
  evidence: EvidenceItem[];
  unsure: boolean;
} {
  const evidence: EvidenceItem[] = [];
  let unsure = false;
  for (const secret of e.classifiedSecrets) {
    if (!REGULATED.has(secret.dataClass)) continue;
    const rotation = rotationOf(e, secret.path);
    const what = `${secret.dataClass} secret ${secret.path}`;
    if (rotation === 'none') unsure = true;
    evidence.push({
      claim:
        rotation === 'none'
          ? `${what} has no rotation policy`
          : rotation === 'on-schedule'
            ? `${what} rotates on schedule`
            : `${what}: rotation ${rotation}`,
      ...(rotation === 'none' ? {} : { supports: rotation === 'on-schedule' }),
      recheck:
        rotation === 'none' ? `custos read sys/rotation/${secret.path}` : `custos rotation status`,
      dataClass: secret.dataClass,
    });
  }
  return { evidence, unsure };
}

/**
 * The classified secrets and keys by class, for the report's `dataClasses` (additive: the
 * controls carry the same facts as evidence).
 */
export function dataClassSummaries(e: ComplianceEvidence): DataClassSummary[] {
  return DATA_CLASSES.map((dataClass) => {
    const columns = e.columns.filter((c) => c.dataClass === dataClass).map(columnSummary);
    return {
      dataClass,
      secrets: e.classifiedSecrets
        .filter((s) => s.dataClass === dataClass)
        .map((s) => ({ path: s.path, rotation: rotationOf(e, s.path) })),
      transitKeys: e.transitKeys
        .filter((k) => k.dataClass === dataClass)
        .map((k) => ({
          name: k.name,
          latestVersion: k.latestVersion,
          ageDays: k.ageDays,
          limitDays: keyAgeLimit(k.autoRotateDays),
        })),
      ...(columns.length === 0 ? {} : { columns }),
    };
  }).filter((c) => c.secrets.length > 0 || c.transitKeys.length > 0 || c.columns !== undefined);
}

/** Audit devices and the chain of the files given; `unsure` when no file was verified here. */
function auditTrail(e: ComplianceEvidence): { evidence: EvidenceItem[]; unsure: boolean } {
  const evidence: EvidenceItem[] = [
    e.audit.devices.length > 0
      ? {
          claim: `audit devices: ${e.audit.devices.join(', ')}; a request is refused when its entry cannot be written`,
          supports: true,
          recheck: 'custos audit list',
        }
      : {
          claim: 'no audit device is enabled: requests are not recorded',
          supports: false,
          recheck: 'custos audit list',
        },
    {
      claim: `the server holds a signed checkpoint of ${e.audit.signedCheckpoints} audit devices`,
      recheck: 'custos read sys/audit/checkpoints',
    },
  ];
  for (const file of e.audit.files) {
    evidence.push({
      claim: file.ok
        ? `${file.file}: hash chain and checkpoint signatures verified over ${file.entries} entries`
        : `${file.file}: the chain does not verify (${file.problem ?? 'see the re-check'})`,
      supports: file.ok,
      recheck: `custos audit verify ${file.file} --server${file.sink === undefined ? '' : ` --sink ${file.sink}`}`,
    });
  }
  const unsure = e.audit.files.length === 0;
  if (unsure) {
    evidence.push({
      claim: 'no audit file was verified here (give --audit-file)',
      recheck: 'custos audit verify <file>',
    });
  }
  return { evidence, unsure };
}

function audit(e: ComplianceEvidence): Judgement {
  const { evidence, unsure } = auditTrail(e);
  return fromEvidence(evidence, unsure);
}

function integrity(e: ComplianceEvidence): Judgement {
  const { evidence, unsure } = auditTrail(e);
  return fromEvidence(
    [
      {
        claim:
          'every stored entry is authenticated (AES-256-GCM under the barrier key): a changed byte is refused, never served',
        recheck: 'custos read sys/key-status',
      },
      ...evidence.filter((item) => item.recheck.startsWith('custos audit verify')),
    ],
    unsure,
  );
}

/** Each certificate's expiry: expired fails, expiring within 30 days leaves it partial. */
function certificateInventory(e: ComplianceEvidence): {
  evidence: EvidenceItem[];
  unsure: boolean;
} {
  const evidence: EvidenceItem[] = [];
  let unsure = false;
  for (const cert of e.certificates) {
    const what =
      cert.source === 'server'
        ? `the server's ${cert.name} certificate`
        : `certificate ${cert.name}${cert.subject === undefined ? '' : ` (${cert.subject})`}`;
    const soon = cert.daysLeft >= 0 && cert.daysLeft < CERTIFICATE_WARN_DAYS;
    if (soon) unsure = true;
    evidence.push({
      claim:
        cert.daysLeft < 0
          ? `${what} has expired (days to expiry: ${cert.daysLeft})`
          : `${what} expires in ${cert.daysLeft} days${soon ? ` (less than ${CERTIFICATE_WARN_DAYS}: renew it)` : ''}`,
      ...(soon ? {} : { supports: cert.daysLeft >= 0 }),
      recheck:
        cert.source === 'server'
          ? 'custos read sys/metrics (custos_tls_certificate_expiry_days)'
          : `custos cert check ${cert.name}`,
    });
  }
  return { evidence, unsure };
}

function transmission(e: ComplianceEvidence): Judgement {
  const inventory = certificateInventory(e);
  if (!e.transport.tls) {
    return fromEvidence([
      {
        claim: `the server is reached over plain http at ${e.address}`,
        supports: false,
        recheck: `curl -sI ${e.address}/v1/sys/health`,
      },
      ...inventory.evidence,
    ]);
  }
  const { report } = e.transport;
  const where = `${report.host}:${report.port}`;
  const evidence: EvidenceItem[] = [
    {
      claim: `TLS at ${where}: ${Object.entries(report.protocols)
        .filter(([, offered]) => offered)
        .map(([version]) => version)
        .join(', ')} offered${report.negotiated ? `, ${report.negotiated.cipher} negotiated` : ''}`,
      recheck: `custos tls check ${where}`,
    },
  ];
  for (const check of report.checks.filter((c) => c.status === 'fail' || c.status === 'warn')) {
    evidence.push({
      claim: `${check.check}: ${check.detail}`,
      ...(check.status === 'fail' ? { supports: false } : {}),
      recheck: `custos tls check ${where}`,
    });
  }
  if (report.ok) {
    evidence.push({
      claim: 'every TLS check passed',
      supports: true,
      recheck: `custos tls check ${where}`,
    });
  }
  return fromEvidence([...evidence, ...inventory.evidence], inventory.unsure);
}

/**
 * Restore drills (`custos backup drill --record`): per backup drilled, its latest drill. A
 * latest drill that failed fails the control; none recorded, or none passed in the last 90
 * days, leaves it partial.
 */
function recovery(e: ComplianceEvidence, now: Date): Judgement {
  if (e.drillLogs.length === 0) {
    return fromEvidence(
      [
        {
          claim: 'no backup drill log was given (give --drill-log)',
          recheck: 'custos backup drill <backup> --record <log>',
        },
      ],
      true,
    );
  }
  const latest = new Map<string, (typeof e.drills)[number]>();
  for (const drill of e.drills) latest.set(drill.input, drill); // oldest first: the last wins
  const evidence: EvidenceItem[] = [];
  let stale = latest.size === 0;
  for (const drill of latest.values()) {
    const ageDays = Math.floor((now.getTime() - Date.parse(drill.time)) / DAY_MS);
    const old = ageDays > MAX_DRILL_AGE_DAYS;
    if (drill.result === 'passed' && old) stale = true;
    const restored =
      drill.restore === undefined
        ? ''
        : `, restored (${drill.restore.format}): ${drill.restore.tables} tables, ${drill.restore.rows} rows`;
    evidence.push({
      claim:
        drill.result === 'passed'
          ? `backup ${drill.input}: the latest drill passed ${ageDays} days ago (decrypted and authenticated${drill.digestChecked ? ', digest as recorded' : ''}${restored})${old ? ` — more than ${MAX_DRILL_AGE_DAYS} days ago` : ''}`
          : `backup ${drill.input}: the latest drill failed ${ageDays} days ago (${drill.problem ?? 'see the log'})`,
      ...(drill.result === 'passed' && old ? {} : { supports: drill.result === 'passed' }),
      recheck: `custos backup drill ${drill.input} --record ${drill.log}`,
    });
  }
  if (latest.size === 0) {
    evidence.push({
      claim: `no drill is recorded in ${e.drillLogs.join(', ')}`,
      recheck: 'custos backup drill <backup> --record <log>',
    });
  }
  return fromEvidence(evidence, stale);
}

function boundary(e: ComplianceEvidence): Judgement {
  const tls = transmission(e);
  if (!e.transport.tls) return tls;
  const evidence: EvidenceItem[] = [
    ...tls.evidence,
    {
      claim: e.transport.hsts
        ? 'the server sends Strict-Transport-Security'
        : 'the server sends no Strict-Transport-Security header',
      recheck: `curl -sI ${e.address}/v1/sys/health`,
    },
  ];
  return { status: worst(tls.status, e.transport.hsts ? 'pass' : 'partial'), evidence };
}

function monitoring(e: ComplianceEvidence): Judgement {
  const { evidence, unsure } = auditTrail(e);
  const failed = e.rotation.filter((r) => r.lastResult === 'failed');
  evidence.push({
    claim:
      failed.length === 0
        ? 'no rotation failed at its last run'
        : `rotations failed at their last run: ${failed.map((r) => r.secret).join(', ')}`,
    supports: failed.length === 0,
    recheck: 'custos rotation status',
  });
  return fromEvidence(evidence, unsure);
}

function change(e: ComplianceEvidence): Judgement {
  const overdue = e.rotation.filter((r) => r.overdue);
  const failed = e.rotation.filter((r) => r.lastResult === 'failed');
  const evidence: EvidenceItem[] = [
    {
      claim: `${e.rotation.length} secrets have a rotation policy; overdue: ${overdue.length === 0 ? 'none' : overdue.map((r) => r.secret).join(', ')}`,
      supports: overdue.length === 0,
      recheck: 'custos rotation status',
    },
  ];
  if (failed.length > 0) {
    evidence.push({
      claim: `last rotation failed: ${failed.map((r) => r.secret).join(', ')}`,
      supports: false,
      recheck: 'custos rotation history <secret>',
    });
  }
  if (e.scan === undefined) {
    evidence.push({
      claim: 'no secret-scan report was given (give --scan-report)',
      recheck: 'custos scan . --format json',
    });
  } else {
    evidence.push({
      claim: `${e.scan.file}: ${e.scan.findings} secrets found in code`,
      supports: e.scan.findings === 0,
      recheck: 'custos scan . --format json',
    });
  }
  const classified = classifiedSecretEvidence(e);
  return fromEvidence(
    [...evidence, ...classified.evidence],
    e.rotation.length === 0 || e.scan === undefined || classified.unsure,
  );
}

interface ControlSpec {
  readonly id: string;
  readonly framework: 'hipaa' | 'soc2';
  readonly title: string;
  readonly judge: (e: ComplianceEvidence, now: Date) => Judgement;
}

/** The controls, in the order reports list them. */
export const CONTROLS: readonly ControlSpec[] = [
  { id: '164.312(a)(1)', framework: 'hipaa', title: 'Access control', judge: access },
  {
    id: '164.312(a)(2)(iv)',
    framework: 'hipaa',
    title: 'Encryption and decryption',
    judge: encryption,
  },
  { id: '164.312(b)', framework: 'hipaa', title: 'Audit controls', judge: audit },
  { id: '164.312(c)(1)', framework: 'hipaa', title: 'Integrity', judge: integrity },
  {
    id: '164.312(d)',
    framework: 'hipaa',
    title: 'Person or entity authentication',
    judge: authentication,
  },
  { id: '164.312(e)(1)', framework: 'hipaa', title: 'Transmission security', judge: transmission },
  {
    id: 'CC6.1',
    framework: 'soc2',
    title: 'Logical access security and encryption at rest',
    judge: (e) => {
      const [a, b] = [access(e), encryption(e)];
      return { status: worst(a.status, b.status), evidence: [...a.evidence, ...b.evidence] };
    },
  },
  {
    id: 'CC6.6',
    framework: 'soc2',
    title: 'Protection against threats from outside the system boundary',
    judge: boundary,
  },
  { id: 'CC6.7', framework: 'soc2', title: 'Transmission of information', judge: transmission },
  { id: 'CC7.2', framework: 'soc2', title: 'Monitoring of system components', judge: monitoring },
  { id: 'CC8.1', framework: 'soc2', title: 'Change management', judge: change },
  { id: 'A1.3', framework: 'soc2', title: 'Recovery plan testing', judge: recovery },
];

/**
 * Judges the controls of `framework` (or only `control`) on `evidence`.
 *
 * @example
 * ```ts
 * const report = judgeControls(await gatherEvidence(client, sources), 'hipaa', new Date());
 * ```
 */
export function judgeControls(
  evidence: ComplianceEvidence,
  framework: Framework,
  generatedAt: Date,
  control?: string,
): ComplianceReport {
  const controls = CONTROLS.filter(
    (spec) =>
      (framework === 'all' || spec.framework === framework) &&
      (control === undefined || spec.id.toLowerCase() === control.toLowerCase()),
  ).map((spec): ControlResult => {
    const { status, evidence: items } = spec.judge(evidence, generatedAt);
    return {
      id: spec.id,
      framework: spec.framework,
      title: spec.title,
      status,
      evidence: items,
      recheck: `custos compliance report --framework ${spec.framework} --control '${spec.id}'`,
    };
  });
  const unclassified = evidence.columns.filter((c) => c.dataClass === undefined).map(columnSummary);
  return {
    framework,
    generatedAt: generatedAt.toISOString(),
    server: evidence.address,
    controls,
    dataClasses: dataClassSummaries(evidence),
    ...(unclassified.length === 0 ? {} : { unclassifiedColumns: unclassified }),
  };
}
