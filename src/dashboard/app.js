// The encsup dashboard: counts per status, the job list a page at a time (running first, then
// waiting in start order, then finished newest first), and a job page with its facts, statechart,
// transitions, attempts (the current one live) and the log's tail followed live.
//
// Built for stores of tens of thousands of jobs: the page holds only the jobs it shows (one page of
// the daemon's listing), each row is made once and then updated in place, cell by cell, and the
// updates that arrive over Server-Sent Events are applied once per animation frame, however many
// come. Everything that comes from a job (names, commands, encoder output) is put in the page as
// text, never as markup.

const PAGE_SIZE = 50;
// The log view keeps this many lines; the whole log is a download away.
const LOG_LINES = 2000;
// How often a change of status may reread the page that is shown (order and counts move).
const RELIST_MS = 700;

// The statuses, the job graph and where the statechart draws it come from the daemon (GET
// /api/machine), read from the machine definition itself: nothing here can drift from it.
let machine = { statuses: [], finished: [], transitions: [], layout: null };

const view = {
  status: null,
  q: '',
  /** Cursors of the pages before this one, and this page's own. */
  cursors: [null],
  next: null,
  matched: 0,
  counts: {},
};
/** The jobs on the page (and the open one), by id. */
const jobs = new Map();
/** Each shown job's row and the cells that change, made once and updated in place. */
const rows = new Map();
/** When each job's ETA was last heard (this page's clock), so it counts down between reports. */
const etaHeardAt = new Map();
let openJobId = null;

// ---- the daemon ----------------------------------------------------------------------------

// Signed in by the daemon's HttpOnly cookie (set when the page was opened with ?token=…): the
// page never sees the token, and sends every change as JSON, the only kind the daemon accepts.
async function request(path, options = {}) {
  const isChange = options.method !== undefined && options.method !== 'GET';
  const init = isChange ? { ...options, headers: { 'content-type': 'application/json' }, body: options.body ?? '{}' } : options;
  const response = await fetch(path, { ...init, credentials: 'same-origin' });
  // Logged out (or the daemon's token changed): back to the login page.
  if (response.status === 401) location.assign('/');
  if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error ?? response.statusText);
  return response;
}

async function api(path, options) {
  const response = await request(path, options);
  return response.headers.get('content-type')?.startsWith('application/json') ? response.json() : response.text();
}

// ---- small pieces --------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'onclick') node.addEventListener('click', value);
    else if (key.startsWith('aria-')) node.setAttribute(key, String(value));
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? '')));
  return node;
}

