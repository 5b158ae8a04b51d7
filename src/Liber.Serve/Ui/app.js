// Liber interest timeline. Talks only to the public API with the key the user enters (sent as X-Api-Key).
// Every text from the API (summaries, shifts, titles, ids) is set with textContent, never parsed as HTML.
'use strict';

const state = { key: null, user: null, partitions: [], selected: null, candidates: [], hasModel: false, attention: null };
const SVG = 'http://www.w3.org/2000/svg';
const $ = id => document.getElementById(id);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

function say(text) { $('message').textContent = text || ''; }

// A stable colour per category name (hue from a string hash).
function colour(name) {
  let h = 0;
  for (const c of name) h = (h * 31 + c.codePointAt(0)) >>> 0;
  return `hsl(${h % 360}, 55%, 58%)`;
}

function day(unix) { return new Date(unix * 1000).toISOString().slice(0, 10); }

async function api(method, path, body) {
  if (!state.key) throw new Error('enter the API key first');
  const init = { method, headers: { 'X-Api-Key': state.key } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!r.ok) {
    const detail = json && (json.detail || json.title || json.error) ? (json.detail || json.title || json.error) : text;
    throw new Error(`${r.status}: ${detail}`);
  }
  return json;
}

async function health() {
  try {
    const h = await (await fetch('/healthz')).json();
    state.hasModel = !!h.model;
    $('health').textContent = h.model ? `model ${h.model} · ${h.users} users · ${h.pending_jobs} jobs pending`
      : `no checkpoint: timeline only (start liber serve with --checkpoint to rank) · ${h.users} users`;
  } catch (e) {
    $('health').textContent = 'service not reachable';
  }
}

async function loadUser(id) {
  say('');
  const u = await api('GET', `/v1/users/${encodeURIComponent(id)}/interests`);
  state.user = u.user;
  state.partitions = u.partitions;
  state.selected = null;
  state.attention = null;
  $('user').hidden = false;
  $('rank').hidden = false;
  $('user-title').textContent = `User ${u.user}`;
  const pending = u.partitions.filter(p => p.status !== 'done').length;
  $('user-facts').textContent = `${u.events} events · ${u.partitions.length} closed partitions` +
    (pending ? ` (${pending} not done)` : '') + ` · ${u.cache_events} events in the short-term cache`;
  $('detail').hidden = true;
  $('rank-note').textContent = state.hasModel ? '' : 'No checkpoint is loaded: the service shows the timeline only and cannot rank.';
  $('rank-go').disabled = !state.hasModel;
  drawTimeline();
}

function drawTimeline() {
  const t = $('timeline');
  while (t.firstChild) t.removeChild(t.firstChild);
  const parts = state.partitions;
  const w = 46, gap = 6, band = 120, bars = 40, top = 8;
  const width = Math.max(200, parts.length * (w + gap) + gap);
  const height = top + bars + band + 34;
  t.setAttribute('width', width);
  t.setAttribute('height', height);
  const seen = new Map();
  parts.forEach((p, i) => {
    const x = gap + i * (w + gap);
    const g = svg('g', { class: 'part' + (state.selected === p.number ? ' selected' : ''), 'data-number': p.number, 'data-status': p.status });
    g.appendChild(svg('rect', { class: 'frame', x, y: top + bars, width: w, height: band, fill: '#eef0f4', stroke: '#b9c0cc' }));
    let y = top + bars + band;
    for (const c of (p.categories || [])) {
      const h = Math.max(0, c.share * band);
      y -= h;
      const r = svg('rect', { x, y, width: w, height: h, fill: colour(c.name) });
      const tip = svg('title');
      tip.textContent = `${c.name}: ${(c.share * 100).toFixed(0)}%`;
      r.appendChild(tip);
      g.appendChild(r);
      seen.set(c.name, (seen.get(c.name) || 0) + c.share);
    }
    if (p.status !== 'done') {
      g.appendChild(svg('rect', { x, y: top + bars, width: w, height: band, fill: 'url(#hatch)', class: 'pending' }));
    }
    if (state.attention) {
      const a = state.attention.get(p.number);
      if (a !== undefined) {
        const h = a * bars;
        g.appendChild(svg('rect', { class: 'attention', x: x + 8, y: top + bars - h - 2, width: w - 16, height: h, fill: '#3559c7', 'data-weight': a.toFixed(4) }));
      }
    }
    const label = svg('text', { x: x + w / 2, y: top + bars + band + 13, 'text-anchor': 'middle' });
    label.textContent = `#${p.number}`;
    g.appendChild(label);
    const span = svg('text', { x: x + w / 2, y: top + bars + band + 26, 'text-anchor': 'middle' });
    span.textContent = day(p.start_time).slice(2);
    g.appendChild(span);
    const tip = svg('title');
    tip.textContent = `partition ${p.number}: ${p.events} events, ${day(p.start_time)} to ${day(p.end_time)}, ${p.status}`;
    g.appendChild(tip);
    g.addEventListener('click', () => select(p.number));
    t.appendChild(g);
  });
  const defs = svg('defs');
  const pat = svg('pattern', { id: 'hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' });
  pat.appendChild(svg('rect', { width: 3, height: 6, fill: 'rgba(255,255,255,.65)' }));
  defs.appendChild(pat);
  t.insertBefore(defs, t.firstChild);
  const legend = $('legend');
  while (legend.firstChild) legend.removeChild(legend.firstChild);
  [...seen.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).forEach(([name]) => {
    const item = el('span');
    const sw = el('span', null, 'swatch');
    sw.style.background = colour(name);
    item.appendChild(sw);
    item.appendChild(document.createTextNode(name));
    legend.appendChild(item);
  });
}

