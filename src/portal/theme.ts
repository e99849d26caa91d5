import type { CSSProperties } from 'react';

/**
 * The platform's brand colour as the design system's accent scale. Set as CSS custom properties
 * through React's style prop (the CSSOM, which a CSP allows), derived with color-mix so any
 * #rrggbb works; text on it is black or white, whichever reads better.
 */
export function brandStyle(color: string | undefined): CSSProperties | undefined {
  if (!color || !/^#[0-9a-fA-F]{6}$/.test(color)) return undefined;
  const mix = (with_: string, share: number) => `color-mix(in oklab, ${color} ${share}%, ${with_})`;
  return {
    '--accent-1': mix('white', 2),
    '--accent-2': mix('white', 5),
    '--accent-3': mix('white', 10),
    '--accent-4': mix('white', 16),
    '--accent-5': mix('white', 24),
    '--accent-6': mix('white', 34),
    '--accent-7': mix('white', 48),
    '--accent-8': mix('white', 68),
    '--accent-9': color,
    '--accent-10': mix('black', 90),
    '--accent-11': mix('black', 75),
    '--accent-12': mix('black', 40),
    '--accent-a3': `color-mix(in oklab, ${color} 12%, transparent)`,
    '--accent-a4': `color-mix(in oklab, ${color} 18%, transparent)`,
    '--accent-a5': `color-mix(in oklab, ${color} 26%, transparent)`,
    '--accent-a8': `color-mix(in oklab, ${color} 60%, transparent)`,
    '--accent-a11': mix('black', 75),
    '--accent-surface': mix('white', 6),
    '--accent-indicator': color,
    '--accent-track': color,
    '--accent-contrast': luminance(color) > 0.5 ? '#111' : '#fff',
    '--focus-8': color,
  } as CSSProperties;
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
