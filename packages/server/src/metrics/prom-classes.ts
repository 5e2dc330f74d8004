import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

/**
 * The prom-client classes the server uses, each required from its own file. prom-client's
 * index also loads the default process metrics, the push gateway's HTTP client, the cluster
 * aggregator and OpenTelemetry's API (some 75 modules held for the server's life) that the
 * server never uses. They are the same classes the index exports (one module cache), so a
 * registry built here works with anything built from `prom-client`.
 * lazy-dependencies.test.ts holds OpenTelemetry's API unloaded.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * new Counter({ name: 'custos_example_total', help: 'An example.', registers: [registry] });
 * ```
 */
const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
export const Histogram = require('prom-client/lib/histogram') as typeof PromClient.Histogram;

/** Instances of the classes above (types only: the values come from the files above). */
export type Registry = PromClient.Registry;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export type Histogram<T extends string = string> = PromClient.Histogram<T>;
