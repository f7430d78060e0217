import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { Hono } from 'hono';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/**
 * The page may load only itself: scripts and connections from this origin, no frames. Inline
 * styles are allowed because the editor and charts set element styles at run time.
 */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const NOT_BUILT = (dir: string) => `<!doctype html><html lang="en"><meta charset="utf-8"><title>Veer</title>
<body style="font-family:sans-serif;max-width:40rem;margin:3rem auto;line-height:1.5">
<h1>The dashboard is not built</h1>
<p>No <code>index.html</code> in <code>${dir.replace(/[<>&]/g, '')}</code>. <code>npm ci</code> builds it; to build it again run <code>npm run build:ui</code>
(or set <code>VEER_UI_DIR</code> to where it is). The API itself is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></body></html>`;

/**
 * Serves the built dashboard (ui/dist) at `/`, beside the API on the same origin, so the
 * session cookie and EventSource work without CORS. Hashed assets are cached for good; every
 * other path that is not a file is the single page (its router reads the path).
 */
export function createUiRoutes(options: { dir: string }): Hono {
  const root = normalize(options.dir);
  // Assets have content-hashed names, so a cached one is never stale; index.html is read on each
  // request (it names the current assets: a rebuild must not leave the page pointing at old ones).
  const cache = new Map<string, Buffer>();
  const read = (file: string) => {
    let body = cache.get(file);
    if (!body) {
      body = readFileSync(file);
      if (file.startsWith(join(root, 'assets') + sep)) cache.set(file, body);
    }
    return body;
  };
  const app = new Hono();
  app.get('*', (c, next) => {
    const path = decodeURIComponent(c.req.path);
    if (path.startsWith('/api/')) return next();
    c.header('content-security-policy', CSP);
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'same-origin');
    const file = normalize(join(root, path));
    const inside = file.startsWith(root + sep);
    if (inside && extname(file) && existsSync(file) && statSync(file).isFile()) {
      c.header('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
      c.header('cache-control', path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      return c.body(new Uint8Array(read(file)));
    }
    // A missing asset is a 404, not the page: a stale tab asking for an old bundle should fail loudly.
    if (extname(path)) return c.text('not found', 404);
    const index = join(root, 'index.html');
    if (!existsSync(index)) return c.html(NOT_BUILT(root), 503);
    c.header('cache-control', 'no-cache');
    return c.html(read(index).toString('utf8'));
  });
  return app;
}
