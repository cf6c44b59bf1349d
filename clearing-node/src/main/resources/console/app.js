// The operator console: one page, plain JavaScript. Every call carries the operator token from
// session storage; a 401 or 403 clears it and shows the sign-in again. Amounts are the API's
// decimal strings, shown through Money (money.js), never through floating point.
'use strict';
const TOKEN_KEY = 'clearinghouse.console.token';
// The live chart and the live feed show the last hour (a console may stay open all day): older
// marks and liquidations are let go, and the chart keeps at most what the node keeps (MarkHistory).
const HOUR_MS = 3600 * 1000;
const MAX_MARK_POINTS = 7200;
const state = {
  markets: [], sources: [], liquidations: new Map(), selected: null, closestOffset: 0,
  charts: {}, marks: {}, events: null, cascade: null
};
const $ = sel => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c === undefined || c === null ? '' : String(c)));
  return e;
};
const token = () => sessionStorage.getItem(TOKEN_KEY);
const time = ms => ms && Number(ms) > 0 ? new Date(Number(ms)).toLocaleTimeString() : '-';
const pct = ppm => (Number(ppm) / 10000).toFixed(2) + '%';  // display of a ratio, not an amount
const amount = (text, field) => el('td', { class: 'num', 'data-amount': text, 'data-field': field }, Money.format(text));

class ApiError extends Error {
  constructor(status, body) {
    super(body ? (body.message && body.message.startsWith(body.reason) ? body.message : body.reason + ': ' + body.message) : 'HTTP ' + status);
    this.status = status; this.body = body;
  }
}

async function api(path, options = {}) {
  const response = await fetch('/console/api/' + path, {
    method: options.method || 'GET',
    headers: Object.assign({ 'Authorization': 'Bearer ' + (options.token || token() || '') },
      options.body ? { 'Content-Type': 'application/json' } : {}),
    body: options.body ? JSON.stringify(options.body) : undefined
  });
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    if ((response.status === 401 || response.status === 403) && !options.token) signOut(body && body.message);
    throw new ApiError(response.status, body);
  }
  return body;
}
const admin = (method, params) => api('admin/' + method + (params ? '?' + new URLSearchParams(params) : ''));
const adminPost = (method, body) => api('admin/' + method, { method: 'POST', body });

// --- sign-in -------------------------------------------------------------------------------
async function signIn(event) {
  event.preventDefault();
  const candidate = $('#token').value.trim();
  $('#sign-in-error').textContent = '';
  try {
    const session = await api('session', { token: candidate });
    sessionStorage.setItem(TOKEN_KEY, candidate);
    start(session);
  } catch (e) {
    $('#sign-in-error').textContent = 'Refused (' + e.status + ' ' + ((e.body && e.body.reason) || '') + '): ' + e.message;
  }
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (state.events) { state.events.abort(); state.events = null; }
  document.querySelectorAll('.panel').forEach(p => p.hidden = true);
  $('#tabs').hidden = true; $('#who').hidden = true; $('#sign-in').hidden = false;
  $('#sign-in-error').textContent = message ? 'Signed out: ' + message : '';
}

function start(session) {
  $('#sign-in').hidden = true; $('#tabs').hidden = false; $('#who').hidden = false;
  $('#operator-name').textContent = session.operator;
  show(location.hash.slice(1) || 'markets');
  loadMarkets().then(() => { loadLiquidations(); });
  connectEvents();
  if (!state.refresh) state.refresh = setInterval(() => {
    if (token() && !$('#markets').hidden) refreshMarkets().catch(report);
  }, 5000);
}

async function refreshMarkets() {
  const data = await api('markets');
  state.markets = data.instruments; state.sources = data.sources;
  renderMarkets();
}

