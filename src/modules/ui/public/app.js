import { api, ApiError, apiKey, optional } from './api.js';
import { $, busy, confirmAction, el, notify, setText, when } from './dom.js';

const PAGE_SIZE = 25;
const OPERATION_POLL_MS = 1500;
const OPERATION_POLL_LIMIT_MS = 10 * 60_000;

/** Optional features (auto-stop, spot recovery, caches) are read from the API description, so the page never calls a route this deployment lacks. */
let features = null;
async function loadFeatures() {
  if (features) return features;
  try {
    const doc = await fetch('/docs-json', { headers: { accept: 'application/json' } }).then((r) => r.json());
    features = new Set(Object.keys(doc.paths || {}));
  } catch {
    features = new Set();
  }
  return features;
}
const has = (path) => features !== null && features.has(path);
const ifHas = (path, url) => (has(path) ? optional('GET', url) : Promise.resolve(null));

const state = {
  offset: 0,
  total: 0,
  paused: false,
  timer: null,
  /** Instances whose operation the page is following: id -> label shown until it ends. */
  following: new Map(),
};

function showError(err) {
  if (err instanceof ApiError) notify(`${err.message} [${err.code}]`, 'error', err.requestId);
  else notify(String(err && err.message ? err.message : err), 'error');
}

const money = (n) => (typeof n === 'number' ? `$${n.toFixed(3)}` : '–');

// ---------- reading ----------

function listQuery() {
  const q = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(state.offset) });
  const name = $('filter-name').value.trim();
  const status = $('filter-status').value;
  const managed = $('filter-managed').value;
  if (name) q.set('name', name);
  if (status) q.set('status', status);
  if (managed) q.set('managed', managed);
  return q.toString();
}

async function refresh() {
  if (!apiKey.get()) {
    notify('Enter an API key to see the fleet.', 'info');
    return;
  }
  try {
    await loadFeatures();
    const [page, health, stats, autoStop, migration, migrationHistory, deliveries] = await Promise.all([
      api('GET', `/api/instances?${listQuery()}`),
      fetch('/health', { headers: { accept: 'application/json' } })
        .then((r) => r.json())
        .catch(() => null),
      countStatuses(),
      ifHas('/api/instances/auto-stop/stats', '/api/instances/auto-stop/stats'),
      ifHas('/api/migration/status', '/api/migration/status'),
      ifHas('/api/migration/history', '/api/migration/history?limit=5'),
      ifHas('/api/webhooks/deliveries', '/api/webhooks/deliveries?limit=20'),
    ]);
    renderInstances(page);
    renderStats(stats, health, autoStop, migration);
    renderMigration(migration, migrationHistory);
    renderDeliveries(deliveries);
    setText('refreshed-at', `updated ${new Date().toLocaleTimeString()}`);
  } catch (err) {
    showError(err);
  }
}

/** Counts by status from the list endpoint's totals (one small request per figure, no full fleet download). */
async function countStatuses() {
  const total = (q) => api('GET', `/api/instances?limit=1&${q}`).then((r) => r.total);
  const sum = async (statuses) =>
    (await Promise.all(statuses.map((s) => total(`status=${s}`)))).reduce((a, b) => a + b, 0);
  const [all, running, stopped, managed, unmanaged] = await Promise.all([
    total(''),
    sum(['running', 'ready']),
    sum(['stopped']),
    total('managed=true'),
    total('managed=false'),
  ]);
  return { all, running, stopped, managed, unmanaged };
}

function renderStats(stats, health, autoStop, migration) {
  setText('stat-total', stats.all);
  setText('stat-running', stats.running);
  setText('stat-stopped', stats.stopped);
  setText('stat-managed', `${stats.managed} / ${stats.unmanaged}`);
  const details = (health && (health.details || health.services)) || {};
  const up = (x) =>
    x ? (x.status === 'up' || x.status === 'healthy' ? 'up' : x.status || 'unknown') : 'unknown';
  setText('stat-store', up(details.store));
  const novita = details.novitaApi || details.novita;
  setText(
    'stat-novita',
    novita ? `${up(novita)}${novita.circuit ? ` (circuit ${novita.circuit})` : ''}` : 'unknown',
  );
  const sync = health && health.sync;
  setText('stat-last-sync', sync ? when(sync.lastSync) : '–');
  setText('stat-next-sync', sync ? (sync.isLocked ? 'running now' : when(sync.nextSync)) : '–');
  if (autoStop) {
    const saved =
      autoStop.totals && typeof autoStop.totals.dollarsSaved === 'number'
        ? ` · saved $${autoStop.totals.dollarsSaved.toFixed(2)}`
        : '';
    setText(
      'stat-autostop',
      `${autoStop.enabled ? 'on' : 'off'} · ${autoStop.tracked ?? 0} tracked · next ${when(autoStop.nextDeadline)}${saved}`,
    );
  } else setText('stat-autostop', 'not available');
  if (migration) {
    const inFlight = Array.isArray(migration.inFlight)
      ? migration.inFlight.length
      : (migration.migrationsInFlight ?? 0);
    const last = migration.lastExecution
      ? `last ${when(migration.lastExecution.timestamp || migration.lastExecution.startedAt)}`
      : 'no run yet';
    setText('stat-migrations', `${inFlight} in flight · ${last}`);
  } else setText('stat-migrations', 'not available');
}

