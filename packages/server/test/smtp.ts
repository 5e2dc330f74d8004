/** A local SMTP server (`smtp-server`) that tests send alert mail to, recording every message. */
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One message as the server received it: the raw bytes (where a leak could hide) and parsed. */
export interface ReceivedMail {
  readonly raw: string;
  readonly parsed: ParsedMail;
  readonly from: string;
  readonly to: readonly string[];
  /** Whether the connection it came over was TLS (STARTTLS or from the start). */
  readonly secure: boolean;
  /** The user it authenticated as, if any. */
  readonly user: string | undefined;
}

/** A running SMTP server. */
export interface TestSmtpServer {
  readonly port: number;
  readonly mails: ReceivedMail[];
  /** Every AUTH attempt's user and password, as offered (to check what the client sent). */
  readonly logins: { user: string; pass: string; secure: boolean }[];
  /** Resolves once `count` messages have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** How the test server behaves. */
export interface TestSmtpOptions {
  /** A certificate and key: STARTTLS offered (or TLS from the start with `implicitTls`). */
  readonly tls?: { readonly cert: string; readonly key: string };
  readonly implicitTls?: boolean;
  /** Neither offer nor accept STARTTLS, even with a certificate. */
  readonly hideStartTls?: boolean;
  /** The one user and password accepted; without it, no authentication is asked. */
  readonly login?: { readonly user: string; readonly pass: string };
}

/**
 * Starts an SMTP server on 127.0.0.1 (a random port).
 *
 * @example
 * ```ts
 * const smtp = await startSmtpServer({ tls: { cert, key }, login: { user: 'custos', pass } });
 * const [mail] = await smtp.waitFor(1);
 * ```
 */
export async function startSmtpServer(options: TestSmtpOptions = {}): Promise<TestSmtpServer> {
  const mails: ReceivedMail[] = [];
  const logins: { user: string; pass: string; secure: boolean }[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = new SMTPServer({
    ...(options.tls === undefined ? {} : { key: options.tls.key, cert: options.tls.cert }),
    secure: options.implicitTls === true,
    disabledCommands:
      options.tls === undefined || options.hideStartTls === true ? ['STARTTLS'] : [],
    authOptional: options.login === undefined,
    // The test sees any password a client sends; whether the client sent it in clear is recorded.
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, session, callback) {
      logins.push({
        user: auth.username ?? '',
        pass: auth.password ?? '',
        secure: session.secure,
      });
      const login = options.login;
      if (login !== undefined && auth.username === login.user && auth.password === login.pass)
        callback(null, { user: login.user });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        void simpleParser(raw).then((parsed) => {
          mails.push({
            raw,
            parsed,
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
            secure: session.secure,
            user: typeof session.user === 'string' ? session.user : undefined,
          });
          for (const waiter of waiters) if (mails.length >= waiter.count) waiter.resolve();
          callback();
        }, callback);
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    logins,
    waitFor(count, timeoutMs = 10_000) {
      if (mails.length >= count) return Promise.resolve(mails);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${mails.length} of ${count} mails arrived`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(mails);
          },
        });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
