// tests/integration/lib/ui_check.js — the browser half of test_ui_browser.sh: loads the
// dashboard's pages in headless Chromium (lib/cdp.js) and compares the DOM with what the API
// itself answers. Prints "ok: ..." per check; exits 1 with "FAIL: ..." on the first failure.
//
// Environment (set by the shell test): UI_BASE (http://127.0.0.1:PORT, prefixd's TCP listener),
// UI_READER_TOKEN, UI_ADMIN_TOKEN, UI_OUT (screenshots go there), UI_POOL (the pool with 2,000
// allocations), UI_BIG (10,000 allocations), UI_HOSTILE (pool with hostile text), UI_HOSTILE_TEXT,
// UI_PREFIX (a public prefix with a long history), UI_TREE (space-separated root child grandchild).
'use strict';

const http = require('http');
const path = require('path');
const { launch } = require('./cdp');

const E = process.env;
const base = E.UI_BASE;
let browser = null;

function fail(msg) {
	console.error('FAIL: ' + msg);
	const done = browser ? browser.close() : Promise.resolve();
	done.finally(() => process.exit(1));
	throw new Error('stop');
}
function ok(msg) { console.log('ok: ' + msg); }

/* A whole list: GET every page (next_cursor, issue 15) and append their arrays, as the
 * dashboard does. */
async function apiAll(p) {
	const first = await api(p);
	for (let page = first; typeof page.next_cursor === 'string';) {
		page = await api(p + (p.includes('?') ? '&' : '?') + 'cursor=' + encodeURIComponent(page.next_cursor));
		for (const k of Object.keys(page))
			if (Array.isArray(page[k]) && Array.isArray(first[k]))
				first[k].push(...page[k]);
	}
	return first;
}

function api(p, method = 'GET', body = null, token = E.UI_READER_TOKEN) {
	return new Promise((resolve, reject) => {
		const req = http.request(base + p, { method, headers: Object.assign(
			{ Authorization: 'Bearer ' + token },
			body ? { 'Content-Type': 'application/json' } : {}) }, (res) => {
			let s = '';
			res.on('data', (d) => { s += d; });
			res.on('end', () => {
				if (res.statusCode >= 300)
					reject(new Error(method + ' ' + p + ': ' + res.statusCode + ' ' + s));
				else
					resolve(JSON.parse(s));
			});
		});
		req.on('error', reject);
		if (body)
			req.write(JSON.stringify(body));
		req.end();
	});
}

// The free gaps of a pool, computed here independently of app.js.
function cidrRange(s) {
	const [a, l] = s.split('/');
	let v = 0n, bits = 32;
	if (a.includes(':')) {
		bits = 128;
		const [h, t] = a.split('::');
		const hs = h ? h.split(':') : [], ts = t ? t.split(':') : [];
		const g = t === undefined ? hs : [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts];
		for (const x of g) v = (v << 16n) + BigInt(parseInt(x || '0', 16));
	} else
		for (const o of a.split('.')) v = (v << 8n) + BigInt(o);
	return [v, v + (1n << BigInt(bits - Number(l)))];
}
function freeGaps(pool, allocs) {
	let n = 0;
	const rs = allocs.map((x) => cidrRange(x.cidr)).sort((x, y) => (x[0] < y[0] ? -1 : 1));
	for (const c of pool.cidrs) {
		const [s, e] = cidrRange(c);
		let at = s;
		for (const [a, b] of rs) {
			if (a < s || a >= e) continue;
			if (a > at) n++;
			if (b > at) at = b;
		}
		if (e > at) n++;
	}
	return n;
}

const pct = (p) => Number(p).toFixed(1) + ' %';
const SIZES = [[1280, 800, 'desktop'], [390, 844, 'phone']];
const ready = 'document.getElementById("main").getAttribute("aria-busy") === "false"';

async function withToken(page) {
	// a fresh tab has an empty sessionStorage: put the reader token in, as the form would
	await page.goto(base + '/ui/');
	await page.eval('sessionStorage.setItem("prefixd.token", ' + JSON.stringify(E.UI_READER_TOKEN) + ')');
	// this first, token-less load's 401s are the no-token check's; leave the page first, so that
	// none of its requests still under way (a slow, sanitized daemon) answers after the reset
	await page.goto('about:blank');
	page.errors.length = 0;
}

