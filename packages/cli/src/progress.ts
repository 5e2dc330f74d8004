import { SingleBar } from 'cli-progress';

/** Reports the progress of a long command on standard error. */
export interface Progress {
  /** `done` of `total` units so far. */
  update(done: number, total: number): void;
  /** Ends the bar (or prints the last line). */
  stop(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Default `process.stderr`. */
  readonly stream?: NodeJS.WriteStream;
  /** Unit shown after the counts; default `rows`. */
  readonly unit?: string;
  /** Seconds between plain lines when the stream is not a terminal; default 5. */
  readonly lineIntervalSeconds?: number;
  /** Clock in milliseconds; default `Date.now`. */
  readonly now?: () => number;
}

/**
 * A progress bar with rate and ETA on a terminal (`cli-progress`), or, when standard error is
 * redirected (CI logs, files), a plain line when the work starts and then every few seconds,
 * so logs stay readable.
 *
 * @example
 * ```ts
 * const progress = createProgress('reencrypt patients');
 * progress.update(500, 100_000);
 * progress.stop();
 * ```
 */
export function createProgress(title: string, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const unit = options.unit ?? 'rows';
  const now = options.now ?? Date.now;
  const startedAt = now();
  let first: number | undefined;
  const rate = (done: number) => {
    const seconds = (now() - startedAt) / 1000;
    return seconds > 0 ? (done - (first ?? 0)) / seconds : 0;
  };
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream,
      format: `${title} |{bar}| {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    });
    let started = false;
    let stopped = false;
    return {
      update(done, total) {
        first ??= done;
        const payload = { rate: Math.round(rate(done)).toLocaleString('en-US') };
        if (!started) {
          bar.start(total, done, payload);
          started = true;
        } else {
          bar.setTotal(total);
          bar.update(done, payload);
        }
      },
      stop() {
        if (started && !stopped) bar.stop();
        stopped = true;
      },
    };
  }
  const intervalMs = (options.lineIntervalSeconds ?? 5) * 1000;
  // The first update prints at once (the work has started, with its total), then every interval.
  let lastLineAt: number | undefined;
  let last: { done: number; total: number } | undefined;
  const line = ({ done, total }: { done: number; total: number }) => {
    const perSecond = rate(done);
    const eta = perSecond > 0 ? Math.ceil((total - done) / perSecond) : undefined;
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    stream.write(
      `${title}: ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit} (${percent}%), ${Math.round(perSecond).toLocaleString('en-US')} ${unit}/s${eta === undefined ? '' : `, ETA ${eta}s`}\n`,
    );
  };
  return {
    update(done, total) {
      first ??= done;
      last = { done, total };
      if (lastLineAt === undefined || now() - lastLineAt >= intervalMs) {
        lastLineAt = now();
        line(last);
      }
    },
    stop() {
      if (last !== undefined) line(last);
      last = undefined;
    },
  };
}
