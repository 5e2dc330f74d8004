import { type FSWatcher, watch } from 'node:fs';

/**
 * Watches directories and calls `onChange` once per burst of events (an editor's save or a
 * Kubernetes secret update is several events), for entries `accept` takes. Watchers do not
 * keep the process alive. Returns the function that stops watching.
 * @internal
 */
export function watchDirectories(
  directories: Iterable<string>,
  accept: (fileName: string | null) => boolean,
  onChange: () => void,
): () => void {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  const changed = (_event: string, fileName: string | Buffer | null) => {
    if (!accept(fileName === null ? null : String(fileName))) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, 50);
    timer.unref();
  };
  for (const directory of new Set(directories)) {
    try {
      const watcher = watch(directory, changed);
      watcher.on('error', () => watcher.close());
      watcher.unref();
      watchers.push(watcher);
    } catch {
      // A directory that does not exist has nothing to watch.
    }
  }
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}
