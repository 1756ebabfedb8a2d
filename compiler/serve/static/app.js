// The policyc playground: edit a policy, fill a case in a form made from its FACTS_SCHEMA,
// see the decision, why, and the reply; keep the case as a test. Every answer comes from
// the server (`policyc serve`), which runs the same checks as `policyc check`.
"use strict";
(() => {
  const base = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
  const $ = (id) => document.getElementById(id);
  const state = { name: null, views: {}, files: {}, keywords: [], schema: null, schemaText: "", contexts: [],
                  sample: {}, current: "policy", checkTimer: null, decideTimer: null, checkSeq: 0, decideSeq: 0 };

  async function api(path, body) {
    const options = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    const response = await fetch(base + "api/" + path, options);
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function texts() {
    const replies = {};
    for (const [file, view] of Object.entries(state.views)) if (file !== "policy") replies[file] = PolicyEditor.text(view);
    return { name: state.name, policy: PolicyEditor.text(state.views.policy), replies };
  }

  // ── editors ──
  async function open(name) {
    state.name = name;
    for (const id of ["compare", "result", "case-status"]) $(id).replaceChildren();
    $("case-name").value = "";
    state.schema = null;
    const files = await api("files/" + encodeURIComponent(name));
    state.files = files;
    $("editors").replaceChildren();
    $("tabs").replaceChildren();
    state.views = {};
    const all = [["policy", name + ".policy", files.policy, "policy"],
                 ...Object.entries(files.replies).map(([f, t]) => [f, f, t, "yaml"])];
    for (const [key, label, text, kind] of all) {
      const holder = el("div", { "data-file": key, hidden: key !== "policy" });
      $("editors").append(holder);
      state.views[key] = PolicyEditor.create(holder, text, kind, state.keywords, scheduleCheck);
      $("tabs").append(el("button", { type: "button", class: key === "policy" ? "on" : "", "data-tab": key,
                                      onclick: () => show(key) }, label));
    }
    state.schemaText = "";
    await check();
  }

  function show(key) {
    state.current = key;
    for (const holder of $("editors").children) holder.hidden = holder.dataset.file !== key;
    for (const b of $("tabs").children) b.className = b.dataset.tab === key ? "on" : "";
  }

  function scheduleCheck() {
    clearTimeout(state.checkTimer);
    state.checkTimer = setTimeout(check, 300);
  }

  async function check() {
    const seq = ++state.checkSeq;
    let data;
    try { data = await api("check", texts()); } catch (e) { $("status").textContent = e.message; return; }
    if (seq !== state.checkSeq) return;  // a newer edit is being checked
    const byFile = {};
    for (const d of data.diagnostics) (byFile[d.file] ||= []).push(d);
    for (const [key, view] of Object.entries(state.views)) {
      PolicyEditor.show(view, byFile[key === "policy" ? state.name + ".policy" : key] || []);
    }
    $("problems").replaceChildren(...data.diagnostics.map((d) => el("li", {
      class: d.severity, onclick: () => { const key = d.file === state.name + ".policy" ? "policy" : d.file;
                                          show(key); PolicyEditor.goto(state.views[key], d.line); } },
      `${d.file}:${d.line}:${d.column} ${d.severity_ko}[${d.code}] ${d.message}` + (d.help ? ` — 도움말: ${d.help}` : ""))));
    const errors = data.diagnostics.filter((d) => d.severity === "error").length;
    $("status").textContent = data.ok ? (data.diagnostics.length ? `경고 ${data.diagnostics.length}개` : "문제 없음")
                                      : `오류 ${errors}개`;
    if (data.ok) {
      state.contexts = data.contexts;
      state.sample = data.sample_context;
      const text = JSON.stringify(data.schema);
      if (text !== state.schemaText) {
        const kept = state.schema ? collect() : {};
        state.schema = data.schema;
        state.schemaText = text;
        buildForm(kept);
      }
      scheduleDecide();
    } else {
      $("result").replaceChildren(el("p", { class: "error" },
        "정책에 오류가 있어 결정하지 않았습니다: 왼쪽 아래의 진단을 눌러 고치세요"));
      $("compare").replaceChildren();
    }
  }

  // ── the form, from FACTS_SCHEMA ──
  function variant(schema) {
    if (schema.anyOf) return [schema.anyOf.find((s) => s.type !== "null"), true];
    return [schema, false];
  }

  function input(path, schema, value) {
    const [s] = variant(schema);
    if (s.enum) {
      const labels = s["x-labels"] || {};
      return el("select", { "data-path": path, onchange: scheduleDecide },
        s.enum.map((code) => el("option", { value: code, selected: value === code }, `${labels[code] || code} (${code})`)));
    }
    if (s.type === "boolean") {
      return el("select", { "data-path": path, "data-kind": "bool", onchange: scheduleDecide },
        el("option", { value: "true", selected: value === true }, "예"),
        el("option", { value: "false", selected: value !== true }, "아니오"));
    }
    if (s.format === "date-time") {
      const [local, offset] = splitInstant(value);
      return el("span", { "data-path": path, "data-kind": "instant" },
        el("input", { type: "datetime-local", step: "1", value: local, oninput: scheduleDecide }),
        el("input", { class: "offset", value: offset, size: 6, title: "UTC 기준 차이 (한국 +09:00)", oninput: scheduleDecide }));
    }
    if (s.format === "date") return el("input", { type: "date", "data-path": path, value: value || "", oninput: scheduleDecide });
    if (s.format === "time") return el("input", { type: "time", step: "1", "data-path": path, value: value || "", oninput: scheduleDecide });
    const kind = s.type === "integer" ? "integer" : s.type === "number" ? "number" : "text";
    return el("input", { "data-path": path, "data-kind": kind, value: value ?? "", inputmode: kind === "text" ? undefined : "decimal",
                         placeholder: s.description || "", oninput: scheduleDecide });
  }

  function splitInstant(text) {
    const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(text || "");
    if (!m) {  // a new case starts now, in Korea time
      const korea = new Date(Date.now() + 9 * 3600 * 1000).toISOString().slice(0, 19);
      return [korea, "+09:00"];
    }
    return [`${m[1]}T${m[2].length === 5 ? m[2] + ":00" : m[2]}`, m[3] === "Z" ? "+00:00" : m[3]];
  }

  function field(name, schema, value, required, path) {
    const [s, nullable] = variant(schema);
    const optional = nullable || !required;
    const label = schema.description || s.description || name;
    const given = optional ? el("input", { type: "checkbox", class: "given", checked: value !== undefined && value !== null,
                                           title: "체크하지 않으면 이 사실은 빠집니다 (기본값이 있으면 기본값)",
                                           onchange: scheduleDecide }) : null;
    const box = el("label", { "data-field": path },
      el("span", { class: "name" }, label),
      given ? el("span", { class: "given-box" }, given, "값 있음 ") : null,
      s.type === "array" ? list(path, s, value || []) : input(path, schema, value ?? s.default),
      el("span", { class: "hint" }, ` ${name}${schema.default !== undefined ? ` (기본값 ${JSON.stringify(schema.default)})` : ""}`),
      el("span", { class: "field-error" }));
    if (given) {  // choosing or typing a value means it is given
      for (const kind of ["input", "change"]) {
        box.addEventListener(kind, (e) => { if (e.target !== given && !given.checked) { given.checked = true; scheduleDecide(); } });
      }
    }
    return box;
  }

  function list(path, schema, items) {
    const holder = el("fieldset", { "data-path": path, "data-kind": "list" });
    const add = (value) => {
      const item = el("div", { class: "item" }, el("div", { class: "item-title" }));
      const props = schema.items.properties;
      const required = new Set(schema.items.required || []);
      for (const [k, sub] of Object.entries(props)) item.append(field(k, sub, value ? value[k] : undefined, required.has(k), `${path}[].${k}`));
      item.append(el("button", { type: "button", onclick: () => { item.remove(); number(); scheduleDecide(); } }, "항목 빼기"));
      holder.insertBefore(item, holder.lastChild);
      number();
    };
    const number = () => [...holder.querySelectorAll(":scope > .item")].forEach((item, i) => {
      item.querySelector(".item-title").textContent = `${i + 1}번째 항목`; });
    holder.append(el("button", { type: "button", onclick: () => { add(null); scheduleDecide(); } },
                     `항목 더하기 (최대 ${schema.maxItems ?? "∞"})`));
    for (const v of items) add(v);
    return holder;
  }

  function buildForm(kept) {
    const form = $("facts");
    form.replaceChildren();
    const required = new Set(state.schema.required || []);
    for (const [name, schema] of Object.entries(state.schema.properties)) {
      form.append(field(name, schema, kept[name], required.has(name), name));
    }
    $("context").replaceChildren(...state.contexts.map((c) => el("label", {},
      el("span", { class: "name" }, c.label), el("input", { "data-context": c.name, placeholder: String(state.sample[c.name] ?? ""),
                                                            oninput: scheduleDecide }),
      el("span", { class: "hint" }, ` ${c.name}${c.personal ? " (개인정보: 비우면 예시 값)" : ""}`))));
  }

  function readValue(box) {
    const given = box.querySelector(":scope > .given-box > .given");
    if (given && !given.checked) return undefined;
    const node = box.querySelector(":scope > [data-path]");
    if (node.dataset.kind === "list") {
      return [...node.querySelectorAll(":scope > .item")].map((item) => {
        const out = {};
        for (const f of item.querySelectorAll(":scope > label[data-field]")) {
          const v = readValue(f);
          if (v !== undefined) out[f.dataset.field.split(".").pop()] = v;
        }
        return out;
      });
    }
    if (node.dataset.kind === "instant") {
      const [local, offset] = node.querySelectorAll("input");
      if (!local.value) return "";
      return `${local.value.length === 16 ? local.value + ":00" : local.value}${offset.value.trim() || "+09:00"}`;
    }
    if (node.dataset.kind === "bool") return node.value === "true";
    if (node.dataset.kind === "integer" || node.dataset.kind === "number") {
      const text = node.value.trim();
      return text !== "" && /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    }
    return node.value;
  }

  function collect() {
    const facts = {};
    for (const box of $("facts").querySelectorAll(":scope > label[data-field]")) {
      const v = readValue(box);
      if (v !== undefined) facts[box.dataset.field] = v;
    }
    return facts;
  }

  function context() {
    const out = {};
    for (const i of $("context").querySelectorAll("input[data-context]")) if (i.value.trim()) out[i.dataset.context] = i.value;
    return out;
  }

  // ── deciding ──
  function scheduleDecide() {
    clearTimeout(state.decideTimer);
    state.decideTimer = setTimeout(decide, 150);
  }

  function markError(name, problem) {
    for (const f of document.querySelectorAll(".bad")) f.classList.remove("bad");
    for (const f of document.querySelectorAll(".field-error")) f.textContent = "";
    if (!name) return false;
    let shown = false;
    const words = name.replace(/\[(\d+)\]\.?/g, (_, i) => `의 ${Number(i) + 1}번째 항목의 `).replace(/의 $/, "");
    for (const one of name.split(/,\s*/)) {  // a requirement names every fact it reads
      const top = one.split(/[.[]/)[0];
      let box = [...$("facts").querySelectorAll(":scope > label[data-field]")].find((b) => b.dataset.field === top);
      if (!box) continue;
      const item = /^[^[]+\[(\d+)\]\.(\w+)$/.exec(one);
      if (item) {  // pets[0].name: that item's own field
        const items = box.querySelectorAll(":scope > fieldset > .item");
        const inner = items[Number(item[1])] && items[Number(item[1])].querySelector(`:scope > label[data-field$='.${item[2]}']`);
        if (inner) box = inner;
      }
      box.classList.add("bad");
      box.querySelector(":scope > .field-error").textContent = `${words}: ${problem}`;
      shown = true;
    }
    return shown;
  }

  async function decide() {
    if (!state.schema) return;
    const seq = ++state.decideSeq;
    let data;
    try { data = await api("decide", { ...texts(), facts: collect(), context: context() }); }
    catch (e) { $("result").replaceChildren(el("p", { class: "error" }, e.message)); return; }
    if (seq !== state.decideSeq) return;
    $("result").replaceChildren(...render(data));
  }

  function render(data) {
    if (!data.ok) return [el("p", { class: "error" }, "정책에 오류가 있어 결정할 수 없습니다")];
    if (data.error) {
      const shown = markError(data.error.name, data.error.problem);
      return [el("p", { class: "error", "data-refused": data.error.name },
                 `사실이 잘못되었습니다 — ${data.error.name}: ${data.error.problem}` + (shown ? " (빨간 칸)" : ""))];
    }
    markError(null);
    const d = data.decision;
    const out = [];
    const main = d.decision;
    for (const dec of d.decisions) {
      const fired = dec.rules[dec.rules.length - 1];
      const shownValues = (data.values_shown || {})[dec.name] || [];
      const title = (data.decision_labels || {})[dec.name] || dec.name;
      out.push(el("div", { class: "rule" }, `「${title}」: 규칙 `,
        el("a", { "data-line": fired.line, onclick: () => { show("policy"); PolicyEditor.goto(state.views.policy, fired.line); } },
           `${fired.name} (${fired.line}행)`), " 이 정했습니다"));
      for (const [i, r] of dec.rules.slice(0, -1).entries()) {
        const values = Object.entries(shownValues[i] || r.values || {}).map(([k, v]) => `${k} = ${v}`).join(", ");
        out.push(el("div", { class: "failed" }, `✗ ${r.name} (${r.line}행): ${r.failed_condition}${values ? `  [${values}]` : ""}`));
      }
    }
    if (main.outcome) out.unshift(el("div", { class: "outcome", "data-outcome": main.outcome },
      `${data.outcome_label || main.outcome} `, el("code", {}, main.outcome)));
    out.push(el("div", {}, `공개: ${main.discloses.join(", ") || "없음"} · 조치: ${main.actions.map((a) =>
      a + (main.action_args[a] ? `(${Object.entries(main.action_args[a]).map(([k, v]) => `${k}=${v}`).join(", ")})` : "")).join(", ") || "없음"}`));
    for (const [k, v] of Object.entries(main)) {
      if (!["outcome", "discloses", "actions", "action_args", "rule", "source", "trace"].includes(k)) out.push(el("div", {}, `${k}: ${JSON.stringify(v)}`));
    }
    if (d.reply !== null && d.reply !== undefined) out.push(el("pre", { class: "reply" }, d.reply));
    else if (d.reply_needs && d.reply_needs.length) out.push(el("p", {}, `답변에 필요한 값: ${d.reply_needs.join(", ")}`));
    return out;
  }

  // ── buttons ──
  $("save").addEventListener("click", async () => {
    const data = await api("save", texts());
    $("status").textContent = data.ok ? `저장했습니다${data.built ? " (generated/ 도 다시 만들었습니다)" : ""}`
                                      : "저장했습니다. 오류가 있어 generated/ 는 다시 만들지 않았습니다";
  });
  $("add-case").addEventListener("click", async () => {
    try {
      const data = await api("cases", { ...texts(), facts: collect(), context: context(), case_name: $("case-name").value });
      $("case-status").textContent = `사례 ${data.cases}개, 범위 ${data.coverage.toFixed(1)}%` +
        (data.failures ? ` — 실패한 사례 ${data.failures}개: ${data.failed.join(", ")}` : " — 모두 통과");
    } catch (e) { $("case-status").textContent = e.message; }
  });
  $("head").addEventListener("click", async () => {
    const [now, then] = await Promise.all([api("decide", { ...texts(), facts: collect(), context: context() }),
                                           api("head", { name: state.name, facts: collect(), context: context() })]);
    const column = (title, data) => el("div", {}, el("h3", {}, title),
      ...(data.ok === false && data.message ? [el("p", {}, data.message)] : render(data)));
    const summary = (data) => data.error ? `잘못된 사실 (${data.error.name})` : data.decision
      ? `${data.outcome_label || data.decision.decision.outcome} (규칙 ${data.decision.decision.rule})` : "결정 없음";
    const same = summary(now) === summary(then) && (now.decision || {}).reply === (then.decision || {}).reply;
    const verdict = el("p", { class: same ? "same" : "changed", "data-verdict": same ? "same" : "changed" },
      same ? "마지막 커밋(HEAD)과 같게 결정합니다" : `바뀌었습니다: 마지막 커밋(HEAD) ${summary(then)} → 지금 ${summary(now)}`);
    $("compare").replaceChildren(verdict, column("지금", now), column("마지막 커밋(HEAD)", then));
    verdict.scrollIntoView({ block: "nearest" });
  });
  $("policy").addEventListener("change", () => open($("policy").value));
  window.playground = state;  // for the browser's console (and the page's tests): the editors and the form state

  (async () => {
    const data = await api("policies");
    state.keywords = data.keywords;
    $("policy").replaceChildren(...data.policies.map((p) => el("option", { value: p.name }, p.name)));
    if (data.policies.length) await open(data.policies[0].name);
  })();
})();