function show(panel) {
  if (!document.getElementById(panel) || !document.getElementById(panel).classList.contains('panel')) panel = 'markets';
  document.querySelectorAll('.panel').forEach(p => p.hidden = p.id !== panel);
  document.querySelectorAll('#tabs button').forEach(b => b.classList.toggle('active', b.dataset.panel === panel));
  history.replaceState(null, '', '#' + panel);
  const loaders = { markets: loadMarkets, risk: loadRisk, liquidations: loadLiquidations, reserves: loadReserves,
    stress: loadStressHistory, operations: loadOperations };
  loaders[panel]().catch(report);
}

function report(e) { if (!(e instanceof ApiError && (e.status === 401 || e.status === 403))) console.error(e); }

// --- live events (server-sent events over fetch, so the token stays in a header) -------------
async function connectEvents() {
  const controller = new AbortController();
  state.events = controller;
  try {
    const response = await fetch('/console/api/events', { headers: { 'Authorization': 'Bearer ' + token() },
      signal: controller.signal });
    if (response.status === 401 || response.status === 403) { signOut('token refused'); return; }
    if (!response.ok) {
      // Refused for another reason (the token's streams in use elsewhere, the node starting): say so
      // once, and ask again less and less often (up to every 15 s) rather than look live.
      let body = null;
      try { body = await response.json(); } catch (e) { body = null; }
      const why = 'live events refused (' + response.status + ' ' + ((body && body.reason) || '') + '): '
        + ((body && body.message) || '') + '; asking again';
      if (state.eventsRefused !== why) addAlert({ level: 'warning', text: why, epochMillis: Date.now() });
      state.eventsRefused = why;
      state.eventsDelay = Math.min(15000, (state.eventsDelay || 1000) * 2);
      throw new Error(why);
    }
    state.eventsRefused = null; state.eventsDelay = 2000;
    $('#live').classList.add('on');
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
        let type = 'message', data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) type = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trim();
        }
        if (data) onEvent(type, JSON.parse(data));
      }
    }
  } catch (e) {
    if (controller.signal.aborted) return;
  }
  $('#live').classList.remove('on');
  if (state.events === controller && token()) setTimeout(connectEvents, state.eventsDelay || 2000);
}

function onEvent(type, data) {
  if (type === 'mark') onMark(data);
  else if (type === 'alert') addAlert(data);
  else if (type === 'liquidation') { state.liquidations.set(data.liquidationId, data); renderLiquidations(); }
  else if (type === 'halt') { const m = state.markets.find(x => x.instrument === data.instrument); if (m) { m.halted = data.halted; renderMarkets(); renderHalts(); } }
  else if (type === 'cascade') renderCascade(data);
  else if (type === 'expired') signOut('token expired');
  else if (type === 'problem') addAlert({ level: 'warning', text: 'live feed: ' + data.message, epochMillis: Date.now() });
  else if (type === 'dropped') onDropped(data);
}

// The node dropped events this page read too slowly to take: say so, and read the lists again.
function onDropped(data) {
  addAlert({ level: 'warning', text: data.count + ' live events were dropped (this console fell behind): '
    + 'markets and liquidations read again', epochMillis: Date.now() });
  $('#dropped').textContent = data.count + ' events dropped at ' + time(Date.now());
  $('#dropped').hidden = false;
  refreshMarkets().then(loadLiquidations).catch(report);
}

function onMark(data) {
  const m = state.markets.find(x => x.instrument === data.instrument);
  if (m) { m.mark = data.mark; m.markAgeMillis = Date.now() - data.epochMillis; renderMarkets(); }
  const points = state.marks[data.instrument] || (state.marks[data.instrument] = [[], []]);
  points[0].push(data.epochMillis / 1000); points[1].push(Number(data.mark));
  const from = (Date.now() - HOUR_MS) / 1000;
  let drop = 0;
  while (drop < points[0].length && (points[0][drop] < from || points[0].length - drop > MAX_MARK_POINTS)) drop++;
  if (drop) { points[0].splice(0, drop); points[1].splice(0, drop); }
  if ($('#chart-instrument').value === data.instrument) drawMarkChart();
}

