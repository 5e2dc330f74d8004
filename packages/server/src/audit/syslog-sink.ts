import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIP, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { ServerError } from '../errors.js';
import type { AuditSink } from './sinks.js';

/** Syslog facilities by name (RFC 5424, section 6.2.1). */
export const SYSLOG_FACILITIES = {
  auth: 4,
  authpriv: 10,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;

/** Severity of every audit line: informational. */
const SEVERITY_INFO = 6;
/** The largest UDP payload over IPv4. */
const MAX_DATAGRAM = 65_507;

/** Where a syslog sink sends, and as whom. */
export interface SyslogSinkOptions {
  readonly host: string;
  readonly port: number;
  /** `tcp` (octet-counting framing, RFC 6587) or `udp` (one datagram per line). */
  readonly transport: 'tcp' | 'udp';
  /** Default `local0`. */
  readonly facility?: keyof typeof SYSLOG_FACILITIES;
  /** APP-NAME (default `custos`). */
  readonly appName?: string;
  /** How long a connection or a write may take (default 5000 ms). */
  readonly timeoutMs?: number;
}

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`, MSGID `audit`,
 * no structured data, the audit line as MSG.
 *
 * @example
 * ```ts
 * syslogMessage('{"seq":1}', { facility: 16, host: 'node-a', appName: 'custos', time: new Date() });
 * ```
 */
export function syslogMessage(
  line: string,
  header: { facility: number; host: string; appName: string; time: Date },
): string {
  const pri = header.facility * 8 + SEVERITY_INFO;
  return `<${pri}>1 ${header.time.toISOString()} ${header.host || '-'} ${header.appName} ${process.pid} audit - ${line}`;
}

/**
 * Ships audit lines to a syslog collector as RFC 5424 messages, over TCP (RFC 6587 octet
 * counting: `<length> <message>`, one connection kept open and reopened after an error) or UDP
 * (one datagram per line; a line too long for a datagram fails). A write counts once the
 * messages are handed to the socket; an error fails it, so a request that no sink recorded
 * fails (fail closed). Like stdout, it cannot be read back: each activation starts a new chain.
 *
 * @example
 * ```ts
 * const sink = createSyslogSink('syslog', { host: '127.0.0.1', port: 6514, transport: 'tcp' });
 * ```
 */
export function createSyslogSink(name: string, options: SyslogSinkOptions): AuditSink {
  const facility = SYSLOG_FACILITIES[options.facility ?? 'local0'];
  const appName = options.appName ?? 'custos';
  const timeoutMs = options.timeoutMs ?? 5000;
  const host = hostname().replace(/\s/g, '') || '-';
  const fail = (why: string) =>
    new ServerError('ERR_AUDIT_UNAVAILABLE', `audit sink ${name}: ${why}`);
  const messages = (lines: string) => {
    const time = new Date();
    return lines.split('\n').map((line) => syslogMessage(line, { facility, host, appName, time }));
  };

  let tcp: Promise<Socket> | undefined;
  const tcpSocket = () => {
    if (tcp !== undefined) return tcp;
    const pending = new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: options.host, port: options.port });
      socket.setTimeout(timeoutMs);
      const failed = (err: Error & { code?: string }) => {
        if (tcp === pending) tcp = undefined;
        socket.destroy();
        reject(fail(`the collector could not be reached (${err.code ?? err.message})`));
      };
      socket.once('error', failed);
      socket.once('timeout', () =>
        failed(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
      );
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        socket.removeAllListeners('timeout');
        socket.setTimeout(0);
        // A later error or close drops the connection: the next write opens a new one.
        const drop = () => {
          if (tcp === pending) tcp = undefined;
          socket.destroy();
        };
        socket.on('error', drop);
        socket.on('close', drop);
        resolve(socket);
      });
    });
    tcp = pending;
    return pending;
  };

  let udp: UdpSocket | undefined;
  const udpSocket = () => {
    udp ??= createSocket(isIP(options.host) === 6 ? 'udp6' : 'udp4');
    return udp;
  };

  return {
    name,
    destination: `syslog+${options.transport}:${options.host}:${options.port}`,
    async write(lines) {
      const out = messages(lines);
      if (options.transport === 'udp') {
        const socket = udpSocket();
        for (const message of out) {
          const bytes = Buffer.from(message, 'utf8');
          if (bytes.length > MAX_DATAGRAM)
            throw fail(`an entry of ${bytes.length} bytes does not fit in a UDP datagram: use tcp`);
          await new Promise<void>((resolve, reject) =>
            socket.send(bytes, options.port, options.host, (err) =>
              err
                ? reject(
                    fail(
                      `the datagram could not be sent (${(err as NodeJS.ErrnoException).code ?? err.message})`,
                    ),
                  )
                : resolve(),
            ),
          );
        }
        return;
      }
      const socket = await tcpSocket();
      const framed = out
        .map((message) => `${Buffer.byteLength(message, 'utf8')} ${message}`)
        .join('');
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          socket.destroy();
          reject(fail(`the collector did not take the entries within ${timeoutMs} ms`));
        }, timeoutMs);
        socket.write(framed, (err) => {
          clearTimeout(timer);
          if (err === undefined || err === null) resolve();
          else {
            socket.destroy();
            reject(
              fail(
                `the entries could not be sent (${(err as NodeJS.ErrnoException).code ?? err.message})`,
              ),
            );
          }
        });
      });
    },
    async close() {
      const pending = tcp;
      tcp = undefined;
      if (pending !== undefined) {
        const socket = await pending.catch(() => undefined);
        await new Promise<void>((resolve) => {
          if (socket === undefined || socket.destroyed) return resolve();
          socket.end(() => resolve());
        });
      }
      const dgram = udp;
      udp = undefined;
      if (dgram !== undefined) await new Promise<void>((resolve) => dgram.close(() => resolve()));
    },
  };
}
