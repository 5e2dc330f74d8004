import { lazy, Suspense, useState } from 'react';
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
import { ApiError, call, describeError, type Envelope } from '../api.js';
import { ErrorMessage } from '../components/messages.js';
import { useApi, useLoad } from '../session-context.js';

// Certificates and charts: their own script, loaded with this page (the first load stays small).
const HealthMetrics = lazy(() =>
  import('../components/metrics-charts.js').then((m) => ({ default: m.HealthMetrics })),
);

interface SealStatus {
  readonly type: string;
  readonly initialized: boolean;
  readonly sealed: boolean;
  readonly t: number;
  readonly n: number;
  readonly progress: number;
  readonly version: string;
  readonly storage_type?: string;
  readonly cluster_name?: string;
}

interface HealthAnswer {
  readonly initialized: boolean;
  readonly sealed: boolean;
  readonly version: string;
  readonly server_time_utc: number;
}

interface Leader {
  readonly ha_enabled: boolean;
  readonly is_self: boolean;
  readonly leader_address: string;
}

interface Node {
  readonly node_id: string;
  readonly hostname: string;
  readonly api_address: string;
  readonly active_node: boolean;
  readonly last_echo: string;
  readonly version: string;
}

/**
 * Seal state, version, the cluster's nodes (those the token may see), the served certificates'
 * expiry and the last hour's charts.
 */
export function Health() {
  const api = useApi();
  // Answered without a token (and while sealed: sys/health's 503 and 501 carry the same body).
  const status = useLoad(
    () =>
      Promise.all([
        call<HealthAnswer>(undefined, 'GET', 'sys/health', { accept: [429, 472, 473, 501, 503] }),
        call<SealStatus>(undefined, 'GET', 'sys/seal-status'),
        call<Leader>(undefined, 'GET', 'sys/leader').catch(() => undefined),
      ]),
    'health',
  );
  const nodes = useLoad(async () => {
    try {
      return (await api.get<Envelope<{ nodes: Node[] }>>('sys/ha-status')).data.nodes;
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return 'denied' as const;
      throw err;
    }
  }, 'nodes');
  const [round, setRound] = useState(0);
  const reload = () => {
    status.reload();
    nodes.reload();
    setRound((r) => r + 1);
  };
  const [health, seal, leader] = status.data ?? [];

  return (
    <section aria-labelledby="health-heading">
      <Heading level={1} id="health-heading">
        Health
      </Heading>
      <Button onPress={reload}>Refresh</Button>
      {status.error !== undefined && (
        <ErrorMessage>{describeError(status.error, 'read the server status')}</ErrorMessage>
      )}
      {health !== undefined && seal !== undefined && (
        <dl className="facts" aria-label="Server status">
          <dt>Seal</dt>
          <dd>
            <span className={seal.sealed ? 'badge badge-bad' : 'badge badge-good'}>
              {!seal.initialized ? 'not initialised' : seal.sealed ? 'sealed' : 'unsealed'}
            </span>
          </dd>
          <dt>Seal type</dt>
          <dd>
            {seal.type}, {seal.t} of {seal.n} key shares
            {seal.sealed && seal.progress > 0 ? ` (${seal.progress} given)` : ''}
          </dd>
          <dt>Version</dt>
          <dd>{health.version}</dd>
          {seal.storage_type !== undefined && (
            <>
              <dt>Storage</dt>
              <dd>{seal.storage_type}</dd>
            </>
          )}
          {seal.cluster_name !== undefined && (
            <>
              <dt>Cluster</dt>
              <dd>{seal.cluster_name}</dd>
            </>
          )}
          {leader !== undefined && (
            <>
              <dt>High availability</dt>
              <dd>
                {leader.ha_enabled
                  ? `enabled; leader ${leader.leader_address || 'unknown'}${leader.is_self ? ' (this node)' : ''}`
                  : 'one node (SQLite storage)'}
              </dd>
            </>
          )}
          <dt>Server time</dt>
          <dd>{new Date(health.server_time_utc * 1000).toISOString()}</dd>
        </dl>
      )}
      <Heading level={2}>Nodes</Heading>
      {nodes.data === 'denied' && (
        <p className="note">
          Your token may not list the nodes (<code>sys/ha-status</code> needs <code>sudo</code>).
        </p>
      )}
      {nodes.error !== undefined && (
        <ErrorMessage>{describeError(nodes.error, 'list the nodes')}</ErrorMessage>
      )}
      {Array.isArray(nodes.data) && (
        <Table aria-label="Nodes" className="table">
          <TableHeader>
            <Column isRowHeader>Node</Column>
            <Column>Host</Column>
            <Column>Address</Column>
            <Column>Role</Column>
            <Column>Version</Column>
            <Column>Last heartbeat</Column>
          </TableHeader>
          <TableBody items={nodes.data.map((node) => ({ id: node.node_id, ...node }))}>
            {(node) => (
              <Row>
                <Cell>{node.node_id}</Cell>
                <Cell>{node.hostname}</Cell>
                <Cell>{node.api_address || '—'}</Cell>
                <Cell>{node.active_node ? 'leader' : 'member'}</Cell>
                <Cell>{node.version}</Cell>
                <Cell>{node.last_echo}</Cell>
              </Row>
            )}
          </TableBody>
        </Table>
      )}
      <Suspense fallback={<p aria-live="polite">Loading…</p>}>
        <HealthMetrics round={round} />
      </Suspense>
    </section>
  );
}