/** Sets a node's text only when it changed: no layout work for what stays the same. */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s % 60}s`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
const RELATIVE_STEPS = [[60, 'second'], [3600, 'minute'], [86400, 'hour'], [86400 * 30, 'day'], [Infinity, 'month']];

/** "3 min. ago", "in 2 hr." in the viewer's language. */
function age(iso) {
  const seconds = (Date.parse(iso) - Date.now()) / 1000;
  const sizes = [1, 60, 3600, 86400, 86400 * 30];
  const step = RELATIVE_STEPS.findIndex(([limit]) => Math.abs(seconds) < limit);
  return relative.format(Math.round(seconds / sizes[step]), RELATIVE_STEPS[step][1]);
}

/** The viewer's local date and time. */
function localTime(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A <time> with the local time and its age; the exact instant in its title. */
function timeNode(iso) {
  if (!iso) return document.createTextNode('–');
  return el('time', { datetime: iso, title: iso, 'data-age': iso }, `${localTime(iso)} (${age(iso)})`);
}

function clockTime(iso) {
  return new Date(iso).toLocaleTimeString(undefined, { timeStyle: 'short' });
}

function isActive(job) {
  return job.status === 'encoding' || job.status === 'finalizing';
}

function heard(job) {
  etaHeardAt.set(job.id, Date.now());
  return job;
}

function etaNow(job) {
  if (job.etaSeconds === null || job.etaSeconds === undefined || job.status !== 'encoding') return job.etaSeconds;
  return Math.max(0, job.etaSeconds - (Date.now() - (etaHeardAt.get(job.id) ?? Date.now())) / 1000);
}

/** The ETA cell: the time left of a running job; a waiting job's expected start, end and run. */
function etaText(job) {
  const forecast = job.forecast;
  if (job.status === 'queued' && forecast) {
    const parts = [forecast.startsAt ? `starts ${clockTime(forecast.startsAt)}` : 'start unknown'];
    if (forecast.expectedRunSeconds !== null) parts.push(`runs ~${duration(forecast.expectedRunSeconds)}`);
    return parts.join(' · ');
  }
  const eta = etaNow(job);
  if ((eta === null || eta === undefined) && forecast?.finishesAt) return `ends ~${clockTime(forecast.finishesAt)}`;
  return duration(eta);
}

function progressLabel(job) {
  const unknown = job.progress === null;
  const label = unknown ? 'total unknown' : `${job.progress.toFixed(1)} %`;
  const pass = job.passes ? ` · pass ${job.pass ?? 1} of ${job.passes}` : '';
  const frames = job.totalFrames ? ` · ${job.frame ?? 0}/${job.totalFrames}` : job.frame !== null && job.frame !== undefined ? ` · frame ${job.frame}` : '';
  return `${label}${pass}${frames}`;
}

/** When the row's job last moved: started, finished or submitted, with its age. */
function whenOf(job) {
  if (machine.finished.includes(job.status)) return job.finishedAt ?? job.updatedAt;
  return isActive(job) ? job.startedAt ?? job.createdAt : job.createdAt;
}

/** The line under a job's name: why it failed, what it waits for, or the GPU it runs on. */
function rowNote(job) {
  if (job.status === 'failed') return job.error ?? '';
  if (job.status === 'queued') return job.waitingFor ?? '';
  // In a farm, where it runs.
  const where = [job.host ? `on ${job.host}` : '', job.gpus?.length ? `GPU ${job.gpus.join(', ')}` : ''].filter(Boolean).join(' · ');
  return isActive(job) ? where : '';
}

function resourcesText(resources) {
  const entries = Object.entries(resources ?? {});
  return entries.length === 0 ? '–' : entries.map(([name, amount]) => `${name}=${amount}`).join(', ');
}

function actionButtons(job) {
  const act = (label, fn, extra = {}) => el('button', { ...extra, type: 'button', onclick: () => fn().catch((error) => alert(error.message)) }, label);
  return [
    act('Cancel', () => api(`/api/jobs/${job.id}/cancel`, { method: 'POST' }), { 'data-action': 'cancel' }),
    act('Retry', () => api(`/api/jobs/${job.id}/retry`, { method: 'POST' }), { 'data-action': 'retry' }),
    act('▲', () => api(`/api/jobs/${job.id}`, { method: 'PATCH', body: JSON.stringify({ priority: jobs.get(job.id).priority + 1 }) }), { title: 'raise priority', 'data-action': 'raise' }),
    act('▼', () => api(`/api/jobs/${job.id}`, { method: 'PATCH', body: JSON.stringify({ priority: jobs.get(job.id).priority - 1 }) }), { title: 'lower priority', 'data-action': 'lower' }),
  ];
}

function updateButtons(container, job) {
  const finished = machine.finished.includes(job.status);
  for (const button of container.querySelectorAll('button[data-action]')) {
    const action = button.dataset.action;
    const enabled = action === 'cancel' ? !finished : action === 'retry' ? job.status === 'failed' || job.status === 'cancelled' : job.status === 'queued';
    if (button.disabled === enabled) button.disabled = !enabled;
  }
}

// ---- the list ------------------------------------------------------------------------------

function makeRow(job) {
  const fill = el('span');
  const bar = el('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'data-job': job.id }, fill);
  const cells = {
    link: el('a', { href: `#/jobs/${job.id}` }),
    status: el('td', { class: 'status', 'data-label': 'Status' }),
    fill,
    bar,
    label: el('small'),
    eta: el('td', { 'data-eta': job.id, 'data-label': 'ETA' }),
    elapsed: el('td', { 'data-label': 'Elapsed' }),
    fps: el('td', { 'data-label': 'FPS' }),
    priority: el('td', { 'data-label': 'Priority' }),
    when: el('td', { class: 'when', 'data-label': 'When' }),
    reason: el('small', { class: 'reason' }),
    actions: el('td', { class: 'actions' }, actionButtons(job)),
  };
  const row = el(
    'tr',
    { 'data-job': job.id },
    el('td', { class: 'name' }, cells.link, el('small', { class: 'id' }, job.id), cells.reason),
    cells.status,
    el('td', { class: 'progress', 'data-label': 'Progress' }, bar, cells.label),
    cells.eta,
    cells.elapsed,
    cells.fps,
    cells.priority,
    cells.when,
    cells.actions,
  );
  const entry = { row, cells, shown: {} };
  rows.set(job.id, entry);
  return entry;
}

