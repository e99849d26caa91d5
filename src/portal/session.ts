/**
 * The portal token arrives in the URL fragment (`/portal#token=hfp_…`), which browsers never send to
 * a server or in a Referer. It is read once and the fragment removed from the address bar and history
 * at once, so it is not left in a bookmark, a screenshot or a copied link.
 */
export function takeTokenFromFragment(
  location: { hash: string; pathname: string; search: string },
  history: { state: unknown; replaceState(state: unknown, unused: string, url: string): void },
): string | null {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = params.get('token');
  if (location.hash) history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  return token && /^hfp_[A-Za-z0-9_-]+$/.test(token) ? token : null;
}
