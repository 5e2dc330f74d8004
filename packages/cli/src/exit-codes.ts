/** Exit codes every custos command keeps to (SPEC §3). */
export const ExitCode = {
  /** Success. */
  ok: 0,
  /** A finding or a failed check (scan found secrets, a certificate expires, …). */
  finding: 1,
  /** Wrong usage or a runtime error. */
  error: 2,
} as const;
