// The encsup dashboard: the job table with live progress, and a job page with its statechart,
// transitions, attempts and output. Live updates come over Server-Sent Events (/api/events).
// Everything that comes from a job (names, commands, encoder output) is put in the page as text,
// never as markup.

// The statuses and the job graph come from the daemon (GET /api/machine), read from the machine
// definition itself: nothing here can drift from it.
let machine = { statuses: [], finished: [], transitions: [] };

// Signed in by the daemon's HttpOnly cookie (set when the page was opened with ?token=…): the
// page never sees the token, and sends every change as JSON, the only kind the daemon accepts.

const jobs = new Map();
// When each job's ETA was last heard (this page's clock), so it counts down between reports.
const etaHeardAt = new Map();
// Expected start, end and run length of waiting and running jobs (GET /api/forecast).
let forecasts = {};
let filter = null;
let openJobId = null;

async function api(path, options = {}) {
  const isChange = options.method !== undefined && options.method !== 'GET';
  const init = isChange ? { ...options, headers: { 'content-type': 'application/json' }, body: options.body ?? '{}' } : options;
  const response = await fetch(path, { ...init, credentials: 'same-origin' });
  // Logged out (or the daemon's token changed): back to the login page.
  if (response.status === 401) location.assign('/');
  if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error ?? response.statusText);
  return response.headers.get('content-type')?.startsWith('application/json') ? response.json() : response.text();
}

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

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s % 60}s`;
}

function heard(job) {
  etaHeardAt.set(job.id, Date.now());
  return job;
}

function etaNow(job) {
  if (job.etaSeconds === null || job.etaSeconds === undefined || job.status !== 'encoding') return job.etaSeconds;
  return Math.max(0, job.etaSeconds - (Date.now() - (etaHeardAt.get(job.id) ?? Date.now())) / 1000);
}

function clockTime(iso) {
  return new Date(iso).toLocaleTimeString();
}

/** The ETA cell: the time left of a running job; a waiting job's expected start, end and run. */
function etaText(job) {
  const forecast = forecasts[job.id];
  if (job.status === 'queued' && forecast) {
    const parts = [forecast.startsAt ? `starts ${clockTime(forecast.startsAt)}` : 'start unknown'];
    if (forecast.expectedRunSeconds !== null) parts.push(`runs ~${duration(forecast.expectedRunSeconds)}`);
    return parts.join(' · ');
  }
  const eta = etaNow(job);
  if ((eta === null || eta === undefined) && forecast?.finishesAt) return `ends ~${clockTime(forecast.finishesAt)}`;
  return duration(eta);
}

function progressBar(job) {
  // An unknown total (a pipe, a stream) is an indeterminate bar, with the frames still counting.
  const unknown = job.progress === null;
  const percent = unknown ? 0 : Math.max(0, Math.min(100, job.progress));
  const fill = el('span');
  // Set through the CSSOM: the page's content security policy allows no inline style attributes.
  fill.style.width = unknown ? '30%' : `${percent}%`;
  const label = unknown ? 'total unknown' : `${percent.toFixed(1)} %`;
  return el(
    'div',
    {},
    el('div', { class: `bar${unknown ? ' indeterminate' : ''}`, role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, ...(unknown ? {} : { 'aria-valuenow': percent.toFixed(1) }), 'data-job': job.id }, fill),
    el('small', {}, `${label}${job.passes ? ` · pass ${job.pass ?? 1} of ${job.passes}` : ''}${job.totalFrames ? ` · ${job.frame ?? 0}/${job.totalFrames}` : job.frame !== null ? ` · frame ${job.frame}` : ''}`),
  );
}

function actionButtons(job) {
  const act = (label, fn, enabled, extra = {}) => el('button', { ...extra, disabled: !enabled, onclick: () => fn().catch((error) => alert(error.message)) }, label);
  const finished = machine.finished.includes(job.status);
  return [
    act('Cancel', () => api(`/api/jobs/${job.id}/cancel`, { method: 'POST' }), !finished, { 'data-action': 'cancel' }),
    act('Retry', () => api(`/api/jobs/${job.id}/retry`, { method: 'POST' }), job.status === 'failed' || job.status === 'cancelled', { 'data-action': 'retry' }),
    act('▲', () => api(`/api/jobs/${job.id}`, { method: 'PATCH', body: JSON.stringify({ priority: job.priority + 1 }) }), job.status === 'queued', { title: 'raise priority' }),
    act('▼', () => api(`/api/jobs/${job.id}`, { method: 'PATCH', body: JSON.stringify({ priority: job.priority - 1 }) }), job.status === 'queued', { title: 'lower priority' }),
  ];
}

function renderFilters() {
  const nav = document.getElementById('filters');
  nav.replaceChildren(
    ...[null, ...machine.statuses].map((status) =>
      el('button', { 'aria-pressed': filter === status, 'data-filter': status ?? 'all', onclick: () => { filter = status; renderFilters(); renderTable(); } }, status ?? 'all'),
    ),
  );
}

function renderTable() {
  const rows = [...jobs.values()]
    .filter((job) => filter === null || job.status === filter)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .map((job) =>
      el(
        'tr',
        { 'data-job': job.id },
        el('td', { class: 'name' }, el('a', { href: `#/jobs/${job.id}` }, job.name), el('small', {}, job.id)),
        el('td', { class: `status status-${job.status}`, 'data-status': job.status }, job.status),
        el('td', {}, progressBar(job)),
        el('td', { 'data-eta': job.id }, etaText(job)),
        el('td', {}, duration(job.elapsedSeconds)),
        el('td', {}, job.fps ?? '–'),
        el('td', {}, job.priority),
        el('td', { class: 'actions' }, actionButtons(job)),
      ),
    );
  document.querySelector('#jobs tbody').replaceChildren(...rows);
  document.getElementById('empty').hidden = rows.length > 0;
}

