import type { ReactNode } from 'react';

/**
 * Radix Themes' table markup and classes without Table.Root, whose ScrollArea injects an inline
 * <style> element that the portal's CSP (style-src 'self') refuses; a plain scrolling box stands in
 * for it. The label goes on the <table> itself, so screen readers name the table.
 */
export function DataTable(props: { label: string; size?: '1' | '2' | '3'; variant?: 'surface' | 'ghost'; children: ReactNode }) {
  return (
    <div className={`rt-TableRoot rt-r-size-${props.size ?? '2'} rt-variant-${props.variant ?? 'ghost'}`}>
      <div className="table-scroll">
        <table className="rt-TableRootTable" aria-label={props.label}>
          {props.children}
        </table>
      </div>
    </div>
  );
}