function addAlert(a) {
  const list = $('#alerts');
  list.prepend(el('li', { class: a.level }, time(a.epochMillis) + '  ' + a.text));
  while (list.children.length > 200) list.lastChild.remove();
}

// --- markets -----------------------------------------------------------------------------------
async function loadMarkets() {
  const data = await api('markets');
  state.markets = data.instruments; state.sources = data.sources;
  for (const id of ['#chart-instrument', '#risk-instrument', '#stress-instrument', '#summary-instrument']) {
    const select = $(id);
    const keep = select.value;
    const first = id === '#summary-instrument' ? [el('option', { value: '' }, 'all')] : [];
    select.replaceChildren(...first, ...state.markets.map(m => el('option', { value: m.instrument }, m.instrument)));
    if (keep) select.value = keep;
  }
  renderMarkets();
  await loadMarkHistory();
}

function renderMarkets() {
  $('#markets-table tbody').replaceChildren(...state.markets.map(m => el('tr', { 'data-instrument': m.instrument },
    el('td', {}, m.instrument),
    el('td', { class: 'num', 'data-field': 'index' }, m.index || '-'),
    el('td', { class: 'num', 'data-field': 'mark' }, m.mark || '-'),
    el('td', { class: 'sources' }, (m.freshSources === null || m.freshSources === undefined ? '?' : m.freshSources) + ' of ' + state.sources.length,
      ...(m.sourcePrices || []).map(p => el('div', { class: 'source ' + (p.fresh ? '' : 'muted'), 'data-source': p.source },
        p.source + ' ' + p.price + ' (' + (p.ageMillis / 1000).toFixed(1) + ' s' + (p.fresh ? '' : ', stale') + ')'))),
    el('td', { class: 'num' }, m.markAgeMillis === null ? '-' : (m.markAgeMillis / 1000).toFixed(1) + ' s'),
    el('td', { class: 'num' }, pct(m.volatilityShortPpm) + ' / ' + pct(m.volatilityLongPpm)
      + (m.unusualVolatility ? ' unusual' : '')),
    el('td', { class: 'num' }, m.openInterest),
    el('td', { class: 'num', 'data-field': 'depth' }, !m.depth ? '-' : (m.depth.bid === null ? '-' : Money.format(m.depth.bid))
      + ' / ' + (m.depth.ask === null ? '-' : Money.format(m.depth.ask))),
    el('td', { class: 'state' }, el('span', { class: 'badge ' + (m.stale ? 'bad' : 'good') }, m.stale ? 'stale' : 'fresh'), ' ',
      m.halted ? el('span', { class: 'badge warn', 'data-field': 'halted' }, 'liquidations halted') : '',
      m.depth && (m.depth.bidThin || m.depth.askThin) ? el('span', { class: 'badge warn', 'data-field': 'thin' },
        'thin ' + [m.depth.bidThin ? 'bids' : '', m.depth.askThin ? 'asks' : ''].filter(x => x).join(' and ')) : '',
      m.marginScale && m.marginScale.tightening ? el('span', { class: 'badge warn', 'data-field': 'tightening' },
        'maintenance tightening to ' + pct(m.marginScale.pendingPpm) + ' of base') : ''))));
}

async function loadMarkHistory() {
  const instrument = $('#chart-instrument').value;
  if (!instrument) return;
  const data = await api('markets/history?instrument=' + encodeURIComponent(instrument));
  state.marks[instrument] = [data.points.map(p => p[0] / 1000), data.points.map(p => Number(p[1]))];
  drawMarkChart();
}

function lineChart(key, target, title, xs, ys, label, xLabel) {
  const width = Math.max(400, target.clientWidth || 900);
  if (state.charts[key]) { state.charts[key].destroy(); }
  const time = !xLabel;
  state.charts[key] = new uPlot({ title, width, height: 240,
    series: [time ? {} : { label: xLabel }, { label, stroke: '#2f6fd6', width: 2, points: { size: 6 } }],
    scales: { x: { time } },
    axes: [time ? {} : { label: xLabel, values: (u, v) => v.map(x => x + '%') }, { size: 90 }] }, [xs, ys], target);
}

