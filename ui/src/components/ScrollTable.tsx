import type { ComponentChildren } from 'preact';

/**
 * A table's scroll box (class table-wrap) that keyboard users can focus and scroll at 390 px,
 * named for screen readers as the region it is.
 */
export function ScrollTable(props: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={props.label} tabIndex={0}>
      {props.children}
    </div>
  );
}
