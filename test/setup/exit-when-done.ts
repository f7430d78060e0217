import { after } from 'node:test';

/**
 * Loaded into every test file's process (`--import` in `npm test`). A file whose tests are done
 * but that left a handle open (a client reconnecting, a timer) never exits, and `node --test`
 * waits for it forever: a CI run once hung until its 90-minute limit that way. Ten seconds after
 * the file's last hook this names what is still open on stderr and exits with the file's own
 * result. Not `--test-force-exit`: that exits at once and can drop results still being written
 * (nodejs/node#64833: fewer tests reported, exit 0), which we saw here too.
 */
const GRACE_MS = 10_000;

after(() => {
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    process.stderr.write(
      `[exit-when-done] tests finished ${GRACE_MS / 1000} s ago but the process stayed alive (open: ${open.join(', ') || 'nothing listed'}); exiting\n`,
    );
    process.exit(process.exitCode ?? 0);
  }, GRACE_MS).unref();
});
