// The playground's editor: CodeMirror 6 with a small stream highlighter for policies, YAML
// for replies, and policyc's diagnostics shown in place. Bundled once into
// compiler/serve/static/editor.bundle.js by scripts/build_editor.sh (committed, so
// installing policyc needs no Node).
import { EditorView, basicSetup } from "codemirror";
import { EditorState } from "@codemirror/state";
import { StreamLanguage } from "@codemirror/language";
import { yaml } from "@codemirror/lang-yaml";
import { setDiagnostics, lintGutter } from "@codemirror/lint";

function policyLanguage(keywords) {
  const words = new Set(keywords);
  return StreamLanguage.define({
    name: "policy",
    token(stream) {
      if (stream.eatSpace()) return null;
      if (stream.match("#")) { stream.skipToEnd(); return "comment"; }
      if (stream.match('"""')) { while (!stream.eol() && !stream.match('"""')) stream.next(); return "string"; }
      if (stream.match('"')) {
        while (!stream.eol()) { const c = stream.next(); if (c === "\\") stream.next(); else if (c === '"') break; }
        return "string";
      }
      if (stream.match(/^[0-9][0-9,.:\-T+]*(원|%|일|시간|분|초|ms|us|d|h|m|s)?/u)) return "number";
      if (stream.match(/^[\p{L}_][\p{L}\p{N}_]*/u)) {
        const w = stream.current();
        if (words.has(w)) return "keyword";
        return /^[A-Z][A-Z0-9_]*$/.test(w) ? "atom" : "variableName";
      }
      stream.next();
      return /[=<>!+\-*/]/.test(stream.current()) ? "operator" : null;
    },
    languageData: { commentTokens: { line: "#" } },
  });
}

// policyc counts columns in code points; a JS string in UTF-16 units
function offsetOf(doc, line, column) {
  const n = Math.min(Math.max(line, 1), doc.lines);
  const l = doc.line(n);
  return l.from + Array.from(l.text).slice(0, Math.max(column - 1, 0)).join("").length;
}

window.PolicyEditor = {
  create(parent, text, kind, keywords, onChange) {
    const language = kind === "yaml" ? yaml() : policyLanguage(keywords || []);
    return new EditorView({
      parent,
      state: EditorState.create({
        doc: text,
        extensions: [basicSetup, language, lintGutter(), EditorView.lineWrapping,
          EditorView.updateListener.of((u) => { if (u.docChanged && onChange) onChange(u.state.doc.toString()); })],
      }),
    });
  },
  text(view) { return view.state.doc.toString(); },
  show(view, diagnostics) {
    const doc = view.state.doc;
    const marks = diagnostics.map((d) => {
      const from = offsetOf(doc, d.line, d.column);
      const to = Math.max(from, offsetOf(doc, d.end_line, d.end_column));
      return { from, to, severity: d.severity === "error" ? "error" : "warning",
               message: `${d.severity_ko}[${d.code}]: ${d.message}` + (d.help ? `\n도움말: ${d.help}` : "") };
    });
    view.dispatch(setDiagnostics(view.state, marks));
  },
  goto(view, line) {
    const pos = offsetOf(view.state.doc, line, 1);
    view.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: "center" }) });
    view.focus();
  },
};
