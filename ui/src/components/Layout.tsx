import type { ComponentChildren } from 'preact';
import { Link, useLocation } from '../router.tsx';
import { logout, useMe } from '../session.ts';

const NAV: Array<[href: string, label: string]> = [
  ['/', 'Overview'],
  ['/workflows', 'Workflows'],
  ['/runs', 'Runs'],
  ['/releases', 'Releases'],
  ['/gateways', 'Gateways'],
  ['/deployments', 'Deployments'],
  ['/events', 'Events'],
  ['/notifiers', 'Notifiers'],
  ['/secrets', 'Secrets'],
];

/** Every page's frame: a skip link, the navigation (current page marked), who is logged in, and the page's main region. */
export function Layout(props: { children: ComponentChildren }) {
  const { path } = useLocation();
  const me = useMe();
  const current = (href: string) => (href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`));
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/" class="brand">
          Veer
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([href, label]) => (
              <li key={href}>
                <Link href={href} aria-current={current(href) ? 'page' : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        {me ? (
          <div class="who">
            <span>
              {me.name} <span class="muted">({me.scope})</span>
            </span>
            {me.via === 'session' ? (
              <button type="button" onClick={() => void logout()}>
                Log out
              </button>
            ) : null}
          </div>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}

/** A page's heading and its actions, in one row. */
export function PageHeader(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="page-header">
      <h1>{props.title}</h1>
      {props.children ? <div class="actions">{props.children}</div> : null}
    </div>
  );
}
