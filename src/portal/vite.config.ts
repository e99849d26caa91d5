import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The customer portal, served by the API at /portal (src/api/portal.ts) under a strict CSP:
 * scripts and styles are files of this origin only, so nothing may be inlined into the page.
 */
export default defineConfig({
  root: here('.'),
  base: '/portal/',
  plugins: [react()],
  build: {
    outDir: here('../../dist/portal'),
    emptyOutDir: true,
    // A data: URL would need img-src/font-src data: in the CSP; every asset stays a file.
    assetsInlineLimit: 0,
    // Vite's modulepreload polyfill is bundled, not inlined, but modern browsers need none.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