function statusCell(r) {
  const following = state.following.get(r.id);
  const label = following ? `${r.status} (${following}…)` : r.status;
  return el(
    'td',
    {},
    el('span', { class: `badge s-${r.status}`, title: `Novita: ${r.novitaStatus ?? 'unknown'}` }, label),
  );
}

function actionButton(label, cls, handler, instance) {
  const b = el('button', { type: 'button', class: cls, 'aria-label': `${label} ${instance.name}` }, label);
  b.addEventListener('click', () => busy(b, () => handler(instance)).catch(showError));
  return b;
}

function renderInstances(page) {
  state.total = page.total;
  const rows = page.instances.map((r) => {
    const up = ['running', 'ready', 'starting'].includes(r.status);
    const gone = ['deleted', 'terminated'].includes(r.status);
    const actions = el('div', { class: 'row-actions' });
    if (!gone) {
      if (up) actions.append(actionButton('Stop', 'secondary', stopInstance, r));
      else if (['stopped', 'failed'].includes(r.status))
        actions.append(actionButton('Start', '', startInstance, r));
      if (r.managed && up && has('/api/instances/{instanceId}/auto-stop/snooze'))
        actions.append(actionButton('Snooze', 'secondary', snooze, r));
      if (!r.managed) actions.append(actionButton('Adopt', 'secondary', adopt, r));
      actions.append(actionButton('Delete', 'danger', deleteInstance, r));
    }
    return el(
      'tr',
      { dataset: { id: r.id } },
      el('th', { scope: 'row', class: 'name' }, r.name),
      statusCell(r),
      el('td', {}, r.region ?? '–'),
      el('td', {}, r.gpuNum ?? '–'),
      el('td', {}, r.productName ?? '–'),
      el('td', {}, money(r.price)),
      el('td', {}, r.billingMode ?? '–'),
      el('td', { class: 'idle', dataset: { idleFor: r.id } }, r.managed && up ? '…' : '–'),
      el('td', {}, r.managed ? 'yes' : 'no'),
      el('td', {}, actions),
    );
  });
  if (rows.length === 0)
    rows.push(el('tr', {}, el('td', { colspan: '10', class: 'muted' }, 'No instances match.')));
  $('instance-rows').replaceChildren(...rows);
  const last = Math.min(state.offset + PAGE_SIZE, state.total);
  setText('page-info', state.total === 0 ? '0 of 0' : `${state.offset + 1}–${last} of ${state.total}`);
  $('page-prev').disabled = state.offset === 0;
  $('page-next').disabled = last >= state.total;
}

/** Idle deadlines live with auto-stop, one small read per visible managed running instance. */
async function fillIdleDeadlines(instances) {
  const cell = (id) => document.querySelector(`td.idle[data-idle-for="${CSS.escape(id)}"]`);
  if (!has('/api/instances/{instanceId}/auto-stop')) {
    for (const r of instances) if (cell(r.id)) cell(r.id).textContent = '–';
    return;
  }
  await Promise.all(
    instances.map(async (r) => {
      let text = '–';
      try {
        const a = await api('GET', `/api/instances/${encodeURIComponent(r.id)}/auto-stop`);
        text = a.idleDeadline ? when(a.idleDeadline) : a.policy && a.policy.enabled === false ? 'off' : '–';
      } catch {
        text = '?';
      }
      const c = cell(r.id);
      if (c) c.textContent = text;
    }),
  );
}

