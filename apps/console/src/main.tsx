import { render } from 'preact';
import { ErrorAlert } from './alerts';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { type Access, ApiError, forgetKey, probeAccess, storedKey, storeKey } from './api';
import { MessagePage } from './pages/message';
import { MessagesPage } from './pages/messages';
import { OperationsPage } from './pages/operations';
import { OverviewPage } from './pages/overview';
import { SuppressionsPage } from './pages/suppressions';
import { ApiKeysPage } from './pages/api-keys';
import { TeamsPage } from './pages/teams';
import { TemplatesPage } from './pages/templates';
import 'uplot/dist/uPlot.min.css';
import './styles.css';

/** Routes live in the hash (#/messages/…): static files need no server-side fallback. */
function useRoute(): string {
  const [route, setRoute] = useState(location.hash.slice(1) || '/');
  useEffect(() => {
    const onChange = () => setRoute(location.hash.slice(1) || '/');
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** Each page's own title (tabs, history, what a screen reader announces on arrival). */
export function titleOf(route: string, signedIn: boolean): string {
  const suffix = 'Notification console';
  if (!signedIn) return `Sign in · ${suffix}`;
  const current = route.split('?')[0];
  const template = /^\/templates\/([^/]+)$/.exec(current)?.[1];
  const message = /^\/messages\/([0-9a-f-]{36})$/.exec(current)?.[1];
  const named: Record<string, string> = {
    '/': 'Overview',
    '/messages': 'Messages',
    '/suppressions': 'Suppressions',
    '/teams': 'Teams',
    '/operations': 'Operations',
    '/templates': 'Templates',
    '/templates/new': 'New template',
    '/api-keys': 'API keys',
  };
  const page =
    named[current] ??
    (message
      ? `Message ${message.slice(0, 8)}`
      : template
        ? `Template ${decodeURIComponent(template)}`
        : 'Console');
  return `${page} · ${suffix}`;
}

function SignIn({ onSignedIn }: { onSignedIn: (key: string, access: Access) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const access = await probeAccess(key.trim());
      onSignedIn(key.trim(), access);
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 401
          ? 'This API key is not valid (unknown or revoked).'
          : `Could not reach the service: ${(e as Error).message}`,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>Notification console</h1>
      <form onSubmit={(e) => void submit(e)} aria-describedby="signin-help">
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          required
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <p id="signin-help" class="hint">
          Kept in this tab only (sessionStorage) and sent as a Bearer token; closing the tab signs
          you out. You see what the key&apos;s team and scopes allow.
        </p>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorAlert error={error} />
      </form>
    </main>
  );
}

function App() {
  const route = useRoute();
  const [access, setAccess] = useState<Access | null>(null);
  const [checking, setChecking] = useState(storedKey() !== null);
  const heading = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const key = storedKey();
    if (!key) return;
    probeAccess(key)
      .then(setAccess)
      .catch(() => forgetKey())
      .finally(() => setChecking(false));
  }, []);

  // With the page's own render, not a frame later: the title and the heading change together.
  useLayoutEffect(() => {
    if (!checking) document.title = titleOf(route, access !== null);
  }, [route, access, checking]);

  // Move focus to the new page's content, as a page load would, for keyboard and screen readers.
  useEffect(() => {
    heading.current?.querySelector('h1')?.focus();
  }, [route, access]);

  if (checking) return <p class="loading">Loading…</p>;
  if (!access) {
    return (
      <SignIn
        onSignedIn={(key, granted) => {
          storeKey(key);
          setAccess(granted);
        }}
      />
    );
  }

  const pages = [
    access.reports && { path: '/', label: 'Overview' },
    access.messages && { path: '/messages', label: 'Messages' },
    access.templates && { path: '/templates', label: 'Templates' },
    access.suppressions && { path: '/suppressions', label: 'Suppressions' },
    // Every key sees its own team; an admin key every team.
    { path: '/teams', label: 'Teams' },
    access.keys && { path: '/api-keys', label: 'API keys' },
    access.admin && { path: '/operations', label: 'Operations' },
  ].filter((p): p is { path: string; label: string } => Boolean(p));
  const current = route.split('?')[0];
  const active = (path: string) =>
    path === '/' ? current === '/' : current === path || current.startsWith(`${path}/`);

  let page;
  const messageId = /^\/messages\/([0-9a-f-]{36})$/.exec(current)?.[1];
  if (messageId && access.messages) page = <MessagePage id={messageId} />;
  else if (current === '/messages' && access.messages) page = <MessagesPage route={route} />;
  else if (current === '/operations' && access.admin) page = <OperationsPage />;
  else if (current === '/suppressions' && access.suppressions) page = <SuppressionsPage />;
  else if (current === '/teams') page = <TeamsPage admin={access.admin} />;
  else if (active('/templates') && access.templates)
    page = <TemplatesPage route={route} admin={access.admin} />;
  else if (current === '/api-keys' && access.keys) page = <ApiKeysPage admin={access.admin} />;
  else if (current === '/' && access.reports) page = <OverviewPage />;
  else if (pages.length) page = <p>This key cannot open that page. Pick one above.</p>;
  else
    page = (
      <p>
        This key has none of the scopes the console shows (reports, messages, suppressions, admin).
      </p>
    );

  return (
    <>
      <a
        class="skip"
        href={`#${route}`}
        onClick={(e) => {
          // The hash is the router's: move focus instead of navigating.
          e.preventDefault();
          heading.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header>
        <span class="brand">Notifications</span>
        <nav aria-label="Console">
          <ul>
            {pages.map((p) => (
              <li key={p.path}>
                <a href={`#${p.path}`} aria-current={active(p.path) ? 'page' : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            forgetKey();
            setAccess(null);
            location.hash = '#/';
          }}
        >
          Sign out
        </button>
      </header>
      <div id="content" ref={heading} tabIndex={-1}>
        {page}
      </div>
    </>
  );
}

render(<App />, document.getElementById('app')!);
