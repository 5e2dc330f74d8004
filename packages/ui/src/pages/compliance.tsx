import { useState } from 'react';
import {
  Button,
  Cell,
  Column,
  Heading,
  Label,
  Radio,
  RadioGroup,
  Row,
  Table,
  TableBody,
  TableHeader,
} from 'react-aria-components';
import { ApiError, describeError, type Envelope } from '../api.js';
import { ErrorMessage } from '../components/messages.js';
import { useApi, useLoad } from '../session-context.js';

/** `custos compliance report --format json`, as `sys/compliance/report` answers it. */
interface Report {
  readonly framework: string;
  readonly generatedAt: string;
  readonly server: string;
  readonly controls: readonly {
    readonly id: string;
    readonly framework: 'hipaa' | 'soc2';
    readonly title: string;
    readonly status: 'pass' | 'fail' | 'partial' | 'not-applicable';
    readonly evidence: readonly {
      readonly claim: string;
      readonly supports?: boolean;
      readonly recheck: string;
    }[];
    readonly recheck: string;
  }[];
}

const FRAMEWORKS = [
  ['all', 'All'],
  ['hipaa', 'HIPAA §164.312'],
  ['soc2', 'SOC 2'],
] as const;

const STATUS_CLASS: Record<string, string> = {
  pass: 'badge badge-good',
  fail: 'badge badge-bad',
  partial: 'badge badge-warn',
  'not-applicable': 'badge',
};

/** The compliance report of the live server (`GET sys/compliance/report`, sudo). */
export function CompliancePage() {
  const api = useApi();
  const [framework, setFramework] = useState('all');
  const report = useLoad(async () => {
    try {
      return (
        await api.get<Envelope<Report>>(
          `sys/compliance/report?framework=${encodeURIComponent(framework)}`,
        )
      ).data;
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return 'denied' as const;
      throw err;
    }
  }, framework);
  const data = typeof report.data === 'object' ? report.data : undefined;
  const count = (status: string) => data?.controls.filter((c) => c.status === status).length ?? 0;
  return (
    <section aria-labelledby="compliance-heading">
      <Heading level={1} id="compliance-heading">
        Compliance
      </Heading>
      <p>
        Each control judged on evidence read from this server now; every claim names the command
        that re-checks it. Audit files are verified by <code>custos compliance report</code> with{' '}
        <code>--audit-file</code>, where the files are.
      </p>
      <RadioGroup
        value={framework}
        onChange={setFramework}
        orientation="horizontal"
        className="choices choices-row"
      >
        <Label>Framework</Label>
        {FRAMEWORKS.map(([value, label]) => (
          <Radio key={value} value={value}>
            {label}
          </Radio>
        ))}
      </RadioGroup>
      <Button onPress={report.reload}>Refresh</Button>
      {report.loading && <p aria-live="polite">Loading…</p>}
      {report.data === 'denied' && (
        <p className="note">
          Your token may not read the compliance report (<code>sys/compliance/report</code> needs{' '}
          <code>sudo</code>: it reads the policies and the token settings).
        </p>
      )}
      {report.error !== undefined && (
        <ErrorMessage>{describeError(report.error, 'read the compliance report')}</ErrorMessage>
      )}
      {data !== undefined && (
        <>
          <p>
            Generated {data.generatedAt}: {count('pass')} pass, {count('partial')} partial,{' '}
            {count('fail')} fail.
          </p>
          <Table aria-label="Controls" className="table">
            <TableHeader>
              <Column isRowHeader>Control</Column>
              <Column>Status</Column>
              <Column>Evidence</Column>
            </TableHeader>
            <TableBody
              items={data.controls.map((control) => ({
                ...control,
                id: `${control.framework}-${control.id}`,
                control: control.id,
              }))}
            >
              {(control) => (
                <Row>
                  <Cell>
                    {control.framework === 'hipaa' ? 'HIPAA §' : 'SOC 2 '}
                    {control.control} {control.title}
                  </Cell>
                  <Cell>
                    <span className={STATUS_CLASS[control.status] ?? 'badge'}>
                      {control.status}
                    </span>
                  </Cell>
                  <Cell>
                    <ul className="evidence">
                      {control.evidence.map((item) => (
                        <li key={`${item.claim}\n${item.recheck}`}>
                          <span className="visually-hidden">
                            {item.supports === true
                              ? 'Supports: '
                              : item.supports === false
                                ? 'Against: '
                                : 'Fact: '}
                          </span>
                          <span aria-hidden="true">
                            {item.supports === true ? '✓ ' : item.supports === false ? '✗ ' : '· '}
                          </span>
                          {item.claim}
                          <br />
                          <span className="note">
                            re-check: <code>{item.recheck}</code>
                          </span>
                        </li>
                      ))}
                    </ul>
                  </Cell>
                </Row>
              )}
            </TableBody>
          </Table>
        </>
      )}
    </section>
  );
}
