import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { javascript } from '@codemirror/lang-javascript';
import { bracketMatching, defaultHighlightStyle, HighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorState, type Text } from '@codemirror/state';
import { EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';

/** A problem at a 1-based line and column of the script (the API's VALIDATION issues carry these). */
export interface ScriptDiagnostic {
  line: number;
  column: number;
  message: string;
}

/**
 * CodeMirror's default token colours, each behind a CSS variable (styles.css, "Script editor"):
 * the same tags, with values that stay readable on the dark scheme's background too.
 */
const themedHighlight = HighlightStyle.define(
  defaultHighlightStyle.specs.map((spec) => (typeof spec.color === 'string' ? { ...spec, color: `var(--cm-${spec.color.slice(1)}, ${spec.color})` } : spec)),
);

const theme = EditorView.theme({
  '&': { color: 'var(--fg)', backgroundColor: 'var(--bg)', border: '1px solid var(--line)', borderRadius: '6px' },
  '&.cm-focused': { outline: '3px solid var(--accent)', outlineOffset: '2px' },
  '.cm-content': { caretColor: 'var(--fg)', fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--fg)' },
  '.cm-gutters': { backgroundColor: 'var(--panel)', color: 'var(--muted)', borderRight: '1px solid var(--line)' },
  '.cm-activeLine': { backgroundColor: 'var(--cm-active-line)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--cm-active-line)', color: 'var(--fg)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: 'var(--cm-selection)' },
  '.cm-tooltip': { backgroundColor: 'var(--panel)', color: 'var(--fg)', border: '1px solid var(--line)' },
  '.cm-diagnostic-error': { borderLeftColor: 'var(--bad)' },
  // Grows with the text and wraps long lines: a scrolling box inside the page is one axe counts as unreachable by keyboard.
  '.cm-scroller': { minHeight: '12rem' },
});

/** Line and column (1-based, as the API counts) as a document range, clamped into the text. */
function rangeOf(doc: Text, line: number, column: number): { from: number; to: number } {
  const l = doc.line(Math.min(Math.max(1, line), doc.lines));
  const from = Math.min(l.from + Math.max(0, column - 1), l.to);
  // A one-character mark, or the character before when the position is the end of the line.
  if (from < l.to) return { from, to: from + 1 };
  return l.to > l.from ? { from: l.to - 1, to: l.to } : { from, to: from };
}

function toDiagnostics(doc: Text, list: readonly ScriptDiagnostic[]): Diagnostic[] {
  return list.map((d) => ({ ...rangeOf(doc, d.line, d.column), severity: 'error', message: `line ${d.line}, column ${d.column}: ${d.message}` }));
}

/**
 * The workflow script editor (CodeMirror 6, TypeScript): controlled by `value`/`onChange`,
 * with `diagnostics` shown as lint marks at their line and column. The region is named
 * "Script"; Tab indents, and Escape then Tab leaves the editor (CodeMirror's own rule).
 */
export function ScriptEditor(props: { value: string; onChange?: (value: string) => void; diagnostics?: readonly ScriptDiagnostic[]; readOnly?: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;

  useEffect(() => {
    const parent = host.current;
    if (!parent) return;
    const v = new EditorView({
      parent,
      state: EditorState.create({
        doc: props.value,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightActiveLine(),
          history(),
          indentOnInput(),
          bracketMatching(),
          javascript({ typescript: true }),
          syntaxHighlighting(themedHighlight),
          lintGutter(),
          keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
          theme,
          EditorView.lineWrapping,
          EditorState.readOnly.of(!!props.readOnly),
          EditorView.contentAttributes.of({ 'aria-label': 'Code editor', tabindex: '0', ...(props.readOnly ? { 'aria-readonly': 'true' } : {}) }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChange.current?.(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
  }, [props.readOnly]);

  // A new value from outside (a reload, another version) replaces the text. In a layout effect, so it runs in the
  // same task as the render: a plain effect waits for the next frame, and with keys typed meanwhile an older render's
  // value overwrote newer text, whose change re-rendered with the newer one, and so on for ever.
  useLayoutEffect(() => {
    const v = view.current;
    if (!v || v.state.doc.toString() === props.value) return;
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: props.value } });
  }, [props.value]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    v.dispatch(setDiagnostics(v.state, toDiagnostics(v.state.doc, props.diagnostics ?? [])));
  }, [props.diagnostics]);

  return <div ref={host} class="script-editor" role="region" aria-label="Script" />;
}
