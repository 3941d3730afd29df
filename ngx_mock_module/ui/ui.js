/*
 * The mock dashboard: reads the admin API of the location it is served
 * from and shows it.  Every value from the server is put in the page as
 * text (textContent), never as markup.
 */
'use strict';

(function () {

var BASE = location.pathname.replace(/ui\/[^/]*$/, '');
var RESULTS = ['hit', 'miss', 'exhausted', 'not_allowed', 'recorded',
               'passthrough', 'fallback', 'refused', 'fault', 'drift'];
var COLORS = { hit: '#15803d', miss: '#c2410c', exhausted: '#b91c1c',
               not_allowed: '#7c3aed', recorded: '#2f6fdb',
               passthrough: '#64748b', fallback: '#0891b2',
               refused: '#a16207', fault: '#db2777', drift: '#ea580c' };
var HISTORY = 300;            /* seconds the chart keeps */

var timers = [];
var state = {
  stores: [], locations: [], samples: [], last: null,
  session: null, sessionAfter: '', sessions: [],
  journal: [], journalNext: -1, journalSessions: {},
  interactions: [], editable: {}, detail: null
};

function $(id) { return document.getElementById(id); }

/* an element with attributes and children; strings become text nodes */
function el(tag, attrs) {
  var e = document.createElement(tag), k, i, c;
  for (k in attrs || {}) {
    if (k === 'text') { e.textContent = attrs[k]; }
    else if (k === 'cls') { e.className = attrs[k]; }
    else if (k.slice(0, 2) === 'on') { e.addEventListener(k.slice(2), attrs[k]); }
    else { e.setAttribute(k, attrs[k]); }
  }
  for (i = 2; i < arguments.length; i++) {
    c = arguments[i];
    if (c === null || c === undefined) { continue; }
    e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  return e;
}

function clear(e) { while (e.firstChild) { e.removeChild(e.firstChild); } return e; }

function status(text, bad) {
  var s = $('status');
  s.textContent = text;
  s.className = bad ? 'error' : '';
}

/* the admin API: resolves to {status, data} */
function api(path, method, body) {
  var opts = { method: method || 'GET', credentials: 'same-origin',
               headers: {} };
  if (opts.method !== 'GET') {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = body === undefined ? '{}' : JSON.stringify(body);
  }
  return fetch(BASE + path, opts).then(function (r) {
    return r.text().then(function (t) {
      var data = null;
      try { data = t ? JSON.parse(t) : null; } catch (e) { data = { error: t }; }
      return { status: r.status, data: data };
    });
  }, function (e) {
    status('the admin API is out of reach: ' + e.message, true);
    return { status: 0, data: null };
  });
}

/*
 * A session is shown as the module keeps it, its bytes other than
 * letters, digits, "-", "_" and "." written %XX: that is already the
 * form of a query string, which the admin decodes and keeps the same way.
 */
function sessionArg(s) {
  return String(s).replace(/[^A-Za-z0-9._%-]/g, function (c) {
    return encodeURIComponent(c);
  });
}

function q(params) {
  var k, parts = [];
  for (k in params) {
    if (params[k] !== undefined && params[k] !== null && params[k] !== '') {
      parts.push(encodeURIComponent(k) + '='
                 + (k === 'session' ? sessionArg(params[k]) : encodeURIComponent(params[k])));
    }
  }
  return parts.length ? '?' + parts.join('&') : '';
}

function every(ms, fn) { fn(); timers.push(setInterval(fn, ms)); }

function storeOptions(select, keep) {
  var cur = keep !== undefined ? keep : select.value;
  clear(select);
  state.stores.forEach(function (s) {
    select.appendChild(el('option', { value: s.store, text: s.store + ': ' + s.path }));
  });
  if (cur !== '' && cur !== null && select.querySelector('option[value="' + Number(cur) + '"]')) {
    select.value = cur;
  }
}

function loadStores() {
  return Promise.all([api('cassettes?sessions=0'), api('locations')]).then(function (a) {
    if (a[0].status === 200) { state.stores = a[0].data.stores; }
    if (a[1].status === 200) { state.locations = a[1].data.locations; }
  });
}

/* ---- Overview ---- */

function overview() {
  every(5000, function () { loadStores().then(drawStores); });
  every(1000, pollMetrics);
}

function drawStores() {
  var tb = clear($('stores').tBodies[0]);
  state.stores.forEach(function (s) {
    var locs = state.locations.filter(function (l) { return l.store === s.store; })
      .map(function (l) { return l.location + ' (' + l.mode + ')'; }).join(', ');
    tb.appendChild(el('tr', null,
      el('td', { text: s.store }), el('td', { cls: 'wrap', text: s.path }),
      el('td', { text: s.interactions + (s.loaded !== s.interactions ? ' (' + s.loaded + ' loaded)' : '') }),
      el('td', { text: s.recording ? 'recording' : 'no' }),
      el('td', { text: s.sessions === null ? '-' : s.sessions.length ? (s.more_sessions ? 'many' : String(s.sessions.length)) : (s.more_sessions ? 'yes' : '0') }),
      el('td', { cls: 'wrap', text: locs })));
  });
}

function pollMetrics() {
  api('metrics').then(function (r) {
    var sum = {}, now = Date.now() / 1000, rate = {}, k, dt;
    if (r.status !== 200) { status('metrics: ' + r.status, true); return; }
    status('updated ' + new Date().toLocaleTimeString());
    r.data.locations.forEach(function (l) {
      RESULTS.forEach(function (k) {
        if (typeof l[k] === 'number') { sum[k] = (sum[k] || 0) + l[k]; }
      });
    });
    if (state.last) {
      dt = Math.max(now - state.last.t, 0.001);
      for (k in sum) { rate[k] = Math.max(0, (sum[k] - (state.last.sum[k] || 0)) / dt); }
      state.samples.push({ t: now, rate: rate });
      while (state.samples.length && state.samples[0].t < now - HISTORY) { state.samples.shift(); }
    }
    state.last = { t: now, sum: sum };
    drawCounts(sum);
    drawChart();
  });
}

function drawCounts(sum) {
  var c = clear($('counts'));
  RESULTS.forEach(function (k) {
    if (sum[k] === undefined) { return; }
    c.appendChild(el('div', { cls: 'count', id: 'count-' + k },
      el('b', { cls: 'r-' + k, text: sum[k] }), el('span', { text: k })));
  });
}

function drawChart() {
  var cv = $('chart'), g = cv.getContext('2d'), w = cv.width, h = cv.height;
  var now = Date.now() / 1000, max = 1, shown = {}, legend = clear($('legend'));
  g.clearRect(0, 0, w, h);
  state.samples.forEach(function (s) {
    for (var k in s.rate) { max = Math.max(max, s.rate[k]); if (s.rate[k] > 0) { shown[k] = 1; } }
  });
  g.strokeStyle = '#d9dee7'; g.fillStyle = '#667085'; g.font = '11px sans-serif';
  g.beginPath(); g.moveTo(0, h - 16.5); g.lineTo(w, h - 16.5); g.stroke();
  g.fillText(max.toFixed(1) + '/s', 4, 12);
  g.fillText('-' + Math.round(HISTORY / 60) + ' min', 4, h - 4);
  g.fillText('now', w - 24, h - 4);
  RESULTS.forEach(function (k) {
    if (!shown[k]) { return; }
    g.strokeStyle = COLORS[k]; g.lineWidth = 1.5; g.beginPath();
    state.samples.forEach(function (s, i) {
      var x = w - (now - s.t) / HISTORY * w, y = (h - 18) - (s.rate[k] || 0) / max * (h - 32);
      if (i) { g.lineTo(x, y); } else { g.moveTo(x, y); }
    });
    g.stroke();
    var swatch = el('i');
    swatch.style.background = COLORS[k];     /* CSSOM: no inline style */
    legend.appendChild(el('span', null, swatch, k));
  });
}

/* ---- Sessions ---- */

function sessions() {
  loadStores().then(function () { storeOptions($('session-store')); });
  state.sessionAfter = '';
  state.sessions = [];
  loadSessions();
  every(3000, function () {
    api('journal?limit=200').then(function (r) {
      if (r.status !== 200) { return; }
      r.data.journal.forEach(function (e) { if (e.session) { state.journalSessions[e.session] = 1; } });
      drawSessionList();
    });
    if (state.session) { loadSession(); }
  });
}

function loadSessions() {
  api('sessions' + q({ limit: 100, after: state.sessionAfter })).then(function (r) {
    if (r.status !== 200) { return; }
    r.data.sessions.forEach(function (s) { state.sessions.push(s.session); });
    if (r.data.sessions.length) {
      state.sessionAfter = r.data.sessions[r.data.sessions.length - 1].session;
    }
    $('session-more').hidden = !r.data.more;
    $('session-total').textContent = r.data.total + ' sessions in the zone';
    drawSessionList();
  });
}

function drawSessionList() {
  var ul = clear($('session-list')), seen = {}, f = $('session-filter').value;
  var names = state.sessions.slice();
  Object.keys(state.journalSessions).forEach(function (s) { names.push(s); });
  names.sort().forEach(function (s) {
    if (seen[s] || (f && s.indexOf(f) < 0) || ul.children.length >= 500) { return; }
    seen[s] = 1;
    ul.appendChild(el('li', { cls: s === state.session ? 'selected' : '', 'data-session': s,
      onclick: function () { state.session = s; drawSessionList(); loadSession(); } }, s));
  });
}

function loadSession() {
  var s = state.session, store = $('session-store').value;
  $('session-name').textContent = 'Session ' + s;
  $('session-body').hidden = false;
  Promise.all([
    api('sessions' + q({ session: s })),
    api('interactions' + q({ store: store, session: s })),
    api('unused' + q({ store: store, session: s }))
  ]).then(function (a) {
    var forced = a[0].status === 200 ? a[0].data.forced : [];
    var list = a[1].status === 200 ? a[1].data.interactions : [];
    var unused = {}, tb, pins = {};
    if (s !== state.session) { return; }
    if (a[2].status === 200) {
      a[2].data.unused.forEach(function (u) { unused[u.cassette + '#' + u.interaction] = 1; });
    }
    tb = clear($('forced').tBodies[0]);
    forced.forEach(function (f) {
      pins[f.cassette + '#' + f.interaction] = f;
      tb.appendChild(el('tr', null, el('td', { text: f.method }), el('td', { cls: 'wrap', text: f.path }),
        el('td', { cls: 'wrap', text: f.cassette }), el('td', { text: f.interaction }),
        el('td', null, el('button', { type: 'button', text: 'Unpin',
          onclick: function () { unpin(f); } }))));
    });
    tb = clear($('session-interactions').tBodies[0]);
    list.forEach(function (it) {
      var key = it.cassette + '#' + it.interaction, pin = pins[key];
      tb.appendChild(el('tr', { cls: (pin ? 'pinned ' : '') + (unused[key] ? 'unplayed' : ''),
          'data-interaction': it.interaction, title: it.cassette,
          onclick: function () { pin ? unpin(pin) : pinIt(it); } },
        el('td', { text: it.interaction }), el('td', { text: it.method }),
        el('td', { cls: 'wrap', text: it.uri }), el('td', { text: it.status }), el('td', { text: it.plays }),
        el('td', { text: pin ? 'pinned' : unused[key] ? 'unplayed' : 'played' })));
    });
  });
}

function pinIt(it) {
  var store = $('session-store').value;
  api('interaction' + q({ store: store, session: state.session, cassette: it.cassette,
                          interaction: it.interaction })).then(function (r) {
    if (r.status !== 200) { status('cannot read #' + it.interaction + ': ' + r.data.error, true); return null; }
    return api('force' + q({ session: state.session }), 'POST', { store: store,
      method: r.data.request.method, path: r.data.request.path,
      cassette: it.cassette.replace(/^.*\//, ''), interaction: it.interaction });
  }).then(function (r) {
    if (!r) { return; }
    status(r.status === 200 ? 'pinned #' + it.interaction : 'pin: ' + r.data.error, r.status !== 200);
    loadSession();
  });
}

function unpin(f) {
  api('force' + q({ store: f.store, session: state.session, method: f.method, path: f.path }),
      'DELETE').then(function (r) {
    status(r.status === 200 ? 'unpinned ' + f.method + ' ' + f.path : 'unpin: ' + r.data.error,
           r.status !== 200);
    loadSession();
  });
}

function resetSession() {
  if (!state.session) { return; }
  api('reset' + q({ session: state.session }), 'POST').then(function (r) {
    status(r.status === 200 ? 'reset session ' + state.session : 'reset: ' + r.data.error,
           r.status !== 200);
    loadSession();
  });
}

/* ---- Interactions ---- */

function interactions() {
  loadStores().then(function () {
    storeOptions($('it-store'));
    loadInteractions();
  });
}

function loadInteractions() {
  var store = $('it-store').value;
  api('interactions' + q({ store: store })).then(function (r) {
    var methods = {}, sel = $('it-method'), cur = sel.value;
    state.interactions = r.status === 200 ? r.data.interactions : [];
    state.interactions.forEach(function (it) { methods[it.method] = 1; });
    clear(sel).appendChild(el('option', { value: '', text: 'any' }));
    Object.keys(methods).sort().forEach(function (m) { sel.appendChild(el('option', { value: m, text: m })); });
    sel.value = methods[cur] ? cur : '';
    drawInteractions();
  });
  probeEdit(store);
}

function drawInteractions() {
  var tb = clear($('it-table').tBodies[0]), m = $('it-method').value,
      p = $('it-path').value, st = $('it-status').value, n = 0;
  state.interactions.forEach(function (it) {
    if ((m && it.method !== m) || (p && it.uri.indexOf(p) < 0)
        || (st && String(it.status).indexOf(st) !== 0)) { return; }
    if (++n > 500) { return; }            /* the DOM stays small; search narrows */
    tb.appendChild(el('tr', { 'data-interaction': it.interaction, title: it.cassette,
        onclick: function (ev) { select(ev.currentTarget); showInteraction(it); } },
      el('td', { text: it.interaction }), el('td', { text: it.method }), el('td', { cls: 'wrap', text: it.uri }),
      el('td', { text: it.status }), el('td', { text: it.plays })));
  });
  $('it-count').textContent = n + ' of ' + state.interactions.length
    + (n > 500 ? ', the first 500 shown' : '');
}

function select(tr) {
  Array.prototype.forEach.call(tr.parentNode.children, function (x) { x.classList.remove('selected'); });
  tr.classList.add('selected');
}

/*
 * An edit endpoint is there when a PUT of a body that is not JSON is
 * answered 400, as PUT interactions/N answers it; 404 or 405 (no such
 * endpoint), 403 (an admin whose location refuses PUT) and the rest hide
 * the edit button.
 */
function probeEdit(store) {
  if (state.editable[store] !== undefined) { return; }
  fetch(BASE + 'interactions/0' + q({ store: store }), { method: 'PUT',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' }, body: '{' })
    .then(function (r) { state.editable[store] = r.status === 400; },
          function () { state.editable[store] = false; })
    .then(function () {
      if (state.detail && String(state.detail.store) === String(store)) {
        $('it-edit').hidden = !editable(state.detail);
      }
    });
}

/* a body shown in part cannot be edited: saving would cut it */
function editable(d) {
  return !!state.editable[d.store] && !d.response.truncated;
}

function bodyText(b) {
  var bytes, out = [], i, j, line, hex, asc, c;
  if (b.body !== undefined) {
    try { return { text: JSON.stringify(JSON.parse(b.body), null, 2), kind: 'JSON' }; }
    catch (e) { return { text: b.body, kind: 'text' }; }
  }
  bytes = atob(b.body_base64 || '');
  for (i = 0; i < bytes.length && i < 4096; i += 16) {
    hex = ''; asc = '';
    for (j = i; j < i + 16; j++) {
      if (j < bytes.length) {
        c = bytes.charCodeAt(j);
        hex += (c < 16 ? '0' : '') + c.toString(16) + ' ';
        asc += c >= 32 && c < 127 ? bytes.charAt(j) : '.';
      } else { hex += '   '; }
    }
    line = ('0000000' + i.toString(16)).slice(-8) + '  ' + hex + ' |' + asc + '|';
    out.push(line);
  }
  if (bytes.length > 4096) { out.push('...'); }
  return { text: out.join('\n'), kind: 'binary' };
}

function showInteraction(it, keepForm) {
  var store = $('it-store').value;
  return api('interaction' + q({ store: store, cassette: it.cassette, interaction: it.interaction }))
    .then(function (r) {
      var d = r.data, dl, tb, b;
      if (r.status !== 200) { status('interaction: ' + d.error, true); return; }
      state.detail = d;
      $('it-detail').hidden = false;
      if (!keepForm) { $('it-form').hidden = true; }
      $('it-title').textContent = '#' + d.interaction + ' in ' + d.cassette;
      dl = clear($('it-request'));
      [['method', d.request.method], ['uri', d.request.uri], ['compared path', d.request.path],
       ['compared query', d.request.query], ['body size', d.request.size]].forEach(function (kv) {
        dl.appendChild(el('dt', { text: kv[0] }));
        dl.appendChild(el('dd', { text: kv[1] === '' ? '-' : kv[1] }));
      });
      $('it-request-body').textContent = d.request.size ? bodyText(d.request).text : '';
      $('it-response-status').textContent = d.response.status + ' ' + d.response.reason;
      tb = clear($('it-headers').tBodies[0]);
      d.response.headers.forEach(function (h) {
        tb.appendChild(el('tr', null, el('th', { text: h[0] }), el('td', { cls: 'wrap', text: h[1] })));
      });
      b = bodyText(d.response);
      $('it-body-info').textContent = b.kind + ', ' + d.response.size + ' bytes'
        + (d.response.truncated ? ', the first MB shown' : '')
        + (d.response.templated ? ', a template' : '');
      $('it-body').textContent = b.text;
      $('it-edit').hidden = !editable(d);
    });
}

/* text to base64 of its UTF-8 bytes, and back where the bytes are UTF-8 */
function toBase64(text) {
  var bytes = new TextEncoder().encode(text), s = '', i;
  for (i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
  return btoa(s);
}

function fromBase64(b64) {
  var s = atob(b64.replace(/\s+/g, '')), bytes = new Uint8Array(s.length), i;
  for (i = 0; i < s.length; i++) { bytes[i] = s.charCodeAt(i); }
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

function editResult(text, bad) {
  $('ed-result').textContent = text;
  $('ed-result').className = bad ? 'hint error' : 'hint';
}

function editNote() {
  var d = state.detail, notes = [];
  if ($('ed-kind').value === 'base64_string') {
    notes.push('the body is bytes, edited as base64 and written as !!binary');
  } else if (d.response.body === undefined) {
    notes.push('the recorded body is binary: saving replaces it with this text');
  }
  if (d.response.templated) {
    notes.push('the body is a template: saving makes it a plain body');
  }
  $('ed-note').textContent = notes.join('; ');
}

function editInteraction() {
  var d = state.detail, h = {}, binary = d.response.body === undefined;
  d.response.headers.forEach(function (x) { (h[x[0]] = h[x[0]] || []).push(x[1]); });
  $('ed-status').value = d.response.status;
  $('ed-reason').value = d.response.reason;
  $('ed-headers').value = JSON.stringify(h, null, 2);
  $('ed-kind').value = binary ? 'base64_string' : 'string';
  $('ed-body').value = binary ? d.response.body_base64 : d.response.body;
  editResult('');
  editNote();
  $('it-form').hidden = false;
}

/* switching between text and base64 keeps the body, converted */
function editKind() {
  var kind = $('ed-kind').value, body = $('ed-body');
  editResult('');
  if (kind === 'base64_string') {
    body.value = toBase64(body.value);
  } else {
    try { body.value = fromBase64(body.value); }
    catch (e) {
      $('ed-kind').value = 'base64_string';
      editResult('these bytes are not UTF-8 text: they stay base64', true);
    }
  }
  editNote();
}

/* the headers as the endpoint takes them: a name and a list of values */
function editHeaders() {
  var h = JSON.parse($('ed-headers').value || '{}'), k, out = {};
  if (h === null || typeof h !== 'object' || Array.isArray(h)) {
    throw new Error('an object of a name and a list of values');
  }
  for (k in h) {
    out[k] = Array.isArray(h[k]) ? h[k] : [h[k]];
    out[k].forEach(function (v) {
      if (typeof v !== 'string') { throw new Error('the values of ' + k + ' must be strings'); }
    });
  }
  return out;
}

function saveInteraction(ev) {
  var d = state.detail, headers, code, body = {}, kind = $('ed-kind').value;
  ev.preventDefault();
  code = $('ed-status').value.trim();
  if (!/^[0-9]{3}$/.test(code)) { editResult('the status must be a number of three digits', true); return; }
  try { headers = editHeaders(); }
  catch (e) { editResult('headers are not JSON of a name and a list of values: ' + e.message, true); return; }
  body[kind] = kind === 'base64_string' ? $('ed-body').value.replace(/\s+/g, '') : $('ed-body').value;
  editResult('saving');
  api('interactions/' + d.interaction + q({ store: d.store, cassette: d.cassette }), 'PUT',
      { response: { status: { code: Number(code), message: $('ed-reason').value },
                    headers: headers, body: body } })
    .then(function (r) {
      if (r.status !== 200) {
        editResult('not saved (' + r.status + '): ' + (r.data && r.data.error ? r.data.error : 'no answer'), true);
        return;
      }
      editResult('saved; ' + r.data.interactions + ' interactions in the cassette, every session starts anew');
      loadInteractions();
      showInteraction({ cassette: d.cassette, interaction: d.interaction }, true);
    });
}

/* ---- Journal ---- */

function journal() {
  var sel = $('j-result');
  if (sel.options.length === 1) {
    RESULTS.forEach(function (k) { sel.appendChild(el('option', { value: k, text: k })); });
  }
  every(1000, pollJournal);
}

function pollJournal() {
  if ($('j-pause').checked) { return; }
  api('journal' + q({ limit: 500, after: state.journalNext >= 0 ? state.journalNext - 1 : '' }))
    .then(function (r) {
      if (r.status !== 200) { status('journal: ' + r.status, true); return; }
      status('updated ' + new Date().toLocaleTimeString());
      if (r.data.next === undefined) {          /* the fleet's: no numbers */
        state.journal = r.data.journal;
      } else {
        if (r.data.next < state.journalNext) { state.journal = []; }   /* a new zone */
        state.journal = state.journal.concat(r.data.journal);
        state.journalNext = r.data.next;
      }
      if (state.journal.length > 1000) { state.journal = state.journal.slice(-1000); }
      drawJournal();
    });
}

function drawJournal() {
  var tb = clear($('j-table').tBodies[0]), s = $('j-session').value,
      res = $('j-result').value, rows = [], i, e;
  for (i = state.journal.length - 1; i >= 0 && rows.length < 300; i--) {
    e = state.journal[i];
    if ((s && (e.session || '').indexOf(s) < 0) || (res && e.result !== res)) { continue; }
    rows.push(e);
  }
  rows.forEach(function (e) {
    tb.appendChild(el('tr', { 'data-id': e.id === undefined ? '' : e.id, 'data-result': e.result,
        onclick: function (ev) { select(ev.currentTarget); showEntry(e); } },
      el('td', { text: e.id === undefined ? '' : e.id }),
      el('td', { text: new Date(e.time * 1000).toLocaleTimeString() }),
      el('td', { cls: 'wrap', text: e.session === null ? '-' : e.session }), el('td', { text: e.method }),
      el('td', { cls: 'wrap', text: e.uri }), el('td', { cls: 'r-' + e.result, text: e.result }),
      el('td', { text: e.status }),
      el('td', { cls: 'wrap', text: e.interaction === null ? '-' : '#' + e.interaction + ' ' + (e.cassette || '').replace(/^.*\//, '') })));
  });
  $('j-count').textContent = rows.length + ' shown, ' + state.journal.length + ' kept';
}

function showEntry(e) {
  $('j-detail').hidden = false;
  $('j-title').textContent = e.method + ' ' + e.uri + ': ' + e.result;
  if (e.result !== 'miss' && e.result !== 'exhausted') {
    $('j-report').textContent = e.interaction === null ? 'no report: not a miss'
      : 'answered by #' + e.interaction + ' in ' + e.cassette;
    return;
  }
  if (e.id === undefined) { $('j-report').textContent = 'the fleet\'s journal keeps no reports'; return; }
  api('miss' + q({ id: e.id })).then(function (r) {
    $('j-report').textContent = r.status === 200 ? r.data.report : r.data.error;
  });
}

/* ---- the views ---- */

var VIEWS = { overview: overview, sessions: sessions, interactions: interactions, journal: journal };

function route() {
  var name = location.hash.slice(1) || 'overview', k;
  if (!VIEWS[name]) { name = 'overview'; }
  timers.forEach(clearInterval);
  timers = [];
  for (k in VIEWS) {
    $('view-' + k).hidden = k !== name;
    $('nav-' + k).className = k === name ? 'active' : '';
  }
  document.body.setAttribute('data-view', name);
  VIEWS[name]();
}

$('session-reset').addEventListener('click', resetSession);
$('session-more').addEventListener('click', loadSessions);
$('session-filter').addEventListener('input', drawSessionList);
$('session-store').addEventListener('change', function () { if (state.session) { loadSession(); } });
$('it-store').addEventListener('change', loadInteractions);
['it-method', 'it-path', 'it-status'].forEach(function (id) {
  $(id).addEventListener('input', drawInteractions);
});
$('it-edit').addEventListener('click', editInteraction);
$('ed-kind').addEventListener('change', editKind);
$('ed-cancel').addEventListener('click', function () { $('it-form').hidden = true; });
$('it-form').addEventListener('submit', saveInteraction);
['j-session', 'j-result'].forEach(function (id) { $(id).addEventListener('input', drawJournal); });
window.addEventListener('hashchange', route);
route();

}());
