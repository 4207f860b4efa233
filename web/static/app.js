// swarm's page: plain JavaScript, no build step, nothing from the Internet. It reads the
// daemon's Server-Sent Events stream and redraws; actions go through the JSON API with the
// X-Swarm-Request header that the daemon wants on every call that changes state.
"use strict";

const $ = (sel) => document.querySelector(sel);
const HISTORY = 300; // seconds of rate history kept for the chart

const state = {
  es: null,           // the EventSource
  current: null,      // info-hash shown in the detail view, or null for the list
  history: new Map(), // info-hash -> [{t, down, up}]
  torrents: [],
};

function fmtBytes(n) {
  if (!isFinite(n) || n <= 0) return "0 B";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(n < 10 ? 2 : 1)) + " " + u[i];
}
const fmtRate = (n) => (n > 0 ? fmtBytes(n) + "/s" : "–");
function fmtETA(s) {
  if (s < 0) return "∞";
  if (s === 0) return "done";
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${sec}s` : `${sec}s`;
}
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const k of kids) e.append(k);
  return e;
}

async function api(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: {} };
  if (method !== "GET") opts.headers["X-Swarm-Request"] = "1";
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  const r = await fetch("/api/v1" + path, opts);
  if (r.status === 401) { showLogin(); throw new Error("not logged in"); }
  const text = await r.text();
  const data = text ? JSON.parse(text) : null;
  if (!r.ok) throw new Error((data && data.error) || r.statusText);
  return data;
}

function showLogin() { $("#login").hidden = false; $("#app").hidden = true; }

// --- the stream -------------------------------------------------------------------------

function connect() {
  if (state.es) state.es.close();
  const q = state.current ? "?torrent=" + state.current : "";
  const es = new EventSource("/api/v1/events" + q);
  state.es = es;
  es.addEventListener("open", () => $("#conn").classList.add("live"));
  es.addEventListener("error", () => {
    $("#conn").classList.remove("live");
    // A refused stream (401) never opens: ask the API why, once.
    if (es.readyState === EventSource.CLOSED) api("GET", "/stats").then(() => setTimeout(connect, 2000), () => {});
  });
  es.addEventListener("torrents", (ev) => onOverview(JSON.parse(ev.data)));
  es.addEventListener("torrent", (ev) => onDetail(JSON.parse(ev.data)));
  es.addEventListener("gone", () => { location.hash = "#/"; });
}

function onOverview(o) {
  $("#login").hidden = true;
  $("#app").hidden = false;
  state.torrents = o.torrents;
  const t = o.totals;
  $("#totals").textContent = `${t.torrents} torrents · ↓ ${fmtRate(t.down_rate)} · ↑ ${fmtRate(t.up_rate)} · ${t.peers} peers`;
  const now = Date.parse(o.time) / 1000;
  for (const s of o.torrents) record(s.info_hash, now, s.down_rate, s.up_rate);
  if (!state.current) renderList(o.torrents);
}

function record(ih, t, down, up) {
  let h = state.history.get(ih);
  if (!h) { h = []; state.history.set(ih, h); }
  if (h.length && t - h[h.length - 1].t < 0.5) return; // several events in one second
  h.push({ t, down, up });
  while (h.length && t - h[0].t > HISTORY) h.shift();
}

// --- the list ---------------------------------------------------------------------------

function renderList(list) {
  const tb = $("#torrents tbody");
  $("#empty").hidden = list.length > 0;
  const rows = list.map((s) => {
    const bar = el("div", { class: "bar" }, el("span"), el("em", { text: (s.progress * 100).toFixed(1) + "%" }));
    bar.firstChild.style.width = (s.progress * 100).toFixed(2) + "%";
    const paused = s.state === "paused" || s.state === "finished";
    const toggle = el("button", { type: "button", text: paused ? "Resume" : "Pause" });
    toggle.onclick = () => act(s.info_hash, paused ? "resume" : "pause");
    const rm = el("button", { type: "button", class: "danger", text: "✕", title: "remove (keeps the data)" });
    rm.onclick = () => remove(s.info_hash, s.name, false);
    return el("tr", { "data-ih": s.info_hash },
      el("td", { class: "name" }, el("a", { href: "#/t/" + s.info_hash, text: s.name || s.info_hash }),
        s.error ? el("span", { class: "reason", text: s.error }) : "",
        s.metadata ? el("span", { class: "reason", text: metaText(s.metadata) }) : ""),
      el("td", {}, bar),
      el("td", {}, el("span", { class: "state " + s.state, text: s.state })),
      el("td", { class: "num", text: "↓ " + fmtRate(s.down_rate) }),
      el("td", { class: "num", text: "↑ " + fmtRate(s.up_rate) }),
      el("td", { class: "num wide", text: fmtETA(s.eta) }),
      el("td", { class: "num wide", text: s.ratio.toFixed(2) }),
      el("td", { class: "num wide", text: String(s.peers) }),
      el("td", { class: "row-actions" }, toggle, " ", rm));
  });
  tb.replaceChildren(...rows);
}

function metaText(m) {
  return `fetching metadata: ${m.peers} peers, ${m.offering} have it, ${m.have}/${m.total || "?"} pieces`;
}

async function act(ih, what) {
  try { await api("POST", `/torrents/${ih}/${what}`); } catch (e) { flash(e.message, true); }
}
async function remove(ih, name, withData) {
  const what = withData ? `Remove “${name}” and DELETE its data?` : `Remove “${name}”? (its data stays on disk)`;
  if (!confirm(what)) return;
  try {
    await api("DELETE", `/torrents/${ih}` + (withData ? "?delete_data=true" : ""));
    if (state.current === ih) location.hash = "#/";
  } catch (e) { flash(e.message, true); }
}
function flash(msg, err) {
  const m = $("#add-msg");
  m.textContent = msg;
  m.classList.toggle("err", !!err);
}

// --- adding -----------------------------------------------------------------------------

$("#add").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const fd = new FormData();
  const magnet = $("#add-magnet").value.trim(), file = $("#add-file").files[0], dir = $("#add-save-dir").value.trim();
  if (!magnet && !file) { flash("give a magnet link or choose a .torrent file", true); return; }
  if (magnet) fd.append("magnet", magnet);
  if (file) fd.append("torrent", file);
  if (dir) fd.append("save_dir", dir);
  try {
    const s = await api("POST", "/torrents", fd);
    flash(`added ${s.name}`);
    $("#add").reset();
  } catch (e) { flash(e.message, true); }
});

// --- one torrent ------------------------------------------------------------------------

function onDetail(d) {
  state.lastDetail = d;
  const s = d.status;
  if (s.info_hash !== state.current) return;
  $("#d-name").textContent = s.name;
  $("#detail-view").dataset.state = s.state;
  const items = [
    ["State", s.state + (s.error ? ": " + s.error : "") + (s.metadata ? " (" + metaText(s.metadata) + ")" : "")], ["Progress", (s.progress * 100).toFixed(1) + "%"],
    ["Size", fmtBytes(s.size)], ["Down", fmtRate(s.down_rate)], ["Up", fmtRate(s.up_rate)], ["ETA", fmtETA(s.eta)],
    ["Downloaded", fmtBytes(s.downloaded)], ["Uploaded", fmtBytes(s.uploaded)], ["Ratio", s.ratio.toFixed(2)],
    ["Peers", `${s.peers} (${s.seeds} seeds)`], ["Pieces", `${s.have} / ${s.num_pieces} × ${fmtBytes(s.piece_size)}`],
    ["Save folder", s.save_dir], ["Info-hash", s.info_hash],
  ];
  if (s.tracker_error) items.push(["Tracker", s.tracker_error]);
  $("#d-summary").replaceChildren(...items.map(([k, v]) => el("div", {}, el("b", { text: k }), el("span", { text: v }))));
  $("#d-pause").hidden = s.state === "paused" || s.state === "finished";
  $("#d-resume").hidden = !$("#d-pause").hidden;
  drawPieces(d.pieces);
  drawRates(state.history.get(s.info_hash) || []);
  renderPeers(d.peers);
  renderChoke(d.choke);
  renderFiles(d.files || []);
}

function b64bits(b64, n) {
  const raw = atob(b64), out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (raw.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1;
  return out;
}

// availColour maps how many connected peers have a piece to a blue, grey for nobody.
function availColour(a, maxA) {
  if (a <= 0) return "#d4d4d8";
  const f = maxA <= 1 ? 1 : (a - 1) / (maxA - 1);
  const lerp = (x, y) => Math.round(x + (y - x) * f);
  return `rgb(${lerp(199, 30)},${lerp(215, 58)},${lerp(254, 138)})`;
}

function fitCanvas(c, cssHeight) {
  const ratio = window.devicePixelRatio || 1, w = c.clientWidth || 800;
  if (c.width !== Math.round(w * ratio) || c.height !== Math.round(cssHeight * ratio)) {
    c.width = Math.round(w * ratio);
    c.height = Math.round(cssHeight * ratio);
  }
  c.style.height = cssHeight + "px"; // never scaled by its width
  const g = c.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  return [g, w, cssHeight];
}

function drawPieces(p) {
  const c = $("#piece-map"), n = p.num_pieces;
  const have = b64bits(p.have || "", n), flight = new Set(p.in_flight || []);
  p.availability = p.availability || [];
  let count = 0;
  for (let i = 0; i < n; i++) count += have[i];
  c.dataset.pieces = n; c.dataset.have = count; c.dataset.inflight = p.in_flight.length;
  // Cells as square as the width allows: at least 3 px, the rows as many as needed.
  const w = c.clientWidth || 800;
  let cell = Math.max(3, Math.floor(Math.sqrt((w * 120) / Math.max(n, 1))));
  cell = Math.min(cell, 24);
  const cols = Math.max(1, Math.floor(w / cell)), rows = Math.ceil(n / cols);
  const [g] = fitCanvas(c, Math.max(cell * rows, cell));
  g.clearRect(0, 0, w, cell * rows);
  const maxA = Math.max(1, ...p.availability);
  for (let i = 0; i < n; i++) {
    g.fillStyle = have[i] ? "#2e9d4f" : flight.has(i) ? "#f0a020" : availColour(p.availability[i], maxA);
    g.fillRect((i % cols) * cell, Math.floor(i / cols) * cell, cell - (cell > 4 ? 1 : 0), cell - (cell > 4 ? 1 : 0));
  }
}

function drawRates(h) {
  const [g, w, ht] = fitCanvas($("#rate-chart"), 160);
  g.clearRect(0, 0, w, ht);
  const now = h.length ? h[h.length - 1].t : Date.now() / 1000;
  const maxR = Math.max(1, ...h.map((p) => Math.max(p.down, p.up)));
  g.fillStyle = "#6b6b70"; g.font = "11px system-ui, sans-serif";
  g.fillText(fmtRate(maxR), 4, 12);
  g.fillText("−5 min", 4, ht - 4);
  g.strokeStyle = "#e2e2e6"; g.beginPath(); g.moveTo(0, ht / 2); g.lineTo(w, ht / 2); g.stroke();
  for (const [key, colour] of [["down", "#2563eb"], ["up", "#d9480f"]]) {
    g.strokeStyle = colour; g.lineWidth = 2; g.beginPath();
    h.forEach((p, i) => {
      const x = w - ((now - p.t) / HISTORY) * w, y = ht - 16 - (p[key] / maxR) * (ht - 32);
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  }
}

const yesNo = (a, b) => `${a ? "●" : "○"} / ${b ? "●" : "○"}`;

function renderPeers(peers) {
  $("#peer-count").textContent = `(${peers.filter((p) => p.state === "connected").length} connected, ${peers.length} known)`;
  const rows = peers.map((p) => el("tr", { "data-addr": p.addr },
    el("td", { text: p.addr }),
    el("td", { text: (p.client || "?") + (p.encryption ? " 🔒" : ""), title: p.encryption ? "encrypted: " + p.encryption : "" }),
    el("td", { text: p.source }),
    el("td", {}, el("span", { class: "peer-state " + p.state.replace(/ /g, "-"), text: p.state }),
      p.reason ? el("span", { class: "reason", text: p.reason }) : ""),
    el("td", { class: "num", text: p.state === "connected" ? (p.progress * 100).toFixed(0) + "%" : "" }),
    el("td", { class: "num", text: fmtRate(p.down_rate) }),
    el("td", { class: "num", text: fmtRate(p.up_rate) }),
    el("td", { title: "we choke it / it chokes us", text: p.state === "connected" ? yesNo(p.am_choking, p.peer_choking) : "" }),
    el("td", { title: "we are interested / it is interested", text: p.state === "connected" ? yesNo(p.am_interested, p.peer_interested) : "" })));
  $("#peers tbody").replaceChildren(...rows);
}

function renderChoke(rounds) {
  const items = rounds.slice().reverse().map((r) => {
    const when = new Date(r.at).toLocaleTimeString();
    const head = `${when} · ${r.full ? "round" : "slot filled"}${r.seeding ? " (seeding)" : ""}`;
    const li = el("li", {}, el("span", { text: head }));
    if (!r.slots.length) li.append(el("span", { class: "slot", text: "no interested peers" }));
    for (const s of r.slots) li.append(el("span", { class: "slot k-" + s.kind, text: `${s.addr}: ${s.reason}` }));
    return li;
  });
  $("#choke-log").replaceChildren(...items);
}

function renderFiles(files) {
  $("#files tbody").replaceChildren(...files.map((f) => {
    const bar = el("div", { class: "bar" }, el("span"), el("em", { text: (f.progress * 100).toFixed(0) + "%" }));
    bar.firstChild.style.width = (f.progress * 100).toFixed(1) + "%";
    return el("tr", {}, el("td", { class: "name", text: f.path }), el("td", { class: "num", text: fmtBytes(f.length) }), el("td", {}, bar));
  }));
}

for (const what of ["pause", "resume", "recheck"]) $("#d-" + what).onclick = () => act(state.current, what);
$("#d-remove").onclick = () => {
  const s = state.torrents.find((x) => x.info_hash === state.current);
  remove(state.current, s ? s.name : state.current, $("#d-remove-data").checked);
};

// --- routing ----------------------------------------------------------------------------

function route() {
  const m = location.hash.match(/^#\/t\/([0-9a-f]{40})$/i);
  state.current = m ? m[1].toLowerCase() : null;
  $("#list-view").hidden = !!state.current;
  $("#detail-view").hidden = !state.current;
  $("#add").hidden = !!state.current;
  if (!state.current) renderList(state.torrents);
  connect();
}
window.addEventListener("hashchange", route);
window.addEventListener("resize", () => { if (state.lastDetail) onDetail(state.lastDetail); });
api("GET", "/stats").then(route, () => {});
