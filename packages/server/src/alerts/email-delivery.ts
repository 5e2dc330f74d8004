import { createRequire } from 'node:module';
import type * as Nodemailer from 'nodemailer';
import type { SmtpSecurity } from '../config/alerts-config.js';
import type { Alert } from './alert-evaluator.js';
import type { DeliveryResult } from './webhook-delivery.js';

/** Where an email alert goes and how the SMTP connection is made (secrets already read). */
export interface EmailTarget {
  readonly host: string;
  readonly port: number;
  readonly security: SmtpSecurity;
  /** CA certificates (PEM) the server's certificate must chain to, instead of Node's. */
  readonly ca?: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly auth?: { readonly user: string; readonly pass: string };
  /** Connection, greeting and idle timeout (default 10 000 ms). */
  readonly timeoutMs?: number;
}

/** Why a send failed, by nodemailer's error code: fixed words, never the server's reply text. */
const REASONS: Readonly<Record<string, string>> = {
  EAUTH: 'authentication refused',
  ENOAUTH: 'the server wants authentication and the channel has no username',
  ETLS: 'TLS failed (no STARTTLS offered, or the handshake failed)',
  ECONNECTION: 'connection failed',
  ESOCKET: 'connection failed',
  EDNS: 'host name not resolved',
  ETIMEDOUT: 'timed out',
  EENVELOPE: 'sender or recipients refused',
  EMESSAGE: 'message refused',
  EPROTOCOL: 'not an SMTP server',
};

/**
 * TLS verification failures Node reports by code (certificate problems, named for the
 * operator): OpenSSL's codes, and Node's own for a name the certificate does not cover (spelt in
 * two parts: it is Node's code, not one of custos's `ERR_` codes that docs/errors.md lists).
 */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  ['ERR', 'TLS_CERT_ALTNAME_INVALID'].join('_'),
]);

/** A failed send as a reason an operator can act on; no reply text, so no echoed value. */
export function smtpFailureReason(error: unknown): string {
  // nodemailer keeps the socket's own code (Node's TLS verification code) as `originalCode`.
  const { code, responseCode, originalCode } = (error ?? {}) as {
    code?: unknown;
    responseCode?: unknown;
    originalCode?: unknown;
  };
  if (typeof originalCode === 'string' && CERTIFICATE_CODES.has(originalCode))
    return `the SMTP server's certificate is not trusted (${originalCode})`;
  const words = typeof code === 'string' ? (REASONS[code] ?? 'SMTP error') : 'SMTP error';
  const detail = [
    typeof code === 'string' && /^[A-Z_]{1,32}$/.test(code) ? code : undefined,
    typeof responseCode === 'number' ? `SMTP ${responseCode}` : undefined,
  ].filter((part) => part !== undefined);
  return detail.length === 0 ? words : `${words} (${detail.join(', ')})`;
}

/** The subject and plain-text body of an alert email: counts and names, never a secret value. */
export function emailMessage(
  alert: Alert,
  node: string,
  at: Date,
): { subject: string; text: string } {
  return {
    subject: `[custos] ${alert.rule}: ${alert.summary}`,
    text: [
      `custos alert on ${node}`,
      '',
      `rule:    ${alert.rule}`,
      `event:   ${alert.event}`,
      `summary: ${alert.summary}`,
      `node:    ${node}`,
      `at:      ${at.toISOString()}`,
      '',
    ].join('\n'),
  };
}

/** Sends alert emails over one SMTP channel. */
export interface EmailSender {
  send(alert: Alert, node: string, at: Date): Promise<DeliveryResult>;
  close(): void;
}

/**
 * An SMTP sender (nodemailer) for one email channel. `starttls` refuses to send (and to
 * authenticate) unless the server upgrades to TLS; the certificate is always verified, against
 * `ca` when given. A send resolves `{ ok: false, reason }` instead of throwing.
 *
 * @example
 * ```ts
 * const sender = createEmailSender({ host: 'smtp.example', port: 587, security: 'starttls', from, to });
 * const result = await sender.send(alert, 'node-1', new Date());
 * ```
 */
export function createEmailSender(target: EmailTarget): EmailSender {
  const timeoutMs = target.timeoutMs ?? 10_000;
  // Loaded with the first email channel: a server without one never pays for nodemailer.
  const { createTransport } = createRequire(import.meta.url)('nodemailer') as typeof Nodemailer;
  const transport = createTransport({
    host: target.host,
    port: target.port,
    secure: target.security === 'tls',
    requireTLS: target.security === 'starttls',
    ignoreTLS: target.security === 'none',
    tls: {
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
      ...(target.ca === undefined ? {} : { ca: target.ca }),
    },
    ...(target.auth === undefined ? {} : { auth: { ...target.auth } }),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    logger: false,
    debug: false,
    // Nothing but the message is sent: no attachments read from files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    async send(alert, node, at) {
      const { subject, text } = emailMessage(alert, node, at);
      try {
        await transport.sendMail({ from: target.from, to: [...target.to], subject, text });
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: smtpFailureReason(err) };
      }
    },
    close: () => transport.close(),
  };
}
