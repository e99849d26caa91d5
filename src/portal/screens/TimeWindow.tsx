import { NativeSelect } from '../components/Select';

export const WINDOWS = [
  { value: '', label: 'Any time' },
  { value: '3600', label: 'Last hour' },
  { value: '86400', label: 'Last 24 hours' },
  { value: '604800', label: 'Last 7 days' },
  { value: '2592000', label: 'Last 30 days' },
];

/** The `since` of a window chosen in a filter, or undefined for "any time". */
export const sinceOf = (window: string): string | undefined => (window ? new Date(Date.now() - Number(window) * 1000).toISOString() : undefined);

export function TimeWindowSelect(props: { id: string; value: string; onChange: (value: string) => void }) {
  return <NativeSelect id={props.id} value={props.value} onChange={(e) => props.onChange(e.target.value)} options={WINDOWS} />;
}
