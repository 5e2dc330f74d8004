import type { ReactNode } from 'react';

/** A failure, announced to screen readers as it appears. */
export function ErrorMessage({ children }: { readonly children: ReactNode }) {
  return (
    <p role="alert" className="message message-error">
      {children}
    </p>
  );
}

/** A success or progress note, announced politely. */
export function StatusMessage({ children }: { readonly children: ReactNode }) {
  return (
    <p role="status" className="message message-ok">
      {children}
    </p>
  );
}
