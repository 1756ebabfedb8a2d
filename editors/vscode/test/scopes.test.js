// Scope assertions for the TextMate grammar, tokenized by the engine VS Code itself uses
// (vscode-textmate with the Oniguruma regex library). Run: `npm test` (tests/test_vscode.py
// runs it in CI). Exits 1 with the differences when a token gets another scope.
"use strict";
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const wasm = fs.readFileSync(path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm")).buffer;
const onigLib = oniguruma.loadWASM(wasm).then(() => ({
  createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
  createOnigString: (s) => new oniguruma.OnigString(s),
}));
const registry = new vsctm.Registry({
  onigLib,
  loadGrammar: async () => vsctm.parseRawGrammar(
    fs.readFileSync(path.join(__dirname, "..", "syntaxes", "policy.tmLanguage.json"), "utf8"), "policy.tmLanguage.json"),
});

// [line, text of a token, the scope it must have (the innermost)]
const CASES = [
  ['fact request "요청 종류": enum {', "fact", "storage.type.policy"],
  ['fact request "요청 종류": enum {', "request", "entity.name.policy"],
  ['fact request "요청 종류": enum {', '"요청 종류"', "string.quoted.double.policy"],
  ['fact request "요청 종류": enum {', "enum", "keyword.control.policy"],
  ["    when request = driver_phone and elapsed <= DIRECT_CONTACT_WINDOW", "when", "keyword.control.policy"],
  ["    when request = driver_phone and elapsed <= DIRECT_CONTACT_WINDOW", "and", "keyword.control.policy"],
  ["    when request = driver_phone and elapsed <= DIRECT_CONTACT_WINDOW", "<=", "keyword.operator.policy"],
  ["    when request = driver_phone and elapsed <= DIRECT_CONTACT_WINDOW", "DIRECT_CONTACT_WINDOW", "variable.other.constant.policy"],
  ["    when request = driver_phone and elapsed <= DIRECT_CONTACT_WINDOW", "driver_phone", "variable.other.policy"],
  ['const FEE_CAP "추가 요금 상한" = 10,000원', "10,000원", "constant.numeric.money.policy"],
  ["const NIGHT = 22:00..04:00", "22:00..04:00", "constant.numeric.time.policy"],
  ["const WINDOW = 72시간", "72시간", "constant.numeric.duration.policy"],
  ["let fee = floor(base * 20%, 100원)", "20%", "constant.numeric.policy"],
  ["  optional_flag = true", "true", "constant.language.boolean.policy"],
  ["# 매뉴얼 ②: 15kg 이상이면", "# 매뉴얼 ②: 15kg 이상이면", "comment.line.number-sign.policy"],
  ['  reply "{{ fee | won }}입니다"', "{{ fee | won }}", "meta.embedded.expression.jinja"],
  ["let 대형견 = any(pets where weight >= 15)", "where", "keyword.control.policy"],
  ["let 대형견 = any(pets where weight >= 15)", "대형견", "entity.name.policy"],
  ["  factual_name = fact이름", "fact이름", "variable.other.policy"],  // a keyword glued to Hangul is a name
];

function scopesOf(grammar, line) {
  const { tokens } = grammar.tokenizeLine(line, vsctm.INITIAL);
  return tokens.map((t) => [line.slice(t.startIndex, t.endIndex), t.scopes[t.scopes.length - 1]]);
}

(async () => {
  const grammar = await registry.loadGrammar("source.policy");
  const failures = [];
  for (const [line, text, scope] of CASES) {
    const tokens = scopesOf(grammar, line);
    // the token, or the tokens that together spell it (a string or template is several)
    const start = line.indexOf(text);
    let pos = 0, covering = [];
    for (const [tok, sc] of tokens) {
      const end = pos + tok.length;
      if (end > start && pos < start + text.length) covering.push(sc);
      pos = end;
    }
    if (!covering.length || !covering.every((sc) => sc === scope || sc.startsWith(scope))) {
      const container = grammar.tokenizeLine(line, vsctm.INITIAL).tokens
        .filter((t) => t.endIndex > start && t.startIndex < start + text.length)
        .every((t) => t.scopes.includes(scope));
      if (!container) failures.push(`${JSON.stringify(text)} in ${JSON.stringify(line)}: ${JSON.stringify(tokens)}`);
    }
  }
  // the shipped policies tokenize to the end, every line
  for (const file of process.argv.slice(2)) {
    let state = vsctm.INITIAL;
    for (const line of fs.readFileSync(file, "utf8").split("\n")) state = grammar.tokenizeLine(line, state).ruleStack;
    if (state.depth !== 1) failures.push(`${file}: a string or block is left open at the end`);
  }
  if (failures.length) {
    console.error(failures.join("\n"));
    process.exit(1);
  }
  console.log(`${CASES.length} scope assertions passed`);
})();
