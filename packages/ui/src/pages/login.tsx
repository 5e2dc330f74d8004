import { type FormEvent, useState } from 'react';
import {
  Button,
  FieldError,
  Form,
  Heading,
  Input,
  Label,
  Tab,
  TabList,
  TabPanel,
  Tabs,
  TextField,
} from 'react-aria-components';
import { ApiError, call, type Envelope } from '../api.js';
import { ErrorMessage, StatusMessage } from '../components/messages.js';
import type { Session } from '../session.js';

interface TokenInfo {
  readonly display_name: string;
  readonly policies: string[];
}

const lookupSelf = (token: string) =>
  call<Envelope<TokenInfo>>(token, 'GET', 'auth/token/lookup-self');

function loginError(error: unknown, what: string): string {
  if (error instanceof ApiError && (error.status === 403 || error.status === 400))
    return what === 'token'
      ? 'Sign-in failed: the token is not valid (mistyped, expired or revoked).'
      : 'Sign-in failed: invalid role ID or secret ID.';
  if (error instanceof ApiError && error.status === 503)
    return 'The server is sealed: unseal it, then sign in.';
  if (error instanceof ApiError && error.status === 0)
    return 'Sign-in failed: the server cannot be reached.';
  return `Sign-in failed: ${error instanceof Error ? error.message : String(error)}`;
}

/** Sign-in with a token, or with an AppRole's role ID and secret ID. */
export function Login({
  onLogin,
  notice,
}: {
  readonly onLogin: (session: Session) => void;
  /** Why the user is here again (a session that ended). */
  readonly notice?: string | undefined;
}) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = (what: string, run: (form: FormData) => Promise<Session>) => {
    return async (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      const form = new FormData(event.currentTarget);
      setBusy(true);
      setError(undefined);
      try {
        onLogin(await run(form));
      } catch (err) {
        setError(loginError(err, what));
        setBusy(false);
      }
    };
  };

  const withToken = submit('token', async (form) => {
    const token = String(form.get('token') ?? '').trim();
    const info = (await lookupSelf(token)).data;
    return { token, displayName: info.display_name, policies: info.policies, issued: false };
  });

  const withAppRole = submit('approle', async (form) => {
    const mount = String(form.get('mount') ?? 'approle').trim() || 'approle';
    const answer = await call<Envelope<unknown>>(
      undefined,
      'POST',
      `auth/${encodeURIComponent(mount)}/login`,
      { body: { role_id: form.get('role_id'), secret_id: form.get('secret_id') } },
    );
    if (answer.auth === null) throw new Error('the server returned no token');
    const token = answer.auth.client_token;
    const info = (await lookupSelf(token)).data;
    return { token, displayName: info.display_name, policies: info.policies, issued: true };
  });

  return (
    <main className="login" id="main">
      <Heading level={1}>custos</Heading>
      <p>Sign in to browse secrets, transit keys and the server's health.</p>
      {notice !== undefined && <StatusMessage>{notice}</StatusMessage>}
      <Tabs>
        <TabList aria-label="Sign-in method">
          <Tab id="token">Token</Tab>
          <Tab id="approle">AppRole</Tab>
        </TabList>
        <TabPanel id="token">
          <Form onSubmit={withToken}>
            <TextField name="token" type="password" isRequired autoComplete="off">
              <Label>Token</Label>
              <Input />
              <FieldError />
            </TextField>
            <Button type="submit" isPending={busy}>
              Sign in
            </Button>
          </Form>
        </TabPanel>
        <TabPanel id="approle">
          <Form onSubmit={withAppRole}>
            <TextField name="role_id" isRequired autoComplete="off">
              <Label>Role ID</Label>
              <Input />
              <FieldError />
            </TextField>
            <TextField name="secret_id" type="password" isRequired autoComplete="off">
              <Label>Secret ID</Label>
              <Input />
              <FieldError />
            </TextField>
            <TextField name="mount" defaultValue="approle" isRequired autoComplete="off">
              <Label>AppRole mount</Label>
              <Input />
              <FieldError />
            </TextField>
            <Button type="submit" isPending={busy}>
              Sign in
            </Button>
          </Form>
        </TabPanel>
      </Tabs>
      {error !== undefined && <ErrorMessage>{error}</ErrorMessage>}
    </main>
  );
}
