// Plain JavaScript: npm runs `prepare` with whichever Node is on PATH, which may be older than 24.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * `npm ci`'s prepare step: builds the dashboard into ui/dist, so a fresh clone serves it at `/`
 * with nothing more than the README's two commands. An install without dev dependencies (the
 * image's `npm ci --omit=dev`) has no Vite: it says so and goes on, the image builds the
 * dashboard in its own stage.
 */
if (!existsSync(new URL('../node_modules/vite/package.json', import.meta.url))) {
  console.log('prepare: Vite is not installed (an install without dev dependencies); the dashboard is not built');
} else {
  const r = spawnSync('npm', ['run', '-s', 'build:ui'], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
