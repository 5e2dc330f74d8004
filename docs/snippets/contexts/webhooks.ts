/**
 * docs/webhooks.md: the rotation's three variables (`WEBHOOK_SECRET`, `WEBHOOK_SECRET_PREVIOUS`
 * and its `…_NOT_AFTER`, 72 hours ahead), `REDIS_URL`, the `PORT` the receiver recipes listen
 * on, and a receiving endpoint (`WEBHOOK_URL`) for the sending example. `finish()` checks over
 * HTTP what the snippet set up: a receiver recipe answers 204 to a signed delivery and 401 to a
 * forged or unsigned one; a delivery the snippet sent arrived and verifies. A recipe's server is
 * meant to run forever, so the process then exits.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createWebhookSigner, createWebhookVerifier } from '@custos/core/webhooks';
import { REDIS_URL } from '@custos/test-support/services';
import { freePort, waitForServer } from '../recipes-http.js';
import { check, fetchWithin, listen, type SnippetExports, snippetMentions } from '../support.js';

const current = randomBytes(32).toString('hex');
const previous = randomBytes(32).toString('hex');
const notAfter = new Date(Date.now() + 72 * 3600_000).toISOString();
Object.assign(process.env, {
  WEBHOOK_SECRET: current,
  WEBHOOK_SECRET_PREVIOUS: previous,
  WEBHOOK_SECRET_PREVIOUS_NOT_AFTER: notAfter,
  REDIS_URL,
  PORT: String(await freePort()),
});

// The endpoint the sending example delivers to: it verifies with the receiver's secrets.
const receiverVerifier = createWebhookVerifier({
  secrets: [current, { secret: previous, notAfter }],
});
const received: { id: string; body: string }[] = [];
const receiver = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  try {
    const header = String(req.headers['custos-webhook-signature'] ?? '');
    const webhook = await receiverVerifier.verify({ header, body });
    received.push({ id: webhook.id, body: body.toString('utf8') });
    res.statusCode = 204;
  } catch {
    res.statusCode = 401;
  }
  res.end();
});
process.env.WEBHOOK_URL = `${await listen(receiver)}/webhooks/billing`;

async function checkReceiverRecipe(): Promise<void> {
  const baseUrl = `http://localhost:${process.env.PORT}`;
  await waitForServer(baseUrl);
  const url = `${baseUrl}/webhooks/billing`;
  const body = JSON.stringify({ type: 'invoice.paid', invoiceId: 'in_1' });
  const post = (headers: Record<string, string>) =>
    fetchWithin(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const signed = createWebhookSigner({ secrets: current }).sign({ body, id: 'evt_1' });
  const accepted = await post(signed.headers);
  check(accepted.status === 204, `a signed delivery: ${accepted.status}`);
  const forged = createWebhookSigner({ secrets: randomBytes(32).toString('hex') }).sign({ body });
  const refused = await post(forged.headers);
  check(refused.status === 401, `a delivery signed with another secret: ${refused.status}`);
  const unsigned = await post({});
  check(unsigned.status === 401, `an unsigned delivery: ${unsigned.status}`);
}

export async function finish(_snippet: SnippetExports): Promise<void> {
  try {
    if (snippetMentions('deliver')) {
      check(received.length === 1 && received[0]?.id === 'evt_1', 'the delivery arrived');
      check(received[0]?.body === '{"type":"invoice.paid"}', 'with the body as sent');
    }
    if (snippetMentions('listen')) await checkReceiverRecipe();
  } finally {
    receiver.close();
  }
  // A receiver recipe's server, and a Redis client, stay up as an application's do.
  if (snippetMentions('listen', 'Redis')) process.exit(0);
}
