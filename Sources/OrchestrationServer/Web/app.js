// NovaCron web UI: plain JavaScript, no build step. Served by `novacron serve` at /ui/app.js.
"use strict";

const api = "/api/v1";
const state = { role: null, stream: null };

// ---- small helpers -------------------------------------------------------------------------

/** Creates an element; attributes starting with "on" are listeners; children may be text. */
function h(tag, attrs, ...children) {
  const svg = ["svg", "g", "rect", "path", "text", "line", "title", "defs", "marker"].includes(tag);
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function token() { return localStorage.getItem("novacron.token") || ""; }

// X-NovaCron-Request marks the UI's own requests: a page of another site cannot send a custom
// header without a CORS preflight, which the server never grants (docs/security.md).
function headers(extra) {
  const out = Object.assign({ "X-NovaCron-Request": "1" }, extra || {});
  if (token()) out["Authorization"] = "Bearer " + token();
  return out;
}

class ProblemError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

async function call(method, path, body) {
  const init = { method, headers: headers(body ? { "Content-Type": "application/json" } : {}) };
  if (body) init.body = JSON.stringify(body);
  const response = await fetch(api + path, init);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ProblemError(response.status, (data && data.detail) || response.statusText);
  return data;
}

const canOperate = () => state.role === "operator" || state.role === "admin";

/// A duration in milliseconds as people write it: 250 ms, 3.3 s, 2 m 5 s, 1 h 20 m.
function seconds(ms) {
  if (ms === undefined || ms === null || !isFinite(ms)) return "";
  if (ms < 1000) return Math.round(ms) + " ms";
  if (ms < 60000) return (Math.round(ms / 100) / 10) + " s";
  const s = Math.round(ms / 1000);
  if (s < 3600) return Math.floor(s / 60) + " m" + (s % 60 ? " " + (s % 60) + " s" : "");
  const m = Math.round(s / 60);
  return Math.floor(m / 60) + " h" + (m % 60 ? " " + (m % 60) + " m" : "");
}

function when(iso) { return iso ? new Date(iso).toLocaleString() : ""; }

function badge(status) { return h("span", { class: "badge " + status, "data-status": status }, status); }

function main() { return document.getElementById("main"); }

function show(...nodes) {
  main().replaceChildren(...nodes.flat().filter(n => n !== null && n !== undefined && n !== false));
}

function flash(message) {
  const box = document.getElementById("flash");
  box.textContent = message;
  box.hidden = !message;
}

// ---- routing ---------------------------------------------------------------------------------

async function route() {
  if (state.stream) { state.stream.abort(); state.stream = null; }
  flash("");
  const hash = location.hash.replace(/^#/, "") || "/workflows";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  document.querySelectorAll("nav a").forEach(a => a.classList.toggle("active", hash.startsWith(a.getAttribute("href").slice(1))));
  try {
    if (state.role === null) await whoami();
    if (parts[0] === "workflows" && parts[1]) return await workflowPage(parts[1]);
    if (parts[0] === "executions" && parts[1]) return await executionPage(parts[1]);
    if (parts[0] === "executions") return await executionsPage(params);
    return await workflowsPage();
  } catch (error) {
    if (error.status === 401) return loginPage(error.message);
    show(h("p", { class: "error" }, error.message));
  }
}

async function whoami() {
  const me = await call("GET", "/whoami");
  state.role = me.role;
  const who = document.getElementById("who");
  who.replaceChildren(me.authenticated ? `role: ${me.role} ` : "no authentication ",
    me.authenticated ? h("button", { class: "link", onclick: () => { localStorage.removeItem("novacron.token"); state.role = null; route(); } }, "sign out") : "");
}

function loginPage(message) {
  state.role = null;
  const input = h("input", { type: "password", id: "token", placeholder: "API token", autocomplete: "off" });
  show(h("form", { id: "login", onsubmit: (e) => { e.preventDefault(); localStorage.setItem("novacron.token", input.value); route(); } },
    h("h1", {}, "Sign in"),
    h("p", {}, message),
    input, " ", h("button", { type: "submit" }, "Sign in")));
}

// ---- workflows ---------------------------------------------------------------------------------

async function workflowsPage() {
  const page = await call("GET", "/workflows?limit=1000");
  const rows = page.items.map(w => h("tr", { "data-workflow": w.id },
    h("td", {}, h("a", { href: "#/workflows/" + encodeURIComponent(w.id) }, w.id)),
    h("td", {}, w.name), h("td", {}, w.description || ""), h("td", { class: "num" }, w.stepCount), h("td", {}, w.version || ""),
    h("td", {}, h("a", { href: "#/executions?workflow=" + encodeURIComponent(w.id) }, "executions"))));
  show(h("h1", {}, "Workflows"),
    rows.length ? h("table", { id: "workflows" },
      h("thead", {}, h("tr", {}, ["Id", "Name", "Description", "Steps", "Version", ""].map(t => h("th", {}, t)))),
      h("tbody", {}, rows))
      : h("p", {}, "No workflows yet. Register one: curl -X POST --data-binary @workflow.yaml " + location.origin + api + "/workflows"));
}

async function workflowPage(id) {
  const [workflow, plan, recent, triggers] = await Promise.all([
    call("GET", "/workflows/" + encodeURIComponent(id)),
    call("GET", "/workflows/" + encodeURIComponent(id) + "/plan"),
    call("GET", "/executions?limit=20&workflow=" + encodeURIComponent(id)),
    call("GET", "/workflows/" + encodeURIComponent(id) + "/triggers"),
  ]);
  const launch = debug => async () => {
    try {
      const execution = await call("POST", "/workflows/" + encodeURIComponent(id) + "/executions", { inputs: {}, debug });
      location.hash = "#/executions/" + encodeURIComponent(execution.id);
    } catch (error) { flash(error.message); }
  };
  const start = canOperate() ? h("button", { id: "start", onclick: launch(false) }, "Start") : null;
  // Debug mode: paused before each step; "Step" on the execution page runs the next one.
  const startDebug = canOperate() ? h("button", { id: "start-debug", onclick: launch(true) }, "Debug") : null;
  show(h("h1", {}, workflow.name, " ", h("small", {}, workflow.id)),
    h("p", {}, workflow.description || ""),
    h("div", { class: "actions" }, start, startDebug),
    h("p", { class: "facts" },
      `${workflow.stepCount} steps in ${plan.stages.length} stages · critical path ${plan.criticalPath.join(" → ")} · estimated ${secs(plan.estimatedSeconds)} (serial ${secs(plan.serialSeconds)}, score ${plan.optimizationScore.toFixed(2)})`),
    dag(plan, {}),
    triggers.triggers.length ? [h("h2", {}, "Triggers"), triggersTable(id, triggers.triggers)] : null,
    h("h2", {}, "Learning"), h("div", { id: "learning" }, "…"),
    h("h2", {}, "Recent executions"),
    executionsTable(recent.items));
  learningSection(id, recent.items);
}

// ---- learning ----------------------------------------------------------------------------------

function pct(x) { return x === undefined || x === null ? "–" : (x * 100).toFixed(1) + "%"; }
function secs(x) { return x === undefined || x === null ? "–" : seconds(x * 1000); }

/** What the learning engine learned about a workflow: success rate, duration trend, per-step
 * figures, and its suggestions with their evidence (admins can apply one). */
async function learningSection(id, recent) {
  const box = document.getElementById("learning");
  let pattern, suggestions;
  try {
    [pattern, suggestions] = await Promise.all([
      call("GET", "/learning/patterns/" + encodeURIComponent(id)),
      call("GET", "/learning/suggestions/" + encodeURIComponent(id)),
    ]);
  } catch (error) { box.replaceChildren(h("p", { class: "facts" }, error.message)); return; }
  if (pattern.executionsNeeded > 0) {
    box.replaceChildren(h("p", { class: "facts", id: "learning-needed" },
      `${pattern.executions} execution${pattern.executions === 1 ? "" : "s"} so far; a pattern needs ${pattern.minimumExecutions} (${pattern.executionsNeeded} more).`),
      suggestionList(id, suggestions.suggestions));
    return;
  }
  const d = pattern.duration || {};
  const steps = h("table", { id: "patterns" },
    h("thead", {}, h("tr", {}, ["Step", "Runs", "Success", "1st attempt fails", "Retry rescues", "Timeouts", "p50", "p95", "Regression"].map(t => h("th", {}, t)))),
    h("tbody", {}, pattern.steps.map(s => h("tr", { "data-step": s.stepID },
      h("td", {}, s.stepID), h("td", { class: "num" }, s.runs), h("td", { class: "num" }, pct(s.successRate)),
      h("td", { class: "num" }, pct(s.firstAttemptFailureRate)), h("td", { class: "num" }, pct(s.retryRecoveryRate)),
      h("td", { class: "num" }, pct(s.timeoutRate)), h("td", { class: "num" }, secs(s.duration && s.duration.p50)),
      h("td", { class: "num" }, secs(s.duration && s.duration.p95)),
      h("td", {}, s.regression ? `${s.regression.ratio.toFixed(1)}× slower over the last ${s.regression.recentRuns} runs` : "")))));
  box.replaceChildren(
    h("p", { class: "facts", id: "learning-summary" },
      `${pattern.executions} executions · success rate ${pct(pattern.successRate)} · duration p50 ${secs(d.p50)}, p95 ${secs(d.p95)}, p99 ${secs(d.p99)} (moving average ${secs(d.ewma)})`),
    trend(recent), steps,
    pattern.commonFailures.length ? h("p", { class: "facts" }, "Common failures: " + pattern.commonFailures.map(f => `${f.count}× ${f.signature}`).join(" · ")) : null,
    h("h3", {}, "Suggestions"), suggestionList(id, suggestions.suggestions));
}

/** Durations of the recent executions, oldest left: a sparkline, failed ones in red. */
function trend(items) {
  const done = items.filter(e => e.finishedAt).slice().reverse();
  if (done.length < 2) return null;
  const width = 480, height = 60, max = Math.max(...done.map(e => e.metrics.totalDurationMs), 1);
  const x = (i) => 8 + i * (width - 16) / (done.length - 1), y = (ms) => height - 6 - (height - 12) * ms / max;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("id", "trend"); svg.setAttribute("width", width); svg.setAttribute("height", height);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", done.map((e, i) => `${x(i)},${y(e.metrics.totalDurationMs)}`).join(" "));
  line.setAttribute("class", "trend-line");
  svg.appendChild(line);
  done.forEach((e, i) => {
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", x(i)); dot.setAttribute("cy", y(e.metrics.totalDurationMs)); dot.setAttribute("r", 3);
    dot.setAttribute("class", "trend-dot " + e.status);
    svg.appendChild(dot);
  });
  return h("div", { class: "trend" }, svg, h("small", { class: "facts" }, ` last ${done.length} executions, up to ${seconds(max)}`));
}

function suggestionList(workflowID, list) {
  if (!list.length) return h("p", { class: "facts", id: "no-suggestions" }, "No suggestions.");
  return h("ul", { id: "suggestions" }, list.map(s => h("li", { "data-suggestion": s.id, class: "suggestion " + s.priority },
    h("strong", {}, s.kind), " ", s.step ? h("code", {}, s.step) : "",
    ` · confidence ${s.confidence.toFixed(2)} · impact ${s.expectedImpact.toFixed(1)}% · ${s.priority}`,
    s.semanticChange ? h("span", { class: "error" }, " · changes what the workflow does") : "",
    h("div", {}, s.description),
    h("details", {}, h("summary", {}, "evidence and patch"),
      h("pre", { class: "evidence" }, JSON.stringify(s.evidence, null, 2) + "\n" + s.patch.map(p => JSON.stringify(p)).join("\n"))),
    state.role === "admin" ? h("button", { class: "apply", onclick: async () => {
      try {
        const record = await call("POST", "/learning/suggestions/" + encodeURIComponent(workflowID) + "/apply", { id: s.id });
        await route();
        flash(`Applied ${record.suggestionID}: now version ${record.afterVersion.slice(0, 12)}`);
      } catch (error) { flash(error.message); }
    } }, "Apply") : null)));
}

/** A workflow's triggers with their state; operators can switch each off and on. */
function triggersTable(workflowID, triggers) {
  const toggle = (t) => canOperate() ? h("button", { class: "toggle", onclick: async () => {
    try {
      await call("POST", `/workflows/${encodeURIComponent(workflowID)}/triggers/${encodeURIComponent(t.id)}/${t.enabled ? "disable" : "enable"}`);
      route();
    } catch (error) { flash(error.message); }
  } }, t.enabled ? "Disable" : "Enable") : null;
  const what = (t) => t.schedule ? `${t.schedule} (${t.timezone})` : t.event || t.source || "";
  return h("table", { id: "triggers" },
    h("thead", {}, h("tr", {}, ["Trigger", "Type", "On", "Fired", "Last fired", "Next", "Last error", ""].map(x => h("th", {}, x)))),
    h("tbody", {}, triggers.map(t => h("tr", { "data-trigger": t.id, "data-enabled": String(t.enabled) },
      h("td", {}, t.id, h("br"), h("small", {}, what(t))), h("td", {}, t.type), h("td", {}, t.enabled ? "yes" : "no"),
      h("td", { class: "num" }, t.fireCount), h("td", {}, when(t.lastFiredAt)), h("td", {}, when(t.nextFireAt)),
      h("td", { class: "error" }, t.lastError || ""), h("td", {}, toggle(t))))));
}

// ---- the DAG -------------------------------------------------------------------------------------

/** Draws the plan's steps as a graph: stages left to right, edges, the critical path highlighted.
 *  `statuses` maps step id to its status, for the live colours of an execution. */
function dag(plan, statuses) {
  const W = 170, H = 38, GX = 70, GY = 22, PAD = 16;
  const pos = {};
  let rows = 0;
  plan.stages.forEach((stage, col) => {
    stage.steps.forEach((id, row) => { pos[id] = { x: PAD + col * (W + GX), y: PAD + row * (H + GY) }; });
    rows = Math.max(rows, stage.steps.length);
  });
  const width = PAD * 2 + plan.stages.length * (W + GX) - GX;
  const height = PAD * 2 + rows * (H + GY) - GY;
  const critical = new Set(plan.criticalPath);
  const criticalEdges = new Set(plan.criticalPath.slice(1).map((s, i) => plan.criticalPath[i] + ">" + s));
  const edges = [];
  for (const step of plan.steps) {
    for (const dep of step.dependencies) {
      const a = pos[dep], b = pos[step.id];
      if (!a || !b) continue;
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
      const onPath = criticalEdges.has(dep + ">" + step.id);
      edges.push(h("path", { class: "edge" + (onPath ? " critical" : ""), "data-from": dep, "data-to": step.id,
        d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, "marker-end": "url(#arrow)" }));
    }
  }
  const nodes = plan.steps.map(step => {
    const p = pos[step.id];
    const status = statuses[step.id] || "";
    return h("g", { class: "node " + status + (critical.has(step.id) ? " critical" : ""), "data-step": step.id, "data-status": status,
      transform: `translate(${p.x},${p.y})` },
      h("title", {}, `${step.id}${status ? " — " + status : ""}; estimate ${secs(step.estimateSeconds)}`),
      h("rect", { width: W, height: H, rx: 6 }),
      h("text", { x: 10, y: H / 2 + 5 }, step.id.length > 20 ? step.id.slice(0, 19) + "…" : step.id));
  });
  return h("div", { class: "dag-scroll" },
    h("svg", { id: "dag", width, height, viewBox: `0 0 ${width} ${height}` },
      h("defs", {}, h("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
        h("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }))),
      h("g", {}, edges), h("g", {}, nodes)));
}

// ---- executions ----------------------------------------------------------------------------------

function executionsTable(items) {
  if (!items.length) return h("p", { class: "empty" }, "No executions.");
  return h("table", { class: "executions" },
    h("thead", {}, h("tr", {}, ["Execution", "Workflow", "Status", "Started", "Duration", "Steps"].map(t => h("th", {}, t)))),
    h("tbody", {}, items.map(e => h("tr", { "data-execution": e.id },
      h("td", {}, h("a", { href: "#/executions/" + encodeURIComponent(e.id) }, e.id)),
      h("td", {}, h("a", { href: "#/workflows/" + encodeURIComponent(e.workflowID) }, e.workflowID)),
      h("td", {}, badge(e.status)), h("td", {}, when(e.startedAt)), h("td", { class: "num" }, seconds(e.metrics.totalDurationMs)),
      h("td", { class: "num" }, `${e.metrics.successfulSteps}/${e.metrics.stepCount}`)))));
}

async function executionsPage(params) {
  const offset = Number(params.get("offset") || 0);
  const query = new URLSearchParams({ limit: 50, offset });
  if (params.get("workflow")) query.set("workflow", params.get("workflow"));
  if (params.get("status")) query.set("status", params.get("status"));
  const [page, workflows] = await Promise.all([call("GET", "/executions?" + query), call("GET", "/workflows?limit=1000")]);
  const go = (changes) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) { if (v) next.set(k, v); else next.delete(k); }
    location.hash = "#/executions?" + next;
  };
  const workflowFilter = h("select", { id: "filter-workflow", onchange: (e) => go({ workflow: e.target.value, offset: "" }) },
    h("option", { value: "" }, "all workflows"),
    workflows.items.map(w => h("option", { value: w.id, selected: params.get("workflow") === w.id }, w.id)));
  const statusFilter = h("select", { id: "filter-status", onchange: (e) => go({ status: e.target.value, offset: "" }) },
    h("option", { value: "" }, "any status"),
    ["pending", "running", "paused", "completed", "failed", "cancelled"].map(s => h("option", { value: s, selected: params.get("status") === s }, s)));
  const pager = h("p", { class: "pager" },
    offset > 0 ? h("button", { onclick: () => go({ offset: String(Math.max(0, offset - 50)) }) }, "← newer") : null, " ",
    typeof page.nextOffset === "number" ? h("button", { onclick: () => go({ offset: String(page.nextOffset) }) }, "older →") : null);
  show(h("h1", {}, "Executions"), h("p", { class: "filters" }, workflowFilter, " ", statusFilter), executionsTable(page.items), pager);
}

async function executionPage(id) {
  const execution = await call("GET", "/executions/" + encodeURIComponent(id));
  let plan = null;
  try { plan = await call("GET", "/workflows/" + encodeURIComponent(execution.workflowID) + "/plan"); } catch (_) { /* unregistered since */ }
  const view = { id, execution, plan, selected: null };
  renderExecution(view);
  await refreshAttempts(view);
  if (!["completed", "failed", "cancelled"].includes(execution.status)) follow(view);
}

function statusMap(execution) {
  const out = {};
  for (const s of execution.steps) if (!s.id.endsWith(".rollback")) out[s.id] = s.status;
  return out;
}

function renderExecution(view) {
  const e = view.execution;
  const act = (name, label, enabled) => canOperate() && enabled
    ? h("button", { id: name, onclick: () => operate(view, name) }, label) : null;
  const running = e.status === "running" || e.status === "pending";
  const stepping = e.debug && e.status === "paused";
  const buttons = h("div", { class: "actions", id: "actions" },
    act("pause", "Pause", running),
    act("resume", "Resume", e.status === "paused" && !stepping),
    canOperate() && stepping
      ? h("button", { id: "step", "data-step": e.pausedBefore || "", onclick: () => operate(view, "resume") }, "Step" + (e.pausedBefore ? " (run " + e.pausedBefore + ")" : ""))
      : null,
    act("cancel", "Cancel", running || e.status === "paused"),
    act("retry", "Retry", e.status === "failed" || e.status === "cancelled"));
  const steps = h("table", { id: "steps" },
    h("thead", {}, h("tr", {}, ["Step", "Status", "Attempts", "Duration", "Detail"].map(t => h("th", {}, t)))),
    h("tbody", {}, e.steps.map(s => h("tr", { "data-step": s.id, class: view.selected === s.id ? "selected" : "", onclick: () => selectStep(view, s.id) },
      h("td", {}, s.id), h("td", {}, badge(s.status)), h("td", { class: "num" }, s.attempts),
      h("td", { class: "num" }, seconds(s.durationMs)),
      h("td", {}, s.waitingFor ? waiting(view, s)
        : s.items ? h("span", { class: "items", "data-items": s.id }, itemsText(s.items), s.error ? " · " + s.error : "")
        : s.childExecutionID ? h("span", {}, h("a", { class: "child", "data-child": s.childExecutionID, href: "#/executions/" + encodeURIComponent(s.childExecutionID),
            onclick: (event) => event.stopPropagation() }, "child " + s.childExecutionID), s.error ? " · " + s.error : "")
        : s.error || s.skipReason || (s.cached ? "cached" : ""))))));
  const items = view.items ? itemsTable(view) : null;
  show(
    h("h1", {}, "Execution ", h("small", { id: "execution-id" }, e.id)),
    h("p", { class: "facts" }, "Workflow ", h("a", { href: "#/workflows/" + encodeURIComponent(e.workflowID) }, e.workflowID), " · ",
      h("span", { id: "execution-status" }, badge(e.status)), " · started ", when(e.startedAt),
      e.finishedAt ? " · took " + seconds(e.metrics.totalDurationMs) : "",
      e.estimatedCompletion ? h("span", { id: "eta", "data-at": e.estimatedCompletion }, " · expected to end " + when(e.estimatedCompletion)) : "",
      e.parent ? h("span", { id: "parent" }, " · child of ", h("a", { href: "#/executions/" + encodeURIComponent(e.parent.executionID) }, e.parent.executionID),
        " (step " + e.parent.stepID + ")") : "",
      e.concurrencyKey ? h("span", { id: "concurrency" }, e.status === "pending" ? " · waiting for its turn on concurrency key " : " · concurrency key ",
        h("code", {}, e.concurrencyKey)) : "",
      e.error ? h("span", { class: "error" }, " · " + e.error) : ""),
    buttons,
    view.plan ? dag(view.plan, statusMap(e)) : h("p", {}, "The workflow is no longer registered; its graph is not available."),
    h("h2", {}, "Timeline"), h("div", { id: "gantt" }, view.gantt || ""),
    h("h2", {}, "Steps"), steps,
    items ? h("h2", {}, "Items of ", h("small", { id: "items-step" }, view.items.step)) : "", items || "",
    h("h2", {}, "Log ", h("small", { id: "log-step" }, view.selected || "(select a step)")),
    h("pre", { id: "log" }, view.log || ""));
}

async function operate(view, name) {
  try {
    const result = await call("POST", "/executions/" + encodeURIComponent(view.id) + "/" + name);
    if (name === "retry") { location.hash = "#/executions/" + encodeURIComponent(result.id); return; }
    view.execution = result;
    renderExecution(view);
    if (!state.stream && !["completed", "failed", "cancelled"].includes(result.status)) follow(view);
  } catch (error) { flash(error.message); }
}

/** What a waiting step waits for; an approval gets Approve and Reject buttons for operators, and a
 * step waiting for a decision or a signal a Callback button: a single-use URL for an outside system. */
function waiting(view, s) {
  const text = "waiting for " + s.waitingFor.replace(/^signal:/, "signal ").replace(/^concurrency:/, "a slot of concurrency key ");
  const outside = s.waitingFor === "approval" || s.waitingFor.startsWith("signal:");
  // Kept in the view: the page is redrawn as events come, and what was typed or given must survive it.
  view.comments = view.comments || {};
  view.callbacks = view.callbacks || {};
  const mint = async (event) => {
    event.stopPropagation();
    try {
      const grant = await call("POST", "/executions/" + encodeURIComponent(view.id) + "/steps/" + encodeURIComponent(s.id) + "/callback");
      view.callbacks[s.id] = location.origin + grant.path;
      renderExecution(view);
    } catch (error) { flash(error.message); }
  };
  const callback = !outside || !canOperate() ? null : view.callbacks[s.id]
    ? h("input", { class: "callback-url", readonly: "readonly", value: view.callbacks[s.id], title: "works once, for 7 days; shown only now",
        onclick: (event) => { event.stopPropagation(); event.target.select(); } })
    : h("button", { class: "callback", onclick: mint, title: "a single-use URL for an outside system, with no API token" }, "Callback URL");
  if (s.waitingFor !== "approval") return h("span", { class: "waiting", "data-waiting": s.id }, h("span", { class: "what" }, text), callback ? " " : "", callback);
  const note = h("input", { class: "comment", placeholder: "comment (optional)", value: view.comments[s.id] || "",
    onclick: (event) => event.stopPropagation(), oninput: (event) => { view.comments[s.id] = event.target.value; } });
  const decide = (verb) => async (event) => {
    event.stopPropagation();
    const comment = (view.comments[s.id] || "").trim();
    try {
      await call("POST", "/executions/" + encodeURIComponent(view.id) + "/steps/" + encodeURIComponent(s.id) + "/" + verb, comment ? { comment } : {});
      view.execution = await call("GET", "/executions/" + encodeURIComponent(view.id));
      renderExecution(view);
    } catch (error) { flash(error.message); }
  };
  return h("span", { class: "waiting", "data-waiting": s.id }, "waiting for approval ",
    canOperate() ? note : null,
    canOperate() ? h("button", { class: "approve", onclick: decide("approve") }, "Approve") : null,
    canOperate() ? h("button", { class: "reject", onclick: decide("reject") }, "Reject") : null,
    callback);
}

/** `12 items: 10 succeeded, 1 failed, 1 running` */
function itemsText(c) {
  const parts = [["succeeded", c.succeeded], ["failed", c.failed], ["cancelled", c.cancelled], ["running", c.running], ["pending", c.pending]]
    .filter(([, n]) => n > 0).map(([name, n]) => n + " " + name);
  return c.total + (c.total === 1 ? " item" : " items") + (parts.length ? ": " + parts.join(", ") : "");
}

/** The items of the forEach step last opened; a click opens an item's log. */
function itemsTable(view) {
  return h("table", { id: "items" },
    h("thead", {}, h("tr", {}, ["Item", "Status", "Attempts", "Duration", "Detail"].map(t => h("th", {}, t)))),
    h("tbody", {}, view.items.list.map(s => h("tr", { "data-step": s.id, "data-status": s.status, class: view.selected === s.id ? "selected" : "",
      onclick: () => selectStep(view, s.id) },
      h("td", {}, s.id), h("td", {}, badge(s.status)), h("td", { class: "num" }, s.attempts),
      h("td", { class: "num" }, seconds(s.durationMs)), h("td", {}, s.error || (s.cached ? "cached" : ""))))));
}

async function selectStep(view, stepID) {
  view.selected = stepID;
  const step = view.execution.steps.find(s => s.id === stepID);
  if (step && step.items) {
    try {
      const data = await call("GET", "/executions/" + encodeURIComponent(view.id) + "/steps/" + encodeURIComponent(stepID) + "/items");
      view.items = { step: stepID, list: data.items };
    } catch (error) { flash(error.message); }
  }
  try {
    const logs = await call("GET", "/executions/" + encodeURIComponent(view.id) + "/logs?step=" + encodeURIComponent(stepID));
    view.log = logs.steps.map(s => s.log).join("\n") || "(no output)";
  } catch (error) { view.log = error.message; }
  renderExecution(view);
}

async function refreshAttempts(view) {
  try {
    const data = await call("GET", "/executions/" + encodeURIComponent(view.id) + "/attempts");
    view.gantt = gantt(data.attempts, view.execution);
    const box = document.getElementById("gantt");
    if (box) box.replaceChildren(view.gantt);
  } catch (_) { /* the timeline is optional */ }
}

/** A Gantt chart of attempts: a row per step, a bar per attempt, coloured by its outcome. */
function gantt(attempts, execution) {
  if (!attempts.length) return h("p", { class: "empty" }, "No attempts yet.");
  // A forEach step's items share its row.
  const row = (id) => id.replace(/\[\d+\]$/, "");
  const steps = [...new Set(attempts.map(a => row(a.stepID)))];
  const t0 = Math.min(...attempts.map(a => Date.parse(a.startedAt)));
  const now = Date.now();
  const end = Math.max(...attempts.map(a => a.finishedAt ? Date.parse(a.finishedAt) : now), t0 + 1);
  const LABEL = 150, W = 640, ROW = 22;
  const x = (t) => LABEL + (t - t0) / (end - t0) * W;
  const bars = attempts.map(a => {
    const s = Date.parse(a.startedAt), f = a.finishedAt ? Date.parse(a.finishedAt) : now;
    const at = steps.indexOf(row(a.stepID));
    return h("rect", { class: "bar " + a.status, "data-step": a.stepID, "data-attempt": a.attempt, x: x(s), y: at * ROW + 4,
      width: Math.max(2, x(f) - x(s)), height: ROW - 8 },
      h("title", {}, `${a.stepID} attempt ${a.attempt}: ${a.status}, ${seconds(f - s)}${a.error ? " — " + a.error : ""}`));
  });
  const labels = steps.map((s, i) => h("text", { x: 4, y: i * ROW + ROW / 2 + 4 }, s.length > 20 ? s.slice(0, 19) + "…" : s));
  const height = steps.length * ROW + 18;
  return h("svg", { id: "gantt-chart", width: LABEL + W + 10, height },
    labels, bars,
    h("line", { x1: LABEL, x2: LABEL + W, y1: height - 14, y2: height - 14, class: "axis" }),
    h("text", { x: LABEL, y: height - 2, class: "tick" }, "0"),
    h("text", { x: LABEL + W - 50, y: height - 2, class: "tick" }, seconds(end - t0)));
}

/** Follows the execution's Server-Sent Events (read with fetch, so the token goes in a header). */
async function follow(view) {
  const controller = new AbortController();
  state.stream = controller;
  let pending = null;
  const refresh = () => {
    if (pending) return;
    pending = setTimeout(async () => {
      pending = null;
      // The page may have moved on meanwhile: a late event must not draw this execution over it.
      const here = () => location.hash === "#/executions/" + encodeURIComponent(view.id);
      if (!here()) return;
      try { view.execution = await call("GET", "/executions/" + encodeURIComponent(view.id)); } catch (_) { return; }
      if (view.items) {
        const path = "/executions/" + encodeURIComponent(view.id) + "/steps/" + encodeURIComponent(view.items.step) + "/items";
        try { view.items.list = (await call("GET", path)).items; } catch (_) { /* drawn as it was */ }
      }
      if (!here()) return;
      renderExecution(view);
      refreshAttempts(view);
    }, 100);
  };
  try {
    const response = await fetch(api + "/executions/" + encodeURIComponent(view.id) + "/events", { headers: headers(), signal: controller.signal });
    if (!response.ok) return;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = (block.match(/^event: (.*)$/m) || [])[1];
        const data = (block.match(/^data: (.*)$/m) || [])[1];
        if (!event || !data) continue;
        applyEvent(view, event, JSON.parse(data));
        refresh();
      }
    }
  } catch (_) { /* aborted on navigation */ }
  if (state.stream === controller) state.stream = null;
  refresh();
}

/** Colours the graph at once on each event; the tables follow with the refresh. */
function applyEvent(view, event, data) {
  let step = null, status = null;
  if (event === "stepStarted") { step = data.stepID; status = "running"; }
  if (event === "stepFinished" && data.step) { step = data.step.id; status = data.step.status; }
  if (step) {
    const node = document.querySelector(`#dag g.node[data-step="${CSS.escape(step)}"]`);
    if (node) {
      node.setAttribute("data-status", status);
      node.setAttribute("class", node.getAttribute("class").replace(/\b(pending|running|success|failed|skipped|cancelled)\b/g, "").trim() + " " + status);
    }
  }
  if (event === "executionFinished" || event === "executionPaused" || event === "executionResumed") {
    const s = event === "executionPaused" ? "paused" : event === "executionResumed" ? "running" : data.execution && data.execution.status;
    const box = document.getElementById("execution-status");
    if (s && box) box.replaceChildren(badge(s));
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);