/** Brings one row up to its job: only the cells whose text changed are touched. */
function updateRow(entry, job) {
  const { cells, shown } = entry;
  setText(cells.link, job.name);
  if (shown.status !== job.status) {
    shown.status = job.status;
    cells.status.textContent = job.status;
    cells.status.className = `status status-${job.status}`;
    cells.status.dataset.status = job.status;
    updateButtons(cells.actions, job);
  }
  const unknown = job.progress === null;
  const percent = unknown ? 0 : Math.max(0, Math.min(100, job.progress));
  if (shown.percent !== percent || shown.unknown !== unknown) {
    shown.percent = percent;
    shown.unknown = unknown;
    // Set through the CSSOM: the page's content security policy allows no inline style attributes.
    cells.fill.style.width = unknown ? '30%' : `${percent}%`;
    cells.bar.classList.toggle('indeterminate', unknown);
    if (unknown) cells.bar.removeAttribute('aria-valuenow');
    else cells.bar.setAttribute('aria-valuenow', percent.toFixed(1));
  }
  setText(cells.label, progressLabel(job));
  setText(cells.eta, etaText(job));
  setText(cells.elapsed, duration(job.elapsedSeconds));
  setText(cells.fps, job.fps === null || job.fps === undefined ? '–' : String(job.fps));
  setText(cells.priority, String(job.priority));
  const when = whenOf(job);
  if (shown.when !== when) {
    shown.when = when;
    cells.when.title = localTime(when);
    cells.when.dataset.age = when;
  }
  setText(cells.when, age(when));
  setText(cells.reason, rowNote(job));
}

function renderCounts() {
  const total = Object.values(view.counts).reduce((sum, n) => sum + n, 0);
  const nav = document.getElementById('filters');
  const buttons = [null, ...machine.statuses].map((status) => {
    const count = status === null ? total : view.counts[status] ?? 0;
    return el(
      'button',
      { type: 'button', 'aria-pressed': view.status === status, 'data-filter': status ?? 'all', onclick: () => setFilter({ status }) },
      `${status ?? 'all'} `,
      el('span', { class: 'count', 'data-count': status ?? 'all' }, count.toLocaleString()),
    );
  });
  nav.replaceChildren(...buttons);
}

function setFilter(change) {
  Object.assign(view, change, { cursors: [null] });
  loadPage().catch(showError);
}

let listing = null;
let relistAgain = false;

/**
 * Reads the page that is shown from the daemon and puts its rows in order: rows of jobs still on
 * the page are kept and updated, new ones made, the rest dropped. One read at a time; a change
 * meanwhile reads once more after it.
 */
