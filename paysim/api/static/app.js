// The live page: pick an example scenario, run it through the API and watch it over the
// WebSocket (summaries only: a slow tab skips to the latest tick), ending on the run summary.
// Plain JavaScript, no build step, nothing loaded from the network.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { token: "", simId: null, socket: null, history: [], opening: {} };

function money(cents) {
  return (cents / 100).toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function pct(rate) {
  return (100 * rate).toFixed(1) + "%";
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

async function api(method, path, body) {
  const headers = {};
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const message = data && data.error ? data.error.message : response.statusText;
    throw new Error(message);
  }
  return data;
}

async function loadExample(name) {
  const example = await api("GET", "/api/scenarios/" + encodeURIComponent(name));
  $("yaml").value = example.text;
  $("description").textContent = example.description || "";
}

function buildAgents(ids) {
  const body = $("agents").querySelector("tbody");
  body.replaceChildren();
  for (const id of ids) {
    const row = document.createElement("tr");
    row.dataset.agent = id;
    cell(row, id);
    cell(row, "", "num balance");
    const barCell = cell(row, "", "bar-col");
    const bar = document.createElement("div");
    bar.className = "bar";
    barCell.appendChild(bar);
    cell(row, "0", "num q1");
    cell(row, "0", "num q2");
    cell(row, "0.00", "num cost");
    body.appendChild(row);
  }
}

function updateAgents(agents) {
  const values = Object.values(agents).map((a) => Math.abs(a.balance));
  const scale = Math.max(1, ...values, ...Object.values(state.opening));
  for (const row of $("agents").querySelectorAll("tbody tr")) {
    const a = agents[row.dataset.agent];
    if (!a) continue;
    row.querySelector(".balance").textContent = money(a.balance);
    row.querySelector(".q1").textContent = a.q1;
    row.querySelector(".q2").textContent = a.q2;
    row.querySelector(".cost").textContent = money(a.cost);
    const bar = row.querySelector(".bar");
    bar.style.width = (100 * Math.abs(a.balance)) / scale + "%";
    bar.classList.toggle("negative", a.balance < 0);
  }
}

function updateTotals(totals) {
  const box = $("totals");
  box.replaceChildren();
  const items = [
    ["arrivals", totals.arrivals],
    ["settled", totals.settled + " (" + pct(totals.settlement_rate) + ")"],
    ["unsettled", totals.unsettled],
    ["by the LSM", totals.lsm_settled],
    ["total cost", money(totals.total_cost)],
  ];
  for (const [label, value] of items) {
    const span = document.createElement("span");
    span.append(label + " ");
    const b = document.createElement("b");
    b.textContent = value;
    span.appendChild(b);
    box.appendChild(span);
  }
}

function drawChart(total) {
  const canvas = $("chart");
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 8;
  ctx.clearRect(0, 0, w, h);
  const points = state.history;
  if (points.length < 2) return;
  const maxQ = Math.max(1, ...points.map((p) => p.q));
  const maxC = Math.max(1, ...points.map((p) => p.cost));
  const x = (t) => pad + ((w - 2 * pad) * t) / Math.max(1, total - 1);
  ctx.fillStyle = "rgba(36, 99, 183, 0.25)";
  ctx.strokeStyle = "#2463b7";
  ctx.beginPath();
  ctx.moveTo(x(points[0].tick), h - pad);
  for (const p of points) ctx.lineTo(x(p.tick), h - pad - ((h - 2 * pad) * p.q) / maxQ);
  ctx.lineTo(x(points[points.length - 1].tick), h - pad);
  ctx.closePath();
  ctx.fill();
  ctx.strokeStyle = "#d68a1c";
  ctx.lineWidth = 2;
  ctx.beginPath();
  points.forEach((p, i) => {
    const y = h - pad - ((h - 2 * pad) * p.cost) / maxC;
    if (i === 0) ctx.moveTo(x(p.tick), y);
    else ctx.lineTo(x(p.tick), y);
  });
  ctx.stroke();
  ctx.lineWidth = 1;
}

function onTick(message) {
  const done = message.current_tick;
  $("progress").max = message.total_ticks;
  $("progress").value = done;
  $("status").textContent = "tick " + done + " / " + message.total_ticks + " · day " + (message.day + 1);
  updateAgents(message.agents);
  updateTotals(message.totals);
  let queued = 0;
  for (const a of Object.values(message.agents)) queued += a.q2;
  state.history.push({ tick: message.tick, q: queued, cost: message.totals.total_cost });
  drawChart(message.total_ticks);
}

function showSummary(summary) {
  const totals = summary.totals;
  const list = $("summary-totals");
  list.replaceChildren();
  const rows = [
    ["arrivals", totals.arrivals, String(totals.arrivals)],
    ["settled", totals.settled, totals.settled + " (" + pct(totals.settlement_rate) + ")"],
    ["settled_value", totals.settled_value, money(totals.settled_value)],
    ["unsettled", totals.unsettled, String(totals.unsettled)],
    ["dropped", totals.dropped, String(totals.dropped)],
    ["overdue", totals.overdue, String(totals.overdue)],
    ["lsm_settled", totals.lsm_settled, String(totals.lsm_settled)],
    ["total_cost", totals.total_cost, money(totals.total_cost)],
  ];
  for (const [key, value, shown] of rows) {
    const div = document.createElement("div");
    const dt = document.createElement("dt");
    dt.textContent = key.replace("_", " ");
    const dd = document.createElement("dd");
    dd.dataset.key = key;
    dd.dataset.value = value;
    dd.textContent = shown;
    div.append(dt, dd);
    list.appendChild(div);
  }
  const body = $("summary-agents").querySelector("tbody");
  body.replaceChildren();
  for (const [id, a] of Object.entries(summary.agents)) {
    const row = document.createElement("tr");
    row.dataset.agent = id;
    cell(row, id);
    for (const v of [a.opening_balance, a.final_balance, a.min_balance]) cell(row, money(v), "num");
    for (const v of [a.sent, a.settled_sent, a.received]) cell(row, String(v), "num");
    const cost = cell(row, money(a.costs.total), "num");
    cost.dataset.value = a.costs.total;
    body.appendChild(row);
  }
  $("summary").hidden = false;
  $("summary").dataset.state = "done";
  $("status").textContent =
    "done: " + summary.ticks + " ticks, " + totals.settled + " of " + totals.arrivals + " payments settled";
  $("progress").value = $("progress").max;
}

function socketUrl(id) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  let url = scheme + "//" + location.host + "/ws/simulations/" + id + "?events=false";
  if (state.token) url += "&token=" + encodeURIComponent(state.token);
  return url;
}

