import '@radix-ui/themes/styles.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { setToken } from './api/client';
import { App } from './App';
import { takeTokenFromFragment } from './session';

const root = createRoot(document.getElementById('root')!);

/** Starts the page on a token; `key` makes a new session start from a clean state. */
function start(token: string | null) {
  if (token) setToken(token);
  root.render(
    <StrictMode>
      <App key={token ?? 'none'} hasToken={token !== null} />
    </StrictMode>,
  );
}

start(takeTokenFromFragment(window.location, window.history));

// A new portal link opened in the same tab only changes the fragment, which does not reload the page.
window.addEventListener('hashchange', () => {
  const token = takeTokenFromFragment(window.location, window.history);
  if (token) start(token);
});