async function loadPage() {
  if (listing) {
    relistAgain = true;
    return listing;
  }
  listing = (async () => {
    do {
      relistAgain = false;
      const params = new URLSearchParams({ limit: String(PAGE_SIZE), order: 'view' });
      if (view.status) params.set('status', view.status);
      if (view.q) params.set('q', view.q);
      const cursor = view.cursors.at(-1);
      if (cursor) params.set('cursor', cursor);
      const page = await api(`/api/jobs?${params}`);
      const started = performance.now();
      Object.assign(view, { next: page.next, matched: page.matched, counts: page.counts });
      showPage(page.jobs);
      performance.measure('encsup:page', { start: started });
    } while (relistAgain);
  })();
  try {
    await listing;
  } finally {
    listing = null;
  }
}

function showPage(pageJobs) {
  const keep = new Set(pageJobs.map((job) => job.id));
  for (const id of [...rows.keys()]) {
    if (!keep.has(id)) {
      rows.delete(id);
      if (id !== openJobId) jobs.delete(id);
    }
  }
  const ordered = pageJobs.map((fresh) => {
    const known = jobs.get(fresh.id);
    // The stream may already have brought a newer version than this read.
    const job = known && known.updatedAt > fresh.updatedAt ? { ...fresh, ...known, forecast: fresh.forecast } : heard(fresh);
    jobs.set(job.id, job);
    const entry = rows.get(job.id) ?? makeRow(job);
    updateRow(entry, job);
    return entry.row;
  });
  const body = document.querySelector('#jobs tbody');
  const current = [...body.children];
  if (current.length !== ordered.length || current.some((row, i) => row !== ordered[i])) body.replaceChildren(...ordered);
  renderCounts();
  const first = (view.cursors.length - 1) * PAGE_SIZE;
  setText(document.getElementById('range'), view.matched === 0 ? 'no jobs' : `${(first + 1).toLocaleString()}–${(first + pageJobs.length).toLocaleString()} of ${view.matched.toLocaleString()}`);
  document.getElementById('previous').disabled = view.cursors.length <= 1;
  document.getElementById('next').disabled = view.next === null;
  document.getElementById('empty').hidden = pageJobs.length > 0;
}

let relistTimer = null;
/** A status changed or a job came or went: the page's order and the counts are read again soon. */
function relistSoon() {
  if (relistTimer !== null || openJobId !== null) return;
  relistTimer = setTimeout(() => {
    relistTimer = null;
    loadPage().catch(showError);
  }, RELIST_MS);
}

// ---- live updates, once per frame ----------------------------------------------------------

const dirty = new Set();
let frameAsked = false;

function changed(id) {
  dirty.add(id);
  if (frameAsked) return;
  frameAsked = true;
  requestAnimationFrame(() => {
    frameAsked = false;
    // Named in the page's performance timeline, so the cost of an update can be measured.
    const started = performance.now();
    for (const jobId of dirty) {
      const job = jobs.get(jobId);
      const entry = rows.get(jobId);
      if (job && entry && openJobId === null) updateRow(entry, job);
      if (job && jobId === openJobId) updateJobPage(job);
    }
    dirty.clear();
    performance.measure('encsup:update', { start: started });
  });
}

function connect() {
  const source = new EventSource('/api/events');
  const connection = document.getElementById('connection');
  let opened;
  const open = new Promise((resolve) => (opened = resolve));
  source.onopen = () => {
    connection.textContent = 'live';
    opened();
    // Back after a break: what changed meanwhile is read again.
    if (openJobId === null) relistSoon();
    else openJob(openJobId).catch(showError);
  };
  source.onerror = () => (connection.textContent = 'reconnecting…');
  // Progress arrives as small lifecycle deltas, applied to the job already shown.
  source.addEventListener('lifecycle', (message) => {
    const event = JSON.parse(message.data);
    const job = jobs.get(event.jobId);
    if (event.kind === 'submitted') relistSoon();
    if (event.kind !== 'progress' || !job) return;
    heard(Object.assign(job, event.progress, { elapsedSeconds: event.elapsedSeconds }));
    changed(job.id);
  });
  // Progress as it is now (not stored yet), a few times a second while a job runs.
  source.addEventListener('live', (message) => {
    const live = JSON.parse(message.data);
    const job = jobs.get(live.jobId);
    if (!job || job.status !== 'encoding') return;
    heard(Object.assign(job, live.progress));
    // This run's seconds: the elapsed time moves between stored updates too.
    if (typeof live.runSeconds === 'number') job.elapsedSeconds = Math.max(job.elapsedSeconds ?? 0, live.runSeconds);
    changed(job.id);
  });
  source.addEventListener('job', (message) => {
    const fresh = JSON.parse(message.data);
    const known = jobs.get(fresh.id);
    if (known) {
      jobs.set(fresh.id, heard({ ...fresh, forecast: known.forecast }));
      changed(fresh.id);
    }
    relistSoon();
  });
  return open;
}