function drawMarkChart() {
  const instrument = $('#chart-instrument').value;
  const data = state.marks[instrument] || [[], []];
  lineChart('marks', $('#mark-chart'), instrument + ' mark', data[0], data[1], 'mark');
}

// --- risk --------------------------------------------------------------------------------------
async function loadRisk() {
  const instrument = $('#risk-instrument').value;
  if (!instrument) return;
  const m = state.markets.find(x => x.instrument === instrument);
  $('#risk-oi').textContent = m ? m.openInterest : '-';
  renderHistogram(await admin('GetRiskHistogram', { instrument }));
  await loadClosestPage();
}

// Every position of the instrument across the cluster, counted by its distance to liquidation (GetRiskHistogram).
function renderHistogram(histogram) {
  const buckets = histogram.buckets || [];
  const top = Math.max(1, ...buckets.map(b => Number(b.positions || 0)));
  $('#risk-histogram').replaceChildren(...buckets.map(b => {
    const c = Number(b.positions || 0);
    const bar = el('div', { class: 'bar', title: c + ' positions', 'data-bucket': b.label, 'data-positions': String(c) },
      el('b', {}, c), el('span', {}, b.label));
    bar.style.height = (100 * c / top) + '%';  // through the CSSOM: the page's policy allows no inline style
    return bar;
  }));
  $('#risk-histogram').setAttribute('data-without', String(histogram.withoutLiquidationPrice || 0));
}

async function loadClosestPage() {
  const instrument = $('#risk-instrument').value;
  const page = await admin('ListClosestToLiquidation', { instrument, offset: state.closestOffset, limit: 20 });
  $('#closest-table tbody').replaceChildren(...page.positions.map(p => el('tr', {},
    el('td', {}, p.accountId), el('td', { class: 'num' }, p.size), el('td', { class: 'num' }, p.markPrice),
    el('td', { class: 'num' }, p.liquidationPrice), el('td', { class: 'num' }, pct(p.distanceToLiquidationPpm)))));
  $('#closest-page').textContent = 'from ' + (state.closestOffset + 1);
  $('#closest-next').disabled = page.positions.length < 20;
  $('#closest-prev').disabled = state.closestOffset === 0;
}

// --- liquidations ------------------------------------------------------------------------------
async function loadLiquidations() {
  const list = await admin('ListLiquidations', { fromEpochMillis: Date.now() - 3600 * 1000, limit: 500 });
  for (const l of list.liquidations) state.liquidations.set(l.liquidationId, l);
  renderLiquidations();
}

function renderLiquidations() {
  const from = Date.now() - HOUR_MS;
  for (const [id, l] of state.liquidations) {
    if (Number(l.triggeredAtEpochMillis) < from && id !== state.selected) state.liquidations.delete(id);
  }
  const rows = [...state.liquidations.values()].sort((a, b) => Number(b.triggeredAtEpochMillis) - Number(a.triggeredAtEpochMillis));
  $('#liquidations-table tbody').replaceChildren(...rows.map(l => el('tr', {
    class: 'clickable' + (state.selected === l.liquidationId ? ' selected' : ''), 'data-liquidation': l.liquidationId,
    onclick: () => { state.selected = l.liquidationId; renderLiquidations(); }
  }, el('td', {}, l.liquidationId), el('td', {}, l.accountId), el('td', {}, time(l.triggeredAtEpochMillis)),
    el('td', {}, l.outcome || el('span', { class: 'badge warn' }, 'running')), amount(l.tradersLoss, 'tradersLoss'))));
  if (state.selected && state.liquidations.has(state.selected)) renderFlow(state.liquidations.get(state.selected));
}

