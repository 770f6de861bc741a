/*
 * prefixd's read-only dashboard (issue 20). Plain JavaScript, no framework, no build step.
 *
 * Pages (hash routes): #/ overview, #/pool/NAME pool page, #/prefix/CIDR prefix page.
 * Data: only the public /v1/ API, with the caller's own credentials. On TCP the API wants a
 * bearer token: the first 401 shows a form, the token is kept in sessionStorage (this tab
 * only) and sent as "Authorization: Bearer" from then on.
 *
 * Safety: every text that comes from the API goes into the DOM as text (textContent,
 * createTextNode, setAttribute on non-URL attributes), never as HTML; the server's
 * Content-Security-Policy (default-src 'self') forbids inline script and other origins.
 *
 * Performance marks: "pool-start" / "pool-rendered" and the measure "pool-render" (request
 * of the pool and its allocations, the map built and laid out) — the test reads them.
 */
'use strict';

(function () {
	const TOKEN_KEY = 'prefixd.token';
	const STATES = ['pending-provision', 'failed-provision', 'provisioned', 'pending-advertise',
		'advertised', 'pending-withdraw', 'pending-deprovision', 'deprovisioned'];
	const main = document.getElementById('main');
	const tip = document.getElementById('tip');
	let generation = 0;             /* bumped on every navigation: stale work stops */
	let aborter = null;

	/* ---- DOM helpers: text only ------------------------------------------------------- */

	/* el('div', {class: 'x', text: 'y', href: '#/'}, child...): children are nodes or text. */
	function el(tag, attrs, ...children) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (v === null || v === undefined || v === false)
				continue;
			if (k === 'text')
				e.textContent = String(v);
			else if (k === 'class')
				e.className = v;
			else
				e.setAttribute(k, v === true ? '' : String(v));
		}
		for (const c of children) {
			if (c === null || c === undefined || c === false)
				continue;
			e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
		}
		return e;
	}

	function link(href, text, cls) {
		return el('a', { href: href, text: text, class: cls });
	}

	function poolHref(name) { return '#/pool/' + encodeURIComponent(name); }
	function prefixHref(cidr) { return '#/prefix/' + encodeURIComponent(cidr); }

	function section(title, id, ...children) {
		return el('section', { class: 'card', 'aria-labelledby': id },
			el('h2', { id: id, text: title }), ...children);
	}

	function badge(state) {
		return el('span', { class: 'badge st-' + String(state).replace(/[^a-z-]/g, ''), text: state });
	}

	function kv(pairs) {
		const dl = el('dl', { class: 'kv' });
		for (const [k, v] of pairs) {
			if (v === null || v === undefined || v === '')
				continue;
			dl.appendChild(el('dt', { text: k }));
			dl.appendChild(el('dd', null, v));
		}
		return dl;
	}

	function tagsText(tags) {
		const keys = Object.keys(tags || {});
		return keys.length ? keys.map((k) => k + '=' + tags[k]).join(', ') : '';
	}

	function age(seconds) {
		if (seconds === null || seconds === undefined)
			return 'never';
		const s = Number(seconds);
		if (s < 120)
			return s + ' s ago';
		if (s < 7200)
			return Math.round(s / 60) + ' min ago';
		return Math.round(s / 3600) + ' h ago';
	}

	function pct(p) { return Number(p).toFixed(1) + ' %'; }

	function showError(where, err) {
		where.appendChild(el('p', { class: 'error', role: 'alert',
			text: err.status === 401 ? 'Not authorized: the API answered 401 (a bearer token is needed).' :
				'Could not load: ' + err.message }));
	}

	/* ---- API --------------------------------------------------------------------------- */

	class ApiError extends Error {
		constructor(status, code, message) {
			super(message);
			this.status = status;
			this.code = code;
		}
	}

	async function api(path, signal) {
		const headers = { Accept: 'application/json' };
		const token = sessionStorage.getItem(TOKEN_KEY);
		if (token)
			headers.Authorization = 'Bearer ' + token;
		const r = await fetch(path, { headers: headers, signal: signal, cache: 'no-store' });
		let body = null;
		try {
			body = await r.json();
		} catch (e) {
			body = null;
		}
		if (r.status === 401) {
			askToken(token !== null);
			throw new ApiError(401, 'unauthorized', 'unauthorized');
		}
		if (!r.ok) {
			const e = body && body.error ? body.error : {};
			throw new ApiError(r.status, e.code || '', (e.code || r.status) + ': ' + (e.message || r.statusText));
		}
		return body;
	}

	/* A whole list: lists answer a page at a time (limit, cursor, next_cursor: issue 15), so
	 * the pages are fetched in turn, the largest the daemon serves (1,000 rows), and their
	 * arrays appended to the first page's. */
	async function apiAll(path, signal) {
		const base = path + (path.indexOf('?') < 0 ? '?' : '&') + 'limit=1000';
		const first = await api(base, signal);
		let page = first;
		while (page && typeof page.next_cursor === 'string') {
			page = await api(base + '&cursor=' + encodeURIComponent(page.next_cursor), signal);
			for (const k of Object.keys(page))
				if (Array.isArray(page[k]) && Array.isArray(first[k]))
					first[k].push(...page[k]);
		}
		first.next_cursor = null;
		return first;
	}

	/* ---- bearer token ------------------------------------------------------------------ */

	function askToken(refused) {
		const box = document.getElementById('auth');
		if (refused)
			sessionStorage.removeItem(TOKEN_KEY);
		document.getElementById('auth-why').textContent = refused ?
			'The API refused the token (401 Unauthorized). Enter another one.' :
			'The API answered 401 Unauthorized: this listener needs a bearer token.';
		if (box.hidden) {
			box.hidden = false;
			document.getElementById('auth-token').focus();
		}
		tokenNote();
	}

	function tokenNote() {
		const note = document.getElementById('token-note');
		const has = sessionStorage.getItem(TOKEN_KEY) !== null;
		note.hidden = !has;
		document.getElementById('token-text').textContent = has ?
			'Using a bearer token kept in this tab\'s session storage.' : '';
	}

	document.getElementById('auth-form').addEventListener('submit', (ev) => {
		ev.preventDefault();
		const input = document.getElementById('auth-token');
		const t = input.value.trim();
		if (!t)
			return;
		sessionStorage.setItem(TOKEN_KEY, t);
		input.value = '';
		document.getElementById('auth').hidden = true;
		tokenNote();
		route();
	});
	document.getElementById('token-forget').addEventListener('click', () => {
		sessionStorage.removeItem(TOKEN_KEY);
		tokenNote();
		route();
	});

	/* ---- addresses (BigInt) ------------------------------------------------------------ */

	/*
	 * A CIDR as {start, size, end}: plain Numbers for IPv4 (exact below 2^53, and fast for
	 * 10,000 blocks), BigInt for IPv6. Blocks of one pool are all of one kind, so <, +, - work.
	 */
	function parseCidr(s) {
		const slash = s.indexOf('/');
		const addr = s.slice(0, slash), len = Number(s.slice(slash + 1));
		if (!addr.includes(':')) {
			const o = addr.split('.');
			const v = ((+o[0]) * 16777216) + ((+o[1]) << 16) + ((+o[2]) << 8) + (+o[3]);
			const size = 2 ** (32 - len);
			return { text: s, start: v, size: size, end: v + size, bits: 32 };
		}
		let v = 0n;
		const [head, tail] = addr.split('::');
		const h = head ? head.split(':') : [];
		const t = tail !== undefined && tail ? tail.split(':') : [];
		const groups = tail === undefined ? h : h.concat(new Array(8 - h.length - t.length).fill('0'), t);
		for (const g of groups)
			v = (v << 16n) | BigInt(parseInt(g || '0', 16));
		const size = 1n << BigInt(128 - len);
		return { text: s, start: v, size: size, end: v + size, bits: 128 };
	}

	/* a / b as a Number, for Numbers or BigInts. */
	function ratio(a, b) {
		return typeof a === 'bigint' ? Number((a * 1000000000n) / b) / 1e9 : a / b;
	}

	function formatAddr(v, bits) {
		if (bits === 32)
			return [24, 16, 8, 0].map((sh) => String(Math.floor(v / 2 ** sh) % 256)).join('.');
		const g = [];
		for (let sh = 112n; sh >= 0n; sh -= 16n)
			g.push(((v >> sh) & 0xffffn).toString(16));
		return g.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
	}

	/* Number of addresses as text, with a short form for big numbers. */
	function sizeText(n) {
		return n < 100000 ? String(n) : '2^' + Math.round(Math.log2(Number(n)));
	}

	/* ---- router ------------------------------------------------------------------------ */

	function route() {
		generation++;
		if (aborter)
			aborter.abort();
		aborter = new AbortController();
		hideTip();
		const h = location.hash || '#/';
		const gen = generation, signal = aborter.signal;
		main.setAttribute('aria-busy', 'true');
		main.replaceChildren();
		let page;
		if (h.startsWith('#/pool/'))
			page = poolPage(decodeURIComponent(h.slice(7)), gen, signal);
		else if (h.startsWith('#/prefix/'))
			page = prefixPage(decodeURIComponent(h.slice(9)), gen, signal);
		else
			page = overview(gen, signal);
		page.catch((err) => {
			if (gen !== generation || err.name === 'AbortError')
				return;
			showError(main, err);
		}).finally(() => {
			if (gen === generation)
				main.setAttribute('aria-busy', 'false');
		});
	}

	window.addEventListener('hashchange', () => {
		route();
		main.focus({ preventScroll: true });
	});

	/* ---- overview ---------------------------------------------------------------------- */

	function utilBar(u) {
		const p = Math.max(0, Math.min(100, Number(u.utilization_percent)));
		const bar = el('div', { class: 'bar' + (u.alarm ? ' alarm' : ''), role: 'img',
			'aria-label': pct(u.utilization_percent) + ' used' + (u.alarm ? ', alarm' : '') });
		const fill = el('div', { class: 'fill' });
		fill.style.width = p + '%';
		bar.appendChild(fill);
		if (Number(u.alarm_at) > 0 && Number(u.alarm_at) <= 100) {
			const mark = el('div', { class: 'alarm-at' });
			mark.style.left = Number(u.alarm_at) + '%';
			bar.appendChild(mark);
		}
		return el('div', { class: 'util' }, bar,
			el('span', { class: 'util-pct', text: pct(u.utilization_percent) }),
			u.alarm ? el('span', { class: 'alarm-mark', text: 'ALARM ≥ ' + u.alarm_at + ' %' }) : null,
			el('span', { class: 'util-abs muted',
				text: u.allocated_addresses + ' of ' + u.provisioned_addresses + ' addresses' }));
	}

	function poolRow(p, kids) {
		const li = el('li', { class: 'pool', 'data-pool': p.name },
			el('div', { class: 'pool-line' },
				link(poolHref(p.name), p.name, 'pool-name'),
				el('span', { class: 'muted cidrs', text: p.cidrs.join(' ') || 'no CIDR provisioned' }),
				utilBar(p.utilization)));
		const mine = kids.get(p.name) || [];
		if (mine.length) {
			const ul = el('ul', { class: 'tree' });
			for (const c of mine)
				ul.appendChild(poolRow(c, kids));
			li.appendChild(ul);
		}
		return li;
	}

	async function overview(gen, signal) {
		const [status, scopes, pools, prefixes, rpki, bird] = await Promise.all([
			api('/v1/status', signal), apiAll('/v1/scopes', signal), apiAll('/v1/pools', signal),
			apiAll('/v1/prefixes', signal), api('/v1/rpki/status', signal), api('/v1/bird/status', signal)]);
		if (gen !== generation)
			return;
		document.getElementById('who').textContent = 'prefixd ' + status.version + ' · you are ' +
			status.actor + ' (' + status.role + ')';
		main.appendChild(el('h1', { text: 'Overview' }));
		const grid = el('div', { class: 'grid' });
		main.appendChild(grid);

		/* pools per scope */
		const kids = new Map();
		for (const p of pools.pools) {
			const key = p.parent === null ? '\u0000' + p.scope : p.parent;
			if (!kids.has(key))
				kids.set(key, []);
			kids.get(key).push(p);
		}
		const poolsCard = section('Pools', 'h-pools');
		poolsCard.classList.add('wide');
		for (const s of scopes.scopes) {
			const roots = kids.get('\u0000' + s.name) || [];
			const box = el('div', { class: 'scope', 'data-scope': s.name },
				el('h3', { text: s.name + ' (' + s.kind + ', ' + s.pools + ' pools)' }));
			if (!roots.length)
				box.appendChild(el('p', { class: 'muted', text: 'no pools' }));
			else {
				const ul = el('ul', { class: 'tree' });
				for (const p of roots)
					ul.appendChild(poolRow(p, kids));
				box.appendChild(ul);
			}
			poolsCard.appendChild(box);
		}
		grid.appendChild(poolsCard);

		/* public prefixes by state */
		const pfxCard = section('Public prefixes', 'h-prefixes');
		const byState = new Map();
		for (const p of prefixes.prefixes) {
			if (!byState.has(p.state))
				byState.set(p.state, []);
			byState.get(p.state).push(p);
		}
		const order = STATES.concat([...byState.keys()].filter((s) => !STATES.includes(s)));
		let any = false;
		for (const st of order) {
			const list = byState.get(st);
			if (!list)
				continue;
			any = true;
			const ul = el('ul', { class: 'plist' });
			for (const p of list)
				ul.appendChild(el('li', null, link(prefixHref(p.cidr), p.cidr),
					el('span', { class: 'muted', text: ' ' + p.pool + ' · AS' + p.origin_asn }),
					p.failure_reason ? el('span', { class: 'reason', text: ' ' + p.failure_reason }) : null));
			pfxCard.appendChild(el('div', { class: 'pstate', 'data-state': st },
				el('h3', null, badge(st), ' ', el('span', { class: 'count', text: String(list.length) })), ul));
		}
		if (!any)
			pfxCard.appendChild(el('p', { class: 'muted', text: 'no public prefixes' }));
		grid.appendChild(pfxCard);

		/* RPKI */
		const rpkiCard = section('RPKI', 'h-rpki');
		if (rpki.state === 'not-configured')
			rpkiCard.appendChild(el('p', { class: 'rpki-state' }, badge('not-configured'), ' no RPKI cache is configured'));
		else {
			rpkiCard.appendChild(el('p', { class: 'rpki-state' }, badge(rpki.state), ' ',
				rpki.fresh ? 'fresh' : 'NOT fresh'));
			rpkiCard.appendChild(kv([
				['VRPs', rpki.vrps.ipv4 + ' IPv4, ' + rpki.vrps.ipv6 + ' IPv6'],
				['last update', age(rpki.last_update_age)],
				['stale after', rpki.stale_after + ' s'],
				['caches', (rpki.caches || []).map((c) => c.cache + (c.up ? ' up' : ' down')).join(', ')]]));
		}
		grid.appendChild(rpkiCard);

		/* BIRD */
		const birdCard = section('BIRD', 'h-bird');
		if (!bird.configured)
			birdCard.appendChild(el('p', { class: 'bird-state' }, badge('not-configured'), ' no BIRD socket is configured'));
		else {
			birdCard.appendChild(el('p', { class: 'bird-state' }, badge(bird.up ? 'up' : 'down'), ' ',
				bird.version || ''));
			birdCard.appendChild(kv([
				['socket', bird.socket],
				['transactions', bird.transactions.total + ' (' + bird.transactions.ok + ' ok)'],
				['reconcile', bird.reconcile.runs + ' runs, last: ' + (bird.reconcile.last_code || '-')],
				['drift', bird.reconcile.drift + ' found, ' + bird.reconcile.repaired + ' repaired']]));
		}
		grid.appendChild(birdCard);

		/* events, live */
		const evCard = section('Latest events', 'h-events');
		evCard.classList.add('wide');
		const live = el('p', { class: 'live muted', role: 'status', text: 'live: connecting…' });
		const ol = el('ol', { class: 'events', 'aria-live': 'polite', reversed: true });
		evCard.append(live, ol);
		grid.appendChild(evCard);
		const first = await api('/v1/events?limit=20', signal);
		if (gen !== generation)
			return;
		for (const ev of first.events)
			ol.prepend(eventItem(ev));
		follow(first.last_id, ol, live, gen, signal);
	}

	function eventItem(ev) {
		const obj = ev.after || ev.before || {};
		let what = ev.action + ' ' + ev.object_kind;
		if (ev.action === 'lifecycle' && ev.before && ev.after)
			what = 'lifecycle ' + (ev.before.state || 'none') + ' → ' + ev.after.state;
		const target = ev.cidr ? (ev.object_kind === 'prefix' ? link(prefixHref(ev.cidr), ev.cidr) :
			document.createTextNode(ev.cidr)) : null;
		return el('li', { 'data-id': String(ev.id) },
			el('time', { datetime: ev.time, text: ev.time.replace('T', ' ').replace('Z', '') }), ' ',
			el('span', { class: 'ev-what', text: what }), ' ', target,
			obj.pool ? el('span', null, ' in ', link(poolHref(obj.pool), obj.pool)) : null,
			el('span', { class: 'muted', text: ' by ' + (ev.actor || '?') + ' (' + (ev.role || '?') + ')' }));
	}

	/* The long poll: asks for events after the last one, wait=25 s; stops on navigation. */
	async function follow(after, ol, live, gen, signal) {
		let failures = 0;
		while (gen === generation) {
			try {
				const r = await api('/v1/events?after=' + after + '&limit=100&wait=25', signal);
				if (gen !== generation)
					return;
				failures = 0;
				live.textContent = 'live: following the event feed (long poll)';
				for (const ev of r.events)
					ol.prepend(eventItem(ev));
				while (ol.children.length > 50)
					ol.lastElementChild.remove();
				after = r.last_id;
			} catch (err) {
				if (err.name === 'AbortError' || gen !== generation)
					return;
				failures++;
				live.textContent = err.status === 401 ? 'live: stopped (401 unauthorized)' :
					'live: connection lost, retrying (' + err.message + ')';
				if (err.status === 401)
					return;
				await new Promise((res) => setTimeout(res, Math.min(30000, 1000 * failures)));
			}
		}
	}

	/* ---- pool page --------------------------------------------------------------------- */

	function hideTip() { tip.hidden = true; }

	function showTip(target, b) {
		const rows = [];
		if (b.kind === 'free')
			rows.push(el('strong', { text: 'free ' + b.label }), el('div', { text: sizeText(b.size) + ' addresses' }));
		else {
			rows.push(el('strong', { text: b.a.cidr }),
				el('div', { text: b.kind === 'pool' ? 'child pool ' + b.a.child_pool : 'allocation #' + b.a.id }));
			if (b.a.description)
				rows.push(el('div', { class: 'tip-desc', text: b.a.description }));
			const t = tagsText(b.a.tags);
			if (t)
				rows.push(el('div', { class: 'tip-tags', text: 'tags: ' + t }));
		}
		tip.replaceChildren(...rows);
		tip.hidden = false;
		const r = target.getBoundingClientRect();
		const w = Math.min(360, window.innerWidth - 16);
		tip.style.maxWidth = w + 'px';
		tip.style.left = Math.max(8, Math.min(r.left, window.innerWidth - w - 8)) + 'px';
		tip.style.top = (r.bottom + 6 + tip.offsetHeight > window.innerHeight ?
			Math.max(8, r.top - tip.offsetHeight - 6) : r.bottom + 6) + 'px';
	}

	/* Blocks of one provisioned CIDR: its allocations and the free gaps, in address order. */
	function blocksOf(prov, allocs) {
		const out = [];
		let at = prov.start;
		for (const a of allocs) {
			if (a.start > at)
				out.push({ kind: 'free', start: at, size: a.start - at, end: a.start, bits: prov.bits });
			out.push({ kind: a.a.kind === 'pool' ? 'pool' : 'alloc', start: a.start, size: a.size, a: a.a });
			at = a.end > at ? a.end : at;
		}
		if (prov.end > at)
			out.push({ kind: 'free', start: at, size: prov.end - at, end: prov.end, bits: prov.bits });
		for (const b of out)
			if (b.kind === 'free')
				b.label = formatAddr(b.start, b.bits) + ' – ' + formatAddr(b.end - (b.bits === 32 ? 1 : 1n), b.bits);
		return out;
	}

	function buildMap(pool, allocations) {
		const provs = pool.cidrs.map(parseCidr).sort((x, y) => (x.start < y.start ? -1 : 1));
		const parsed = allocations.map((a) => Object.assign(parseCidr(a.cidr), { a: a }))
			.sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
		const wrap = el('div', { class: 'maps' });
		const all = [];
		let j = 0;
		for (const prov of provs) {
			const mine = [];
			while (j < parsed.length && parsed[j].start < prov.start)
				j++;
			while (j < parsed.length && parsed[j].start < prov.end)
				mine.push(parsed[j++]);
			const blocks = blocksOf(prov, mine);
			/* widths: share of this CIDR x R virtual rows, R so that the smallest is ~4 px */
			let min = prov.size;
			for (const b of blocks)
				if (b.size < min)
					min = b.size;
			const width = Math.max(300, main.clientWidth - 40);
			const minShare = ratio(min, prov.size);
			const rows = Math.max(1, Math.min(40, Math.ceil(4 / (minShare * width))));
			const map = el('div', { class: 'map', role: 'group',
				'aria-label': 'address map of ' + prov.text + ': ' + blocks.length + ' blocks; arrow keys move' });
			const frag = document.createDocumentFragment();
			for (const b of blocks) {
				const share = ratio(b.size, prov.size);
				const w = share * rows * 100;
				const d = document.createElement('div');
				d.className = 'blk ' + b.kind;
				d.tabIndex = all.length === 0 ? 0 : -1;
				d.dataset.i = String(all.length);
				if (w >= 100) {
					d.style.width = '100%';
					d.style.height = Math.min(8, Math.round(w / 100)) * 1.5 + 'rem';
				} else
					d.style.width = w + '%';
				const label = b.kind === 'free' ? 'free ' + b.label :
					(b.kind === 'pool' ? 'child pool ' + b.a.child_pool + ' ' : 'allocation ') + b.a.cidr;
				d.setAttribute('aria-label', label);
				if (w >= 12) {
					d.className += ' lbl';
					d.textContent = b.kind === 'free' ? 'free' : b.kind === 'pool' ? b.a.child_pool + ' ' + b.a.cidr : b.a.cidr;
				}
				frag.appendChild(d);
				all.push(b);
			}
			map.appendChild(frag);
			wrap.appendChild(el('h3', { class: 'map-cidr', text: prov.text + ' · ' + mine.length +
				' allocations, ' + blocks.filter((b) => b.kind === 'free').length + ' free blocks' }));
			wrap.appendChild(map);
		}
		if (!provs.length)
			wrap.appendChild(el('p', { class: 'muted', text: 'nothing provisioned: no map' }));

		const at = (t) => (t && t.classList && t.classList.contains('blk') ? t : null);
		wrap.addEventListener('mouseover', (ev) => { const t = at(ev.target); if (t) showTip(t, all[t.dataset.i]); });
		wrap.addEventListener('mouseleave', hideTip);
		wrap.addEventListener('focusin', (ev) => { const t = at(ev.target); if (t) showTip(t, all[t.dataset.i]); });
		wrap.addEventListener('focusout', hideTip);
		wrap.addEventListener('keydown', (ev) => {
			const t = at(ev.target);
			if (!t)
				return;
			const blocks = wrap.querySelectorAll('.blk');
			let i = Number(t.dataset.i);
			const b = all[i];
			if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown')
				i = Math.min(blocks.length - 1, i + 1);
			else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp')
				i = Math.max(0, i - 1);
			else if (ev.key === 'Home')
				i = 0;
			else if (ev.key === 'End')
				i = blocks.length - 1;
			else if (ev.key === 'Enter' && b.kind === 'pool') {
				location.hash = poolHref(b.a.child_pool);
				return;
			} else if (ev.key === 'Escape') {
				hideTip();
				return;
			} else
				return;
			ev.preventDefault();
			t.tabIndex = -1;
			blocks[i].tabIndex = 0;
			blocks[i].focus();
		});
		wrap.addEventListener('click', (ev) => {
			const t = at(ev.target);
			if (t && all[t.dataset.i].kind === 'pool')
				location.hash = poolHref(all[t.dataset.i].a.child_pool);
		});
		return wrap;
	}

	async function poolPage(name, gen, signal) {
		performance.clearMarks('pool-start');
		performance.clearMarks('pool-rendered');
		performance.clearMeasures('pool-render');
		performance.mark('pool-start');
		const [pool, al] = await Promise.all([
			api('/v1/pools/' + encodeURIComponent(name), signal),
			apiAll('/v1/allocations?pool=' + encodeURIComponent(name), signal)]);
		if (gen !== generation)
			return;
		performance.mark('pool-fetched');
		const u = pool.utilization;
		main.append(el('p', { class: 'crumbs' }, link('#/', 'Overview'), ' › ', pool.scope,
			pool.parent ? el('span', null, ' › ', link(poolHref(pool.parent), pool.parent)) : null),
		el('h1', { text: 'Pool ' + pool.name }));
		const head = section('Summary', 'h-summary',
			kv([['scope', pool.scope], ['family', pool.family], ['description', pool.description],
				['tags', tagsText(pool.tags)], ['provisioned', pool.cidrs.join(' ') || 'nothing'],
				['largest free', u.largest_free || 'none'],
				['children', pool.children.length ? el('span', null, ...pool.children.flatMap((c, i) =>
					[i ? ', ' : '', link(poolHref(c), c)])) : 'none']]),
			utilBar(u));
		head.classList.add('pool-summary');
		const rules = section('Rules', 'h-rules', kv([
			['default netmask', pool.default_netmask === null ? 'none' : '/' + pool.default_netmask],
			['netmask range', (pool.min_netmask === null ? 'any' : '/' + pool.min_netmask) + ' – ' +
				(pool.max_netmask === null ? 'any' : '/' + pool.max_netmask)],
			['required tags', tagsText(pool.required_tags) || 'none'],
			['alarm at', pool.alarm_at + ' %'], ['locale', pool.locale || 'any'],
			['origin ASN', pool.origin_asn === null ? 'none' : 'AS' + pool.origin_asn]]));
		const legend = el('p', { class: 'legend' },
			el('span', { class: 'blk alloc sample', 'aria-hidden': 'true' }), ' allocation ',
			el('span', { class: 'blk pool sample', 'aria-hidden': 'true' }), ' child pool (outlined) ',
			el('span', { class: 'blk free sample', 'aria-hidden': 'true' }), ' free (hatched) · hover or focus a block for details');
		const mapCard = section('Address map', 'h-map', legend);
		mapCard.classList.add('wide');
		const chart = section('Utilization over time', 'h-chart', el('p', { class: 'muted', text: 'loading history…' }));
		chart.classList.add('wide');
		const grid = el('div', { class: 'grid' }, head, rules, mapCard, chart);
		main.appendChild(grid);
		mapCard.appendChild(buildMap(pool, al.allocations));
		performance.mark('pool-built');
		await new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0)));
		if (gen !== generation)
			return;
		performance.mark('pool-rendered');
		const m = performance.measure('pool-render', 'pool-start', 'pool-rendered');
		mapCard.appendChild(el('p', { class: 'muted perf', text: 'rendered ' + al.allocations.length +
			' allocations in ' + Math.round(m.duration) + ' ms' }));
		await utilChart(pool, chart, gen, signal);
	}

	/* Utilization over time: replays the pool's provision/allocate/release events. */
	async function utilChart(pool, card, gen, signal) {
		const evs = new Map();
		for (const c of pool.cidrs) {
			const h = await apiAll('/v1/history?cidr=' + encodeURIComponent(c), signal);
			for (const ev of h.events)
				evs.set(ev.id, ev);
		}
		if (gen !== generation)
			return;
		const sorted = [...evs.values()].sort((a, b) => a.id - b.id);
		let prov = 0, used = 0;
		const pts = [];
		for (const ev of sorted) {
			const o = ev.after || ev.before;
			if (!o || o.pool !== pool.name || !o.cidr)
				continue;
			const n = Number(parseCidr(o.cidr).size);
			if (ev.action === 'provision')
				prov += n;
			else if (ev.action === 'deprovision')
				prov -= n;
			else if (ev.action === 'allocate')
				used += n;
			else if (ev.action === 'release')
				used -= n;
			else
				continue;
			pts.push({ t: Date.parse(ev.time), p: prov > 0 ? (used * 100) / prov : 0 });
		}
		card.lastElementChild.remove();
		if (!pts.length) {
			card.appendChild(el('p', { class: 'muted', text: 'no provision or allocation events in the history' }));
			return;
		}
		const W = 600, H = 120, t0 = pts[0].t, t1 = Math.max(pts[pts.length - 1].t, t0 + 1);
		const ns = 'http://www.w3.org/2000/svg';
		const svg = document.createElementNS(ns, 'svg');
		svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
		svg.setAttribute('class', 'chart');
		svg.setAttribute('role', 'img');
		const first = pts[0], last = pts[pts.length - 1];
		const summary = 'from ' + first.p.toFixed(1) + ' % to ' + last.p.toFixed(1) + ' % over ' +
			pts.length + ' changes (' + new Date(first.t).toISOString().slice(0, 16).replace('T', ' ') +
			' to ' + new Date(last.t).toISOString().slice(0, 16).replace('T', ' ') + ' UTC)';
		svg.setAttribute('aria-label', 'utilization ' + summary);
		const step = Math.max(1, Math.floor(pts.length / 600));
		let d = '';
		for (let i = 0; i < pts.length; i += step) {
			const x = ((pts[i].t - t0) / (t1 - t0)) * (W - 4) + 2;
			d += (d ? ' L' : 'M') + x.toFixed(1) + ',' + (H - 2 - (pts[i].p / 100) * (H - 4)).toFixed(1);
		}
		d += ' L' + (W - 2) + ',' + (H - 2 - (last.p / 100) * (H - 4)).toFixed(1);
		const path = document.createElementNS(ns, 'path');
		path.setAttribute('d', d);
		svg.appendChild(path);
		if (pool.alarm_at > 0) {
			const y = (H - 2 - (pool.alarm_at / 100) * (H - 4)).toFixed(1);
			const line = document.createElementNS(ns, 'line');
			line.setAttribute('x1', '0');
			line.setAttribute('x2', String(W));
			line.setAttribute('y1', y);
			line.setAttribute('y2', y);
			line.setAttribute('class', 'alarm-line');
			svg.appendChild(line);
		}
		card.append(svg, el('p', { class: 'chart-text', text: 'Utilization ' + summary +
			(pool.alarm_at > 0 ? '; dashed line: alarm at ' + pool.alarm_at + ' %' : '') }));
	}

	/* ---- prefix page ------------------------------------------------------------------- */

	function evidenceBlock(obj, title) {
		if (obj === null || obj === undefined)
			return null;
		return el('details', { class: 'evidence' }, el('summary', { text: title }),
			el('pre', { text: JSON.stringify(obj, null, 2) }));
	}

	/* The facts worth a line of their own: signature hash, VRPs, BIRD diff. */
	function evidenceFacts(ev) {
		const out = [];
		const walk = (o, path) => {
			if (!o || typeof o !== 'object' || out.length > 6)
				return;
			for (const [k, v] of Object.entries(o)) {
				if (/sha256|hash/.test(k) && typeof v === 'string')
					out.push(['signature ' + k, v]);
				else if (/vrp/i.test(k))
					out.push(['VRPs (' + path + k + ')', JSON.stringify(v)]);
				else if (/diff/.test(k))
					out.push(['BIRD ' + k, typeof v === 'string' ? v : JSON.stringify(v)]);
				else if (typeof v === 'object')
					walk(v, path + k + '.');
			}
		};
		walk(ev, '');
		return out;
	}

	async function prefixPage(cidr, gen, signal) {
		const [p, h] = await Promise.all([
			api('/v1/prefixes/' + encodeURIComponent(cidr.replace('/', '_')), signal),
			apiAll('/v1/history?cidr=' + encodeURIComponent(cidr), signal)]);
		if (gen !== generation)
			return;
		main.append(el('p', { class: 'crumbs' }, link('#/', 'Overview'), ' › ', link(poolHref(p.pool), p.pool)),
			el('h1', { text: 'Prefix ' + p.cidr }));
		const now = section('Now', 'h-now', el('p', { class: 'now-state' }, badge(p.state),
			p.failure_reason ? el('span', { class: 'reason', text: ' ' + p.failure_reason }) : null),
		kv([['pool', link(poolHref(p.pool), p.pool)], ['origin', 'AS' + p.origin_asn],
			['message', p.message], ['allowed origins', (p.allow_origin || []).join(', ')],
			['last change', p.last_change ? new Date(p.last_change * 1000).toISOString() : null]]),
		evidenceBlock(p.evidence, 'evidence kept with the prefix'));
		const tl = el('ol', { class: 'timeline' });
		let n = 0;
		for (const ev of h.events) {
			if (ev.action !== 'lifecycle' || ev.cidr !== p.cidr)
				continue;
			n++;
			const from = (ev.before && ev.before.state) || 'none', to = (ev.after && ev.after.state) || '?';
			const facts = evidenceFacts(ev.evidence);
			tl.appendChild(el('li', { class: 'step', 'data-from': from, 'data-to': to },
				el('div', { class: 'step-head' },
					el('time', { datetime: ev.time, text: ev.time.replace('T', ' ').replace('Z', ' UTC') }), ' ',
					el('span', { class: 'transition' }, badge(from), ' → ', badge(to)),
					ev.after && ev.after.failure_reason ? el('span', { class: 'reason', text: ' ' + ev.after.failure_reason }) : null),
				el('p', { class: 'muted', text: 'by ' + (ev.actor || '?') + ' (' + (ev.role || '?') + ')' +
					(ev.request_id ? ', request ' + ev.request_id : '') + ', event #' + ev.id }),
				facts.length ? kv(facts) : null,
				evidenceBlock(ev.evidence, 'evidence')));
		}
		const tlCard = section('Lifecycle timeline', 'h-timeline',
			n ? tl : el('p', { class: 'muted', text: 'no lifecycle events in the history' }));
		tlCard.classList.add('wide');
		main.appendChild(el('div', { class: 'grid' }, now, tlCard));
	}

	tokenNote();
	route();
})();
