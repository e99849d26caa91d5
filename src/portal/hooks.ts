import { useCallback, useEffect, useRef, useState } from 'react';

export type Loaded<T> = { data: T | undefined; error: Error | undefined; loading: boolean; reload: () => void };

/** Loads `load()` whenever `key` changes; `reload` runs it again. A stale answer never replaces a newer one. */
export function useLoad<T>(load: () => Promise<T>, key: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const run = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current().then(
      (data) => run === latest.current && setState({ data, loading: false }),
      (error: Error) => run === latest.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  }, [...key, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** Calls `tick` every `ms` while `active`; stops on unmount. */
/** Calls `tick` every `ms` while `active`; an async tick is not awaited, so a slow one may overlap the next. */
export function useInterval(tick: () => void | Promise<void>, ms: number, active: boolean): void {
  const tickRef = useRef(tick);
  tickRef.current = tick;
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => void tickRef.current(), ms);
    return () => window.clearInterval(timer);
  }, [ms, active]);
}

export type Page<T> = { data: T[]; nextCursor: string | null };
export type Paged<T> = {
  rows: T[];
  loading: boolean;
  error: Error | undefined;
  reload: () => void;
  hasMore: boolean;
  loadingMore: boolean;
  loadMore: () => void;
};

/**
 * A keyset-paged listing: the first page loads whenever `key` changes (and replaces what was shown),
 * `loadMore` appends the next page after the last cursor.
 */
export function usePaged<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>, key: readonly unknown[]): Paged<T> {
  const first = useLoad(() => fetchPage(undefined), key);
  const [more, setMore] = useState<{ pages: T[][]; cursor: string | null; loading: boolean; error?: Error }>({ pages: [], cursor: null, loading: false });
  useEffect(() => {
    setMore({ pages: [], cursor: first.data?.nextCursor ?? null, loading: false });
  }, [first.data]);
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;

  const moreRef = useRef(more);
  moreRef.current = more;
  // Bumped when the first page changes, so a page asked for under an older filter is dropped.
  const generation = useRef(0);
  useEffect(() => {
    generation.current += 1;
  }, [first.data]);

  const loadMore = useCallback(() => {
    const m = moreRef.current;
    if (!m.cursor || m.loading) return;
    const asked = generation.current;
    setMore({ ...m, loading: true, error: undefined });
    fetchRef.current(m.cursor).then(
      (page) => asked === generation.current && setMore((now) => ({ pages: [...now.pages, page.data], cursor: page.nextCursor, loading: false })),
      (error: Error) => asked === generation.current && setMore((now) => ({ ...now, loading: false, error })),
    );
  }, []);

  return {
    rows: [...(first.data?.data ?? []), ...more.pages.flat()],
    loading: first.loading,
    error: first.error ?? more.error,
    reload: first.reload,
    hasMore: more.cursor !== null,
    loadingMore: more.loading,
    loadMore,
  };
}
