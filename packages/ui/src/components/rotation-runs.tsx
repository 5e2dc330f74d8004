import { Cell, Column, Row, Table, TableBody, TableHeader } from 'react-aria-components';

/** One run of `sys/rotation-history/<secret>` (the parts shown: never a value). */
export interface HistoryRun {
  readonly id: string;
  readonly by: string;
  readonly reason?: string;
  readonly started_time: string;
  readonly ended_time?: string;
  readonly state: string;
  readonly from_version?: number;
  readonly new_version?: number;
  readonly approved_by?: readonly string[];
  readonly error?: string;
}

/**
 * A secret's rotation runs, newest first: start, result, who (and who approved), reason,
 * versions and error.
 *
 * @example
 * ```tsx
 * <RotationRuns runs={history.data.runs} />
 * ```
 */
export function RotationRuns({ runs }: { readonly runs: readonly HistoryRun[] }) {
  const newestFirst = [...runs].reverse();
  return (
    <Table aria-label="Rotation runs, newest first" className="table">
      <TableHeader>
        <Column isRowHeader>Started</Column>
        <Column>Result</Column>
        <Column>By</Column>
        <Column>Reason</Column>
        <Column>Versions</Column>
        <Column>Error</Column>
      </TableHeader>
      <TableBody items={newestFirst}>
        {(run) => (
          <Row>
            <Cell>{run.started_time}</Cell>
            <Cell>
              <span
                className={
                  run.state === 'succeeded' || run.state === 'running'
                    ? 'badge badge-good'
                    : 'badge badge-bad'
                }
              >
                {run.state.replace('_', ' ')}
              </span>
            </Cell>
            <Cell>
              {run.by}
              {run.approved_by !== undefined && run.approved_by.length > 0
                ? `, approved by ${run.approved_by.join(', ')}`
                : ''}
            </Cell>
            <Cell>{run.reason ?? '—'}</Cell>
            <Cell>
              {run.from_version ?? '—'} → {run.new_version ?? '—'}
            </Cell>
            <Cell>{run.error ?? ''}</Cell>
          </Row>
        )}
      </TableBody>
    </Table>
  );
}