// A full page load (not a same-document hash change, which fires no load event and could be
// read before the app has routed): through about:blank; sessionStorage stays with the tab.
async function load(page, hash, extra) {
	await page.goto('about:blank');
	await page.goto(base + '/ui/' + hash);
	await page.waitFor(ready + (extra ? ' && (' + extra + ')' : ''), 20000);
}

function noErrors(page, what) {
	if (page.errors.length)
		fail(what + ': the browser console has errors: ' + page.errors.join(' | '));
}

async function main() {
	browser = await launch();
	const status = await api('/v1/status');
	const pools = (await apiAll('/v1/pools')).pools;
	const scopes = (await apiAll('/v1/scopes')).scopes;
	const prefixes = await apiAll('/v1/prefixes');
	const poolHash = (n) => '#/pool/' + encodeURIComponent(n);
	const prefixHash = (c) => '#/prefix/' + encodeURIComponent(c);
	const pages = [['overview', '#/'], ['pool', poolHash(E.UI_POOL)], ['prefix', prefixHash(E.UI_PREFIX)]];

	/* ---- overview: pools, utilization, prefixes by state, RPKI, BIRD, live events ---- */
	const page = await browser.newPage(1280, 800);
	await withToken(page);
	await load(page, '#/', 'document.querySelectorAll(".events li").length > 0');
	const dom = await page.eval(`(() => {
		const out = {};
		for (const li of document.querySelectorAll('li.pool')) {
			const line = li.querySelector(':scope > .pool-line');
			out[li.dataset.pool] = { name: line.querySelector('.pool-name').textContent,
				pct: line.querySelector('.util-pct').textContent, abs: line.querySelector('.util-abs').textContent,
				alarm: !!line.querySelector('.alarm-mark'), depth: (() => { let d = 0, e = li;
					while ((e = e.parentElement.closest('li.pool'))) d++; return d; })() };
		}
		return { pools: out, scopes: [...document.querySelectorAll('.scope')].map((s) => s.dataset.scope),
			states: Object.fromEntries([...document.querySelectorAll('.pstate')].map((s) =>
				[s.dataset.state, s.querySelector('.count').textContent + ':' + s.querySelector('.badge').textContent])),
			rpki: document.querySelector('.rpki-state').textContent, bird: document.querySelector('.bird-state').textContent };
	})()`);
	for (const p of pools) {
		const d = dom.pools[p.name];
		if (!d || d.name !== p.name)
			fail('overview: pool ' + p.name + ' is not in the DOM');
		const u = p.utilization;
		if (d.pct !== pct(u.utilization_percent) || d.abs !== u.allocated_addresses + ' of ' + u.provisioned_addresses + ' addresses')
			fail('overview: pool ' + p.name + ' shows ' + d.pct + ' / ' + d.abs + ', the API says ' +
				u.utilization_percent + ' % / ' + u.allocated_addresses + ' of ' + u.provisioned_addresses);
		if (d.alarm !== u.alarm)
			fail('overview: pool ' + p.name + ' alarm mark ' + d.alarm + ', API alarm ' + u.alarm);
	}
	if (Object.keys(dom.pools).length !== pools.length)
		fail('overview: ' + Object.keys(dom.pools).length + ' pools in the DOM, ' + pools.length + ' in the API');
	const tree = E.UI_TREE.split(' ');
	tree.forEach((n, i) => { if (dom.pools[n].depth !== i) fail('overview: ' + n + ' at depth ' + dom.pools[n].depth + ', want ' + i); });
	if (JSON.stringify(dom.scopes) !== JSON.stringify(scopes.map((s) => s.name)))
		fail('overview: scopes ' + dom.scopes + ' vs API ' + scopes.map((s) => s.name));
	ok('overview: ' + pools.length + ' pools in ' + scopes.length + ' scopes, each with the API\'s utilization ' +
		'(percent and addresses) and alarm mark; the tree ' + tree.join(' > ') + ' is three deep');
	const want = Object.entries(prefixes.counts).filter(([, n]) => n > 0);
	for (const [st, n] of want)
		if (dom.states[st] !== n + ':' + st)
			fail('overview: state ' + st + ' shows ' + dom.states[st] + ', API count ' + n);
	if (Object.keys(dom.states).length !== want.length)
		fail('overview: states in the DOM ' + Object.keys(dom.states) + ', API ' + want.map((w) => w[0]));
	if (want.length < 4)
		fail('overview: only ' + want.length + ' prefix states have prefixes; the test wants four');
	ok('overview: public prefixes grouped by state with written names and counts: ' + want.map(([s, n]) => s + ' ' + n).join(', '));
	if (!dom.rpki.includes(status.rpki.state) || !dom.bird.includes(status.bird.up ? 'up' : 'not-configured'))
		fail('overview: RPKI "' + dom.rpki + '" / BIRD "' + dom.bird + '" vs status ' + JSON.stringify([status.rpki, status.bird]));
	ok('overview: RPKI "' + dom.rpki.trim() + '", BIRD "' + dom.bird.trim() + '"');
	// live: an event committed now shows up through the long poll, without reloading
	await page.waitFor('document.querySelector(".live").textContent.includes("following")', 40000);
	const made = await api('/v1/pools/' + E.UI_TREE.split(' ')[0] + '/allocations', 'POST',
		{ netmask: 28, description: 'live event' }, E.UI_ADMIN_TOKEN);
	const last = (await api('/v1/events?limit=1')).last_id;
	await page.waitFor('!!document.querySelector(\'.events li[data-id="' + last + '"]\')', 10000);
	await api('/v1/allocations/' + made.id, 'DELETE', null, E.UI_ADMIN_TOKEN);
	ok('overview: a new event (#' + last + ') appears live through /v1/events?wait=');
	noErrors(page, 'overview');

	/* ---- pool page: one block per allocation and per free block ---- */
	const pool = await api('/v1/pools/' + E.UI_POOL);
	const allocs = (await apiAll('/v1/allocations?pool=' + E.UI_POOL)).allocations;
	await load(page, poolHash(E.UI_POOL), '!!document.querySelector(".chart, .chart-text, #h-chart + p")');
	const pm = await page.eval(`({ h1: document.querySelector('h1').textContent,
		alloc: document.querySelectorAll('.map .blk.alloc, .map .blk.pool').length,
		free: document.querySelectorAll('.map .blk.free').length,
		pct: document.querySelector('.pool-summary .util-pct').textContent,
		cidrs: [...document.querySelectorAll('.map .blk.alloc, .map .blk.pool')].map((b) => b.getAttribute('aria-label').split(' ').pop()) })`);
	const gaps = freeGaps(pool, allocs);
	if (pm.h1 !== 'Pool ' + E.UI_POOL)
		fail('pool page: heading ' + pm.h1);
	if (pm.alloc !== allocs.length || pm.free !== gaps)
		fail('pool page: ' + pm.alloc + ' allocation blocks and ' + pm.free + ' free blocks; the API has ' +
			allocs.length + ' allocations and ' + gaps + ' free gaps');
	const sorted = allocs.map((a) => a.cidr).sort((x, y) => (cidrRange(x)[0] < cidrRange(y)[0] ? -1 : 1));
	if (JSON.stringify(pm.cidrs) !== JSON.stringify(sorted))
		fail('pool page: blocks are not the allocations in address order');
	if (pm.pct !== pct(pool.utilization.utilization_percent))
		fail('pool page: utilization ' + pm.pct + ' vs API ' + pool.utilization.utilization_percent);
	ok('pool page: ' + allocs.length + ' allocation blocks in address order and ' + gaps +
		' free blocks (computed from the API separately); utilization ' + pm.pct);
	// keyboard: the map is one tab stop; focus shows the tooltip; arrows move
	const kb = await page.eval(`(() => { const b = document.querySelector('.map .blk[tabindex="0"]'); b.focus();
		const t1 = document.getElementById('tip').textContent;
		b.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
		return { t1, t2: document.getElementById('tip').textContent, hidden: document.getElementById('tip').hidden,
			moved: document.activeElement !== b && document.activeElement.classList.contains('blk') }; })()`);
	if (kb.hidden || !kb.t1 || !kb.moved || kb.t1 === kb.t2)
		fail('pool page: keyboard focus/tooltip: ' + JSON.stringify(kb));
	ok('pool page: focus shows "' + kb.t1.slice(0, 60) + '", the arrow key moves to the next block');
	noErrors(page, 'pool page');

	/* ---- prefix page: the timeline lists history's transitions in order ---- */
	const hist = (await apiAll('/v1/history?cidr=' + encodeURIComponent(E.UI_PREFIX))).events
		.filter((e) => e.action === 'lifecycle' && e.cidr === E.UI_PREFIX)
		.map((e) => ((e.before && e.before.state) || 'none') + '>' + e.after.state);
	await load(page, prefixHash(E.UI_PREFIX));
	const steps = await page.eval('[...document.querySelectorAll(".timeline .step")].map((s) => s.dataset.from + ">" + s.dataset.to + "|" + s.querySelector(".transition").textContent)');
	const got = steps.map((s) => s.split('|')[0]);
	if (JSON.stringify(got) !== JSON.stringify(hist) || hist.length < 3)
		fail('prefix page: timeline ' + got.join(', ') + '; history ' + hist.join(', '));
	for (const s of steps) {
		const [ft, text] = s.split('|');
		const [f, t] = ft.split('>');
		if (text !== f + ' → ' + t)
			fail('prefix page: step reads "' + text + '"');
	}
	ok('prefix page: ' + hist.length + ' transitions in history order, each written out: ' + got.join(', '));
	noErrors(page, 'prefix page');

	/* ---- screenshots: three pages at both sizes ---- */
	for (const [w, h, label] of SIZES) {
		await page.viewport(w, h);
		for (const [name, hash] of pages) {
			await load(page, hash);
			const overflow = await page.eval('document.documentElement.scrollWidth - window.innerWidth');
			if (overflow > 1)
				fail(name + ' at ' + w + 'x' + h + ': the page is ' + overflow + ' px wider than the window');
			const file = path.join(E.UI_OUT, name + '-' + w + 'x' + h + '.png');
			await page.screenshot(file);
		}
	}
	noErrors(page, 'screenshots');
	ok('screenshots of overview, pool and prefix at 1280x800 and 390x844 in ' + E.UI_OUT + ' (no sideways scrolling)');

	/* ---- 10,000 allocations: the page's own performance measure ---- */
	const big = (await api('/v1/pools/' + E.UI_BIG)).utilization;
	await page.viewport(1280, 800);
	const times = [];
	for (let i = 0; i < 3; i++) {
		await load(page, '#/');
		await load(page, poolHash(E.UI_BIG), 'performance.getEntriesByName("pool-render").length > 0');
		times.push(await page.eval('performance.getEntriesByName("pool-render")[0].duration'));
		console.log('  marks: ' + await page.eval('JSON.stringify(["pool-fetched","pool-built","pool-rendered"].map((n) => Math.round(performance.getEntriesByName(n)[0].startTime - performance.getEntriesByName("pool-start")[0].startTime)))'));
	}
	const n = await page.eval('document.querySelectorAll(".map .blk.alloc").length');
	const best = Math.min(...times), median = [...times].sort((a, b) => a - b)[1];
	console.log('pool page with ' + n + ' allocations (' + big.utilization_percent.toFixed(1) +
		' % used): pool-render ' + times.map((t) => t.toFixed(0) + ' ms').join(', ') + ' (best ' + best.toFixed(0) + ' ms, median ' + median.toFixed(0) + ' ms, limit ' + (process.env.UI_RENDER_LIMIT_MS || 1000) + ' ms on the median)');
	if (n < 10000)
		fail('big pool: only ' + n + ' blocks');
	const limit = Number(process.env.UI_RENDER_LIMIT_MS || 1000);
	if (median >= limit)
		fail('big pool: rendering took ' + median.toFixed(0) + ' ms (median of 3, >= ' + limit + ' ms)');
	ok('pool page with ' + n + ' allocations renders in ' + median.toFixed(0) + ' ms (< ' + limit + ' ms, median of 3)');
	noErrors(page, 'big pool');

	/* ---- hostile text: shown as text, never run ---- */
	await load(page, poolHash(E.UI_HOSTILE));
	const hx = await page.eval(`(async () => {
		const out = { desc: [...document.querySelectorAll('.kv dd')].map((d) => d.textContent), tips: [] };
		for (const b of document.querySelectorAll('.map .blk.alloc')) { b.focus(); out.tips.push(document.getElementById('tip').textContent); }
		await new Promise((r) => setTimeout(r, 200));
		out.pwned = window.__pwned === undefined ? null : window.__pwned;
		out.scripts = document.querySelectorAll('script').length;
		out.injected = document.querySelectorAll('main img, main script, main iframe, main svg script, [onerror], [onload]').length;
		return out; })()`);
	const H = E.UI_HOSTILE_TEXT;
	if (hx.pwned !== null || hx.scripts !== 1 || hx.injected !== 0)
		fail('hostile: script ran or elements were injected: ' + JSON.stringify(hx));
	if (!hx.desc.includes(H) || !hx.desc.some((d) => d.includes('x/y:z=' + H)))
		fail('hostile: the pool description or tag is not shown verbatim: ' + JSON.stringify(hx.desc).slice(0, 400));
	if (!hx.tips.some((t) => t.includes(H) && t.includes('tags: a/b:c=' + H)) || !hx.tips.some((t) => t.includes('x'.repeat(1000))))
		fail('hostile: the allocation tooltips do not show the text verbatim: ' + JSON.stringify(hx.tips).slice(0, 400));
	await load(page, '#/');
	const evil = await page.eval('window.__pwned === undefined && document.querySelectorAll("main img, main script, [onerror]").length === 0');
	if (!evil)
		fail('hostile: the overview ran or injected something');
	noErrors(page, 'hostile');
	ok('hostile descriptions and tag values (<script>, <img onerror>, quotes, 1,000 characters) appear verbatim as text; no script of theirs runs');
	await page.close();

	/* ---- no token on TCP: the files load, the API answers 401, the page says so ---- */
	const anon = await browser.newPage(390, 844);
	await anon.goto(base + '/ui/');
	await anon.waitFor('!document.getElementById("auth").hidden', 10000);
	const say = await anon.eval('({ why: document.getElementById("auth-why").textContent, main: document.getElementById("main").textContent, stored: sessionStorage.getItem("prefixd.token") })');
	if (!say.why.includes('401') || !say.main.includes('401') || say.stored !== null)
		fail('no token: the page does not say 401: ' + JSON.stringify(say));
	const net = anon.errors.filter((e) => !/status of 401/.test(e));
	if (net.length)
		fail('no token: errors other than the API\'s 401s: ' + net.join(' | '));
	await anon.screenshot(path.join(E.UI_OUT, 'token-390x844.png'));
	ok('without a token the API calls answer 401 and the page says so ("' + say.why + '")');
	// the form asks once; the token is kept in sessionStorage and used from then on
	anon.errors.length = 0;
	await anon.eval(`(() => { document.getElementById('auth-token').value = ${JSON.stringify(E.UI_READER_TOKEN)};
		document.getElementById('auth-form').requestSubmit(); })()`);
	await anon.waitFor(ready + ' && document.querySelectorAll("li.pool").length > 0', 15000);
	const after = await anon.eval('({ auth: document.getElementById("auth").hidden, note: document.getElementById("token-note").textContent, stored: sessionStorage.getItem("prefixd.token") !== null })');
	if (!after.auth || !after.stored || !after.note.includes('session storage'))
		fail('token form: ' + JSON.stringify(after));
	await load(anon, poolHash(E.UI_POOL));
	noErrors(anon, 'after the token');
	ok('the token is asked for once, kept in sessionStorage ("' + after.note.trim().split('.')[0] + '") and used for every page');
	await anon.close();
	await browser.close();
	browser = null;
}

main().catch((e) => {
	if (e.message !== 'stop')
		fail(e.stack || String(e));
});