// Where each status sits in the statechart: columns by distance from `queued` along the graph,
// the finished statuses stacked in the last column.
function chartLayout() {
  const column = new Map([['queued', 0]]);
  const open = machine.statuses.filter((status) => !machine.finished.includes(status));
  for (let changed = true; changed; ) {
    changed = false;
    for (const { from, to } of machine.transitions) {
      if (column.has(from) && !column.has(to) && open.includes(to)) {
        column.set(to, column.get(from) + 1);
        changed = true;
      }
    }
  }
  const last = Math.max(...column.values()) + 1;
  const x = (index) => 70 + (index * 500) / last;
  const positions = {};
  for (const status of open) positions[status] = [x(column.get(status) ?? 0), 125];
  machine.finished.forEach((status, index) => (positions[status] = [x(last), 50 + (index * 150) / Math.max(1, machine.finished.length - 1)]));
  return positions;
}

function renderStatechart(current, transitions) {
  const svg = document.getElementById('statechart');
  const ns = 'http://www.w3.org/2000/svg';
  const make = (tag, attributes, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const defs = make('defs', {});
  const marker = make('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(make('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#9aa3b5' }));
  defs.append(marker);
  const taken = new Set(transitions.map((t) => `${t.from}>${t.to}`));
  const positions = chartLayout();
  const edges = machine.transitions.map(({ from, to }) => {
    const [x1, y1] = positions[from];
    const [x2, y2] = positions[to];
    const back = x2 < x1;
    const bend = back ? (from === 'failed' ? 60 : -45) : 0;
    const path = `M ${x1 + (back ? -10 : 55)} ${y1 + (back ? 18 : 0)} Q ${(x1 + x2) / 2} ${(y1 + y2) / 2 + bend} ${x2 + (back ? 10 : -57)} ${y2 + (back ? 18 : 0)}`;
    return make('path', { d: path, class: `edge${taken.has(`${from}>${to}`) ? ' taken' : ''}`, 'data-edge': `${from}>${to}` });
  });
  const states = Object.entries(positions).map(([name, [x, y]]) => {
    const group = make('g', { class: `state${name === current ? ' current' : ''}`, 'data-state': name });
    group.append(make('rect', { x: x - 55, y: y - 17, width: 110, height: 34, rx: 12 }), make('text', { x, y }, name));
    return group;
  });
  svg.replaceChildren(defs, ...edges, ...states);
}

async function renderJobPage(id) {
  const job = jobs.get(id) ?? (await api(`/api/jobs/${id}`));
  jobs.set(id, job);
  document.getElementById('job-title').textContent = `${job.name} (${job.id})`;
  const facts = [
    ['status', job.status],
    ['progress', job.progress === null ? 'total unknown' : `${job.progress.toFixed(1)} %`],
    ['frames', job.totalFrames ? `${job.frame ?? 0} / ${job.totalFrames}` : job.frame ?? '–'],
    ['fps', job.fps ?? '–'],
    ['speed', job.speed === null ? '–' : `${job.speed}x`],
    ['ETA', etaText(job)],
    ['basis', job.basis ?? '–'],
    ['elapsed', duration(job.elapsedSeconds)],
    ['priority', job.priority],
    ['attempts', `${job.attempts} of ${job.maxAttempts}`],
    ['command', job.command.join(' ')],
    ['output', job.output ?? '–'],
    ['error', job.error ?? '–'],
  ];
  document.getElementById('job-facts').replaceChildren(...facts.flatMap(([key, value]) => [el('dt', {}, key), el('dd', { 'data-fact': key }, value)]));
  document.getElementById('job-actions').replaceChildren(...actionButtons(job));
  const { transitions } = await api(`/api/jobs/${id}/transitions`);
  renderStatechart(job.status, transitions);
  document.getElementById('transitions').replaceChildren(...transitions.map((t) => el('li', {}, `${t.at}  ${t.from ?? '(new)'} → ${t.to}`)));
  document.querySelector('#attempts tbody').replaceChildren(
    ...job.history.map((a) => el('tr', {}, el('td', {}, a.attempt), el('td', {}, a.startedAt ?? '–'), el('td', {}, a.endedAt), el('td', {}, a.outcome), el('td', {}, a.signal ?? a.exitCode ?? '–'), el('td', {}, a.reason ?? ''))),
  );
  // textContent: whatever the encoder printed stays text.
  document.getElementById('log').textContent = await api(`/api/jobs/${id}/log`);
}

function route() {
  const match = /^#\/jobs\/([\w-]+)/.exec(location.hash);
  openJobId = match ? match[1] : null;
  document.getElementById('list-view').hidden = openJobId !== null;
  document.getElementById('job-view').hidden = openJobId === null;
  if (openJobId) renderJobPage(openJobId).catch((error) => (document.getElementById('job-title').textContent = error.message));
  else renderTable();
}

function connect() {
  const source = new EventSource('/api/events');
  const status = document.getElementById('connection');
  let opened;
  const open = new Promise((resolve) => (opened = resolve));
  source.onopen = () => {
    status.textContent = 'live';
    opened();
  };
  source.onerror = () => (status.textContent = 'reconnecting…');
  // Progress arrives as small lifecycle deltas, applied to the job already shown.
  source.addEventListener('lifecycle', (message) => {
    const event = JSON.parse(message.data);
    const job = jobs.get(event.jobId);
    if (event.kind !== 'progress' || !job) return;
    heard(Object.assign(job, event.progress, { elapsedSeconds: event.elapsedSeconds }));
    if (openJobId === job.id) renderJobPage(job.id);
    else if (openJobId === null) renderTable();
  });
  // Progress as it is now (not stored yet), a few times a second while a job runs.
  source.addEventListener('live', (message) => {
    const live = JSON.parse(message.data);
    const job = jobs.get(live.jobId);
    if (!job || job.status !== 'encoding') return;
    heard(Object.assign(job, live.progress));
    // The job page refreshes on stored changes (it reads the log); the table on every one.
    if (openJobId === null) renderTable();
  });
  source.addEventListener('job', (message) => {
    const job = JSON.parse(message.data);
    jobs.set(job.id, heard(job));
    if (openJobId === job.id) renderJobPage(job.id);
    else if (openJobId === null) renderTable();
  });
  return open;
}

async function start() {
  document.getElementById('logout').addEventListener('click', () => api('/api/logout', { method: 'POST' }).finally(() => location.assign('/')));
  machine = await api('/api/machine');
  // Pause: running jobs go on, nothing new starts.
  const pause = document.getElementById('pause');
  const showPaused = (settings) => {
    pause.dataset.paused = String(settings.paused);
    pause.textContent = settings.paused ? 'Resume queue' : 'Pause queue';
  };
  pause.addEventListener('click', () => api(`/api/queue/${pause.dataset.paused === 'true' ? 'resume' : 'pause'}`, { method: 'POST' }).then(showPaused, (error) => alert(error.message)));
  showPaused(await api('/api/settings'));
  renderFilters();
  // The stream first, then the list: a job that changes in between is not missed, and the list
  // never replaces a newer version the stream already brought.
  await connect();
  for (const job of await api('/api/jobs')) {
    if (!jobs.has(job.id) || jobs.get(job.id).updatedAt < job.updatedAt) jobs.set(job.id, heard(job));
    if (job.forecast) forecasts[job.id] = job.forecast;
  }
  // Between reports, the ETAs count down; the forecast of the waiting line is read again now and then.
  setInterval(() => {
    for (const cell of document.querySelectorAll('td[data-eta]')) {
      const job = jobs.get(cell.dataset.eta);
      if (job) cell.textContent = etaText(job);
    }
  }, 1000);
  setInterval(() => {
    api('/api/forecast').then((report) => (forecasts = report.jobs), () => undefined);
  }, 5000);
  addEventListener('hashchange', route);
  route();
}

start().catch((error) => (document.getElementById('connection').textContent = `error: ${error.message}`));
