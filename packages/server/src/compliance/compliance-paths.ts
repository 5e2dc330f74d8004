import type { ApiResponse } from '@custos/core/client';
import { CustosError, PermissionDenied } from '@custos/core/errors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ClusterNodes } from '../cluster/cluster-nodes.js';
import { ServerError } from '../errors.js';
import { clientAddressOf, tokenOf } from '../http/boundary.js';
import { ok } from '../http/envelope.js';
import { field } from '../http/field-schema.js';
import { type RouteGroup, route } from '../http/route-spec.js';
import { type Framework, judgeControls } from './controls.js';
import { type EvidenceClient, gatherEvidence } from './evidence.js';

/** What the report route needs: the clock, and this node (whose address it checks). */
export interface CompliancePathDeps {
  readonly clock: () => number;
  readonly cluster: Pick<ClusterNodes, 'address'>;
}

const FRAMEWORKS: readonly Framework[] = ['hipaa', 'soc2', 'all'];

/**
 * The server's own API as `custos compliance report` reads it, called in process with the
 * caller's token (and address): every read is admitted, judged by the caller's policies and
 * audited like the CLI's requests. A refused or failed read fails the report, as it fails the
 * CLI; nothing of the answers but their status reaches the error.
 */
function inProcessClient(
  app: FastifyInstance,
  request: FastifyRequest,
  address: string,
): EvidenceClient {
  const token = tokenOf(request);
  const remoteAddress = clientAddressOf(request) ?? request.ip;
  return {
    address,
    async request(
      method: string,
      path: string,
      options: { readonly allowStatus?: readonly number[] } = {},
    ): Promise<ApiResponse> {
      // LIST is asked for as Vault's `?list=true` (the one spelling every route takes).
      const list = method === 'LIST';
      const response = await app.inject({
        method: list ? 'GET' : (method as 'GET'),
        url: `/v1/${path}${list ? '?list=true' : ''}`,
        headers: token === undefined ? {} : { 'x-vault-token': token },
        remoteAddress,
      });
      const status = response.statusCode;
      const answer = () => ({
        status,
        body: response.body === '' ? null : (JSON.parse(response.body) as Record<string, unknown>),
      });
      // A status the caller expects (a mount without keys answers 404) is an answer, as in the
      // CLI's client.
      if (options.allowStatus?.includes(status) === true) return answer();
      if (status === 401 || status === 403) throw new PermissionDenied();
      if (status === 503) throw new CustosError('ERR_SEALED', 'Vault is sealed');
      if (status >= 400)
        throw new ServerError(
          'ERR_COMPLIANCE_EVIDENCE',
          `the compliance report could not read ${path} (HTTP ${status})`,
        );
      return answer();
    },
  };
}

/**
 * `GET sys/compliance/report?framework=&control=`: the report `custos compliance report
 * --format json` prints, judged by the same code on evidence read through the API with the
 * caller's token (sudo: it reads the policies and the token settings). No audit file is read
 * here (the CLI's `--audit-file`), so the audit controls are at most partial; the TLS check is
 * of this node's own address.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [compliancePaths({ clock: Date.now, cluster })]);
 * ```
 */
export function compliancePaths({ clock, cluster }: CompliancePathDeps): RouteGroup {
  return {
    name: 'sys/compliance',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/compliance/report',
        access: { sudo: true },
        fields: { framework: field.string(), control: field.string() },
        handler: async (request, reply, fields) => {
          const framework = (fields.framework ?? 'all') as Framework;
          if (!FRAMEWORKS.includes(framework))
            throw new CustosError('ERR_INVALID_REQUEST', "'framework' must be hipaa, soc2 or all");
          const address = cluster.address();
          if (address === '')
            throw new ServerError(
              'ERR_COMPLIANCE_EVIDENCE',
              'the compliance report needs this node’s address, known once it listens',
            );
          const now = new Date(clock());
          const evidence = await gatherEvidence(inProcessClient(request.server, request, address), {
            auditFiles: [],
            now,
          });
          const report = judgeControls(evidence, framework, now, fields.control);
          if (report.controls.length === 0)
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              // The control asked for is not repeated: a request value never comes back.
              `'control' names no control of ${framework}: see docs/compliance.md for the list`,
            );
          return ok(request, reply, report);
        },
      }),
    ],
  };
}
