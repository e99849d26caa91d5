import type { SelectHTMLAttributes } from 'react';

/**
 * The browser's own <select>, styled like the design system: Radix's Select locks page scroll with an
 * injected <style> element, which the portal's CSP (style-src 'self') refuses.
 */
export function NativeSelect({ options, ...rest }: SelectHTMLAttributes<HTMLSelectElement> & { options: { value: string; label: string }[] }) {
  return (
    <select className="native-select" {...rest}>
      {options.map((o) => (
        <option key={o.value} value={o.value}>
          {o.label}
        </option>
      ))}
    </select>
  );
}
