import { Cell, Column, Heading, Row, Table, TableBody, TableHeader } from 'react-aria-components';
import { ApiError, describeError, type Envelope } from '../api.js';
import { AuditEntries } from '../components/audit-entries.js';
import { ErrorMessage } from '../components/messages.js';
import { useApi, useLoad } from '../session-context.js';

interface Checkpoint {
  readonly sink: string;
  readonly seq: number;
  readonly hash: string;
  readonly time?: string;
}

interface FileStart {
  readonly seq: number;
  readonly time?: string;
}

const denied = (err: unknown) => err instanceof ApiError && err.status === 403;

/**
 * The audit devices and the chain state the server holds for each (its latest signed
 * checkpoint and where its files start), the recent entries of file devices and a live check
 * of their chain (`sys/audit-entries`, `sys/audit-verify`); `custos audit verify` checks
 * rotated files and files kept elsewhere against the same records.
 */
export function AuditPage() {
  const api = useApi();
  const devices = useLoad(async () => {
    try {
      return Object.entries(
        (await api.get<Envelope<Record<string, { type: string }>>>('sys/audit')).data,
      ).map(([path, device]) => ({ id: path, path, type: device.type }));
    } catch (err) {
      if (denied(err)) return 'denied' as const;
      throw err;
    }
  }, 'audit-devices');
  const chain = useLoad(async () => {
    try {
      return (
        await api.get<Envelope<{ checkpoints: Checkpoint[]; files?: Record<string, FileStart[]> }>>(
          'sys/audit/checkpoints',
        )
      ).data;
    } catch (err) {
      if (denied(err)) return 'denied' as const;
      throw err;
    }
  }, 'audit-checkpoints');
  const key = useLoad(async () => {
    try {
      return (await api.get<Envelope<{ key_id: string }>>('sys/audit/public-key')).data.key_id;
    } catch (err) {
      if (err instanceof ApiError && (err.status === 403 || err.status === 404)) return undefined;
      throw err;
    }
  }, 'audit-key');

  const records = typeof chain.data === 'object' ? chain.data : undefined;
  // Everything a row shows is in its item: the table re-renders a row when its item changes.
  const sinks = (Array.isArray(devices.data) ? devices.data : []).map((device) => {
    const name = device.path.replace(/\/$/, '');
    const checkpoint = records?.checkpoints.find((c) => c.sink === name);
    const files = records?.files?.[name];
    return {
      ...device,
      checkpoint:
        checkpoint === undefined
          ? records === undefined
            ? '—'
            : 'none yet'
          : `entry ${checkpoint.seq}${checkpoint.time === undefined ? '' : `, ${checkpoint.time}`}`,
      files: files === undefined ? '—' : String(files.length),
    };
  });
  const firstSink = sinks[0]?.path.replace(/\/$/, '') ?? '<sink>';
  return (
    <section aria-labelledby="audit-heading">
      <Heading level={1} id="audit-heading">
        Audit
      </Heading>
      <p>
        Every request and response is written to each audit device as a hash-chained line (values
        HMAC'd), with signed checkpoints. The server keeps each device's latest checkpoint and where
        its files start; it checks a file device's current file below, and any file is verified
        where it is kept with:
      </p>
      <pre className="command">
        <code>
          custos audit verify {firstSink === '<sink>' ? 'audit.log' : `${firstSink}.log`} --server
          --sink {firstSink}
        </code>
      </pre>
      <p className="note">
        It checks the hash chain and each checkpoint's signature, and that the file still holds what
        the server recorded (nothing cut or replaced). <code>custos compliance report</code> with{' '}
        <code>--audit-file</code> does the same as evidence.
      </p>
      <Heading level={2}>Devices</Heading>
      {devices.loading && <p aria-live="polite">Loading…</p>}
      {devices.data === 'denied' && (
        <p className="note">
          Your token may not list the audit devices (<code>sys/audit</code> needs <code>sudo</code>
          ).
        </p>
      )}
      {devices.error !== undefined && (
        <ErrorMessage>{describeError(devices.error, 'list the audit devices')}</ErrorMessage>
      )}
      {Array.isArray(devices.data) && devices.data.length === 0 && (
        <p>
          <span className="badge badge-bad">no audit device</span> Requests are not recorded.
        </p>
      )}
      {sinks.length > 0 && (
        <Table aria-label="Audit devices" className="table">
          <TableHeader>
            <Column isRowHeader>Device</Column>
            <Column>Type</Column>
            <Column>Latest signed checkpoint</Column>
            <Column>Files</Column>
          </TableHeader>
          <TableBody items={sinks}>
            {(sink) => (
              <Row>
                <Cell>{sink.path}</Cell>
                <Cell>{sink.type}</Cell>
                <Cell>{sink.checkpoint}</Cell>
                <Cell>{sink.files}</Cell>
              </Row>
            )}
          </TableBody>
        </Table>
      )}
      {chain.data === 'denied' && devices.data !== 'denied' && (
        <p className="note">
          Your token may not read the checkpoints (<code>sys/audit/checkpoints</code> needs{' '}
          <code>sudo</code>).
        </p>
      )}
      {chain.error !== undefined && (
        <ErrorMessage>{describeError(chain.error, 'read the audit checkpoints')}</ErrorMessage>
      )}
      {key.data !== undefined && (
        <p>
          Checkpoints are signed with key <code>{key.data}</code> (<code>sys/audit/public-key</code>
          ).
        </p>
      )}
      <Heading level={2}>Recent entries and the chain</Heading>
      {Array.isArray(devices.data) && (
        <AuditEntries
          devices={sinks.filter((s) => s.type === 'file').map((s) => s.path.replace(/\/$/, ''))}
        />
      )}
      <p className="note">
        A value seen elsewhere can be found in the entries by its HMAC:{' '}
        <code>POST sys/audit-hash/&lt;device&gt;</code>. <em>Verify chain now</em> checks the
        device's current file on the server as <code>custos audit verify --server</code> does (files
        up to 16 MiB; rotated files with the command).
      </p>
    </section>
  );
}
