import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import {
  DATA_CLASS_KEY,
  DATA_CLASSES,
  type DataClass,
  dataClassOf,
} from '@custos/core/classification';
import type { ServerClient } from '@custos/core/client';
import { checkTlsEndpoint, type TlsEndpointReport } from '@custos/core/tls';
import { type FileStart, verifyAuditLog } from '../audit/audit-verify.js';
import { parsePolicy } from '../policy/policy-parse.js';
import { isBroadPath } from './broad-grants.js';
import { type ColumnEvidence, readEncryptionStatuses } from './column-status.js';
import { type DrillRecord, readDrillLog } from './drill-log.js';

/**
 * What evidence is read through: the CLI's client of a server's HTTP API, or the server's own
 * routes called in process with the caller's token (`sys/compliance/report`). Either way every
 * read is an API request, judged by the caller's policies and audited.
 */
export type EvidenceClient = Pick<ServerClient, 'address' | 'request'>;

/**
 * A policy rule that grants writes or sudo on every path, or on what decides who may do what
 * (policies, auth methods, mounts, audit devices, the seal).
 */
export interface BroadGrant {
  readonly policy: string;
  readonly path: string;
  readonly capabilities: readonly string[];
}

/** An audit file checked here, end to end. */
export interface AuditFileCheck {
  readonly file: string;
  readonly ok: boolean;
  readonly entries: number;
  /** The audit device it was checked as (the server's records of it), when there is one. */
  readonly sink?: string;
  /** What is wrong, when it is not ok (never a logged value: lines are HMAC'd). */
  readonly problem?: string;
}

/** A transit key's newest version and its age. */
export interface TransitKeyAge {
  readonly name: string;
  readonly latestVersion: number;
  readonly ageDays: number;
  /** Its automatic rotation period in days (0: none). */
  readonly autoRotateDays: number;
  /** Its `custom_metadata.data_class`, when it has one (docs/classification.md). */
  readonly dataClass?: DataClass;
}

/** A KV version 2 secret that carries a data class. */
export interface ClassifiedSecret {
  /** `<mount>/<key>`, as `sys/rotation-status` names secrets. */
  readonly path: string;
  readonly dataClass: DataClass;
}

/** A rotation policy's state, as `sys/rotation-status` reports it. */
export interface RotationState {
  readonly secret: string;
  readonly overdue: boolean;
  readonly lastResult?: string;
}

/** What the report's controls are judged on, read from the live server (and files given). */
export interface ComplianceEvidence {
  readonly address: string;
  readonly seal: { readonly type: string; readonly threshold: number; readonly shares: number };
  readonly barrierKey: { readonly term: number; readonly ageDays: number };
  readonly policies: { readonly names: readonly string[]; readonly broad: readonly BroadGrant[] };
  readonly tokenTtl: { readonly defaultSeconds: number; readonly maxSeconds: number };
  readonly authMethods: readonly string[];
  readonly audit: {
    readonly devices: readonly string[];
    readonly signedCheckpoints: number;
    /** Audit files verified here (`--audit-file`); empty when none was given. */
    readonly files: readonly AuditFileCheck[];
  };
  readonly transitKeys: readonly TransitKeyAge[];
  /** Every transit mount (`sys/mounts`), whether or not it holds keys. */
  readonly transitMounts: readonly string[];
  /** The classified secrets of every KV version 2 mount. */
  readonly classifiedSecrets: readonly ClassifiedSecret[];
  readonly rotation: readonly RotationState[];
  /** The TLS check of the server's address, or why there is none (plain http). */
  readonly transport:
    | { readonly tls: true; readonly report: TlsEndpointReport; readonly hsts: boolean }
    | { readonly tls: false };
  /** Findings of a `custos scan --format json` report given with `--scan-report`. */
  readonly scan?: { readonly file: string; readonly findings: number };
  /** Backup drills recorded in the `--drill-log` files (empty when none was given). */
  readonly drills: readonly (DrillRecord & { readonly log: string })[];
  /** Whether a drill log was given (a given log may hold no drill yet). */
  readonly drillLogs: readonly string[];
  /** The certificates the server serves (its metrics) and those given with `--cert`. */
  readonly certificates: readonly CertificateExpiry[];
  /** Encrypted columns of the `--encryption-status` reports (empty when none was given). */
  readonly columns: readonly ColumnEvidence[];
}

