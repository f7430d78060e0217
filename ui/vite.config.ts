import { defineConfig } from 'vite';

/**
 * The dashboard: built into ui/dist by `npm ci` (the `prepare` script) and served by the API at
 * `/`. `npm run dev:ui` serves it with hot reload and forwards /api to a running Veer
 * (VEER_URL, default http://127.0.0.1:8080), so the session cookie stays same-origin.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  // Preact's JSX runtime, without a Babel plugin: the transform is Vite's own.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 800, sourcemap: false },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': { target: process.env.VEER_URL ?? 'http://127.0.0.1:8080', changeOrigin: false } },
  },
});
