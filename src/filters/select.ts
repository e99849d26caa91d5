import { compileFilter, FilterError, parseExactJson, type Match } from './filter';

/**
 * Compiled filters by their text: a message's endpoints often share a filter, and an endpoint's filter
 * is the same for every message until it is changed. Bounded: emptied when full.
 */
const compiled = new Map<string, Match | FilterError>();
const MAX_COMPILED = 2_000;

function compiledFilter(text: string): Match | FilterError {
  let entry = compiled.get(text);
  if (entry === undefined) {
    try {
      entry = compileFilter(text);
    } catch (err) {
      if (!(err instanceof FilterError)) throw err;
      entry = err;
    }
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(text, entry);
  }
  return entry;
}

export type Selection = {
  /** Endpoints without a filter, or whose filter matches the event. */
  kept: string[];
  /** Endpoints whose filter drops the event. */
  dropped: string[];
  /** Endpoints whose stored filter no longer compiles (the API refuses such filters); they are kept. */
  unreadable: string[];
};

/**
 * Which endpoints get an event, by their filters. `eventText` (filterEventText) is parsed only when some
 * endpoint has a filter, and once for all of them.
 */
export function selectByFilter(endpoints: { id: string; filter: string | null }[], eventText: string): Selection {
  const selection: Selection = { kept: [], dropped: [], unreadable: [] };
  let event: ReturnType<typeof parseExactJson> | undefined;
  for (const { id, filter } of endpoints) {
    if (filter === null) {
      selection.kept.push(id);
      continue;
    }
    const match = compiledFilter(filter);
    if (match instanceof FilterError) {
      selection.unreadable.push(id);
      selection.kept.push(id);
      continue;
    }
    event ??= parseExactJson(eventText);
    (match(event) ? selection.kept : selection.dropped).push(id);
  }
  return selection;
}
