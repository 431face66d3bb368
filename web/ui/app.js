// tracermon dashboard: one file, no framework, no build step. Live values arrive as server-sent
// events (/api/v1/events); when the daemon refuses a stream (503: too many open) or has none, the
// page polls /api/v1/latest every 5 s instead. Charts are uPlot (served as /uplot.js).
'use strict';
(() => {
  // ---------------------------------------------------------------------------------------------
  // Field names, units and formatting

  const LABELS = {
    pv_voltage: 'PV voltage', pv_current: 'PV current', pv_power: 'PV power',
    battery_voltage: 'Battery voltage', battery_charging_current: 'Charging current',
    battery_charging_power: 'Charging power', battery_current_net: 'Battery net current',
    battery_soc: 'State of charge', battery_voltage_stat: 'Battery voltage (statistics)',
    load_voltage: 'Load voltage', load_current: 'Load current', load_power: 'Load power',
    battery_temperature: 'Battery temperature', device_temperature: 'Controller temperature',
    remote_battery_temperature: 'Remote battery sensor', power_components_temperature:
      'Heat-sink temperature', ambient_temperature: 'Ambient temperature',
    battery_real_rated_voltage: 'System voltage',
    generated_energy_today: 'Generated today', generated_energy_this_month: 'Generated this month',
    generated_energy_this_year: 'Generated this year', generated_energy_total: 'Generated total',
    consumed_energy_today: 'Consumed today', consumed_energy_this_month: 'Consumed this month',
    consumed_energy_this_year: 'Consumed this year', consumed_energy_total: 'Consumed total',
    max_pv_voltage_today: 'Max PV voltage today', min_pv_voltage_today: 'Min PV voltage today',
    max_battery_voltage_today: 'Max battery voltage today',
    min_battery_voltage_today: 'Min battery voltage today',
    pv_rated_voltage: 'PV rated voltage', pv_rated_current: 'PV rated current',
    pv_rated_power: 'PV rated power', battery_rated_voltage: 'Battery rated voltage',
    battery_rated_current: 'Battery rated current', battery_rated_power: 'Battery rated power',
    load_rated_voltage: 'Load rated voltage', load_rated_current: 'Load rated current',
    load_rated_power: 'Load rated power', charging_mode: 'Charging mode',
    battery_type: 'Battery type', battery_capacity: 'Battery capacity',
  };
  // The fields of a site's totals, with their units (also the fallback for a controller whose
  // latest values are not known yet).
  const UNITS = {
    pv_power: 'W', battery_charging_power: 'W', load_power: 'W', pv_current: 'A',
    battery_charging_current: 'A', load_current: 'A', battery_current_net: 'A',
    battery_voltage: 'V', battery_soc: '%', generated_energy_today: 'kWh',
    generated_energy_total: 'kWh', consumed_energy_today: 'kWh', consumed_energy_total: 'kWh',
  };
  const UNIT_TEXT = { degC: '°C', 'mV/degC/2V': 'mV/°C/2V' };
  const UNIT_NAMES = {
    W: 'Power', V: 'Voltage', A: 'Current', '%': 'State of charge', kWh: 'Energy',
    degC: 'Temperature',
  };
  const UNIT_ORDER = ['W', '%', 'V', 'A', 'kWh', 'degC'];

  const label = (name) => LABELS[name] || cap(name.replace(/_/g, ' '));
  const unitText = (unit) => UNIT_TEXT[unit] ?? unit ?? '';
  const cap = (text) => (text ? text[0].toUpperCase() + text.slice(1) : text);

  const numberFormats = new Map();
  function num(value, digits) {
    let f = numberFormats.get(digits);
    if (!f) {
      f = new Intl.NumberFormat(undefined, {
        minimumFractionDigits: digits, maximumFractionDigits: digits,
      });
      numberFormats.set(digits, f);
    }
    return f.format(value);
  }
  function digitsFor(unit, value) {
    const a = Math.abs(value);
    switch (unit) {
      case 'W': return a >= 100 || value === 0 ? 0 : 1;
      case '%': return 0;
      case 'V': case 'A': return 2;
      case 'kWh': return a >= 1000 ? 0 : 2;
      case 'degC': return 1;
      default: return Number.isInteger(value) ? 0 : 2;
    }
  }
  // "1.23 kW", "24.55 V", "—" for no value.
  function fmt(value, unit) {
    if (value == null || Number.isNaN(value)) return '—';
    if (unit === 'W' && Math.abs(value) >= 1000) return `${num(value / 1000, 2)} kW`;
    const u = unitText(unit);
    return u ? `${num(value, digitsFor(unit, value))} ${u}` : num(value, digitsFor(unit, value));
  }
  const shortNum = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
  // Axis labels with as many decimals as the tick step needs (24.56, 24.58 ...).
  function axisNum(value, unit, step) {
    if (unit === 'W' && Math.abs(value) >= 1000) return `${num(value / 1000, 1)}k`;
    let digits = 0;
    while (digits < 3 && Math.abs(Math.round(step * 10 ** digits) - step * 10 ** digits) > 1e-6) digits++;
    return num(value, digits);
  }

  const timeFmt = new Intl.DateTimeFormat(undefined,
    { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
  const monthFmt = new Intl.DateTimeFormat(undefined, { month: 'short', year: 'numeric' });
  const monthShort = new Intl.DateTimeFormat(undefined, { month: 'short' });
  // A time within the last day as its clock time, older ones with their date.
  const when = (ms) => (Math.abs(Date.now() - ms) < 20 * 3600e3 ? timeFmt : dateTimeFmt).format(ms);
  // A length of time in words: "45 s", "5 min", "3 h", "1 day".
  function duration(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 90) return `${s} s`;
    if (s < 90 * 60) return `${Math.round(s / 60)} min`;
    if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
    const days = Math.round(s / 86400);
    return `${days} day${days === 1 ? '' : 's'}`;
  }
  const phaseText = (phase) => (!phase ? '—' : phase === 'no charging' ? 'Not charging' : cap(phase));
  // "2 (MPPT)" -> "MPPT"
  const enumText = (text) => text.replace(/^\d+ \((.*)\)$/, '$1');

  // ---------------------------------------------------------------------------------------------
  // DOM helpers

  const $ = (selector, root = document) => root.querySelector(selector);
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat(Infinity)) if (c != null && c !== false) e.append(c);
    return e;
  }
  function setText(e, text) {
    if (e && e.textContent !== text) e.textContent = text;
  }
  function setAttr(e, name, value) {
    if (!e) return;
    if (value == null) {
      if (e.hasAttribute(name)) e.removeAttribute(name);
    } else if (e.getAttribute(name) !== String(value)) {
      e.setAttribute(name, value);
    }
  }
  // Elements marked data-k="key" inside root, looked up once.
  function slots(root) {
    if (!root._slots) {
      root._slots = new Map();
      for (const e of root.querySelectorAll('[data-k]')) root._slots.set(e.dataset.k, e);
    }
    return root._slots;
  }
  // One value into its element: text, the number for tests and tools, stale styling.
  function showValue(e, value, unit, stale, title) {
    if (!e) return;
    setText(e, fmt(value, unit));
    setAttr(e, 'data-value', value == null ? null : value);
    e.classList.toggle('stale', !!stale && value != null);
    setAttr(e, 'title', title || null);
  }
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

  // ---------------------------------------------------------------------------------------------
  // State and the server's clock

  const state = {
    devices: new Map(), // name -> the device object of /api/v1/latest
    sites: new Map(),   // name -> the site object of /api/v1/latest
    status: null,       // /api/v1/status
    view: 'overview',
  };

  // The server's clock may differ from the browser's (a Pi without RTC, a phone set wrong):
  // ages are measured on the server's clock, estimated from the freshest time stamps received
  // in the last two minutes.
  const skewSamples = [];
  let skew = 0;
  function noteServerTime(ms) {
    if (!ms) return;
    const now = Date.now();
    skewSamples.push([now, now - ms]);
    while (skewSamples.length > 1 && (now - skewSamples[0][0] > 120e3 || skewSamples.length > 300)) {
      skewSamples.shift();
    }
    skew = Math.min(...skewSamples.map((s) => s[1]));
  }
  const serverNow = () => Date.now() - skew;

  const fieldStale = (f) => f.max_age_s > 0 && serverNow() - f.time_ms > f.max_age_s * 1000;
  // The shortest positive max age of a device's fields: its fast poll class (3 intervals).
  function fastMaxAgeMs(d) {
    let best = Infinity;
    for (const f of Object.values(d?.fields || {})) {
      if (f.max_age_s > 0 && f.max_age_s < best) best = f.max_age_s;
    }
    return best === Infinity ? null : best * 1000;
  }
  function statusOf(name) {
    for (const bus of state.status?.buses || []) {
      for (const d of bus.devices) if (d.name === name) return d;
    }
    return null;
  }
  // online | degraded | offline | stale | waiting | unknown
  function deviceState(name) {
    const d = state.devices.get(name);
    if (!d) return statusOf(name)?.health === 'offline' ? 'offline' : 'waiting';
    if (d.health === 'offline') return 'offline';
    const maxAge = fastMaxAgeMs(d);
    if (maxAge != null && serverNow() - d.time_ms > maxAge) return 'stale';
    return d.health;
  }
  const STATE_TEXT = {
    online: 'online', degraded: 'degraded', offline: 'offline', stale: 'no new data',
    waiting: 'waiting', unknown: 'starting',
  };

  function siteNames() {
    const names = new Set(state.sites.keys());
    for (const d of state.devices.values()) if (d.site) names.add(d.site);
    return [...names];
  }
  function siteMembers(site) {
    const s = state.sites.get(site);
    if (s?.members?.length) return s.members;
    return [...state.devices.values()].filter((d) => d.site === site).map((d) => d.device);
  }
  function deviceNames() {
    const names = [];
    for (const bus of state.status?.buses || []) for (const d of bus.devices) names.push(d.name);
    for (const name of state.devices.keys()) if (!names.includes(name)) names.push(name);
    return names;
  }
  function siteStale(site) {
    const s = state.sites.get(site);
    if (!s) return true;
    const ages = siteMembers(site).map((m) => fastMaxAgeMs(state.devices.get(m))).filter((a) => a);
    const maxAge = ages.length ? Math.max(...ages) : 60e3;
    return serverNow() - s.time_ms > maxAge;
  }

  // ---------------------------------------------------------------------------------------------
  // Live data: events, with polling as the fallback

  let events = null;
  let pollTimer = null;
  let retryTimer = null;
  let hiddenTimer = null;
  let lastMessage = 0;
  let connection = 'connecting';
  let firstValues = false;

  function applyDevice(d) {
    state.devices.set(d.device, d);
    noteServerTime(d.time_ms);
  }
  function applySite(s) {
    state.sites.set(s.site, s);
  }
  function applyLatest(latest) {
    state.devices = new Map();
    state.sites = new Map();
    for (const d of Object.values(latest.devices || {})) applyDevice(d);
    for (const s of Object.values(latest.sites || {})) applySite(s);
  }

  async function getJSON(path, signal) {
    const r = await fetch(path, { cache: 'no-store', signal });
    if (!r.ok) {
      let why = `HTTP ${r.status}`;
      try { why = (await r.json()).error || why; } catch { /* not JSON */ }
      throw new Error(why);
    }
    return r.json();
  }

  async function loadLatest() {
    try {
      applyLatest(await getJSON('api/v1/latest'));
      state.latestLoaded = true;
      lastMessage = Date.now();
      if (connection !== 'live') setConnection(pollTimer ? 'polling' : connection);
    } catch (e) {
      if (connection !== 'live') setConnection('lost', e.message);
    }
    render();
  }

  function startPolling() {
    if (pollTimer) return;
    setConnection('polling');
    pollTimer = setInterval(loadLatest, 5000);
    loadLatest();
  }
  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  function openEvents() {
    clearTimeout(retryTimer);
    closeEvents();
    if (!('EventSource' in window)) return startPolling();
    const source = new EventSource('api/v1/events');
    events = source;
    const onMessage = (apply) => (e) => {
      lastMessage = Date.now();
      try { apply(JSON.parse(e.data)); } catch { return; }
      if (connection !== 'live') setConnection('live');
      render();
    };
    source.addEventListener('device', onMessage(applyDevice));
    source.addEventListener('site', onMessage(applySite));
    source.onopen = () => {
      lastMessage = Date.now();
      stopPolling();
      setConnection('live');
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (503: too many streams) or not served: poll, and try the stream again later.
        events = null;
        startPolling();
        retryTimer = setTimeout(openEvents, 60e3);
      } else {
        setConnection('lost'); // the browser reconnects by itself
      }
    };
  }
  function closeEvents() {
    if (events) events.close();
    events = null;
  }

  // A stream can die without an error (a phone changing networks): reopen it when nothing came
  // for much longer than the devices' poll interval.
  function watchEvents() {
    if (!events || events.readyState !== EventSource.OPEN) return;
    const ages = [...state.devices.values()].map(fastMaxAgeMs).filter((a) => a);
    const limit = Math.max(60e3, 2 * Math.max(0, ...ages));
    if (Date.now() - lastMessage > limit) openEvents();
  }

  // A tab in the background for a minute gives its stream back (the daemon has only a few).
  document.addEventListener('visibilitychange', () => {
    clearTimeout(hiddenTimer);
    if (document.hidden) {
      hiddenTimer = setTimeout(() => {
        closeEvents();
        stopPolling();
        clearTimeout(retryTimer);
        setConnection('paused');
      }, 60e3);
    } else if (!events && !pollTimer) {
      loadLatest();
      openEvents();
    }
  });

  function setConnection(mode, detail) {
    connection = mode;
    const e = $('#conn');
    const text = {
      connecting: 'Connecting…',
      live: 'Live',
      polling: 'Updating every 5 s',
      lost: 'Connection lost, retrying…',
      paused: 'Paused in the background',
    }[mode];
    setAttr(e, 'data-state', mode);
    setText(e, text);
    setAttr(e, 'title', detail || null);
  }

  async function loadStatus() {
    try {
      state.statusAt = Date.now();
      state.status = await getJSON('api/v1/status');
      $('#control-tab').hidden = !state.status.control;
      render();
    } catch { /* the live view says when the daemon is gone */ }
  }

  // ---------------------------------------------------------------------------------------------
  // Rendering: batched into one animation frame

  let renderQueued = false;
  function render() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      if (state.view === 'overview') renderOverview();
      if (state.view === 'controllers') renderCards();
      if (state.view === 'control') renderControl();
      if (!firstValues && state.devices.size) {
        firstValues = true;
        performance.mark('tracermon:first-values');
        document.documentElement.dataset.ready = '1';
      }
      // The source lists follow the devices and sites known; a chart opened before any was
      // known loads now.
      if (state.view === 'history') {
        const source = sourceOptions($('#history-source'), history.source);
        if (!history.source && source && state.latestLoaded) loadHistory();
      }
      if (state.view === 'energy') {
        const source = sourceOptions($('#energy-source'), energy.source);
        if (!energy.source && source && state.latestLoaded) loadEnergy();
      }
    });
  }

  // ----- Overview

  function siteSection(site) {
    const id = `site-${site.replace(/[^\w-]/g, '_')}`;
    const dl = (...rows) => el('dl', null,
      rows.map(([t, k]) => [el('dt', { text: t }), el('dd', { 'data-k': k })]));
    return el('section', { class: 'site', 'data-site': site, 'aria-labelledby': id },
      el('header', { class: 'site-head' },
        el('h3', { id, text: site }),
        el('span', { class: 'badge', 'data-k': 'state' }),
        el('span', { class: 'muted', 'data-k': 'time' })),
      el('div', { class: 'tiles' },
        el('article', { class: 'tile pv', 'aria-label': 'Solar' },
          el('h4', { text: 'Solar' }),
          el('p', { class: 'big', 'data-k': 'pv_power' }),
          dl(['Current', 'pv_current'], ['Generated today', 'generated_energy_today'])),
        el('article', { class: 'tile batt', 'aria-label': 'Battery' },
          el('h4', { text: 'Battery' }),
          el('p', { class: 'big', 'data-k': 'battery_soc' }),
          el('meter', {
            min: 0, max: 100, low: 30, high: 80, optimum: 100,
            'data-k': 'soc-meter', 'aria-label': 'State of charge',
          }),
          el('p', { class: 'flow', 'data-k': 'direction' }),
          dl(['Voltage', 'battery_voltage'], ['Net current', 'battery_current_net'],
            ['Net power', 'net_power'])),
        el('article', { class: 'tile load', 'aria-label': 'Load' },
          el('h4', { text: 'Load' }),
          el('p', { class: 'big', 'data-k': 'load_power' }),
          dl(['Current', 'load_current'], ['Consumed today', 'consumed_energy_today'])),
        el('article', { class: 'tile charge', 'aria-label': 'Charging' },
          el('h4', { text: 'Charging' }),
          el('p', { class: 'big', 'data-k': 'phase' }),
          el('ul', { class: 'members', 'data-k': 'members' }))),
      el('div', { class: 'alerts', 'data-k': 'alerts', role: 'status', 'aria-live': 'polite' }),
      el('div', { class: 'chart-box', 'data-k': 'chart' }));
  }

  function renderOverview() {
    const root = $('#sites');
    const names = siteNames();
    if (!names.length) {
      if (connection === 'lost') setText(root, 'No connection to tracermon.');
      return;
    }
    const key = names.join('\n');
    if (root.dataset.sites !== key) {
      root.replaceChildren(...names.map(siteSection));
      root.dataset.sites = key;
      siteCharts.clear();
    }
    for (const section of root.querySelectorAll('section.site')) renderSite(section);
  }

  function renderSite(section) {
    const site = section.dataset.site;
    const s = state.sites.get(site);
    const k = slots(section);
    const stale = siteStale(site);
    const values = s?.values || {};
    const members = siteMembers(site);
    // A site total missing a member is left out by the daemon; the page then shows the sum of
    // the members that answer, marked as partial.
    const partial = new Map();
    const valueOf = (name) => {
      if (values[name]) return values[name].value;
      if (!s?.left_out?.includes(name)) return null;
      let sum = 0;
      const used = [];
      for (const m of members) {
        const f = state.devices.get(m)?.fields?.[name];
        if (f && !fieldStale(f) && deviceState(m) !== 'offline') {
          sum += f.value;
          used.push(m);
        }
      }
      if (!used.length) return null;
      const silent = members.filter((m) => !used.includes(m));
      partial.set(name, `${used.join(' + ')} only: ${silent.join(', ')} gave no fresh value`);
      return Math.round(sum * 1000) / 1000;
    };
    const show = (key, value, unit, from = key) => {
      showValue(k.get(key), value, unit, stale, partial.get(from));
      k.get(key)?.classList.toggle('partial', partial.has(from) && value != null);
    };
    for (const name of ['pv_power', 'pv_current', 'generated_energy_today', 'battery_soc',
      'battery_voltage', 'load_power', 'load_current', 'consumed_energy_today',
      'battery_current_net']) {
      show(name, valueOf(name), values[name]?.unit ?? UNITS[name]);
    }
    const net = valueOf('battery_current_net');
    const voltage = valueOf('battery_voltage');
    show('net_power', net != null && voltage != null ? net * voltage : null, 'W', 'battery_current_net');
    const flow = net == null ? null : net > 0.05 ? 'in' : net < -0.05 ? 'out' : 'idle';
    setText(k.get('direction'), { in: 'Charging', out: 'Discharging', idle: 'Idle' }[flow] ?? '');
    setAttr(k.get('direction'), 'data-dir', flow);
    const v = (name) => values[name]?.value;
    const meter = k.get('soc-meter');
    if (v('battery_soc') != null) meter.value = v('battery_soc');

    const memberStates = members.map(deviceState);
    const siteState = !s ? 'waiting' : memberStates.every((m) => m === 'offline') ? 'offline'
      : stale ? 'stale' : memberStates.some((m) => m !== 'online') || !s.complete ? 'degraded' : 'online';
    const badge = k.get('state');
    setText(badge, siteState === 'online' ? 'all controllers online' : siteState === 'degraded'
      ? 'attention' : STATE_TEXT[siteState]);
    setAttr(badge, 'data-state', siteState);
    setText(k.get('time'), s ? `updated ${when(s.time_ms)}` : '');

    // Charging phase: the same for all members, or each member's.
    const phases = members.map((m) => state.devices.get(m)?.status?.charging_phase).filter((p) => p);
    const unique = [...new Set(phases)];
    const night = members.some((m) => state.devices.get(m)?.fields?.day_night?.value === 1);
    setText(k.get('phase'), unique.length === 0 ? '—' : unique.length === 1
      ? phaseText(unique[0]) + (unique[0] === 'no charging' && night ? ' (night)' : '') : 'Mixed');

    const list = k.get('members');
    const memberKey = members.join('\n');
    if (list.dataset.members !== memberKey) {
      list.replaceChildren(...members.map((m) => el('li', { 'data-device': m },
        el('span', { class: 'dot' }), el('span', { class: 'name', text: m }),
        el('span', { class: 'what' }), el('span', { class: 'num' }))));
      list.dataset.members = memberKey;
    }
    for (const li of list.children) {
      const name = li.dataset.device;
      const d = state.devices.get(name);
      const st = deviceState(name);
      setAttr(li, 'data-state', st);
      const [dot, , what, pv] = li.children;
      setAttr(dot, 'title', STATE_TEXT[st]);
      setText(what, st === 'online' || st === 'degraded'
        ? phaseText(d?.status?.charging_phase) : STATE_TEXT[st]);
      showValue(pv, d?.fields?.pv_power?.value, 'W', st === 'stale');
    }

    renderAlerts(k.get('alerts'), site, members);
    if (state.view === 'overview') siteChart(site, k.get('chart'));
  }

  // Faults and warnings in words, the worst first.
  function alertsFor(site, members) {
    const out = [];
    const s = state.sites.get(site);
    for (const name of members) {
      const d = state.devices.get(name);
      const st = deviceState(name);
      const info = statusOf(name);
      if (st === 'offline') {
        const seen = info?.last_seen ? `last answer ${when(Date.parse(info.last_seen))}`
          : 'no answer since the start';
        const why = info?.last_error ? `; ${info.last_error}` : '';
        out.push(['bad', `${name}: not answering (${seen}${why})`]);
      } else if (st === 'stale') {
        out.push(['warn', `${name}: no new values since ${when(d.time_ms)}`]);
      } else if (st === 'degraded') {
        out.push(['warn', `${name}: some reads fail${info?.last_error ? `: ${info.last_error}` : ''}`]);
      }
      for (const p of d?.status?.problems || []) out.push(['bad', `${name}: ${problemText(p)}`]);
      if (d && d.clock_trusted === false) {
        out.push(['warn', `${name}: the host clock is not set yet; values are not saved to the history`]);
      }
    }
    if (s && !s.complete && s.missing_members?.length) {
      const answering = members.filter((m) => !s.missing_members.includes(m));
      out.push(['warn', `Totals are of ${answering.join(', ') || 'no controller'} only: `
        + `${s.missing_members.join(', ')} gave no fresh values`]);
    }
    if (connection === 'lost') out.unshift(['bad', 'No connection to tracermon: values are not updating']);
    return out.sort((a, b) => (a[0] === b[0] ? 0 : a[0] === 'bad' ? -1 : 1));
  }
  function renderAlerts(box, site, members) {
    const alerts = alertsFor(site, members);
    const key = JSON.stringify(alerts);
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    setAttr(box, 'data-count', alerts.length);
    box.replaceChildren(alerts.length
      ? el('ul', null, alerts.map(([level, text]) => el('li', { class: level, text })))
      : el('p', { class: 'ok', text: 'No faults or warnings.' }));
  }

  // The last 24 hours of the site on the overview: power and state of charge.
  const siteCharts = new Map(); // site -> {chart, loaded}
  async function siteChart(site, box) {
    const entry = siteCharts.get(site) || {};
    if (entry.loading || (entry.loaded && Date.now() - entry.loaded < 120e3)) return;
    entry.loading = true;
    siteCharts.set(site, entry);
    const fields = ['pv_power', 'load_power', 'battery_soc'];
    try {
      const points = Math.max(60, Math.min(600, Math.round((box.clientWidth || 600) / 2)));
      const h = await getJSON(`api/v1/history?device=${encodeURIComponent(site)}`
        + `&fields=${fields.join(',')}&from=-24h&to=now&points=${points}`);
      entry.chart?.destroy();
      box.replaceChildren();
      entry.chart = makeChart(box, {
        title: 'Last 24 hours',
        height: 200,
        fields: fields.map((f) => ({ name: f, unit: UNITS[f] })),
        history: h,
        syncKey: null,
      });
      entry.loaded = Date.now();
    } catch (e) {
      box.replaceChildren(el('p', { class: 'muted', text: `No history: ${e.message}` }));
      entry.loaded = Date.now();
    } finally {
      entry.loading = false;
    }
  }

  // ----- Controllers

  const LIVE_ROWS = [
    ['Solar', [['PV voltage', 'pv_voltage'], ['PV current', 'pv_current'], ['PV power', 'pv_power']]],
    ['Battery', [['Voltage', 'battery_voltage'], ['State of charge', 'battery_soc'],
      ['Charging current', 'battery_charging_current'], ['Charging power', 'battery_charging_power'],
      ['Net current', 'battery_current_net'], ['Temperature', 'battery_temperature']]],
    ['Load', [['Output', '=load_on'], ['Voltage', 'load_voltage'], ['Current', 'load_current'],
      ['Power', 'load_power']]],
    ['Today', [['Generated', 'generated_energy_today'], ['Consumed', 'consumed_energy_today'],
      ['Battery min / max', '=battery_range'], ['PV max', 'max_pv_voltage_today'],
      ['Controller temperature', 'device_temperature']]],
    ['Status', [['Charging phase', '=charging_phase'], ['Battery', '=battery_voltage_state'],
      ['Battery temperature', '=battery_temperature_state'],
      ['PV input', '=charging_equipment_input_voltage_state'],
      ['Load level', '=discharging_equipment_output_power_state'], ['Problems', '=problems']]],
    ['Rated', [['PV', '=rated_pv'], ['Battery', '=rated_battery'], ['Load', '=rated_load'],
      ['System voltage', 'battery_real_rated_voltage'], ['Charging mode', 'charging_mode'],
      ['Battery type', 'battery_type'], ['Capacity', 'battery_capacity']]],
    ['Communication', [['Requests / replies', '=requests'], ['Errors', '=error_rate'],
      ['Timeouts / CRC / bad', '=errors'], ['Latency', '=latency'], ['Silent cycles', '=silent'],
      ['Last error', '=last_error'], ['Identity', '=identity']]],
  ];
  const RATED = new Set(['pv_rated_voltage', 'pv_rated_current', 'pv_rated_power',
    'battery_rated_voltage', 'battery_rated_current', 'battery_rated_power', 'load_rated_voltage',
    'load_rated_current', 'load_rated_power', 'charging_mode', 'battery_type', 'battery_capacity']);

  const rows = (pairs) => pairs.map(([t, k]) => [el('dt', { text: t }), el('dd', { 'data-k': k })]);
  function card(name) {
    const id = `card-${name.replace(/[^\w-]/g, '_')}`;
    return el('article', { class: 'card', 'data-device': name, 'aria-labelledby': id },
      el('header', { class: 'card-head' },
        el('h3', { id, text: name }),
        el('span', { class: 'badge', 'data-k': 'state' }),
        el('p', { class: 'muted sub', 'data-k': 'sub' })),
      el('p', { class: 'no-values-note muted', text: 'No values read from this controller yet.' }),
      el('div', { class: 'groups' }, LIVE_ROWS.map(([title, pairs]) => el('section',
        { class: title === 'Communication' ? 'group comm' : 'group' },
        el('h4', { text: title }),
        el('dl', null, rows(pairs))))),
      el('details', { class: 'settings' },
        el('summary', { text: 'Settings' }),
        el('dl', { 'data-k': 'settings' })));
  }

  function renderCards() {
    const root = $('#cards');
    const names = deviceNames();
    if (!names.length) return;
    const key = names.join('\n');
    if (root.dataset.devices !== key) {
      root.replaceChildren(...names.map(card));
      root.dataset.devices = key;
    }
    for (const c of root.children) renderCard(c);
  }

  // The "=name" rows of a card: values put together from fields, status and counters.
  function computedRows(d, info) {
    const fields = d?.fields || {};
    const status = d?.status || {};
    const counters = info?.counters;
    const text = (n) => fieldText(d, info, n);
    const joined = (...names) => names.filter((n) => fields[n]).map(text).join(' · ') || '—';
    const state = (key) => cap(status[key] || '—');
    const latency = counters?.latency_ms;
    const identity = info?.identity;
    return {
      // Bit 0 of the discharging status word: the load output is on.
      load_on: () => (fields.discharging_equipment_status
        ? (fields.discharging_equipment_status.value & 1 ? 'on' : 'off') : '—'),
      battery_range: () => joined('min_battery_voltage_today', 'max_battery_voltage_today'),
      charging_phase: () => phaseText(status.charging_phase),
      battery_voltage_state: () => state('battery_voltage_state'),
      battery_temperature_state: () => state('battery_temperature_state'),
      charging_equipment_input_voltage_state: () => state('charging_equipment_input_voltage_state'),
      discharging_equipment_output_power_state: () => state('discharging_equipment_output_power_state'),
      problems: () => (status.problems?.length ? status.problems.map(problemText).join('; ')
        : Object.keys(fields).length ? 'none' : '—'),
      rated_pv: () => joined('pv_rated_voltage', 'pv_rated_current', 'pv_rated_power'),
      rated_battery: () => joined('battery_rated_voltage', 'battery_rated_current', 'battery_rated_power'),
      rated_load: () => joined('load_rated_voltage', 'load_rated_current', 'load_rated_power'),
      requests: () => (counters ? `${counters.requests} / ${counters.replies}` : '—'),
      errors: () => (counters
        ? `${counters.timeouts} / ${counters.crc_errors} / ${counters.bad_replies}` : '—'),
      error_rate: () => {
        if (!counters?.requests) return '—';
        const bad = counters.timeouts + counters.crc_errors + counters.bad_replies;
        return `${num((100 * bad) / counters.requests, bad ? 1 : 0)} %`;
      },
      latency: () => (counters?.replies ? `${num(latency.last, 1)} ms `
        + `(mean ${num(latency.mean, 1)}, max ${num(latency.max, 1)})` : '—'),
      silent: () => (counters ? String(counters.silent_cycles) : '—'),
      last_error: () => (info?.last_error
        ? `${info.last_error} (${when(Date.parse(info.last_error_time))})` : info ? 'none' : '—'),
      identity: () => (identity ? [identity.vendor, identity.product, identity.revision,
        identity.serial && `serial ${identity.serial}`].filter((x) => x).join(' · ') : '—'),
    };
  }
  // A field as words: its enum text, or its value with the unit; why it is absent otherwise.
  function fieldText(d, info, name) {
    const f = d?.fields?.[name];
    if (f) return f.text ? enumText(f.text) : fmt(f.value, f.unit);
    if (d?.missing?.[name]) return 'not read';
    return info?.unsupported?.includes(name) ? 'not supported' : '—';
  }
  const problemText = (p) => cap(p.replace(/_/g, ' '));

  function renderCard(c) {
    const name = c.dataset.device;
    const d = state.devices.get(name);
    const info = statusOf(name);
    const st = deviceState(name);
    const k = slots(c);
    const badge = k.get('state');
    setText(badge, STATE_TEXT[st]);
    setAttr(badge, 'data-state', st);
    setAttr(c, 'data-state', st);
    c.classList.toggle('no-values', !d || !Object.keys(d.fields).length);
    const model = info?.identity?.product || info?.model || '';
    const updated = d ? `${st === 'offline' ? 'tried' : 'updated'} ${when(d.time_ms)}` : '';
    const id = `id ${d?.id ?? info?.id ?? '?'}`;
    setText(k.get('sub'), [id, model, d?.bus, updated].filter((x) => x).join(' · '));

    const fields = d?.fields || {};
    const computed = computedRows(d, info);
    for (const [key, e] of k) {
      if (key === 'state' || key === 'sub' || key === 'settings') continue;
      if (key.startsWith('=')) {
        setText(e, computed[key.slice(1)]());
        e.classList.toggle('bad', key === '=problems' && !!d?.status?.problems?.length);
      } else if (fields[key] && !fields[key].text) {
        showValue(e, fields[key].value, fields[key].unit, fieldStale(fields[key]) || st === 'offline');
      } else {
        setText(e, fieldText(d, info, key));
      }
    }
    // Settings: everything read once (not live, not rated), as the controller reports it.
    const settings = k.get('settings');
    const names = Object.keys(fields).filter((n) => fields[n].max_age_s === 0 && !RATED.has(n));
    const settingsKey = JSON.stringify(names.map((n) => [n, fields[n].value]));
    if (settings.dataset.key !== settingsKey) {
      settings.dataset.key = settingsKey;
      settings.replaceChildren(...names.flatMap((n) =>
        [el('dt', { text: label(n) }), el('dd', { text: fieldText(d, info, n) })]));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Charts (uPlot)

  const PALETTE = ['--c-1', '--c-2', '--c-3', '--c-4', '--c-5', '--c-6'];
  function colorFor(name, used) {
    let v = /^pv_|generated/.test(name) ? '--c-pv' : /soc|^battery_/.test(name) ? '--c-batt'
      : /^load_|consumed/.test(name) ? '--c-load' : /temperature/.test(name) ? '--c-temp' : null;
    if (!v || used.has(v)) v = PALETTE.find((p) => !used.has(p)) || PALETTE[0];
    used.add(v);
    return css(v);
  }

  // A gap is a time without data longer than the data's spacing around it (the bucket, or the
  // poll interval where buckets are finer than it, which changes over the years): it is never
  // drawn through, while a hole a poll just missed is. Returns the gaps as [from, to] times and
  // the values left with no neighbour (drawn as dots: a line needs two).
  function findGaps(times, ys, bucketMs) {
    const at = [];
    for (let i = 0; i < ys.length; i++) if (ys[i] != null) at.push(i);
    const spacing = at.slice(1).map((i, j) => times[i] - times[at[j]]);
    const isGap = spacing.map((d, j) => {
      const around = [spacing[j - 1], spacing[j + 1]].filter((x) => x != null);
      const expected = Math.max(bucketMs || 0, around.length ? Math.min(...around) : 0);
      return d > 1.5 * expected;
    });
    const gaps = [];
    const dots = [];
    at.forEach((i, j) => {
      if (j < isGap.length && isGap[j]) gaps.push([times[i], times[at[j + 1]]]);
      const lonelyBefore = j === 0 || isGap[j - 1];
      const lonelyAfter = j === at.length - 1 || isGap[j];
      if (lonelyBefore && lonelyAfter) dots.push(i);
    });
    return { gaps, dots };
  }

  // One chart: fields sharing at most two units (left and right axis), from a history response.
  function makeChart(box, spec) {
    const units = [...new Set(spec.fields.map((f) => f.unit))];
    const used = new Set();
    const fg = css('--muted');
    const grid = css('--grid');
    const xs = spec.history.time.map((t) => t / 1000);
    const data = [xs, ...spec.fields.map((f) => spec.history.fields[f.name] || xs.map(() => null))];
    const width = Math.max(240, box.clientWidth || 600);
    const title = spec.title ?? units.map((u) => `${UNIT_NAMES[u] || 'Value'} (${unitText(u)})`).join(', ');
    const opts = {
      width,
      height: spec.height,
      title,
      cursor: {
        drag: { x: true, y: false, setScale: false },
        sync: spec.syncKey ? { key: spec.syncKey } : undefined,
      },
      scales: { x: { time: true } },
      series: [
        { value: (u, v) => (v == null ? '—' : dateTimeFmt.format(v * 1000)) },
        ...spec.fields.map((f, i) => {
          const { gaps, dots } = findGaps(spec.history.time, data[i + 1], spec.history.bucket_ms);
          return {
            label: label(f.name),
            scale: f.unit,
            stroke: colorFor(f.name, used),
            width: 1.5,
            spanGaps: false,
            // Our gaps replace uPlot's (every null); in canvas pixels.
            gaps: (u) => gaps.map((gap) => gap.map((t) => u.valToPos(t / 1000, 'x', true))),
            value: (u, v) => fmt(v, f.unit),
            points: { filter: (u, si, show) => (show ? null : dots) },
          };
        }),
      ],
      axes: [
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
        ...units.slice(0, 2).map((unit, i) => ({
          scale: unit,
          side: i === 0 ? 3 : 1,
          stroke: fg,
          size: 52,
          grid: { show: i === 0, stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          values: (u, ticks, axis, space, step) => ticks.map((v) => axisNum(v, unit, step)),
          label: unitText(unit),
          labelSize: 18,
        })),
      ],
      hooks: spec.onZoom ? {
        setSelect: [(u) => {
          if (u.select.width < 4) return;
          const a = u.posToVal(u.select.left, 'x');
          const b = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          spec.onZoom(a * 1000, b * 1000);
        }],
      } : {},
    };
    for (const unit of units) {
      // Percent on a fixed 0-100 axis; others fit their data.
      opts.scales[unit] = unit === '%' ? { range: [0, 100] } : { auto: true };
    }
    const chart = new uPlot(opts, data, box);
    box.setAttribute('role', 'img');
    const names = spec.fields.map((f) => label(f.name)).join(', ');
    const span = `${dateTimeFmt.format(spec.history.from)} to ${dateTimeFmt.format(spec.history.to)}`;
    box.setAttribute('aria-label', `${title}: ${names}; ${xs.length} points from ${span}`);
    box.dataset.points = String(xs.length);
    box.dataset.fields = spec.fields.map((f) => f.name).join(',');
    box.dataset.values = String(data.slice(1).flat().filter((v) => v != null).length);
    return chart;
  }

  // ---------------------------------------------------------------------------------------------
  // History

  const HOUR = 3600e3;
  const RANGES = {
    '1h': HOUR, '6h': 6 * HOUR, '24h': 24 * HOUR, '7d': 168 * HOUR, '30d': 720 * HOUR,
    '365d': 8760 * HOUR,
  };
  const DEFAULT_FIELDS = {
    site: ['pv_power', 'load_power', 'battery_soc', 'battery_voltage'],
    device: ['pv_power', 'battery_charging_power', 'load_power', 'battery_soc', 'battery_voltage'],
  };
  const history = {
    source: null, fields: null, range: '24h', from: null, to: null,
    data: null, charts: [], abort: null, loaded: 0,
  };

  const isSite = (name) => siteNames().includes(name);
  function sourceOptions(select, current) {
    const sites = siteNames();
    const devices = deviceNames();
    const key = [...sites, '|', ...devices].join('\n');
    if (select.dataset.key !== key) {
      select.dataset.key = key;
      select.replaceChildren(
        el('optgroup', { label: 'Sites' }, sites.map((s) => el('option', { value: s, text: `${s} (site)` }))),
        el('optgroup', { label: 'Controllers' }, devices.map((d) => el('option', { value: d, text: d }))));
    }
    const value = current && [...sites, ...devices].includes(current) ? current : sites[0] || devices[0];
    if (value != null) select.value = value;
    return value;
  }

  // Fields with a unit that the source reports live (max age > 0), grouped by unit.
  function fieldsOf(source) {
    const out = new Map();
    if (isSite(source)) {
      const values = state.sites.get(source)?.values || {};
      const names = new Set([...Object.keys(UNITS), ...Object.keys(values)]);
      for (const n of names) out.set(n, values[n]?.unit ?? UNITS[n]);
    } else {
      const fields = state.devices.get(source)?.fields || {};
      for (const [n, f] of Object.entries(fields)) {
        if (f.max_age_s > 0 && f.unit && !f.text) out.set(n, f.unit);
      }
      if (!out.size) for (const [n, u] of Object.entries(UNITS)) out.set(n, u);
    }
    return out;
  }

  // How often the source's live values are read (its fast poll interval).
  function pollIntervalMs(source) {
    const names = isSite(source) ? siteMembers(source) : [source];
    const ages = names.map((n) => fastMaxAgeMs(state.devices.get(n))).filter((a) => a);
    return ages.length ? Math.max(...ages) / 3 : null;
  }

  function renderFieldPicker() {
    const box = $('#history-fields');
    const fields = fieldsOf(history.source);
    if (!history.fields) {
      const wanted = DEFAULT_FIELDS[isSite(history.source) ? 'site' : 'device'];
      history.fields = wanted.filter((n) => fields.has(n));
    }
    const units = [...new Set(fields.values())].sort((a, b) => rank(a) - rank(b));
    const key = history.source + JSON.stringify([...fields]);
    if (box.dataset.key !== key) {
      box.dataset.key = key;
      box.replaceChildren(...units.map((unit) => el('fieldset', null,
        el('legend', { text: `${UNIT_NAMES[unit] || 'Other'} (${unitText(unit)})` }),
        [...fields].filter(([, u]) => u === unit).map(([n]) => el('label', null,
          el('input', { type: 'checkbox', value: n, name: 'field' }), ` ${label(n)}`)))));
    }
    for (const input of box.querySelectorAll('input')) input.checked = history.fields.includes(input.value);
  }
  const rank = (unit) => (UNIT_ORDER.includes(unit) ? UNIT_ORDER.indexOf(unit) : 99);

  function historySpan() {
    if (history.from != null) return [history.from, history.to];
    const to = serverNow();
    return [to - RANGES[history.range], to];
  }

  async function loadHistory() {
    const box = $('#history-charts');
    const info = $('#history-info');
    history.source = sourceOptions($('#history-source'), history.source);
    if (!history.source) return;
    renderFieldPicker();
    for (const b of document.querySelectorAll('#history [data-range]')) {
      b.setAttribute('aria-pressed', String(history.from == null && b.dataset.range === history.range));
    }
    const fields = history.fields.slice(0, 32);
    if (!fields.length) {
      destroyHistoryCharts();
      box.replaceChildren(el('p', { class: 'muted', text: 'Choose at least one field.' }));
      return;
    }
    // A point per pixel, but no bucket shorter than 1.5 poll intervals: raw data would have
    // holes in every other bucket.
    const [spanFrom, spanTo] = historySpan();
    const pollMs = pollIntervalMs(history.source);
    let points = Math.max(50, Math.min(1000, Math.round(box.clientWidth || 600)));
    if (pollMs) points = Math.max(10, Math.min(points, Math.floor((spanTo - spanFrom) / (1.5 * pollMs))));
    const [from, to] = history.from != null ? [Math.round(history.from), Math.round(history.to)]
      : [`-${history.range}`, 'now'];
    const query = `device=${encodeURIComponent(history.source)}&fields=${fields.join(',')}`
      + `&from=${from}&to=${to}&points=${points}`;
    history.abort?.abort();
    const abort = new AbortController();
    history.abort = abort;
    box.setAttribute('aria-busy', 'true');
    let h;
    try {
      h = await getJSON(`api/v1/history?${query}`, abort.signal);
    } catch (e) {
      if (e.name === 'AbortError') return;
      box.removeAttribute('aria-busy');
      setText(info, `Could not load the history: ${e.message}`);
      return;
    }
    history.data = h;
    history.shown = fields;
    history.units = fieldsOf(history.source);
    history.loaded = Date.now();
    destroyHistoryCharts();
    box.replaceChildren();
    const units = history.units;
    const groups = new Map();
    for (const f of fields) {
      const unit = units.get(f) ?? UNITS[f] ?? '';
      if (!groups.has(unit)) groups.set(unit, []);
      groups.get(unit).push({ name: f, unit });
    }
    const phone = window.matchMedia('(max-width: 600px)').matches;
    for (const unit of [...groups.keys()].sort((a, b) => rank(a) - rank(b))) {
      const chartBox = el('div', { class: 'chart-box', 'data-unit': unit });
      box.append(chartBox);
      history.charts.push(makeChart(chartBox, {
        fields: groups.get(unit), history: h, height: phone ? 170 : 210, syncKey: 'history',
        onZoom: (a, b) => zoomTo(a, b),
      }));
    }
    Object.assign(box.dataset, {
      source: h.device, from: String(h.from), to: String(h.to), points: String(h.time.length),
      requested: String(points), resolution: h.resolution, fields: fields.join(','),
    });
    box.removeAttribute('aria-busy');
    const res = RESOLUTIONS[h.resolution] || h.resolution;
    setText(info, `${dateTimeFmt.format(h.from)} – ${dateTimeFmt.format(h.to)} · `
      + `${h.time.length} points of ${duration(h.bucket_ms)} from ${res}`);
  }
  const RESOLUTIONS = {
    raw: 'raw samples', minute: 'minute rollups', hour: 'hourly rollups', day: 'daily rollups',
  };
  function destroyHistoryCharts() {
    for (const c of history.charts) c.destroy();
    history.charts = [];
  }

  function zoomTo(a, b) {
    const now = serverNow();
    let from = Math.min(a, b);
    let to = Math.max(a, b);
    const minSpan = 5 * 60e3;
    if (to - from < minSpan) {
      const mid = (from + to) / 2;
      from = mid - minSpan / 2;
      to = mid + minSpan / 2;
    }
    if (to > now) {
      from -= to - now;
      to = now;
    }
    history.from = from;
    history.to = to;
    loadHistory();
  }

  function exportCsv() {
    const h = history.data;
    if (!h) return;
    const { units, shown: fields } = history;
    const header = ['time', ...fields.map((f) => `${f} (${unitText(units.get(f) ?? UNITS[f] ?? '')})`)];
    const lines = [header.map(csvCell).join(',')];
    h.time.forEach((t, i) => {
      lines.push([isoLocal(t), ...fields.map((f) => h.fields[f]?.[i] ?? '')].map(csvCell).join(','));
    });
    const blob = new Blob([lines.join('\r\n') + '\r\n'], { type: 'text/csv' });
    const a = el('a', {
      href: URL.createObjectURL(blob),
      download: `tracermon-${h.device}-${fileTime(h.from)}-${fileTime(h.to)}.csv`,
    });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10e3);
  }
  const csvCell = (v) => (/[",\r\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  // 2026-11-25T17:27:00+01:00: the browser's time zone, with its offset (and milliseconds when
  // a bucket does not start on a whole second).
  function isoLocal(ms) {
    const d = new Date(ms);
    const p = (n, w = 2) => String(Math.abs(n)).padStart(w, '0');
    const off = -d.getTimezoneOffset();
    const frac = d.getMilliseconds() ? `.${p(d.getMilliseconds(), 3)}` : '';
    const date = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
    const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${frac}`;
    return `${date}T${time}${off < 0 ? '-' : '+'}${p(Math.trunc(off / 60))}:${p(off % 60)}`;
  }
  // 2026-11-25T1727: a time for a file name.
  const fileTime = (ms) => isoLocal(ms).slice(0, 16).replace(/:/g, '');

  function setupHistory() {
    const form = $('#history-form');
    form.addEventListener('submit', (e) => e.preventDefault());
    $('#history-source').addEventListener('change', (e) => {
      history.source = e.target.value;
      history.fields = null;
      loadHistory();
    });
    form.addEventListener('click', (e) => {
      const b = e.target.closest('button');
      if (!b) return;
      if (b.dataset.range) {
        history.range = b.dataset.range;
        history.from = history.to = null;
        loadHistory();
      } else if (b.dataset.zoom) {
        const [from, to] = historySpan();
        const mid = (from + to) / 2;
        const half = ((to - from) * Number(b.dataset.zoom)) / 2;
        zoomTo(mid - half, mid + half);
      } else if (b.dataset.move) {
        const [from, to] = historySpan();
        const shift = ((to - from) / 2) * Number(b.dataset.move);
        zoomTo(from + shift, to + shift);
      } else if (b.id === 'history-export') {
        exportCsv();
      }
    });
    $('#history-fields').addEventListener('change', () => {
      history.fields = [...document.querySelectorAll('#history-fields input:checked')].map((i) => i.value);
      loadHistory();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Energy per day, month or year (host-side accounting): bars drawn as SVG, with a table.

  const energy = { source: null, period: 'day', data: null };
  const pad = (n) => String(n).padStart(2, '0');
  const dayKey = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

  function periodsFor(period, rows) {
    const now = new Date();
    const out = [];
    if (period === 'day') {
      for (let i = 30; i >= 0; i--) {
        out.push(dayKey(new Date(now.getFullYear(), now.getMonth(), now.getDate() - i)));
      }
    } else if (period === 'month') {
      for (let i = 23; i >= 0; i--) {
        const d = new Date(now.getFullYear(), now.getMonth() - i, 1);
        out.push(`${d.getFullYear()}-${pad(d.getMonth() + 1)}`);
      }
    } else {
      const years = rows.map((r) => Number(r.period));
      const first = Math.min(now.getFullYear() - 4, ...years);
      for (let y = first; y <= now.getFullYear(); y++) out.push(String(y));
    }
    // The host's calendar may be a day ahead of the browser's.
    for (const r of rows) if (!out.includes(r.period) && r.period > out[out.length - 1]) out.push(r.period);
    return out;
  }

  async function loadEnergy() {
    const box = $('#energy-chart');
    energy.source = sourceOptions($('#energy-source'), energy.source);
    for (const b of document.querySelectorAll('#energy [data-period]')) {
      b.setAttribute('aria-pressed', String(b.dataset.period === energy.period));
    }
    if (!energy.source) return;
    const periods = periodsFor(energy.period, []);
    const from = energy.period === 'year' ? '' : `&from=${periods[0]}`;
    try {
      const source = encodeURIComponent(energy.source);
      const j = await getJSON(`api/v1/energy?period=${energy.period}&device=${source}${from}`);
      energy.data = j[energy.period]?.[energy.source] || [];
    } catch (e) {
      box.replaceChildren(el('p', { class: 'muted', text: `Could not load the energy: ${e.message}` }));
      return;
    }
    drawEnergy();
  }

  const ENERGY_TITLES = {
    day: 'Energy per day, last 31 days',
    month: 'Energy per month, last 24 months',
    year: 'Energy per year',
  };

  function drawEnergy() {
    const box = $('#energy-chart');
    const rows = energy.data || [];
    const byPeriod = new Map(rows.map((r) => [r.period, r]));
    const periods = periodsFor(energy.period, rows);
    const width = Math.max(280, box.clientWidth || 600);
    const height = width < 500 ? 200 : 260;
    const m = { l: 44, r: 8, t: 12, b: 26 };
    const plotW = width - m.l - m.r;
    const plotH = height - m.t - m.b;
    const highest = Math.max(0.1, ...rows.flatMap((r) => [r.generated_kwh, r.consumed_kwh]));
    const step = niceStep(highest / 4);
    const top = step * Math.ceil(highest / step);
    const y = (v) => m.t + plotH - (v / top) * plotH;
    const groupW = plotW / periods.length;
    const barW = Math.max(1, groupW * 0.38);
    const bar = (x, kwh, cls) => svgEl('rect',
      { x, y: y(kwh), width: barW, height: Math.max(0, y(0) - y(kwh)), class: cls });
    const tick = (x, yy, anchor, text) =>
      svgEl('text', { x, y: yy, class: 'tick', 'text-anchor': anchor }, text);

    const svg = svgEl('svg',
      { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'bars' });
    for (let v = 0; v <= top + step / 2; v += step) {
      svg.append(svgEl('line', { x1: m.l, x2: width - m.r, y1: y(v), y2: y(v), class: 'gridline' }));
      svg.append(tick(m.l - 6, y(v) + 4, 'end', shortNum.format(v)));
    }
    svg.append(tick(4, m.t - 2, 'start', 'kWh'));
    const labelEvery = Math.ceil(periods.length / Math.floor(plotW / 44));
    const total = { generated: 0, consumed: 0 };
    periods.forEach((p, i) => {
      const r = byPeriod.get(p);
      const x = m.l + i * groupW;
      const g = svgEl('g', {
        class: 'bar', 'data-period': p,
        'data-generated': r ? r.generated_kwh : '', 'data-consumed': r ? r.consumed_kwh : '',
      });
      g.append(svgEl('title', null, `${periodLabel(p, true)}: ${r ? `generated `
        + `${fmt(r.generated_kwh, 'kWh')}, consumed ${fmt(r.consumed_kwh, 'kWh')}` : 'no data'}`));
      g.append(svgEl('rect', { x, y: m.t, width: groupW, height: plotH, class: 'hit' }));
      if (r) {
        total.generated += r.generated_kwh;
        total.consumed += r.consumed_kwh;
        g.append(bar(x + groupW * 0.1, r.generated_kwh, 'gen'),
          bar(x + groupW * 0.1 + barW, r.consumed_kwh, 'con'));
      }
      svg.append(g);
      if ((periods.length - 1 - i) % labelEvery === 0) {
        svg.append(tick(x + groupW / 2, height - 8, 'middle', periodLabel(p, false)));
      }
    });
    const title = ENERGY_TITLES[energy.period];
    const generated = fmt(total.generated, 'kWh');
    const consumed = fmt(total.consumed, 'kWh');
    svg.setAttribute('aria-label',
      `${title}: generated ${generated}, consumed ${consumed}. The table below has every value.`);
    const shown = [...periods].reverse().filter((p) => byPeriod.has(p));
    box.replaceChildren(
      el('h3', { class: 'chart-title', text: title }),
      el('p', { class: 'legend' },
        el('span', { class: 'key gen' }), ` Generated ${generated}  `,
        el('span', { class: 'key con' }), ` Consumed ${consumed}`),
      svg,
      el('details', { class: 'table' }, el('summary', { text: 'Table' }),
        el('table', null,
          el('thead', null, el('tr', null, ['Period', 'Generated', 'Consumed'].map((t) =>
            el('th', { scope: 'col', text: t })))),
          el('tbody', null, shown.map((p) => el('tr', null,
            el('th', { scope: 'row', text: periodLabel(p, true) }),
            el('td', { text: fmt(byPeriod.get(p).generated_kwh, 'kWh') }),
            el('td', { text: fmt(byPeriod.get(p).consumed_kwh, 'kWh') })))))));
    box.dataset.period = energy.period;
    box.dataset.source = energy.source;
  }
  // "2026-11-25" -> "Wed, Nov 25" (long) or "25" ("Nov" on the 1st); "2026-11" -> "Nov 2026" or
  // "Nov" ("2026" in January); "2026" stays.
  function periodLabel(p, long) {
    const [y, mo, d] = p.split('-').map(Number);
    if (d) {
      const date = new Date(y, mo - 1, d);
      return long ? dayFmt.format(date) : d === 1 ? monthShort.format(date) : String(d);
    }
    if (mo) {
      const date = new Date(y, mo - 1, 1);
      return long ? monthFmt.format(date) : mo === 1 ? String(y) : monthShort.format(date);
    }
    return p;
  }
  function niceStep(v) {
    const p = 10 ** Math.floor(Math.log10(v));
    for (const f of [1, 2, 2.5, 5, 10]) if (f * p >= v) return f * p;
    return 10 * p;
  }
  function svgEl(tag, attrs, text) {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  }

  function setupEnergy() {
    $('#energy-form').addEventListener('submit', (e) => e.preventDefault());
    $('#energy-source').addEventListener('change', (e) => {
      energy.source = e.target.value;
      loadEnergy();
    });
    $('#energy-form').addEventListener('click', (e) => {
      const b = e.target.closest('button[data-period]');
      if (!b) return;
      energy.period = b.dataset.period;
      loadEnergy();
    });
  }


  // ---------------------------------------------------------------------------------------------
  // Control (docs/control.md): shown when the daemon has [control] enabled (status.control) and
  // unlocked by its token, kept in sessionStorage for this tab only and sent as a Bearer header,
  // never as a cookie. Every write goes through the same checks as the command line.

  const TOKEN_KEY = 'tracermon.control.token';
  const control = { settings: null, busy: false };

  async function controlCall(method, path, body) {
    const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ''}` };
    if (body) headers['Content-Type'] = 'application/json';
    const r = await fetch(path, {
      method, headers, cache: 'no-store', credentials: 'omit',
      body: body ? JSON.stringify(body) : undefined,
    });
    let j = {};
    try { j = await r.json(); } catch { /* not JSON */ }
    if (r.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      control.settings = null;
      showLogin(j.error || 'The token was refused.');
    }
    return { status: r.status, j };
  }

  function showLogin(message) {
    $('#control-login').hidden = false;
    $('#control-devices').replaceChildren();
    setText($('#control-msg'), message || 'Enter the control token ([control] token_file).');
  }

  async function openControl() {
    if (!state.status) return;
    if (!state.status.control) {
      $('#control-login').hidden = true;
      setText($('#control-msg'), 'Control is off ([control] enabled = true in the configuration).');
      return;
    }
    if (!sessionStorage.getItem(TOKEN_KEY)) { showLogin(); return; }
    if (control.settings) { renderControl(); return; }
    const { status, j } = await controlCall('GET', 'api/v1/control');
    if (status !== 200) {
      if (status !== 401) setText($('#control-msg'), j.error || `HTTP ${status}`);
      return;
    }
    control.settings = j.settings;
    $('#control-login').hidden = true;
    setText($('#control-msg'), 'Writes are checked against the vendor rules and read back.');
    renderControl();
  }

  function controlCard(name) {
    const id = `ctl-${name.replace(/[^\w-]/g, '_')}`;
    const options = control.settings.map((s) => el('option', { value: s.name, text: s.name }));
    const c = el('article', { class: 'card ctl', 'data-device': name, 'aria-labelledby': id },
      el('header', { class: 'card-head' }, el('h3', { id, text: name })),
      el('div', { class: 'ctl-row' }, el('span', { class: 'muted', text: 'Load' }),
        ['on', 'off', 'auto'].map((st) => el('button', {
          type: 'button', 'data-load': st, text: cap(st),
          onclick: () => act(c, 'load', { state: st }),
        }))),
      el('div', { class: 'ctl-row' },
        el('span', { class: 'muted', text: 'Clock drift' }),
        el('span', { 'data-k': 'drift' }),
        el('button', {
          type: 'button', 'data-k': 'sync', text: 'Sync clock',
          onclick: () => act(c, 'clock', { sync: true }),
        })),
      el('form', { class: 'ctl-set', onsubmit: (e) => { e.preventDefault(); preview(c); } },
        el('label', null, 'Setting', el('select', { 'data-k': 'setting', onchange: () => hint(c) },
          options)),
        el('label', null, 'Value', el('input', {
          'data-k': 'value', required: true, autocomplete: 'off', oninput: () => reset(c),
        })),
        el('span', { class: 'muted hint', 'data-k': 'hint' }),
        el('button', { type: 'submit', 'data-k': 'preview', text: 'Preview' }),
        el('button', {
          type: 'button', 'data-k': 'apply', text: 'Apply', disabled: true,
          onclick: () => apply(c),
        })),
      el('div', { class: 'ctl-result', 'data-k': 'result', role: 'status', 'aria-live': 'polite' }));
    hint(c);
    return c;
  }

  function hint(c) {
    const s = control.settings.find((x) => x.name === slots(c).get('setting').value);
    const range = s && s.min != null ? `${s.min}–${s.max} ${unitText(s.unit)}`.trim() : '';
    setText(slots(c).get('hint'), range);
    setAttr(slots(c).get('hint'), 'title', s?.description || null);
    reset(c);
  }
  function reset(c) { slots(c).get('apply').disabled = true; }

  function showResult(c, status, j, what) {
    const box = slots(c).get('result');
    const parts = [];
    const ok = status === 200 && j.ok !== false;
    parts.push(el('p', {
      class: ok ? 'ok' : 'bad',
      text: ok ? `${what}: ${j.outcome || 'done'}` : `${what}: ${j.error || `HTTP ${status}`}`,
    }));
    if (j.changes?.length) {
      parts.push(el('ul', null, j.changes.map((ch) => el('li', {
        text: `${ch.setting}: ${ch.old ?? '?'} → ${ch.new} ${unitText(ch.unit)}`
          + (ch.after != null && j.outcome !== 'dry-run' ? ` (reads ${ch.after})` : ''),
      }))));
    }
    if (j.clock) {
      const drift = (v) => (v == null ? '?' : `${num(v, 0)} s`);
      parts.push(el('p', {
        text: `Controller ${j.clock.controller ?? '?'}, drift ${drift(j.clock.drift_s)}`
          + (j.clock.after ? `; now ${drift(j.clock.drift_after_s)}` : ''),
      }));
    }
    for (const v of j.violations || []) parts.push(el('p', { class: 'bad', text: v }));
    for (const n of j.notes || []) parts.push(el('p', { class: 'muted', text: n }));
    box.replaceChildren(...parts);
    return ok;
  }

  async function act(c, action, body, what = cap(action)) {
    if (control.busy) return null;
    control.busy = true;
    c.setAttribute('aria-busy', 'true');
    setText(slots(c).get('result'), `${what}…`);
    try {
      const { status, j } = await controlCall('POST', `api/v1/control/${action}`,
        { device: c.dataset.device, ...body });
      if (status === 401) return null;
      const ok = showResult(c, status, j, what);
      if (action === 'clock' && ok) loadStatus();
      return { ok, j };
    } catch (e) {
      setText(slots(c).get('result'), `${what}: ${e.message}`);
      return null;
    } finally {
      control.busy = false;
      c.removeAttribute('aria-busy');
    }
  }

  function assignment(c) {
    return { [slots(c).get('setting').value]: slots(c).get('value').value.trim() };
  }
  async function preview(c) {
    const r = await act(c, 'set', { settings: assignment(c), dry_run: true }, 'Preview');
    const changes = r?.j?.changes || [];
    slots(c).get('apply').disabled = !(r?.ok && changes.some((ch) => ch.old !== ch.new));
  }
  async function apply(c) {
    reset(c);
    await act(c, 'set', { settings: assignment(c) }, 'Apply');
  }

  function renderControl() {
    const root = $('#control-devices');
    if (!control.settings) return;
    const names = deviceNames();
    const key = names.join('\n');
    if (root.dataset.devices !== key || !root.children.length) {
      root.replaceChildren(...names.map(controlCard));
      root.dataset.devices = key;
    }
    for (const c of root.children) {
      const drift = statusOf(c.dataset.device)?.clock_drift_s;
      setText(slots(c).get('drift'), drift == null ? 'unknown' : `${num(drift, 0)} s`);
    }
  }

  function setupControl() {
    $('#control-login').addEventListener('submit', (e) => {
      e.preventDefault();
      const token = $('#control-token').value.trim();
      if (!token) return;
      sessionStorage.setItem(TOKEN_KEY, token);
      $('#control-token').value = '';
      openControl();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Views, timers, start

  const VIEWS = ['overview', 'controllers', 'history', 'energy', 'control'];
  function route() {
    const wanted = location.hash.slice(1);
    const view = VIEWS.includes(wanted) ? wanted : 'overview';
    state.view = view;
    for (const v of VIEWS) $(`#${v}`).hidden = v !== view;
    for (const a of document.querySelectorAll('nav.tabs a')) {
      if (a.dataset.tab === view) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (view === 'controllers') loadStatus();
    if (view === 'history') loadHistory();
    if (view === 'energy') loadEnergy();
    if (view === 'control') loadStatus().then(openControl);
    render();
  }

  let resizeTimer = null;
  function onResize() {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      const fit = (chart) =>
        chart?.setSize({ width: chart.root.parentElement.clientWidth, height: chart.height });
      history.charts.forEach(fit);
      for (const { chart } of siteCharts.values()) fit(chart);
      if (state.view === 'energy' && energy.data) drawEnergy();
    }, 200);
  }

  // Colours come from CSS: charts are drawn again when the scheme changes.
  function onScheme() {
    for (const e of siteCharts.values()) e.loaded = 0;
    if (state.view === 'history') loadHistory();
    if (state.view === 'energy' && energy.data) drawEnergy();
    render();
  }

  function start() {
    $('#tz').textContent = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
    setupHistory();
    setupEnergy();
    setupControl();
    window.addEventListener('hashchange', route);
    window.addEventListener('resize', onResize);
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', onScheme);
    route();
    loadLatest();
    loadStatus();
    openEvents();
    // Ages, staleness and the stream watchdog; counters from the status now and then.
    setInterval(() => { watchEvents(); render(); }, 2000);
    setInterval(() => {
      if (document.hidden) return;
      if (state.view === 'controllers' || state.view === 'control'
        || Date.now() - (state.statusAt || 0) > 30e3) loadStatus();
      const live = history.from == null; // a range up to now: refreshed every minute
      if (state.view === 'history' && live && Date.now() - history.loaded > 60e3) loadHistory();
    }, 10e3);
  }

  start();
})();
