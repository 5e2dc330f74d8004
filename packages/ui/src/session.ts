/**
 * The signed-in session: the token and what the server said about it, kept in sessionStorage.
 *
 * Why sessionStorage: it belongs to this tab only and is gone when the tab closes, unlike
 * localStorage (kept on disk, shared by every tab) or a cookie (sent by the browser on its own,
 * which would need CSRF defences for every API route). The strict CSP (no inline or foreign
 * script) is what keeps a script from reading it. The token never goes into a URL.
 */
export interface Session {
  readonly token: string;
  readonly displayName: string;
  readonly policies: readonly string[];
  /** The dashboard made this token (AppRole login): it is revoked on logout. */
  readonly issued: boolean;
}

const KEY = 'custos.session';

/** The stored session, or undefined (none, or not one this code wrote). */
export function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (raw === null) return undefined;
    const parsed = JSON.parse(raw) as Partial<Session>;
    if (typeof parsed.token !== 'string' || parsed.token === '') return undefined;
    return {
      token: parsed.token,
      displayName: typeof parsed.displayName === 'string' ? parsed.displayName : '',
      policies: Array.isArray(parsed.policies) ? parsed.policies.map(String) : [],
      issued: parsed.issued === true,
    };
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