function renderFlow(l) {
  $('#flow-title').textContent = 'Fund flow of ' + l.liquidationId + ' (' + l.accountId + ', ' + (l.outcome || 'running') + ')';
  const target = $('#flow');
  flowDiagram(target, l, false);
  const movements = el('table', { id: 'movements' }, el('thead', {}, el('tr', {}, el('th', {}, 'party'), el('th', {}, 'bucket'), el('th', { class: 'num' }, 'amount'))),
    el('tbody', {}, ...(l.movements || []).map(m => el('tr', {}, el('td', {}, m.party), el('td', {}, m.bucket), amount(m.amount, 'movement')))));
  const closes = el('table', { id: 'closes' }, el('thead', {}, el('tr', {}, ...['step', 'instrument', 'venue', 'quantity', 'price', 'bankruptcy', 'penalty'].map(h => el('th', {}, h)))),
    el('tbody', {}, ...(l.closes || []).map(c => el('tr', {}, el('td', {}, c.step), el('td', {}, c.instrument), el('td', {}, c.venue),
      el('td', { class: 'num' }, c.quantity), el('td', { class: 'num' }, c.price), el('td', { class: 'num' }, c.bankruptcyPrice), amount(c.penalty, 'closePenalty')))));
  target.append(el('h4', {}, 'Closes'), closes, el('h4', {}, 'Movements (sum ' + Money.format(Money.sum((l.movements || []).map(m => m.amount))) + ')'), movements);
}

async function loadSummary(event) {
  if (event) event.preventDefault();
  const minutes = Number($('#summary-minutes').value || 60);
  const params = { fromEpochMillis: Date.now() - minutes * 60000 };
  if ($('#summary-instrument').value) params.instrument = $('#summary-instrument').value;
  const summary = await admin('FundFlowSummary', params);
  const target = $('#summary-flow');
  flowDiagram(target, summary, true);
  target.prepend(el('p', {}, summary.liquidations + ' finished liquidations, penalties ' + Money.format(summary.penalties)));
}

// --- reserves ----------------------------------------------------------------------------------
async function loadReserves() {
  const reserves = await admin('GetReserves');
  state.reserveViews = reserves.reserves;
  $('#reserves-table tbody').replaceChildren(...reserves.reserves.map(r => el('tr', { 'data-reserve': r.fund },
    el('td', {}, r.fund), amount(r.balance, 'balance'), amount(r.reserved, 'reserved'),
    amount(r.totalIn, 'totalIn'), amount(r.totalOut, 'totalOut'), el('td', { class: 'num' }, r.entries))));
  const select = $('#reserve-select'); const keep = select.value;
  select.replaceChildren(...reserves.reserves.map(r => el('option', { value: r.fund }, r.fund)));
  if (keep) select.value = keep;
  await loadReserveHistory();
}

async function loadReserveHistory() {
  const name = $('#reserve-select').value;
  if (!name) return;
  // An insurance fund's history is GetInsuranceFund's; the other reserves' ListReserveMovements'.
  const fund = name.startsWith('insurance-fund:') ? name.slice('insurance-fund:'.length) : null;
  const full = fund ? await admin('GetInsuranceFund', { fund, limit: 200 })
    : await admin('ListReserveMovements', { reserve: name, limit: 200 });
  const entries = [...(full.history || [])].sort((a, b) => Number(a.epochMillis) - Number(b.epochMillis));
  lineChart('reserve', $('#reserve-chart'), name + ' balance', entries.map(e => Number(e.epochMillis) / 1000),
    entries.map(e => Number(e.balanceAfter)), 'balance');
  $('#reserve-history tbody').replaceChildren(...entries.slice().reverse().map(e => el('tr', {},
    el('td', {}, time(e.epochMillis)), el('td', {}, e.kind), amount(e.amount, 'amount'), amount(e.balanceAfter, 'balanceAfter'),
    el('td', {}, e.liquidationId || e.key))));
}

