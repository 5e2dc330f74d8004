import { useId, useState } from 'react';
import {
  Button,
  Cell,
  Column,
  Heading,
  Row,
  Table,
  TableBody,
  TableHeader,
} from 'react-aria-components';
import { ApiError, describeError, type Envelope, encodePath } from '../api.js';
import { useApi, useLoad } from '../session-context.js';
import { ErrorMessage, StatusMessage } from './messages.js';

/** One audit line as the server wrote it (values HMAC'd); only what the table shows is typed. */
interface AuditEntry {
  readonly seq?: number;
  readonly time?: string;
  readonly type?: string;
  readonly auth?: { readonly display_name?: unknown } | null;
  readonly request?: { readonly path?: unknown; readonly operation?: unknown };
  readonly response?: { readonly status?: unknown };
}

/** Each line as written (a string; null for a line that is not a JSON object). */
interface EntriesPage {
  readonly entries: (string | null)[];
  readonly next_before: number | null;
}

function parseLine(line: string | null): AuditEntry | undefined {
  if (line === null) return undefined;
  try {
    return JSON.parse(line) as AuditEntry;
  } catch {
    return undefined;
  }
}

interface Verification {
  readonly ok: boolean;
  readonly first_problem: { readonly line: number | null; readonly reason: string } | null;
  readonly problems: string[];
  readonly warnings: string[];
  readonly entries: number;
  readonly first_seq: number | null;
  readonly last_seq: number | null;
  readonly last_checkpoint_seq: number | null;
  readonly verified_at: string;
}

const PAGE = 25;

const text = (value: unknown) =>
  value === undefined || value === null || value === '' ? '—' : String(value);

/**
 * The recent entries of the audit devices the server can read back (file devices), newest
 * first with paging to older ones, and a live check of the current file's chain.
 */
export function AuditEntries({ devices }: { readonly devices: readonly string[] }) {
  const [device, setDevice] = useState(devices[0] ?? '');
  const selectId = useId();
  if (devices.length === 0)
    return (
      <p className="note">
        No file device: the server cannot read stdout, http or syslog devices back (their entries
        are where they are delivered).
      </p>
    );
  return (
    <>
      {devices.length > 1 && (
        <p>
          <label htmlFor={selectId}>Device</label>{' '}
          <select id={selectId} value={device} onChange={(event) => setDevice(event.target.value)}>
            {devices.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </p>
      )}
      <VerifyChain key={`verify-${device}`} device={device} />
      <EntriesTable key={`entries-${device}`} device={device} />
    </>
  );
}

function VerifyChain({ device }: { readonly device: string }) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Verification>();
  const [error, setError] = useState<unknown>();
  const verify = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setResult(
        (await api.post<Envelope<Verification>>(`sys/audit-verify/${encodePath(device)}`)).data,
      );
    } catch (err) {
      setResult(undefined);
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="verify">
      <Heading level={3}>Chain of {device}</Heading>
      <Button onPress={verify} isDisabled={busy}>
        {busy ? 'Verifying…' : 'Verify chain now'}
      </Button>
      {error !== undefined && (
        <ErrorMessage>{describeError(error, `verify the chain of ${device}`)}</ErrorMessage>
      )}
      {result?.ok === true && (
        <StatusMessage>
          <span className="badge badge-good">intact</span>{' '}
          {`${result.entries} entries (seq ${result.first_seq}..${result.last_seq}), signed up to ${result.last_checkpoint_seq ?? '—'}; checked ${result.verified_at}.`}
          {result.warnings.length > 0 && ` Warnings: ${result.warnings.join('; ')}`}
        </StatusMessage>
      )}
      {result?.ok === false && (
        <div role="alert" className="message message-error">
          <p>
            <span className="badge badge-bad">broken</span>{' '}
            {result.first_problem?.line == null
              ? 'The chain is broken'
              : `The chain is broken at line ${result.first_problem.line}`}
            : {result.first_problem?.reason}
          </p>
          {result.problems.length > 1 && (
            <details>
              <summary>All {result.problems.length} problems</summary>
              <ul>
                {result.problems.map((problem) => (
                  <li key={problem}>{problem}</li>
                ))}
              </ul>
            </details>
          )}
        </div>
      )}
    </div>
  );
}

function EntriesTable({ device }: { readonly device: string }) {
  const api = useApi();
  // The `before` of each page shown so far: the first is the newest page.
  const [pages, setPages] = useState<(number | undefined)[]>([undefined]);
  const before = pages.at(-1);
  const page = useLoad(
    async () => {
      const query = `limit=${PAGE}${before === undefined ? '' : `&before=${before}`}`;
      try {
        return (
          await api.get<Envelope<EntriesPage>>(`sys/audit-entries/${encodePath(device)}?${query}`)
        ).data;
      } catch (err) {
        if (err instanceof ApiError && err.status === 403) return 'denied' as const;
        throw err;
      }
    },
    `entries-${device}-${before ?? 'newest'}`,
  );
  const data = typeof page.data === 'object' ? page.data : undefined;
  const rows = (data?.entries ?? []).map((line, i) => {
    const entry = parseLine(line);
    return {
      id: `${entry?.seq ?? `x${i}`}`,
      seq: text(entry?.seq),
      time: text(entry?.time),
      type: entry === undefined ? 'not an entry (see Verify chain now)' : text(entry.type),
      path: text(entry?.request?.path),
      operation: text(entry?.request?.operation),
      who: text(entry?.auth?.display_name),
      status: text(entry?.response?.status),
    };
  });
  return (
    <>
      <Heading level={3}>Recent entries of {device}</Heading>
      {page.data === 'denied' && (
        <p className="note">
          Your token may not read the entries (<code>sys/audit-entries/{device}</code> needs{' '}
          <code>sudo</code>).
        </p>
      )}
      {page.error !== undefined && (
        <ErrorMessage>{describeError(page.error, `read the entries of ${device}`)}</ErrorMessage>
      )}
      {page.loading && <p aria-live="polite">Loading…</p>}
      {data !== undefined && (
        <>
          <p className="note">
            As written: values, tokens and accessors are HMAC'd (<code>hmac-sha256:…</code>).
            {before === undefined ? ' Newest first.' : ` Entries before ${before}, newest first.`}
          </p>
          <Table aria-label={`Audit entries of ${device}`} className="table entries">
            <TableHeader>
              <Column isRowHeader>Entry</Column>
              <Column>Time</Column>
              <Column>Type</Column>
              <Column>Path</Column>
              <Column>Operation</Column>
              <Column>Who</Column>
              <Column>Status</Column>
            </TableHeader>
            <TableBody items={rows} renderEmptyState={() => 'No entries.'}>
              {(row) => (
                <Row>
                  <Cell>{row.seq}</Cell>
                  <Cell>{row.time}</Cell>
                  <Cell>{row.type}</Cell>
                  <Cell>{row.path}</Cell>
                  <Cell>{row.operation}</Cell>
                  <Cell>{row.who}</Cell>
                  <Cell>{row.status}</Cell>
                </Row>
              )}
            </TableBody>
          </Table>
        </>
      )}
      <div className="actions">
        <Button isDisabled={pages.length === 1} onPress={() => setPages([undefined])}>
          Newest
        </Button>
        <Button
          isDisabled={data?.next_before == null}
          onPress={() => {
            const next = data?.next_before;
            if (next != null) setPages((p) => [...p, next]);
          }}
        >
          Older entries
        </Button>
        <Button onPress={page.reload}>Refresh</Button>
      </div>
    </>
  );
}