function renderMigration(status, history) {
  if (!status) {
    setText('migration-summary', 'Spot recovery is not available on this deployment.');
    $('migration-history').replaceChildren();
    return;
  }
  const s = status.statistics || {};
  setText(
    'migration-summary',
    `${status.enabled ? 'Enabled' : 'Disabled'} · ${s.totalExecutions ?? 0} runs · ${s.totalMigrations ?? 0} migrations · next ${when(status.nextExecution)}`,
  );
  const runs = (history && history.executions) || [];
  $('migration-history').replaceChildren(
    ...runs.map((run) => {
      const sum = run.summary || {};
      return el(
        'li',
        {},
        `${when(run.startedAt)} · ${run.status}${run.dryRun ? ' (dry run)' : ''} · ${sum.migratedInstances ?? 0} migrated of ${sum.eligibleInstances ?? 0} eligible · ${sum.errorCount ?? 0} errors`,
      );
    }),
  );
}

function renderDeliveries(list) {
  if (!list) {
    $('delivery-rows').replaceChildren(
      el('tr', {}, el('td', { colspan: '6', class: 'muted' }, 'Not available.')),
    );
    return;
  }
  const rows = list.deliveries.map((d) => {
    const last = d.attempts && d.attempts.length ? d.attempts[d.attempts.length - 1] : null;
    const result = last ? (last.status ? `HTTP ${last.status}` : last.error || 'error') : 'not sent yet';
    const redeliver = el(
      'button',
      { type: 'button', class: 'secondary', 'aria-label': `Redeliver ${d.eventType}` },
      'Redeliver',
    );
    redeliver.addEventListener('click', () =>
      busy(redeliver, async () => {
        await api('POST', `/api/webhooks/deliveries/${encodeURIComponent(d.id)}/redeliver`);
        notify(`Redelivery of ${d.eventType} queued.`, 'success');
        await refresh();
      }).catch(showError),
    );
    return el(
      'tr',
      {},
      el('td', {}, d.eventType),
      el('td', {}, d.instanceId),
      el('td', {}, el('span', { class: `badge d-${d.state}` }, d.state)),
      el('td', {}, d.attemptCount),
      el('td', { title: last ? when(last.at) : '' }, result),
      el('td', {}, redeliver),
    );
  });
  if (rows.length === 0)
    rows.push(el('tr', {}, el('td', { colspan: '6', class: 'muted' }, 'No deliveries yet.')));
  $('delivery-rows').replaceChildren(...rows);
}

// ---------- actions ----------

/** Follows an instance's operation until it ends, refreshing the table as it moves. */
async function follow(instance, label) {
  state.following.set(instance.id, label);
  await refresh();
  const until = Date.now() + OPERATION_POLL_LIMIT_MS;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, OPERATION_POLL_MS));
    let current;
    try {
      current = await api('GET', `/api/instances/${encodeURIComponent(instance.id)}`);
    } catch {
      break;
    }
    if (!current.activeOperationId) break;
    await refresh();
  }
  state.following.delete(instance.id);
  await refresh();
}

async function startInstance(r) {
  const res = await api('POST', `/api/instances/${encodeURIComponent(r.id)}/start`);
  notify(`${r.name}: ${res.message}`, 'success');
  void follow(r, 'starting');
}

async function stopInstance(r) {
  const res = await api('POST', `/api/instances/${encodeURIComponent(r.id)}/stop`);
  notify(`${r.name}: ${res.message}`, 'success');
  void follow(r, 'stopping');
}

async function deleteInstance(r) {
  const ok = await confirmAction(
    `Delete ${r.name}?`,
    `This deletes instance "${r.name}" on Novita, with its disk. It cannot be undone.`,
    `Delete ${r.name}`,
  );
  if (!ok) return;
  const res = await api('DELETE', `/api/instances/${encodeURIComponent(r.id)}`);
  notify(`${r.name}: ${res.message}`, 'success');
  await refresh();
}

async function adopt(r) {
  await api('POST', `/api/instances/${encodeURIComponent(r.id)}/adopt`, {});
  notify(`${r.name} is now managed: auto-stop and spot recovery apply to it.`, 'success');
  await refresh();
}

async function snooze(r) {
  const res = await api('POST', `/api/instances/${encodeURIComponent(r.id)}/auto-stop/snooze`, {
    minutes: 30,
  });
  notify(
    `${r.name}: auto-stop snoozed${res && res.idleDeadline ? ` until ${when(res.idleDeadline)}` : ''}.`,
    'success',
  );
  await refresh();
}

