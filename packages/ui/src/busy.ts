/**
 * Runs a dialog's action with its buttons disabled, then closes the dialog whether the action
 * succeeded or not (the page shows the outcome).
 *
 * @example
 * ```ts
 * await busyThenClose(setBusy, () => onApply(body), close);
 * ```
 */
export async function busyThenClose(
  setBusy: (busy: boolean) => void,
  work: () => Promise<unknown>,
  close: () => void,
): Promise<void> {
  setBusy(true);
  try {
    await work();
  } finally {
    setBusy(false);
    close();
  }
}
