import { lazy, Suspense, useCallback, useMemo, useState } from 'react';
import { Button, Link, RouterProvider } from 'react-aria-components';
import { Redirect, Route, Router, Switch, useLocation } from 'wouter';
import { call } from './api.js';
import { Health } from './pages/health.js';
import { KeysPage } from './pages/keys.js';
import { Login } from './pages/login.js';
import { SecretsPage } from './pages/secrets.js';
import { BASE } from './routes.js';
import { clearSession, loadSession, type Session, saveSession } from './session.js';
import { SessionContext, useSession } from './session-context.js';

// The pages added after the first slice load on first use: the first load stays small.
const RotationPage = lazy(() =>
  import('./pages/rotation.js').then((m) => ({ default: m.RotationPage })),
);
const AuditPage = lazy(() => import('./pages/audit.js').then((m) => ({ default: m.AuditPage })));
const CompliancePage = lazy(() =>
  import('./pages/compliance.js').then((m) => ({ default: m.CompliancePage })),
);

const PAGES = [
  ['/secrets', 'Secrets'],
  ['/keys', 'Keys'],
  ['/rotation', 'Rotation'],
  ['/audit', 'Audit'],
  ['/compliance', 'Compliance'],
  ['/health', 'Health'],
] as const;

function Shell() {
  const { session, logout } = useSession();
  const [location] = useLocation();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">custos</span>
        <nav aria-label="Main">
          <ul>
            {PAGES.map(([href, label]) => (
              <li key={href}>
                <Link
                  href={href}
                  {...(location.startsWith(href) ? { 'aria-current': 'page' } : {})}
                >
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who">
          Signed in as <strong>{session.displayName || 'token'}</strong>
        </span>
        <Button onPress={logout}>Log out</Button>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p aria-live="polite">Loading…</p>}>
          <Switch>
            <Route path="/secrets" component={SecretsPage} />
            <Route path="/secrets/*" component={SecretsPage} />
            <Route path="/keys" component={KeysPage} />
            <Route path="/keys/*" component={KeysPage} />
            <Route path="/rotation" component={RotationPage} />
            <Route path="/rotation/*" component={RotationPage} />
            <Route path="/audit" component={AuditPage} />
            <Route path="/compliance" component={CompliancePage} />
            <Route path="/health" component={Health} />
            <Route>
              <Redirect to="/secrets" replace />
            </Route>
          </Switch>
        </Suspense>
      </main>
    </div>
  );
}

function Routed() {
  const [, navigate] = useLocation();
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const [notice, setNotice] = useState<string>();
  const login = useCallback((next: Session) => {
    saveSession(next);
    setNotice(undefined);
    setSession(next);
  }, []);
  const logout = useCallback(() => {
    // A token the dashboard made (AppRole) is revoked; a token the user brought is theirs.
    if (session?.issued === true)
      void call(session.token, 'POST', 'auth/token/revoke-self', { body: {} }).catch(() => {});
    clearSession();
    setSession(undefined);
    navigate('/', { replace: true });
  }, [session, navigate]);
  // Where the user was stays in the address: signing in again returns there.
  const ended = useCallback(() => {
    clearSession();
    setSession(undefined);
    setNotice('Your session ended (the token expired or was revoked): sign in again.');
  }, []);
  const value = useMemo(
    () => (session === undefined ? null : { session, logout, ended }),
    [session, logout, ended],
  );
  return (
    <RouterProvider navigate={(href) => navigate(href)} useHref={(href) => `${BASE}${href}`}>
      {value === null ? (
        <Login onLogin={login} notice={notice} />
      ) : (
        <SessionContext.Provider value={value}>
          <Shell />
        </SessionContext.Provider>
      )}
    </RouterProvider>
  );
}

export function App() {
  return (
    <Router base={BASE}>
      <Routed />
    </Router>
  );
}