/** A certificate and the days until it expires (negative once it has). */
export interface CertificateExpiry {
  /** `server` (and other names the server's metrics label), or the file given. */
  readonly name: string;
  readonly source: 'server' | 'file';
  readonly daysLeft: number;
  /** The subject of a certificate read from a file. */
  readonly subject?: string;
}

/** Where evidence comes from besides the server. */
export interface EvidenceSources {
  readonly auditFiles: readonly string[];
  /** The audit log's checkpoint public key (default: the server's, `sys/audit/public-key`). */
  readonly auditPublicKey?: string;
  readonly caFile?: string;
  readonly scanReport?: string;
  /** Drill logs written by `custos backup drill --record`. */
  readonly drillLogs?: readonly string[];
  /** Certificate files (PEM, the leaf first) to list with their expiry. */
  readonly certificateFiles?: readonly string[];
  /** Reports written by `custos encryption status --json` (the CLI only: files of its host). */
  readonly encryptionStatusFiles?: readonly string[];
  readonly now: Date;
}

const DAY_MS = 86_400_000;
const WIDE_WRITE = new Set(['create', 'update', 'delete', 'sudo', 'patch']);

async function data<T>(client: EvidenceClient, method: string, path: string): Promise<T> {
  const { body } = await client.request(method, path);
  return (body as { data: T }).data;
}

async function broadGrants(
  client: EvidenceClient,
): Promise<{ names: string[]; broad: BroadGrant[] }> {
  const { keys } = await data<{ keys: string[] }>(client, 'LIST', 'sys/policies/acl');
  const broad: BroadGrant[] = [];
  for (const name of keys) {
    // root is the server's own unlimited policy: it is reported by the token check instead.
    if (name === 'root') continue;
    const { policy } = await data<{ policy: string }>(client, 'GET', `sys/policies/acl/${name}`);
    for (const rule of (await parsePolicy(name, policy)).rules) {
      const capabilities = [...rule.capabilities];
      if (isBroadPath(rule.pattern) && capabilities.some((c) => WIDE_WRITE.has(c))) {
        broad.push({ policy: name, path: rule.pattern, capabilities });
      }
    }
  }
  return { names: keys, broad };
}

interface CheckpointRecords {
  checkpoints: { sink: string; seq: number; hash: string }[];
  files?: Record<string, FileStart[]>;
}

/**
 * Verifies each audit file given against the server's checkpoint key and, when the server has
 * one audit device, against what it recorded of that sink (its latest checkpoint and where its
 * files start): a file edited, cut short or replaced does not verify.
 */
async function auditFiles(
  client: EvidenceClient,
  sources: EvidenceSources,
  devices: readonly string[],
  records: CheckpointRecords,
): Promise<AuditFileCheck[]> {
  if (sources.auditFiles.length === 0) return [];
  const publicKey =
    sources.auditPublicKey ??
    (await data<{ public_key: string }>(client, 'GET', 'sys/audit/public-key')).public_key;
  const sink = devices.length === 1 ? (devices[0] as string).replace(/\/$/, '') : undefined;
  const latest = records.checkpoints.find((c) => c.sink === sink);
  const checks: AuditFileCheck[] = [];
  for (const file of sources.auditFiles) {
    const text = await readFile(file, 'utf8');
    const report = verifyAuditLog(text, {
      publicKey,
      now: sources.now,
      ...(sink === undefined ? {} : { fileStarts: records.files?.[sink] ?? [] }),
      ...(latest === undefined
        ? {}
        : { expectedCheckpoint: { seq: latest.seq, hash: latest.hash } }),
    });
    checks.push({
      file,
      ok: report.ok,
      entries: report.entries,
      ...(sink === undefined ? {} : { sink }),
      ...(report.ok ? {} : { problem: report.problems.join('; ') }),
    });
  }
  return checks;
}

type Mounts = Record<string, { type: string; options?: Record<string, string> | null }>;

/** When a version was made: Unix seconds (encryption keys) or `creation_time` (signing keys). */
function versionCreatedMs(entry: unknown): number {
  if (typeof entry === 'number') return entry * 1000;
  if (typeof entry === 'object' && entry !== null && 'creation_time' in entry)
    return Date.parse(String((entry as { creation_time: unknown }).creation_time));
  return Date.parse(String(entry));
}