// --- stress ------------------------------------------------------------------------------------
async function runStress(event, ladder) {
  if (event) event.preventDefault();
  $('#stress-error').textContent = '';
  const instrument = $('#stress-instrument').value;
  const body = ladder ? { ladderInstrument: instrument } : { shocks: [{ instrument, move: $('#stress-shock').value.trim() }] };
  $('#stress-result').textContent = 'running…';
  try {
    const report = await adminPost('StressTest', body);
    renderStress(report, ladder);
  } catch (e) {
    $('#stress-result').textContent = '';
    $('#stress-error').textContent = e.message;
  }
}

function renderStress(report, ladder) {
  const coverage = f => Money.isZero(f.freeBalance) ? '' : ' (' + (Number(Money.units(f.loss) * 10000n / Money.units(f.freeBalance)) / 100).toFixed(2) + '% of free)';
  const rows = report.scenarios.map(s => el('tr', { 'data-scenario': s.name },
    el('td', {}, s.name), el('td', { class: 'num', 'data-field': 'accountsLiquidated' }, s.accountsLiquidated),
    amount(s.notionalToClose, 'notionalToClose'), amount(s.penalties, 'penalties'), amount(s.deficits, 'deficits'),
    el('td', {}, s.funds.filter(f => !(Money.isZero(f.loss) && Money.isZero(f.freeBalance))).map(f => f.fund + ': loss ' + Money.format(f.loss) + coverage(f) + ', pays ' + Money.format(f.fundDraw)
      + ' of free ' + Money.format(f.freeBalance) + (Money.isZero(f.debt) ? '' : ', debt ' + Money.format(f.debt))).join('; ')),
    el('td', {}, s.approximate ? 'approximate' : '')));
  $('#stress-result').replaceChildren(el('p', {}, report.nodesAnswered + ' of ' + report.nodes + ' nodes answered'),
    el('table', { id: 'stress-table' }, el('thead', {}, el('tr', {}, ...['scenario', 'accounts liquidated', 'notional to close',
      'penalties', 'deficits', 'fund coverage', ''].map(h => el('th', {}, h)))), el('tbody', {}, ...rows)));
  if (ladder) {
    // Each ladder step's shock, from the marks it evaluated (display only).
    const shocks = report.scenarios.map((s, i) => {
      const m = /(-?\d+(?:\.\d+)?)%/.exec(s.name);
      return m ? Number(m[1]) : -(i + 1);
    });
    const order = shocks.map((x, i) => i).sort((a, b) => shocks[a] - shocks[b]);
    lineChart('stress', $('#stress-chart'), 'liquidation curve: accounts liquidated by shock',
      order.map(i => shocks[i]), order.map(i => Number(report.scenarios[i].accountsLiquidated)), 'accounts liquidated', 'shock');
  }
}

async function loadStressHistory() {
  const history = await admin('GetStressHistory', { limit: 50 });
  $('#stress-history tbody').replaceChildren(...history.runs.map(r => el('tr', {}, el('td', {}, new Date(Number(r.epochMillis)).toLocaleString()),
    el('td', {}, r.scenario), el('td', { class: 'num' }, r.accountsLiquidated), amount(r.notionalToClose, 'notionalToClose'),
    amount(r.deficits, 'deficits'), el('td', {}, r.level))));
}

// --- operations --------------------------------------------------------------------------------
async function loadOperations() {
  // /shards is the operator's to read (management port, same token); a refusal there leaves the rest of the panel.
  const shardsOf = fetch('/shards', { headers: { 'Authorization': 'Bearer ' + (token() || '') } })
    .then(r => r.ok ? r.json() : r.text().then(t => { throw new Error('/shards ' + r.status + ' ' + t); }));
  const [cluster, shards, ready] = await Promise.all([api('cluster'),
    shardsOf.catch(e => { addAlert({ level: 'warning', text: e.message, epochMillis: Date.now() }); return {}; }),
    fetch('/ready').then(r => r.status + ' ' + (r.ok ? 'ready' : 'not ready'))]);
  $('#readiness').textContent = ready;
  $('#members-table tbody').replaceChildren(...cluster.members.map(m => el('tr', {}, el('td', {}, m.address + (m.address === cluster.self ? ' (this node)' : '')),
    el('td', {}, m.status), el('td', {}, m.reachable ? 'yes' : 'no'), el('td', {}, m.roles.join(', ')))));
  const shardRows = [];
  for (const [type, byNode] of Object.entries(shards)) for (const [nodeName, s] of Object.entries(byNode))
    shardRows.push(el('tr', {}, el('td', {}, type), el('td', {}, nodeName), el('td', { class: 'num' }, s.shards), el('td', { class: 'num' }, s.entities)));
  $('#shards-table tbody').replaceChildren(...shardRows);
  renderHalts();
}

