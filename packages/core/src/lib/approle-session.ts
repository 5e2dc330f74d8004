/** The token an AppRole client holds, as one of its calls sees it. */
export interface SessionToken {
  readonly token: string;
  /** Issued by a login this call made or waited for: a refusal right after is no expiry. */
  readonly fresh: boolean;
}

/** The token of an AppRole client: see {@link createAppRoleSession}. @internal */
export interface AppRoleSession {
  /** The current token; logs in first when there is none yet. */
  current(): Promise<SessionToken>;
  /**
   * A token to use instead of `stale`, which the server no longer accepts: the token another
   * call already put in its place, or a new login's.
   */
  replace(stale: string): Promise<string>;
}

/**
 * Holds an AppRole client's token and makes the logins, one at a time: calls that need a token
 * at the same moment (the first ones, or several that found the same token refused) share one
 * login, so each costs the role one secret-ID use and mints one token, not one per call.
 *
 * @example
 * ```ts
 * const session = createAppRoleSession(() => login(approle));
 * const { token } = await session.current();
 * ```
 * @internal
 */
export function createAppRoleSession(login: () => Promise<string>): AppRoleSession {
  let token: string | undefined;
  let pending: Promise<string> | undefined;

  const loginOnce = (): Promise<string> => {
    pending ??= login()
      .then((issued) => {
        token = issued;
        return issued;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };

  return {
    async current() {
      if (token !== undefined && pending === undefined) return { token, fresh: false };
      return { token: await loginOnce(), fresh: true };
    },
    async replace(stale) {
      if (pending !== undefined) return pending;
      if (token !== undefined && token !== stale) return token;
      return loginOnce();
    },
  };
}
