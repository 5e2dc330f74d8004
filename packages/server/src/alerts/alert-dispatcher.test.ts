import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { openAlertChannels } from './alert-channels.js';
import { createAlertDispatcher, type DeliveryOutcome } from './alert-dispatcher.js';
import type { Alert } from './alert-evaluator.js';

const alert: Alert = {
  rule: 'r',
  event: 'node_sealed',
  summary: 'the node is sealed',
  channels: ['ops'],
};

describe('the alert dispatcher', () => {
  it('returns at once, bounds the deliveries in flight (dropping, never queueing) and drains', async () => {
    const held: ServerResponse[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => held.push(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const channels = await openAlertChannels(
      { channels: { ops: { type: 'webhook', url, secret: { env: 'S' } } } },
      { env: { S: randomBytes(32).toString('hex') } },
    );
    const outcomes: [string, DeliveryOutcome, string | undefined][] = [];
    const dispatcher = createAlertDispatcher({
      channels,
      node: () => 'node-1',
      clock: Date.now,
      maxInFlight: 2,
      outcome: (channel, _alert, outcome, reason) => outcomes.push([channel, outcome, reason]),
    });
    try {
      for (let i = 0; i < 3; i++) dispatcher.dispatch(alert);
      // The third found two in flight: dropped, reported, not queued.
      expect(outcomes).toEqual([['ops', 'dropped', '2 deliveries already in flight']]);
      for (let i = 0; i < 200 && held.length < 2; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(held).toHaveLength(2);
      for (const res of held) res.writeHead(204).end();
      expect(await dispatcher.drain(10_000)).toBe(true);
      expect(outcomes.slice(1)).toEqual([
        ['ops', 'delivered', undefined],
        ['ops', 'delivered', undefined],
      ]);
      // With nothing in flight, a new alert is delivered again.
      dispatcher.dispatch(alert);
      expect(outcomes).toHaveLength(3);
    } finally {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      channels.close();
    }
  });
});