function renderHalts() {
  $('#halt-table tbody').replaceChildren(...state.markets.map(m => el('tr', { 'data-instrument': m.instrument },
    el('td', {}, m.instrument), el('td', { 'data-field': 'halt-state' }, m.halted ? 'halted' : 'running'),
    el('td', {}, el('button', { class: 'halt-button', onclick: () => askHalt(m.instrument, !m.halted) }, m.halted ? 'Resume' : 'Halt')))));
}

// The confirmation names what the switch will do and where; the API acts only on that same wording.
function askHalt(instrument, halted) {
  $('#confirm-text').textContent = halted
    ? 'Halt new liquidations on ' + instrument + '? Accounts past maintenance on it stay open until resumed.'
    : 'Resume liquidations on ' + instrument + '? Accounts past maintenance on it are liquidated again.';
  $('#confirm-yes').textContent = (halted ? 'Halt liquidations on ' : 'Resume liquidations on ') + instrument;
  $('#confirm-yes').className = halted ? 'danger' : '';
  $('#confirm').hidden = false;
  $('#confirm-yes').onclick = async () => {
    $('#confirm').hidden = true;
    try {
      const status = await adminPost('SetLiquidationHalt', { instrument, halted,
        confirm: (halted ? 'halt ' : 'resume ') + instrument });
      const m = state.markets.find(x => x.instrument === instrument);
      if (m) m.halted = status.halted;
      renderHalts(); renderMarkets();
    } catch (e) { addAlert({ level: 'warning', text: 'halt switch refused: ' + e.message, epochMillis: Date.now() }); }
  };
  $('#confirm-no').onclick = () => { $('#confirm').hidden = true; };
}

function renderCascade(c) {
  const total = c.running + c.finished;
  $('#cascade').textContent = c.running + ' running, ' + c.finished + ' finished in the last hour'
    + (c.pending === undefined ? '' : '; cluster now: ' + c.pending + ' pending, started ' + c.startedPerSecond
      + '/s, settled ' + c.settledPerSecond + '/s' + (c.unanswered ? ' (' + c.unanswered + ' nodes did not answer)' : ''));
  $('#cascade-progress').max = Math.max(1, total); $('#cascade-progress').value = c.finished;
}

// --- wiring ------------------------------------------------------------------------------------
$('#sign-in-form').addEventListener('submit', signIn);
$('#sign-out').addEventListener('click', () => signOut());
document.querySelectorAll('#tabs button').forEach(b => b.addEventListener('click', () => show(b.dataset.panel)));
$('#chart-instrument').addEventListener('change', () => loadMarkHistory().catch(report));
$('#risk-instrument').addEventListener('change', () => { state.closestOffset = 0; loadRisk().catch(report); });
$('#closest-next').addEventListener('click', () => { state.closestOffset += 20; loadClosestPage().catch(report); });
$('#closest-prev').addEventListener('click', () => { state.closestOffset = Math.max(0, state.closestOffset - 20); loadClosestPage().catch(report); });
$('#summary-form').addEventListener('submit', e => loadSummary(e).catch(report));
$('#reserve-select').addEventListener('change', () => loadReserveHistory().catch(report));
$('#stress-form').addEventListener('submit', e => runStress(e, false));
$('#stress-ladder').addEventListener('click', e => runStress(e, true));
if (token()) api('session').then(start).catch(() => signOut()); else signOut();
