import '@radix-ui/themes/styles.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { setToken } from './api/client';
import { App } from './App';
import { takeTokenFromFragment } from './session';

const token = takeTokenFromFragment(window.location, window.history);
if (token) setToken(token);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App hasToken={token !== null} />
  </StrictMode>,
);
