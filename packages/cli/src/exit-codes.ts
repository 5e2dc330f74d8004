/**
 * Exit codes every custos command keeps to, so scripts and CI can tell a finding (1) from a
 * mistake or a failure (2).
 */
export const ExitCode = {
  /** Success. */
  ok: 0,
  /** A finding or a failed check (scan found secrets, a certificate expires, …). */
  finding: 1,
  /** Wrong usage or a runtime error. */
  error: 2,
} as const;
