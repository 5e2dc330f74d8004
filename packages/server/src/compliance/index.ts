/**
 * The compliance report's evidence and controls (`@custos/server/compliance`): read through the
 * HTTP API, judged control by control. `custos compliance report` runs them against a server
 * over HTTP; `GET sys/compliance/report` runs them in the server with the caller's token. One
 * code for both, so the two answers are the same JSON.
 */

export type { ColumnState, ColumnSummary } from './column-evidence.js';
export { type ColumnEvidence, readEncryptionStatus } from './column-status.js';
export {
  CONTROLS,
  type ComplianceReport,
  type ControlResult,
  type ControlStatus,
  type DataClassSummary,
  DEFAULT_TOKEN_TTL_SECONDS,
  type EvidenceItem,
  type Framework,
  judgeControls,
  MAX_KEY_AGE_DAYS,
  MAX_TOKEN_TTL_SECONDS,
} from './controls.js';
export { type DrillRecord, readDrillLog, recordDrill } from './drill-log.js';
export {
  type AuditFileCheck,
  type BroadGrant,
  type ComplianceEvidence,
  type EvidenceClient,
  type EvidenceSources,
  gatherEvidence,
  type RotationState,
  type TransitKeyAge,
} from './evidence.js';
