import { defineConfig } from 'vite';

// The server serves the build at /ui/ (packages/server/src/ui/). Assets get hashed names
// (cached for a year); index.html is the one file that is revalidated.
export default defineConfig({
  base: '/ui/',
  // React Aria adds two small <style> elements (touch and overscroll behaviour): they carry the
  // nonce of this meta tag, which the server fills in afresh for each load of index.html
  // (packages/server/src/ui/dashboard-routes.ts) and names in the CSP's style-src.
  html: { cspNonce: '__CUSTOS_CSP_NONCE__' },
  // React's automatic JSX runtime; no dev-only plugin is needed to build.
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Nothing inlined: the CSP allows scripts, styles and images from the server only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
  // `npm run dev -w @custos/ui` (with a dev server on :8200): the API through Vite's proxy.
  server: { proxy: { '/v1': 'http://127.0.0.1:8200' } },
});