function renderSyncCounts(data, dryRun) {
  $('sync-result-title').textContent = dryRun ? 'Sync preview (nothing changed yet)' : 'Sync applied';
  const pairs = [
    ['Novita instances', data.novitaInstances],
    ['Local records', data.localInstances],
    ['Updated', data.updated],
    ['Adopted (unmanaged)', data.adopted],
    ['Marked terminated', data.markedObsolete],
    ['Removed', data.instancesRemoved],
    ['Duration', `${data.duration} ms`],
  ];
  $('sync-counts').replaceChildren(...pairs.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  $('sync-errors').replaceChildren(
    ...(data.errors || []).map((e) =>
      el('li', {}, `${e.instanceId ?? e.novitaInstanceId ?? ''}: ${e.message}`),
    ),
  );
  $('sync-apply').hidden = !dryRun;
  $('sync-result').hidden = false;
}

async function syncPreview() {
  const res = await api('POST', '/api/instances/sync', { dryRun: true });
  renderSyncCounts(res.data, true);
}

async function syncApply() {
  const res = await api('POST', '/api/instances/sync', { dryRun: false });
  renderSyncCounts(res.data, false);
  notify(res.message, res.success ? 'success' : 'error');
  await refresh();
}

async function stopAll() {
  const ok = await confirmAction(
    'Stop all managed instances?',
    'Every managed instance that is running, ready or starting will be stopped. Unmanaged instances are left alone.',
    'Stop all',
  );
  if (!ok) return;
  const res = await api('POST', '/api/instances/stop-all');
  $('stop-all-list').replaceChildren(
    ...res.results.map((r) =>
      el(
        'li',
        { class: r.success ? '' : 'failed' },
        `${r.name}: ${r.success ? r.status : `failed — ${r.error ? r.error.message : 'error'}`}`,
      ),
    ),
  );
  if (res.results.length === 0) $('stop-all-list').replaceChildren(el('li', {}, 'Nothing was running.'));
  $('stop-all-result').hidden = false;
  notify(res.message, res.success ? 'success' : 'error');
  await refresh();
}

async function clearCaches() {
  try {
    await api('POST', '/api/cache/clear', {});
    notify('Caches cleared. Instance records, operations and webhooks are untouched.', 'success');
  } catch (err) {
    if (err instanceof ApiError && err.status === 404)
      notify('Cache management is not available on this deployment.', 'info');
    else throw err;
  }
  await refresh();
}

// ---------- wiring ----------

function schedule() {
  clearInterval(state.timer);
  state.timer = null;
  if (state.paused) return;
  const seconds = Number($('refresh-interval').value);
  state.timer = setInterval(() => void refresh(), seconds * 1000);
}

function wire() {
  $('api-key').value = apiKey.get();
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('api-key').value.trim();
    if (key) apiKey.set(key);
    else apiKey.clear();
    void refresh();
  });
  $('key-forget').addEventListener('click', () => {
    apiKey.clear();
    $('api-key').value = '';
    $('instance-rows').replaceChildren();
    notify('Key forgotten for this tab.', 'info');
  });
  $('refresh-interval').addEventListener('change', schedule);
  $('refresh-pause').addEventListener('click', () => {
    state.paused = !state.paused;
    $('refresh-pause').textContent = state.paused ? 'Resume' : 'Pause';
    $('refresh-pause').setAttribute('aria-pressed', String(state.paused));
    schedule();
  });
  $('refresh-now').addEventListener('click', () => busy($('refresh-now'), refresh));
  for (const id of ['filter-status', 'filter-managed']) {
    $(id).addEventListener('change', () => {
      state.offset = 0;
      void refresh();
    });
  }
  let typing = null;
  $('filter-name').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      state.offset = 0;
      void refresh();
    }, 300);
  });
  $('page-prev').addEventListener('click', () => {
    state.offset = Math.max(0, state.offset - PAGE_SIZE);
    void refresh();
  });
  $('page-next').addEventListener('click', () => {
    state.offset += PAGE_SIZE;
    void refresh();
  });
  const guarded = (id, fn) => $(id).addEventListener('click', () => busy($(id), fn).catch(showError));
  guarded('sync-preview', syncPreview);
  guarded('sync-apply', syncApply);
  guarded('stop-all', stopAll);
  guarded('cache-clear', clearCaches);
  $('sync-close').addEventListener('click', () => ($('sync-result').hidden = true));
  schedule();
  void refresh();
}

wire();
