import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, call, patchCall, type RequestOptions } from './api.js';
import type { Session } from './session.js';

interface SessionValue {
  readonly session: Session;
  readonly logout: () => void;
  /** The token no longer works (expired or revoked): back to sign-in, saying so. */
  readonly ended: () => void;
}

export const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (value === null) throw new Error('useSession outside a signed-in page');
  return value;
}

/** The API, with the session's token. */
export interface Api {
  get<T>(path: string, options?: RequestOptions): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  /**
   * A read whose refusal is expected and said in place (a secret's rotation beside the secret,
   * a folder's classes beside its listing): a 403 is not looked into, since the page's own
   * read beside it is, so a limited token does not cost a token lookup per section.
   */
  peek<T>(path: string): Promise<T>;
  /** A JSON merge patch (custom metadata, label by label). */
  patch<T>(path: string, body: unknown): Promise<T>;
}

export function useApi(): Api {
  const { session, ended } = useSession();
  const { token } = session;
  return useMemo(() => {
    // A refusal is the token's policies, or a token that stopped working: the server answers
    // 403 to both, so the token is looked up to tell which.
    const checked = async <T,>(request: Promise<T>): Promise<T> => {
      try {
        return await request;
      } catch (err) {
        if (err instanceof ApiError && err.status === 403) {
          const alive = await call(token, 'GET', 'auth/token/lookup-self').then(
            () => true,
            (lookup: unknown) => !(lookup instanceof ApiError && lookup.status === 403),
          );
          if (!alive) ended();
        }
        throw err;
      }
    };
    return {
      get: <T,>(path: string, options?: RequestOptions) =>
        checked(call<T>(token, 'GET', path, options)),
      post: <T,>(path: string, body: unknown = {}) =>
        checked(call<T>(token, 'POST', path, { body })),
      peek: <T,>(path: string) => call<T>(token, 'GET', path),
      patch: <T,>(path: string, body: unknown) => checked(patchCall<T>(token, path, body)),
    };
  }, [token, ended]);
}

/** What a load gives: its data, or its error, and a way to load again. */
export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  readonly reload: () => void;
}

/** Runs `load` when `key` changes (and on `reload`); an answer to an older key is dropped. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ key: string; data?: T; error?: unknown; done: boolean }>({
    key,
    done: false,
  });
  const [round, setRound] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `load` is new on each render; `key` names what it loads
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, key, done: false }));
    load().then(
      (data) => current && setState({ key, data, done: true }),
      (error: unknown) => current && setState({ key, error, done: true }),
    );
    return () => {
      current = false;
    };
  }, [key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  const fresh = state.key === key;
  return {
    data: fresh ? state.data : undefined,
    error: fresh ? state.error : undefined,
    loading: !fresh || !state.done,
    reload,
  };
}