/** The keys of every transit mount, at any path (`sys/mounts`), with their age and class. */
async function transitKeyAges(
  client: EvidenceClient,
  mounts: Mounts,
  now: Date,
): Promise<TransitKeyAge[]> {
  const ages: TransitKeyAge[] = [];
  for (const [mount, entry] of Object.entries(mounts)) {
    if (entry.type !== 'transit') continue;
    // A mount without keys answers 404; anything else (a refusal) stops the report.
    const listed = await client.request('GET', `${mount}keys?list=true`, { allowStatus: [404] });
    const names = (listed.body as { data?: { keys?: string[] } } | undefined)?.data?.keys ?? [];
    for (const name of names) {
      const key = await data<{
        keys: Record<string, unknown>;
        latest_version: number;
        auto_rotate_period: number;
        custom_metadata?: Record<string, string> | null;
      }>(client, 'GET', `${mount}keys/${name}`);
      const createdMs = versionCreatedMs(key.keys[String(key.latest_version)]);
      const dataClass = dataClassOf(key.custom_metadata?.[DATA_CLASS_KEY]);
      ages.push({
        name: `${mount}${name}`,
        latestVersion: key.latest_version,
        ageDays: Math.floor((now.getTime() - createdMs) / DAY_MS),
        autoRotateDays: Math.floor((key.auto_rotate_period ?? 0) / 86_400),
        ...(dataClass === undefined ? {} : { dataClass }),
      });
    }
  }
  return ages;
}

/**
 * The classified secrets of every KV version 2 mount: for each class, a walk of the mount's
 * folders listed with `?data_class=` (the server judges each key's metadata; folders always
 * come back, so every level is reached).
 */
async function classifiedSecrets(
  client: EvidenceClient,
  mounts: Mounts,
): Promise<ClassifiedSecret[]> {
  const found: ClassifiedSecret[] = [];
  for (const [mount, entry] of Object.entries(mounts)) {
    if (entry.type !== 'kv' || entry.options?.version !== '2') continue;
    for (const dataClass of DATA_CLASSES) {
      const folders = [''];
      for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
        const listed = await client.request(
          'GET',
          `${mount}metadata/${folder}?list=true&data_class=${encodeURIComponent(dataClass)}`,
          { allowStatus: [404] },
        );
        const keys = (listed.body as { data?: { keys?: string[] } } | undefined)?.data?.keys ?? [];
        for (const key of keys) {
          if (key.endsWith('/')) folders.push(`${folder}${key}`);
          else found.push({ path: `${mount}${folder}${key}`, dataClass });
        }
      }
    }
  }
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

async function transport(
  client: EvidenceClient,
  sources: EvidenceSources,
): Promise<ComplianceEvidence['transport']> {
  const url = new URL(client.address.endsWith('/') ? client.address : `${client.address}/`);
  if (url.protocol !== 'https:') return { tls: false };
  const report = await checkTlsEndpoint({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || 443),
    now: sources.now,
    ...(sources.caFile === undefined ? {} : { caFile: sources.caFile }),
  });
  const ca = sources.caFile === undefined ? undefined : await readFile(sources.caFile);
  return { tls: true, report, hsts: await sendsHsts(new URL('v1/sys/health', url), ca) };
}