// ---- the job page --------------------------------------------------------------------------

function renderStatechart(current, transitions) {
  const svg = document.getElementById('statechart');
  const { layout } = machine;
  const ns = 'http://www.w3.org/2000/svg';
  const make = (tag, attributes, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  };
  svg.setAttribute('viewBox', `0 0 ${layout.width} ${layout.height}`);
  const defs = make('defs', {});
  for (const [id, cls] of [['arrow', 'arrowhead'], ['arrow-taken', 'arrowhead taken']]) {
    const marker = make('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.append(make('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: cls }));
    defs.append(marker);
  }
  const taken = new Set(transitions.map((t) => `${t.from}>${t.to}`));
  const edges = layout.edges.map(({ from, to, points, label, labelBox }) => {
    const isTaken = taken.has(`${from}>${to}`);
    const group = make('g', { class: `transition${isTaken ? ' taken' : ''}` });
    // Through dagre's bend points, smoothed: a quadratic curve to each midpoint.
    let d = `M ${points[0].x} ${points[0].y}`;
    for (let i = 1; i < points.length - 1; i++) d += ` Q ${points[i].x} ${points[i].y} ${(points[i].x + points[i + 1].x) / 2} ${(points[i].y + points[i + 1].y) / 2}`;
    d += ` L ${points.at(-1).x} ${points.at(-1).y}`;
    group.append(make('path', { d, class: `edge${isTaken ? ' taken' : ''}`, 'data-edge': `${from}>${to}`, 'marker-end': `url(#${isTaken ? 'arrow-taken' : 'arrow'})` }));
    const text = make('text', { class: 'edge-label', x: labelBox.x, y: labelBox.y - (label.length - 1) * 6.5 });
    label.forEach((line, index) => text.append(make('tspan', { x: labelBox.x, dy: index === 0 ? 0 : 13 }, line)));
    group.append(
      make('rect', { class: 'edge-label-box', x: labelBox.x - labelBox.width / 2, y: labelBox.y - labelBox.height / 2, width: labelBox.width, height: labelBox.height, rx: 3, 'data-label': `${from}>${to}` }),
      text,
    );
    return group;
  });
  const states = layout.states.map(({ status, x, y, width, height }) => {
    const group = make('g', { class: `state${status === current ? ' current' : ''}`, 'data-state': status });
    group.append(make('rect', { x: x - width / 2, y: y - height / 2, width, height, rx: 12 }), make('text', { x, y }, status));
    return group;
  });
  svg.replaceChildren(defs, ...edges, ...states);
}

const FACTS = [
  ['status', (job) => job.status],
  ['progress', (job) => progressLabel(job)],
  ['fps', (job) => job.fps ?? '–'],
  ['speed', (job) => (job.speed === null || job.speed === undefined ? '–' : `${job.speed}x`)],
  ['ETA', (job) => etaText(job)],
  ['basis', (job) => job.basis ?? '–'],
  ['elapsed', (job) => duration(job.elapsedSeconds)],
  ['priority', (job) => job.priority],
  ['attempts', (job) => `${job.attempts} of ${job.maxAttempts}`],
  ['host', (job) => job.host ?? '–'],
  ['pid', (job) => job.pid ?? '–'],
  ['needs', (job) => resourcesText(job.needs)],
  ['GPU', (job) => (job.gpus?.length ? job.gpus.join(', ') : '–')],
  ['waiting for', (job) => job.waitingFor ?? '–'],
  ['submitted', (job) => timeNode(job.createdAt)],
  ['started', (job) => timeNode(job.startedAt)],
  ['finished', (job) => timeNode(job.finishedAt)],
  ['command', (job) => job.command.join(' ')],
  ['output', (job) => job.output ?? '–'],
  ['error', (job) => job.error ?? '–'],
  ['failure', (job) => (job.failureKind ? `${job.failureKind}${job.failureEvidence ? `: ${job.failureEvidence}` : ''}` : '–')],
];

