// The preview page: builds the layouts query from the form, asks the admin listener
// (GET /admin/explain, /admin/cache, /admin/cache/slices, POST /admin/cache/invalidate) and
// draws the answers as DOM nodes. Every string from the server goes in through textContent
// or a text node, never as HTML: module content comes from the CMS and is not trusted.
'use strict';

(() => {
  const kRequestTimeoutMs = 10000;
  const kPreviewFields = 6;      // content keys shown on a card before "…"
  const kPreviewChars = 140;     // a string longer than this is cut on a card
  const kListItems = 3;          // array items named on a card

  // What each outcome of /admin/explain means (select/trace.h), shown on its badge's hover
  // and where the trace gives no sentence.
  const kOutcomes = {
    channel: "an experiment's add for other channels",
    page: "hidden by the page's own modules in its zone, or an add for other pages",
    zone: 'its zone was not asked for',
    schedule: 'outside its schedule at the instant',
    targeting: 'its targeting is false for the attributes',
    experiment: 'removed or replaced by a variant',
    limit: "past the template's limit for its zone",
  };

  const kTiers = {l1: 'L1', l2: 'L2', origin: 'the origin'};

  const tierName = (tier) => kTiers[tier] || tier || '';

  const $ = (id) => document.getElementById(id);

  // el('td', {class: 'num', 'data-label': 'Hits'}, '12'): an element; children that are
  // strings become text nodes. Only the attributes named here can be set.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') {
        node.className = value;
      } else if (key.startsWith('data-') || key.startsWith('aria-') ||
                 ['id', 'scope', 'title', 'role'].includes(key)) {
        node.setAttribute(key, String(value));
      } else {
        throw new Error(`el: attribute ${key} is not allowed`);
      }
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function show(node, visible) { node.hidden = !visible; }

  function setStatus(node, text, kind) {
    node.textContent = text;
    node.classList.toggle('ok', kind === 'ok');
    node.classList.toggle('bad', kind === 'bad');
  }

  // fetch with a bounded wait. Resolves to {status, body} (body parsed when JSON); rejects
  // with an Error whose message is fit to show.
  async function call(url, init) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), kRequestTimeoutMs);
    try {
      const response = await fetch(url, {...init, signal: abort.signal, cache: 'no-store'});
      const text = await response.text();
      let body = text;
      if ((response.headers.get('Content-Type') || '').includes('json')) {
        try { body = JSON.parse(text); } catch (e) { /* shown as text below */ }
      }
      return {status: response.status, body};
    } catch (e) {
      if (e.name === 'AbortError') {
        throw new Error(`${url.split('?')[0]}: no answer within ${kRequestTimeoutMs / 1000} s`);
      }
      throw new Error(`${url.split('?')[0]}: ${e.message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  // "404 unknown_tenant: No such tenant." from an error answer.
  function describeError(answer) {
    const error = answer.body && answer.body.error;
    if (error && typeof error === 'object') {
      return `${answer.status} ${error.code || ''}: ${error.message || ''}`;
    }
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    return `${answer.status}: ${text.slice(0, 300)}`;
  }

  // ---- The form --------------------------------------------------------------------------

  function addAttributeRow(key, value) {
    const row = $('attr-row').content.firstElementChild.cloneNode(true);
    const rows = $('attr-rows');
    row.querySelector('.attr-key').value = key || '';
    row.querySelector('.attr-value').value = value || '';
    row.querySelector('.attr-remove').addEventListener('click', () => {
      row.remove();
      labelAttributeRows();
    });
    rows.append(row);
    labelAttributeRows();
    return row;
  }

  function labelAttributeRows() {
    $('attr-rows').querySelectorAll('.attr-row').forEach((row, i) => {
      // Every row's fields are "Key" and "Value" on screen; a screen reader also hears which.
      row.querySelector('.attr-key').setAttribute('aria-label', `Attribute ${i + 1} key`);
      row.querySelector('.attr-value').setAttribute('aria-label', `Attribute ${i + 1} value`);
      row.querySelector('.attr-remove').setAttribute('aria-label', `Remove attribute ${i + 1}`);
    });
  }

  function splitList(text) {
    return text.split(/[\s,]+/).map((s) => s.trim()).filter((s) => s !== '');
  }

  // The layouts query (SPEC §2) the form describes.
  function queryFromForm() {
    const value = (name) => $(`f-${name}`).value.trim();
    const query = new URLSearchParams();
    for (const name of ['tenant', 'channel', 'pageType', 'pageId', 'visitorId', 'at']) {
      if (value(name) !== '') query.set(name, value(name));
    }
    for (const zone of splitList(value('zones'))) query.append('zone', zone);
    for (const variant of splitList(value('variant'))) query.append('variant', variant);
    for (const row of $('attr-rows').querySelectorAll('.attr-row')) {
      const key = row.querySelector('.attr-key').value.trim();
      if (key !== '') query.append(`t.${key}`, row.querySelector('.attr-value').value);
    }
    return query;
  }

  // Fills the form from a query (the page's #fragment), the inverse of queryFromForm.
  function fillForm(query) {
    for (const name of ['tenant', 'channel', 'pageType', 'pageId', 'visitorId', 'at']) {
      $(`f-${name}`).value = query.get(name) || '';
    }
    $('f-zones').value = query.getAll('zone').join(', ');
    $('f-variant').value = query.getAll('variant').join(', ');
    $('attr-rows').replaceChildren();
    for (const [key, value] of query) {
      if (key.startsWith('t.')) addAttributeRow(key.slice(2), value);
    }
  }

  // ---- The layout ------------------------------------------------------------------------

  // A value inside a list or object on a card: nested containers are not opened.
  function summarizeItem(value) {
    if (value === null || typeof value !== 'object') return summarize(value);
    return Array.isArray(value) ? '[…]' : '{…}';
  }

  // What a card says of one JSON value, in a line.
  function summarize(value) {
    if (value === null) return 'null';
    if (typeof value === 'string') {
      return value.length > kPreviewChars ? `${value.slice(0, kPreviewChars)}…` : value;
    }
    if (Array.isArray(value)) {
      const named = value.slice(0, kListItems).map(summarizeItem);
      const more = value.length > kListItems ? `, … (${value.length} items)` : '';
      return `[${named.join(', ')}${more}]`;
    }
    if (typeof value === 'object') {
      const entries = Object.entries(value);
      const named = entries.slice(0, kListItems).map(([k, v]) => `${k}: ${summarizeItem(v)}`);
      return `{${named.join(', ')}${entries.length > kListItems ? ', …' : ''}}`;
    }
    return String(value);
  }

  function contentPreview(content) {
    const list = el('dl', {class: 'preview'});
    if (content !== null && typeof content === 'object' && !Array.isArray(content)) {
      const entries = Object.entries(content);
      for (const [key, value] of entries.slice(0, kPreviewFields)) {
        list.append(el('dt', null, key), el('dd', null, summarize(value)));
      }
      if (entries.length > kPreviewFields) {
        const more = `${entries.length - kPreviewFields} more`;
        list.append(el('dt', null, '…'), el('dd', null, more));
      }
      if (entries.length === 0) list.append(el('dt', null, 'content'), el('dd', null, '{}'));
    } else if (content !== undefined) {
      list.append(el('dt', null, 'content'), el('dd', null, summarize(content)));
    }
    return list;
  }

  // The kept modules as the answer renders them (type and content), by zone and id: explain's
  // module entries say why, its "answer" (the v2 layouts body) says what.
  function renderedModules(explain) {
    const byId = new Map();
    const answer = explain.answer;
    if (answer && Array.isArray(answer.zones)) {
      for (const zone of answer.zones) {
        for (const module of zone.modules || []) byId.set(`${zone.zone}\u0000${module.id}`, module);
      }
    }
    return byId;
  }

  function card(module, rendered) {
    const type = rendered?.type;
    const content = rendered?.content;
    const version = module.version ?? rendered?.version;
    const priority = module.priority ?? rendered?.priority ?? '?';
    const facts = [module.base_priority !== undefined && module.base_priority !== priority
                       ? `priority ${priority} (was ${module.base_priority})`
                       : `priority ${priority}`];
    if (typeof module.position === 'number') facts.push(`position ${module.position + 1}`);
    if (version !== undefined) facts.push(`version ${version}`);
    if (typeof module.scope === 'string') {
      facts.push(module.scope === '*' ? 'type-wide' : `page ${module.scope}`);
    }
    if (module.added_by) {
      facts.push(`added by ${module.added_by.experiment}:${module.added_by.variant}`);
    }
    const node = el('li', {class: 'card', 'data-module': module.id, 'data-zone': module.zone},
        el('div', {class: 'card-head'},
            el('span', {class: 'badge type', title: 'module type'}, type ?? 'module'),
            el('span', {class: 'id mono'}, module.id)),
        el('p', {class: 'facts'}, facts.join(' · ')));
    if (content !== undefined) {
      node.append(contentPreview(content),
          el('details', null, el('summary', null, 'Content JSON'),
              el('pre', {class: 'json'}, JSON.stringify(content, null, 2))));
    }
    return node;
  }

  function renderZones(explain) {
    const modules = Array.isArray(explain.modules) ? explain.modules : [];
    const kept = modules.filter((m) => m.outcome === 'kept');
    const rendered = renderedModules(explain);
    const zoneOrder = [];
    const byZone = new Map();
    for (const module of kept) {
      if (!byZone.has(module.zone)) {
        byZone.set(module.zone, []);
        zoneOrder.push(module.zone);
      }
      byZone.get(module.zone).push(module);
    }
    const container = $('zones');
    container.replaceChildren();
    for (const zone of zoneOrder) {
      const list = byZone.get(zone);
      list.sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
      const titleId = `zone-${container.childElementCount}`;
      container.append(el('section', {class: 'panel zone', 'data-zone': zone,
                                      'aria-labelledby': titleId},
          el('h2', {id: titleId}, el('span', null, zone),
              el('span', {class: 'count'}, `${list.length} module${list.length === 1 ? '' : 's'}`)),
          el('ul', {class: 'cards'},
              ...list.map((m) => card(m, rendered.get(`${m.zone}\u0000${m.id}`))))));
    }
    if (zoneOrder.length === 0) {
      const candidates = modules.length > 0;
      container.append(el('section', {class: 'panel zone empty'},
          el('h2', null, 'No module renders'),
          el('p', {class: 'muted'}, candidates
              ? 'The page is empty for this query: below, why each candidate did not render.'
              : 'No module is published for this tenant, channel, page type and page.')));
    }
    return kept.length;
  }

  function outcomeBadge(outcome) {
    return el('span', {class: 'badge outcome', title: kOutcomes[outcome] || ''}, outcome);
  }

  const compact = (value) => JSON.stringify(value);

  // The values a dropped module's reason rests on, one line each: the parts of its targeting
  // that failed and the attributes they saw, its schedule window and the instant, the
  // experiment whose add it was.
  function particulars(module) {
    const lines = [];
    for (const part of Array.isArray(module.failing) ? module.failing : []) {
      const seen = Object.entries(part.seen || {}).map(([name, value]) =>
          value === null || value === undefined ? `${name} absent` : `${name} = ${compact(value)}`);
      lines.push(`needs ${compact(part.condition)}; saw ${seen.join(', ') || 'nothing'}`);
    }
    if (module.schedule) {
      const {start, end, at} = module.schedule;
      lines.push(`runs from ${start ?? 'always'} until ${end ?? 'open end'}; ` +
                 `instant ${readableInstant(at)}`);
    }
    if (module.added_by) {
      lines.push(`an add of variant ${module.added_by.variant} of ${module.added_by.experiment}`);
    }
    if (lines.length === 0) return null;
    return el('ul', {class: 'why'}, ...lines.map((line) => el('li', null, line)));
  }

  // Everything the trace says of a dropped module, as JSON, for what the lines above omit.
  function traceDetails(module) {
    const particulars = {};
    for (const key of ['condition', 'failing', 'schedule', 'removed_by', 'added_by', 'limit']) {
      if (module[key] !== undefined && module[key] !== null) particulars[key] = module[key];
    }
    if (Object.keys(particulars).length === 0) return null;
    return el('details', null, el('summary', null, 'Trace'),
              el('pre', {class: 'json'}, JSON.stringify(particulars, null, 2)));
  }

  function renderDropped(explain) {
    const modules = Array.isArray(explain.modules) ? explain.modules : [];
    const dropped = modules.filter((m) => m.outcome !== 'kept');
    const body = $('dropped').tBodies[0];
    body.replaceChildren(...dropped.map((m) => el('tr',
        {'data-module': m.id, 'data-zone': m.zone, 'data-outcome': m.outcome},
        el('td', {'data-label': 'Module'}, el('code', null, m.id)),
        el('td', {'data-label': 'Zone'}, m.zone ?? ''),
        el('td', {'data-label': 'Outcome'}, outcomeBadge(m.outcome)),
        // One child: a stacked row (phone) is a grid of label and value.
        el('td', {'data-label': 'Why'}, el('div', null,
            el('span', {class: 'reason'}, m.reason || kOutcomes[m.outcome] || ''),
            particulars(m), traceDetails(m))))));
    $('dropped').classList.add('stack');
    show($('dropped'), dropped.length > 0);
    $('dropped-empty').textContent = modules.length === 0
        ? 'No module was a candidate for this page.'
        : 'Every module that was a candidate for this page rendered.';
    show($('dropped-empty'), dropped.length === 0);
    return dropped.length;
  }

  // How an experiment came to its variant (or why it has none), in words.
  function assignment(experiment) {
    const parts = [experiment.reason || experiment.how || ''];
    if (experiment.how === 'hashed' && typeof experiment.hash === 'number') {
      // Which bucket the visitor fell in: the hash and the chosen variant's range.
      const index = (experiment.variants || []).indexOf(experiment.variant);
      const range = (experiment.ranges || [])[index];
      parts.push(`${experiment.hash_attribute} "${experiment.hash_input}" hashes to ` +
                 `${experiment.hash}${range ? `, in [${range[0]}, ${range[1]})` : ''}`);
    }
    if (experiment.condition_holds === false) parts.push('its condition is false');
    if (experiment.ignored_forced_variant) {
      parts.push(`forced variant "${experiment.ignored_forced_variant}" ignored (unknown key)`);
    }
    return parts.filter((p) => p !== '').join('; ');
  }

  // What the chosen variant did to the page.
  function overlay(experiment) {
    const o = experiment.overlay || {};
    const parts = [];
    if (o.removed?.length) parts.push(`removed ${o.removed.join(', ')}`);
    if (o.added?.length) parts.push(`added ${o.added.join(', ')}`);
    if (o.add_dropped?.length) parts.push(`adds not shown: ${o.add_dropped.join(', ')}`);
    for (const p of o.priorities || []) parts.push(`${p.id} priority ${p.from} → ${p.to}`);
    return parts.length ? parts.join('; ') : (experiment.variant ? 'no change' : '');
  }

  function renderExperiments(explain) {
    const experiments = Array.isArray(explain.experiments) ? explain.experiments : [];
    const body = $('experiments').tBodies[0];
    body.replaceChildren(...experiments.map((x) => el('tr', {'data-experiment': x.id},
        el('td', {'data-label': 'Experiment'}, el('code', null, x.id)),
        el('td', {class: 'variant', 'data-label': 'Variant'},
            x.variant === undefined || x.variant === null
                ? el('span', {class: 'muted'}, 'none')
                : el('strong', null, String(x.variant))),
        el('td', {'data-label': 'How'}, assignment(x)),
        el('td', {class: 'effect', 'data-label': 'Effect'}, overlay(x)))));
    $('experiments').classList.add('stack');
    show($('experiments'), experiments.length > 0);
    show($('experiments-empty'), experiments.length === 0);
  }

  // An RFC 3339 instant to the millisecond (the server's clock gives nanoseconds).
  function readableInstant(at) {
    return typeof at === 'string' ? at.replace(/(\.\d{3})\d+Z$/, '$1Z') : at;
  }

  function renderSummary(explain, query, kept, dropped) {
    const request = explain.request || {};
    const field = (name) => request[name] ?? query.get(name);
    const slices = Array.isArray(explain.slices) ? explain.slices : [];
    const items = [
      ['Tenant', field('tenant')],
      ['Channel', field('channel')],
      ['Page type', field('pageType')],
      ['Page id', field('pageId') || '(type-wide)'],
      ['Instant', `${readableInstant(field('at')) || 'now'}` +
                  `${request.at_from === 'now' ? ' (server clock)' : ''}`],
      ['Rendered', String(kept)],
      ['Not rendered', String(dropped)],
    ];
    if (explain.version !== undefined) items.push(['Page version', String(explain.version)]);
    if (slices.length > 0) {
      items.push(['Slices', slices.map((s) =>
          `${s.scope ?? '?'}${s.tier ? ` from ${tierName(s.tier)}` : ''}` +
          `${s.version !== undefined ? ` (v${s.version})` : ''}`).join(', ')]);
    }
    $('summary').replaceChildren(...items.map(([name, value]) =>
        el('div', null, el('dt', null, name), el('dd', null, String(value)))));
    const attributes = request.evaluated_attributes;
    $('attributes').replaceChildren();
    if (attributes && typeof attributes === 'object') {
      $('attributes').append(el('summary', null, 'Attributes the conditions saw'),
                             el('pre', {class: 'json'}, JSON.stringify(attributes, null, 2)));
    }
    show($('attributes'), attributes && typeof attributes === 'object');
  }

  // ---- The cache -------------------------------------------------------------------------

  async function loadTiers() {
    const tiers = $('tiers');
    try {
      const answer = await call('/admin/cache');
      if (answer.status !== 200 || typeof answer.body !== 'object') {
        tiers.replaceChildren(el('p', {class: 'muted'}, describeError(answer)));
        return;
      }
      tiers.replaceChildren(...Object.entries(answer.body).map(([name, stats]) => {
        const box = el('div', {class: 'tier', 'data-tier': name}, el('h4', null, name));
        if (stats === null || typeof stats !== 'object') {
          box.append(el('p', {class: 'muted'}, stats === null ? 'not configured' : String(stats)));
        } else {
          box.append(el('dl', null, ...Object.entries(stats).flatMap(([key, value]) =>
              [el('dt', null, key), el('dd', null, typeof value === 'object'
                                                      ? JSON.stringify(value) : String(value))])));
        }
        return box;
      }));
    } catch (e) {
      tiers.replaceChildren(el('p', {class: 'muted'}, e.message));
    }
  }

  function formatAge(ms) {
    if (typeof ms !== 'number') return '';
    if (ms < 1000) return `${ms} ms`;
    if (ms < 120000) return `${(ms / 1000).toFixed(1)} s`;
    return `${Math.round(ms / 60000)} min`;
  }

  async function loadSlices(tenant, current) {
    const table = $('slices');
    const empty = $('slices-empty');
    const showEmpty = (text) => {
      if (text) empty.textContent = text;
      table.tBodies[0].replaceChildren();
      show(table, false);
      show(empty, true);
    };
    if (!tenant) {
      showEmpty('');
      return;
    }
    $('slices-title').textContent = `Slices of ${tenant}`;
    let answer;
    try {
      answer = await call(`/admin/cache/slices?${new URLSearchParams({tenant})}`);
    } catch (e) {
      showEmpty(e.message);
      return;
    }
    const slices = answer.status === 200 && Array.isArray(answer.body.slices)
                       ? answer.body.slices : null;
    if (slices === null || slices.length === 0) {
      showEmpty(slices === null ? describeError(answer) : `No slice of ${tenant} is in L1.`);
      return;
    }
    const isCurrent = (s) => current && s.channel === current.channel &&
                             s.pageType === current.pageType &&
                             (s.scope === '*' || s.scope === current.pageId);
    const num = (label, value) => el('td', {class: 'num', 'data-label': label},
                                     value === undefined ? '' : String(value));
    table.tBodies[0].replaceChildren(...slices.map((s) => el('tr',
        {class: isCurrent(s) ? 'current' : '', 'data-key': s.key ?? '',
         'aria-current': isCurrent(s) ? 'true' : undefined},
        el('td', {'data-label': 'Channel'}, s.channel ?? ''),
        el('td', {'data-label': 'Page type'}, s.pageType ?? ''),
        el('td', {'data-label': 'Scope'}, el('code', null, s.scope ?? '')),
        el('td', {'data-label': 'Tier'},
            tierName(s.tier) + (s.loaded_from ? ` (from ${tierName(s.loaded_from)})` : '')),
        num('Version', s.version),
        num('Bytes', s.bytes),
        el('td', {class: 'num', 'data-label': 'Age'}, formatAge(s.age_ms)),
        num('Hits', s.hits),
        el('td', {'data-label': 'Fresh'},
            s.fresh === undefined ? '' : s.fresh ? 'yes' : 'stale'))));
    table.classList.add('stack');
    show(table, true);
    show(empty, false);
  }

  // ---- Actions ---------------------------------------------------------------------------

  let shown = null;  // the query of the layout on screen

  async function showLayout(query) {
    const status = $('status');
    for (const name of ['tenant', 'channel', 'pageType']) {
      if (!query.get(name)) {
        const label = $(`f-${name}`).labels[0].firstChild.textContent.trim();
        setStatus(status, `${label} is required.`, 'bad');
        $(`f-${name}`).focus();
        return;
      }
    }
    history.replaceState(null, '', `#${query}`);
    setStatus(status, 'Loading…');
    $('show').disabled = true;
    const started = performance.now();
    try {
      const answer = await call(`/admin/explain?${query}`);
      if (answer.status !== 200 || typeof answer.body !== 'object') {
        showError('The page could not be explained', describeError(answer));
        return;
      }
      show($('error'), false);
      const kept = renderZones(answer.body);
      const dropped = renderDropped(answer.body);
      renderExperiments(answer.body);
      renderSummary(answer.body, query, kept, dropped);
      show($('result'), true);
      shown = query;
      $('invalidate').disabled = false;
      setStatus(status, `Explained in ${Math.round(performance.now() - started)} ms: ` +
                        `${kept} rendered, ${dropped} not.`, 'ok');
    } catch (e) {
      showError('No answer', e.message);
    } finally {
      $('show').disabled = false;
    }
    await refreshCache();
  }

  // Replaces the layout with an error: nothing on screen may be taken for this query's
  // answer, and the invalidate button has no page to act on.
  function showError(title, detail) {
    $('error').replaceChildren(el('h2', null, title), el('p', {class: 'mono'}, detail));
    show($('error'), true);
    show($('result'), false);
    shown = null;
    $('invalidate').disabled = true;
    setStatus($('status'), '');
  }

  async function refreshCache() {
    const query = shown || queryFromForm();
    await Promise.all([
      loadTiers(),
      loadSlices(query.get('tenant'), {channel: query.get('channel'),
                                       pageType: query.get('pageType'),
                                       pageId: query.get('pageId') || ''}),
    ]);
  }

  // Drops the slices the shown page is made of ("*" and its pageId) from L1, and from L2
  // when asked; the next request reads them again.
  async function invalidate() {
    const result = $('invalidate-result');
    if (!shown) return;
    const scopes = ['*'];
    if (shown.get('pageId')) scopes.push(shown.get('pageId'));
    const l2 = $('invalidate-l2').checked;
    $('invalidate').disabled = true;
    setStatus(result, 'Invalidating…');
    let l1Removed = 0;
    let l2Deleted = 0;
    try {
      for (const scope of scopes) {
        const answer = await call('/admin/cache/invalidate', {
          method: 'POST',
          headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({tenant: shown.get('tenant'), channel: shown.get('channel'),
                                pageType: shown.get('pageType'), scope, l2}),
        });
        if (answer.status !== 200 || typeof answer.body !== 'object') {
          setStatus(result, `Invalidation failed: ${describeError(answer)}`, 'bad');
          return;
        }
        l1Removed += Number(answer.body.l1_removed) || 0;
        l2Deleted += Number(answer.body.l2_deleted) || 0;
      }
      setStatus(result, `Invalidated ${shown.get('tenant')}/${shown.get('channel')}/` +
                        `${shown.get('pageType')} (${scopes.join(', ')}): ` +
                        `${l1Removed} removed from L1` +
                        (l2 ? `, ${l2Deleted} deleted from L2.` : '.'), 'ok');
    } catch (e) {
      setStatus(result, `Invalidation failed: ${e.message}`, 'bad');
    } finally {
      $('invalidate').disabled = false;
      await refreshCache();
    }
  }

  function start() {
    $('attr-add').addEventListener('click', () => {
      addAttributeRow().querySelector('.attr-key').focus();
    });
    $('at-now').addEventListener('click', () => {
      $('f-at').value = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    });
    $('query').addEventListener('submit', (event) => {
      event.preventDefault();
      showLayout(queryFromForm());
    });
    $('cache-refresh').addEventListener('click', () => refreshCache());
    $('invalidate').addEventListener('click', () => invalidate());
    // A link to the page carries its query after '#' (showLayout writes it there); one
    // opened or pasted into this tab is answered too.
    const showLink = () => {
      const fromLink = new URLSearchParams(location.hash.slice(1));
      if (!fromLink.get('tenant')) return false;
      fillForm(fromLink);
      showLayout(fromLink);
      return true;
    };
    window.addEventListener('hashchange', showLink);
    if (!showLink()) {
      addAttributeRow();
      refreshCache();
    }
    document.body.dataset.ready = 'true';
  }

  start();
})();