async function run() {
  showError("");
  $("run").disabled = true;
  $("summary").hidden = true;
  delete $("summary").dataset.state;
  state.history = [];
  drawChart(1);
  try {
    if (state.simId) {
      const old = state.simId;
      state.simId = null;
      await api("DELETE", "/api/simulations/" + old).catch(() => {});
    }
    const request = { scenario: $("yaml").value };
    const seed = $("seed").value.trim();
    if (seed !== "") request.seed = Number(seed);
    const sim = await api("POST", "/api/simulations", request);
    state.simId = sim.id;
    buildAgents(sim.agents);
    const agents = await api("GET", "/api/simulations/" + sim.id + "/agents");
    state.opening = {};
    const snapshot = {};
    for (const [id, a] of Object.entries(agents)) {
      state.opening[id] = Math.abs(a.opening_balance);
      snapshot[id] = { balance: a.balance, q1: a.q1_count, q2: a.q2_count, cost: a.costs.total };
    }
    updateAgents(snapshot);
    $("status").textContent = "tick 0 / " + sim.total_ticks;
    watch(sim.id, Number($("delay").value));
  } catch (err) {
    showError(err.message);
    $("run").disabled = false;
  }
}

function watch(id, delay) {
  const socket = new WebSocket(socketUrl(id));
  state.socket = socket;
  socket.onmessage = async (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "hello") {
      try {
        await api("POST", "/api/simulations/" + id + "/run", { wait: false, tick_delay_ms: delay });
      } catch (err) {
        showError(err.message);
        $("run").disabled = false;
      }
    } else if (message.type === "tick") {
      onTick(message);
    } else if (message.type === "error") {
      showError(message.error.message);
    } else if (message.type === "done") {
      showSummary(message.summary);
      $("run").disabled = false;
    }
  };
  socket.onclose = (event) => {
    if (event.code !== 1000) {
      showError("the live stream closed (" + event.code + "): " + (event.reason || "connection lost"));
    }
    $("run").disabled = false;
  };
}

async function loadCatalog() {
  showError("");
  try {
    const info = await api("GET", "/api/info");
    $("token-row").hidden = !info.token_required;
    const examples = await api("GET", "/api/scenarios");
    const select = $("example");
    select.replaceChildren();
    for (const ex of examples) {
      const option = document.createElement("option");
      option.value = ex.name;
      option.textContent = ex.name + (ex.description ? " — " + ex.description : "");
      select.appendChild(option);
    }
    if (examples.some((ex) => ex.name === "demo")) select.value = "demo";
    if (select.value) await loadExample(select.value);
    $("run").disabled = false;
  } catch (err) {
    $("token-row").hidden = false;
    showError(err.message + (state.token ? "" : " — enter the server's token"));
  }
}

function init() {
  const params = new URLSearchParams(location.hash.slice(1));
  state.token = params.get("token") || sessionStorage.getItem("paysim-token") || "";
  $("token").value = state.token;
  $("token").addEventListener("change", () => {
    state.token = $("token").value;
    sessionStorage.setItem("paysim-token", state.token);
    loadCatalog();
  });
  $("delay").addEventListener("input", () => {
    $("delay-label").textContent = $("delay").value + " ms per tick";
  });
  $("run").addEventListener("click", run);
  $("example").addEventListener("change", () => loadExample($("example").value).catch((e) => showError(e.message)));
  loadCatalog();
}

init();