let shownStatus = null;

/** The facts and the current attempt, in place; a change of status rereads the rest. */
function updateJobPage(job) {
  const facts = document.getElementById('job-facts');
  if (facts.dataset.job !== job.id) {
    facts.dataset.job = job.id;
    facts.replaceChildren(...FACTS.flatMap(([key]) => [el('dt', {}, key), el('dd', { 'data-fact': key })]));
  }
  for (const [key, value] of FACTS) {
    const cell = facts.querySelector(`dd[data-fact="${key}"]`);
    const shown = value(job);
    if (!(shown instanceof Node)) setText(cell, String(shown));
    else if (cell.textContent !== shown.textContent) cell.replaceChildren(shown);
  }
  setText(document.getElementById('job-title'), `${job.name} (${job.id})`);
  updateButtons(document.getElementById('job-actions'), job);
  const current = document.getElementById('current-attempt');
  current.hidden = !isActive(job);
  if (isActive(job)) {
    const cells = current.children;
    setText(cells[0], String(job.attempts));
    setText(cells[1], job.startedAt ? `${localTime(job.startedAt)} (${age(job.startedAt)})` : '–');
    setText(cells[2], '–');
    setText(cells[3], `${job.status}: ${progressLabel(job)}`);
    setText(cells[4], job.pid ? `pid ${job.pid}` : '–');
    setText(cells[5], job.etaSeconds === null || job.etaSeconds === undefined ? '' : `ETA ${etaText(job)}`);
  }
  if (shownStatus !== job.status) {
    shownStatus = job.status;
    readTransitions(job).catch(showError);
  }
  followLog(job);
}

async function readTransitions(job) {
  const { transitions } = await api(`/api/jobs/${job.id}/transitions`);
  if (openJobId !== job.id) return;
  renderStatechart(job.status, transitions);
  document.getElementById('transitions').replaceChildren(...transitions.map((t) => el('li', {}, timeNode(t.at), `  ${t.from ?? '(new)'} → ${t.to}`)));
  document.querySelector('#attempts tbody').replaceChildren(
    ...job.history.map((a) => el('tr', {}, el('td', {}, a.attempt), el('td', {}, timeNode(a.startedAt)), el('td', {}, timeNode(a.endedAt)), el('td', {}, a.failureKind ? `${a.outcome} (${a.failureKind})` : a.outcome), el('td', {}, a.signal ?? a.exitCode ?? '–'), el('td', { title: a.evidence ?? '' }, a.reason ?? ''))),
  );
}

// The log: its tail when the page opens, then what was added since, read from the byte offset the
// daemon gave last, while the job runs. The view keeps the last LOG_LINES lines.
const log = { jobId: null, offset: 0, reading: false, sawEnd: false };

async function openLog(job) {
  Object.assign(log, { jobId: job.id, offset: 0, reading: true, sawEnd: !isActive(job) });
  const pre = document.getElementById('log');
  pre.textContent = '';
  document.getElementById('download-log').href = `/api/jobs/${encodeURIComponent(job.id)}/log?download=1`;
  try {
    const response = await request(`/api/jobs/${job.id}/log?tail=${LOG_LINES}`);
    const text = await response.text();
    if (log.jobId !== job.id) return;
    log.offset = Number(response.headers.get('x-log-size') ?? 0);
    appendLog(text);
  } finally {
    log.reading = false;
  }
}

