'use client';
// A CodeMirror 6 editor for pipeline KDL. The parent owns the text and its diagnostics (use-pipeline-check):
// the editor shows them as underlines with a gutter mark, and reports every change of the text.
import { lintGutter, setDiagnostics } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';
import type { Diagnostic } from '../../lib/pipeline';
import { toEditorDiagnostics } from './positions';

interface KdlEditorProps {
  value: string;
  onChange: (text: string) => void;
  /** Diagnostics and the text they were found in (a check may lag behind typing). */
  checked: { text: string; diagnostics: Diagnostic[] };
  /** The accessible name of the text area. */
  label: string;
  /** Id of the element listing the diagnostics as text. */
  describedBy?: string;
}

/** Colours come from the page (Tailwind light/dark), so the editor follows the theme. */
const pageTheme = EditorView.theme({
  '&': { backgroundColor: 'transparent', color: 'inherit', fontSize: '0.875rem' },
  '.cm-content': { caretColor: 'currentColor', fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace' },
  '.cm-cursor': { borderLeftColor: 'currentColor' },
  '.cm-gutters': { backgroundColor: 'transparent', color: 'inherit', opacity: '0.75', borderRight: '1px solid rgb(148 163 184 / 0.4)' },
  '.cm-activeLine, .cm-activeLineGutter': { backgroundColor: 'rgb(148 163 184 / 0.12)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: 'rgb(59 130 246 / 0.3)' },
  '&.cm-focused': { outline: 'none' },
  '.cm-scroller': { minHeight: '16rem', maxHeight: '32rem' },
});

export function KdlEditor({ value, onChange, checked, label, describedBy }: KdlEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  // The latest callback, read by the listener the editor was created with.
  const changed = useRef(onChange);
  useEffect(() => {
    changed.current = onChange;
  }, [onChange]);

  useEffect(() => {
    const attributes: Record<string, string> = { 'aria-label': label };
    if (describedBy) attributes['aria-describedby'] = describedBy;
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          lintGutter(),
          pageTheme,
          EditorView.contentAttributes.of(attributes),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) changed.current(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
    // Created once per label; the text and the diagnostics are synced by the effects below.
  }, [label, describedBy]);

  // A text set from outside (a regenerated draft, a reset after saving) replaces the document.
  useEffect(() => {
    const editor = view.current;
    if (editor && editor.state.doc.toString() !== value) editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
  }, [value]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    // Diagnostics of an older text would point at the wrong places: wait for the ones of this text.
    if (editor.state.doc.toString() === checked.text) editor.dispatch(setDiagnostics(editor.state, toEditorDiagnostics(checked.text, checked.diagnostics)));
  }, [checked]);

  return (
    <div
      ref={host}
      className="overflow-hidden rounded-md border border-slate-300 bg-white focus-within:ring-2 focus-within:ring-blue-600 dark:border-slate-600 dark:bg-slate-900"
    />
  );
}