/** Whether the server answers with `Strict-Transport-Security` (a handshake failure: false). */
function sendsHsts(url: URL, ca: Buffer | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsRequest(url, { method: 'GET', ...(ca === undefined ? {} : { ca }) }, (res) => {
      res.resume();
      resolve((res.headers['strict-transport-security'] ?? '') !== '');
    });
    req.setTimeout(10_000, () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

async function scanFindings(file: string | undefined): Promise<ComplianceEvidence['scan']> {
  if (file === undefined) return undefined;
  const report = JSON.parse(await readFile(file, 'utf8')) as { findings?: unknown[] };
  if (!Array.isArray(report.findings)) {
    throw new TypeError(`${file} is not a \`custos scan --format json\` report`);
  }
  return { file, findings: report.findings.length };
}

async function drillRecords(
  logs: readonly string[],
): Promise<(DrillRecord & { readonly log: string })[]> {
  const records: (DrillRecord & { log: string })[] = [];
  for (const log of logs) {
    for (const record of await readDrillLog(log)) records.push({ ...record, log });
  }
  return records;
}

/**
 * The certificates the server reports in its metrics (`custos_tls_certificate_expiry_days`,
 * Vault's JSON form) and those of the files given, each with its days to expiry.
 */
async function certificates(
  client: EvidenceClient,
  files: readonly string[],
  now: Date,
): Promise<CertificateExpiry[]> {
  const found: CertificateExpiry[] = [];
  const { body } = await client.request('GET', 'sys/metrics');
  const gauges = (
    body as { Gauges?: { Name: string; Value: number; Labels?: Record<string, string> }[] }
  ).Gauges;
  for (const gauge of gauges ?? []) {
    if (gauge.Name !== 'custos_tls_certificate_expiry_days') continue;
    found.push({
      name: gauge.Labels?.certificate ?? 'server',
      source: 'server',
      daysLeft: Math.floor(gauge.Value),
    });
  }
  for (const file of files) {
    const certificate = new X509Certificate(await readFile(file));
    found.push({
      name: file,
      source: 'file',
      daysLeft: Math.floor((Date.parse(certificate.validTo) - now.getTime()) / DAY_MS),
      subject: certificate.subject.replace(/\n/g, ', '),
    });
  }
  return found;
}

/**
 * Reads what the controls are judged on from the live server, through the same API routes
 * the report names as re-checks (the token needs sudo: `sys/policies`, `sys/auth/…/tune`).
 */
export async function gatherEvidence(
  client: EvidenceClient,
  sources: EvidenceSources,
): Promise<ComplianceEvidence> {
  const { body: sealBody } = await client.request('GET', 'sys/seal-status');
  const seal = sealBody as { type: string; t: number; n: number };
  const key = await data<{ term: number; install_time: string }>(client, 'GET', 'sys/key-status');
  const tune = await data<{ default_lease_ttl: number; max_lease_ttl: number }>(
    client,
    'GET',
    'sys/auth/token/tune',
  );
  const auth = await data<Record<string, unknown>>(client, 'GET', 'sys/auth');
  const devices = await data<Record<string, unknown>>(client, 'GET', 'sys/audit');
  const records = await data<CheckpointRecords>(client, 'GET', 'sys/audit/checkpoints');
  const rotation = await data<{
    secrets: { secret: string; overdue: boolean; last_result?: string }[];
  }>(client, 'GET', 'sys/rotation-status');
  const scan = await scanFindings(sources.scanReport);
  // Files before the slower reads: a malformed one stops the report at once.
  const columns = await readEncryptionStatuses(sources.encryptionStatusFiles ?? []);
  const mounts = await data<Mounts>(client, 'GET', 'sys/mounts');
  return {
    address: client.address,
    seal: { type: seal.type, threshold: seal.t, shares: seal.n },
    barrierKey: {
      term: key.term,
      ageDays: Math.floor((sources.now.getTime() - Date.parse(key.install_time)) / DAY_MS),
    },
    policies: await broadGrants(client),
    tokenTtl: { defaultSeconds: tune.default_lease_ttl, maxSeconds: tune.max_lease_ttl },
    authMethods: Object.keys(auth),
    audit: {
      devices: Object.keys(devices),
      signedCheckpoints: records.checkpoints.length,
      files: await auditFiles(client, sources, Object.keys(devices), records),
    },
    transitKeys: await transitKeyAges(client, mounts, sources.now),
    transitMounts: Object.entries(mounts)
      .filter(([, entry]) => entry.type === 'transit')
      .map(([mount]) => mount),
    classifiedSecrets: await classifiedSecrets(client, mounts),
    rotation: rotation.secrets.map((s) => ({
      secret: s.secret,
      overdue: s.overdue,
      ...(s.last_result === undefined ? {} : { lastResult: s.last_result }),
    })),
    transport: await transport(client, sources),
    ...(scan === undefined ? {} : { scan }),
    drills: await drillRecords(sources.drillLogs ?? []),
    drillLogs: sources.drillLogs ?? [],
    certificates: await certificates(client, sources.certificateFiles ?? [], sources.now),
    columns,
  };
}