let lastFollow = 0;
function followLog(job) {
  // While the job runs, and once more after it ends for its last lines.
  if (log.jobId !== job.id || log.reading || log.sawEnd) return;
  // At most twice a second, whatever the rate of progress events.
  if (Date.now() - lastFollow < 500) return;
  lastFollow = Date.now();
  if (!isActive(job)) log.sawEnd = true;
  log.reading = true;
  request(`/api/jobs/${job.id}/log?offset=${log.offset}`)
    .then(async (response) => {
      const text = await response.text();
      if (log.jobId !== job.id) return;
      const size = Number(response.headers.get('x-log-size') ?? log.offset);
      // The log was cut at its size cap and started again: show it from its new start.
      if (size < log.offset) document.getElementById('log').textContent = '';
      log.offset = size;
      appendLog(text);
    })
    .catch(() => undefined)
    .finally(() => (log.reading = false));
}

function appendLog(text) {
  if (text === '') return;
  const pre = document.getElementById('log');
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  // textContent: whatever the encoder printed stays text.
  const lines = (pre.textContent + text).split('\n');
  pre.textContent = lines.length > LOG_LINES + 1 ? lines.slice(-LOG_LINES - 1).join('\n') : lines.join('\n');
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

async function openJob(id) {
  const job = await api(`/api/jobs/${encodeURIComponent(id)}`);
  if (openJobId !== id) return;
  jobs.set(job.id, heard(job));
  shownStatus = null;
  document.querySelector('#job-actions').replaceChildren(...actionButtons(job));
  document.getElementById('job-facts').dataset.job = '';
  updateJobPage(job);
  await openLog(job);
}

// ---- routes and start ----------------------------------------------------------------------

function showError(error) {
  setText(document.getElementById('connection'), `error: ${error.message}`);
}

function route() {
  const match = /^#\/jobs\/([\w-]+)/.exec(location.hash);
  openJobId = match ? match[1] : null;
  document.getElementById('list-view').hidden = openJobId !== null;
  document.getElementById('job-view').hidden = openJobId === null;
  if (openJobId) openJob(openJobId).catch((error) => (document.getElementById('job-title').textContent = error.message));
  else {
    log.jobId = null;
    loadPage().catch(showError);
  }
}

// ---- the box's health ------------------------------------------------------------------------

/** Free space, load, GPUs and warnings from /healthz, in the header; the warnings in full on hover. */
async function showHealth() {
  const health = await fetch('/healthz', { credentials: 'same-origin' }).then((response) => response.json());
  const parts = [];
  const tightest = (health.disks ?? []).filter((disk) => disk.freeBytes !== null).sort((a, b) => a.freeBytes - b.freeBytes)[0];
  if (tightest) parts.push(`disk ${tightest.free} free`);
  if (health.host) parts.push(`load ${health.host.load[0]}`);
  for (const gpu of health.gpus ?? []) parts.push(`GPU ${gpu.index} ${gpu.present ? `${gpu.utilizationPct ?? '?'} %${gpu.temperatureC === null ? '' : ` ${gpu.temperatureC} °C`}` : 'gone'}`);
  const inUse = Object.entries(health.resources?.capacity ?? {}).map(([name, amount]) => `${name} ${health.resources.inUse[name] ?? 0}/${amount}`);
  if (inUse.length > 0) parts.push(inUse.join(' '));
  const warnings = health.warnings ?? [];
  if (warnings.length > 0) parts.unshift(`⚠ ${warnings.length === 1 ? warnings[0] : `${warnings.length} warnings`}`);
  const node = document.getElementById('health');
  setText(node, parts.join(' · '));
  node.title = warnings.join('\n');
  node.dataset.warnings = String(warnings.length);
}

// ---- the farm's hosts --------------------------------------------------------------------------

/** The farm's hosts (none on one box: the section stays hidden), each with drain or resume. */
async function showHosts() {
  const hosts = await api('/api/hosts');
  const section = document.getElementById('hosts');
  section.hidden = hosts.length === 0;
  if (hosts.length === 0) return;
  const body = document.querySelector('#hosts-table tbody');
  body.replaceChildren(
    ...hosts.map((host) => {
      const state = host.draining && host.state !== 'stopped' ? `${host.state}, drained` : host.state;
      const toggle = el('button', { type: 'button', onclick: () => api(`/api/hosts/${encodeURIComponent(host.name)}/${host.draining ? 'resume' : 'drain'}`, { method: 'POST' }).then(showHosts, (error) => alert(error.message)) }, host.draining ? 'Resume' : 'Drain');
      return el(
        'tr',
        { 'data-host': host.name, 'data-state': host.state },
        el('td', { 'data-label': 'Host' }, host.name),
        el('td', { 'data-label': 'State' }, state),
        el('td', { 'data-label': 'Heartbeat' }, host.state === 'stopped' ? '–' : `${host.heartbeatAgeSec} s ago`),
        el('td', { 'data-label': 'Running' }, `${host.running}/${host.maxConcurrent === 0 ? '∞' : host.maxConcurrent}`),
        el('td', { 'data-label': 'Resources' }, resourcesText(host.capacity)),
        el('td', { 'data-label': 'Labels' }, host.labels.join(', ') || '–'),
        el('td', { 'data-label': 'Jobs' }, ...host.jobs.flatMap((id) => [el('a', { href: `#/jobs/${id}` }, id.slice(0, 8)), ' '])),
        el('td', { class: 'actions' }, toggle),
      );
    }),
  );
}

function setUpControls() {
  document.getElementById('logout').addEventListener('click', () => api('/api/logout', { method: 'POST' }).finally(() => location.assign('/')));
  // Pause: running jobs go on, nothing new starts.
  const pause = document.getElementById('pause');
  const showPaused = (settings) => {
    pause.dataset.paused = String(settings.paused);
    pause.textContent = settings.paused ? 'Resume queue' : 'Pause queue';
  };
  pause.addEventListener('click', () => api(`/api/queue/${pause.dataset.paused === 'true' ? 'resume' : 'pause'}`, { method: 'POST' }).then(showPaused, (error) => alert(error.message)));
  let typing = null;
  document.getElementById('search').addEventListener('input', (event) => {
    clearTimeout(typing);
    typing = setTimeout(() => setFilter({ q: event.target.value.trim() }), 250);
  });
  document.getElementById('next').addEventListener('click', () => {
    if (view.next === null) return;
    view.cursors.push(view.next);
    loadPage().then(() => scrollTo(0, 0), showError);
  });
  document.getElementById('previous').addEventListener('click', () => {
    if (view.cursors.length <= 1) return;
    view.cursors.pop();
    loadPage().then(() => scrollTo(0, 0), showError);
  });
  return showPaused;
}

async function start() {
  const showPaused = setUpControls();
  machine = await api('/api/machine');
  showPaused(await api('/api/settings'));
  // The stream first, then the list: a job that changes in between is not missed, and the list
  // never replaces a newer version the stream already brought.
  await connect();
  // Between reports, ETAs count down and ages grow: the shown rows only, once a second.
  setInterval(() => {
    for (const [id, entry] of rows) {
      const job = jobs.get(id);
      if (job && openJobId === null) {
        setText(entry.cells.eta, etaText(job));
        setText(entry.cells.when, age(whenOf(job)));
      }
    }
    if (openJobId && jobs.has(openJobId)) changed(openJobId);
  }, 1000);
  // Forecasts and waiting jobs' start times move as others run: the shown page is read again now and then.
  setInterval(relistSoon, 15_000);
  showHealth().catch(() => undefined);
  setInterval(() => showHealth().catch(() => undefined), 10_000);
  showHosts().catch(() => undefined);
  setInterval(() => showHosts().catch(() => undefined), 5_000);
  addEventListener('hashchange', route);
  route();
}

start().catch(showError);