function select(number) {
  const p = state.partitions.find(q => q.number === number);
  if (!p) return;
  state.selected = number;
  drawTimeline();
  $('detail').hidden = false;
  $('detail-title').textContent = `Partition ${p.number}`;
  $('detail-facts').textContent = `${p.events} events (stream index ${p.first_event} to ${p.last_event}), ` +
    `${day(p.start_time)} to ${day(p.end_time)} · ${p.status}` + (p.error ? ` · last error: ${p.error}` : '');
  $('detail-summary').textContent = p.summary ?? (p.status === 'done' ? '' : `(${p.status})`);
  $('detail-shift').textContent = p.shift ?? (p.number === 0 ? '(first partition: no shift)' : `(${p.status})`);
}

async function search(query) {
  const list = $('search-results');
  while (list.firstChild) list.removeChild(list.firstChild);
  const r = await api('GET', `/v1/items?query=${encodeURIComponent(query)}&limit=20`);
  for (const it of r.items) {
    const li = el('li');
    li.appendChild(document.createTextNode(`${it.title}${it.year ? ` (${it.year})` : ''} · ${it.id} · ${(it.categories || []).join(', ')} `));
    const add = el('button', 'add', 'link');
    add.type = 'button';
    add.addEventListener('click', () => addCandidate(it));
    li.appendChild(add);
    list.appendChild(li);
  }
  if (!r.items.length) list.appendChild(el('li', 'no item matches', 'muted'));
}

function addCandidate(it) {
  if (state.candidates.some(c => c.id === it.id)) return;
  state.candidates.push(it);
  drawCandidates();
}

function drawCandidates() {
  const list = $('candidates');
  while (list.firstChild) list.removeChild(list.firstChild);
  for (const c of state.candidates) {
    const li = el('li', `${c.title} · ${c.id} `);
    const rm = el('button', 'remove', 'link');
    rm.type = 'button';
    rm.addEventListener('click', () => { state.candidates = state.candidates.filter(x => x.id !== c.id); drawCandidates(); });
    li.appendChild(rm);
    list.appendChild(li);
  }
}

async function rank() {
  if (!state.candidates.length) throw new Error('add candidates from the catalog first');
  const r = await api('POST', '/v1/rank', { user: state.user, candidates: state.candidates.map(c => c.id) });
  const tbody = $('scores').querySelector('tbody');
  while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
  for (const s of r.scores) {
    const tr = el('tr');
    const title = (state.candidates.find(c => c.id === s.item) || { title: s.item }).title;
    tr.appendChild(el('td', title));
    tr.appendChild(el('td', s.score.toFixed(4), 'score'));
    const td = el('td');
    const why = el('button', 'attention', 'link');
    why.type = 'button';
    why.addEventListener('click', () => explain(s.item).catch(e => say(e.message)));
    td.appendChild(why);
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
  $('scores').hidden = false;
  $('rank-facts').textContent = `model ${r.model} · ${r.history_events} history events · ${r.partitions_used} partitions used` +
    (r.partitions_pending.length ? ` · pending: ${r.partitions_pending.join(', ')}` : '');
}

async function explain(item) {
  const r = await api('POST', '/v1/explain', { user: state.user, item });
  state.attention = new Map(r.attention.map(a => [a.partition, a.weight]));
  $('rank-facts').textContent = r.attention.length
    ? `attention of ${r.model} for ${item} (score ${r.score.toFixed(4)}) over ${r.attention.length} partitions: bars above the timeline`
    : `${r.model} reads no partition for ${item}: no attention to show`;
  drawTimeline();
}

document.addEventListener('DOMContentLoaded', () => {
  $('key-form').addEventListener('submit', e => {
    e.preventDefault();
    state.key = $('api-key').value.trim() || null;
    say(state.key ? '' : 'enter the API key');
  });
  $('user-form').addEventListener('submit', e => {
    e.preventDefault();
    loadUser($('user-id').value.trim()).catch(err => say(err.message));
  });
  $('search-form').addEventListener('submit', e => {
    e.preventDefault();
    search($('search').value.trim()).catch(err => say(err.message));
  });
  $('rank-go').addEventListener('click', () => rank().catch(err => say(err.message)));
  health();
});
