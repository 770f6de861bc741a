// tests/integration/lib/cdp.js — drives headless Chromium (Debian's `chromium`) over the
// DevTools protocol with no npm package: Chromium is started with --remote-debugging-pipe and
// speaks CDP as NUL-separated JSON on its file descriptors 3 (commands in) and 4 (events and
// answers out). Node's own child_process is all it needs (Node 18, Debian 12's, or newer).
//
//   const { launch } = require('./cdp');
//   const browser = await launch();                 // CHROMIUM env var, else chromium on PATH
//   const page = await browser.newPage(1280, 800);  // a fresh tab (fresh sessionStorage)
//   await page.goto('http://127.0.0.1:8080/ui/');
//   await page.waitFor('document.title === "x"', 10000);
//   const v = await page.eval('1 + 1');             // awaited, returned by value
//   await page.screenshot('/tmp/x.png');
//   page.errors                                      // console errors, exceptions, error log entries
//   await browser.close();
//
// Every wait has a deadline; a protocol error or a deadline rejects with a message that says
// which. As root Chromium needs --no-sandbox (CI runs as root); it is added only then.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

class Browser {
	constructor(proc, dir) {
		this.proc = proc;
		this.dir = dir;
		this.nextId = 1;
		this.pending = new Map();
		this.listeners = new Set();
		this.buf = '';
		this.stderr = '';
		this.exited = false;
		proc.stdio[4].on('data', (d) => this.onData(d));
		proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-4000); });
		proc.on('exit', (code, sig) => {
			this.exited = true;
			for (const { reject } of this.pending.values())
				reject(new Error('chromium exited (' + (code === null ? sig : code) + '): ' + this.stderr));
			this.pending.clear();
		});
	}

	onData(d) {
		this.buf += d.toString('utf8');
		let i;
		while ((i = this.buf.indexOf('\0')) >= 0) {
			const msg = JSON.parse(this.buf.slice(0, i));
			this.buf = this.buf.slice(i + 1);
			if (msg.id !== undefined && this.pending.has(msg.id)) {
				const { resolve, reject, method } = this.pending.get(msg.id);
				this.pending.delete(msg.id);
				if (msg.error)
					reject(new Error(method + ': ' + msg.error.message));
				else
					resolve(msg.result);
			} else if (msg.method) {
				for (const l of this.listeners)
					l(msg);
			}
		}
	}

	send(method, params, sessionId, timeoutMs = 30000) {
		if (this.exited)
			return Promise.reject(new Error('chromium is not running'));
		const id = this.nextId++;
		const msg = { id, method, params: params || {} };
		if (sessionId)
			msg.sessionId = sessionId;
		return new Promise((resolve, reject) => {
			const t = setTimeout(() => {
				this.pending.delete(id);
				reject(new Error(method + ': no answer within ' + timeoutMs + ' ms'));
			}, timeoutMs);
			this.pending.set(id, {
				method,
				resolve: (r) => { clearTimeout(t); resolve(r); },
				reject: (e) => { clearTimeout(t); reject(e); },
			});
			this.proc.stdio[3].write(JSON.stringify(msg) + '\0');
		});
	}

	async newPage(width, height) {
		const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
		const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
		const page = new Page(this, targetId, sessionId);
		await page.init(width, height);
		return page;
	}

	async close() {
		if (!this.exited) {
			const gone = new Promise((res) => this.proc.once('exit', res));
			this.send('Browser.close', {}, null, 5000).catch(() => {});
			const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
			await gone;
			clearTimeout(t);
		}
		fs.rmSync(this.dir, { recursive: true, force: true });
	}
}

class Page {
	constructor(browser, targetId, sessionId) {
		this.b = browser;
		this.targetId = targetId;
		this.sessionId = sessionId;
		this.errors = [];               // strings: console.error, exceptions, Log errors
		this.waiters = new Set();
		this.listener = (msg) => {
			if (msg.sessionId !== this.sessionId)
				return;
			const p = msg.params;
			if (msg.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert'))
				this.errors.push('console.' + p.type + ': ' + p.args.map((a) => a.value ?? a.description).join(' '));
			else if (msg.method === 'Runtime.exceptionThrown')
				this.errors.push('exception: ' + (p.exceptionDetails.exception?.description || p.exceptionDetails.text));
			else if (msg.method === 'Log.entryAdded' && p.entry.level === 'error')
				this.errors.push('log(' + p.entry.source + '): ' + p.entry.text + (p.entry.url ? ' ' + p.entry.url : ''));
			for (const w of this.waiters)
				w(msg);
		};
		browser.listeners.add(this.listener);
	}

	send(method, params, timeoutMs) {
		return this.b.send(method, params, this.sessionId, timeoutMs);
	}

	async init(width, height) {
		await this.send('Runtime.enable');
		await this.send('Log.enable');
		await this.send('Page.enable');
		await this.viewport(width, height);
	}

	viewport(width, height) {
		return this.send('Emulation.setDeviceMetricsOverride',
			{ width, height, deviceScaleFactor: 1, mobile: width < 600 });
	}

	// Waits for the protocol event `method` on this page (deadline: timeoutMs).
	event(method, timeoutMs = 15000) {
		return new Promise((resolve, reject) => {
			const w = (msg) => {
				if (msg.method === method) {
					this.waiters.delete(w);
					clearTimeout(t);
					resolve(msg.params);
				}
			};
			const t = setTimeout(() => {
				this.waiters.delete(w);
				reject(new Error('no ' + method + ' within ' + timeoutMs + ' ms'));
			}, timeoutMs);
			this.waiters.add(w);
		});
	}

	async goto(url, timeoutMs = 15000) {
		const loaded = this.event('Page.loadEventFired', timeoutMs);
		const r = await this.send('Page.navigate', { url });
		if (r.errorText)
			throw new Error('navigate ' + url + ': ' + r.errorText);
		await loaded;
	}

	// Evaluates expr in the page (promises awaited) and returns its value (JSON-able).
	async eval(expr, timeoutMs = 30000) {
		const r = await this.send('Runtime.evaluate',
			{ expression: expr, awaitPromise: true, returnByValue: true, userGesture: true }, timeoutMs);
		if (r.exceptionDetails)
			throw new Error('eval ' + expr.slice(0, 80) + ': ' +
				(r.exceptionDetails.exception?.description || r.exceptionDetails.text));
		return r.result.value;
	}

	// Polls expr every 50 ms until it is truthy; returns its value or throws after timeoutMs.
	async waitFor(expr, timeoutMs = 15000) {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const v = await this.eval(expr);
			if (v)
				return v;
			if (Date.now() > deadline)
				throw new Error('timed out after ' + timeoutMs + ' ms waiting for: ' + expr);
			await new Promise((res) => setTimeout(res, 50));
		}
	}

	async screenshot(file) {
		const r = await this.send('Page.captureScreenshot', { format: 'png' });
		fs.writeFileSync(file, Buffer.from(r.data, 'base64'));
	}

	async close() {
		this.b.listeners.delete(this.listener);
		await this.b.send('Target.closeTarget', { targetId: this.targetId });
	}
}

function findChromium() {
	if (process.env.CHROMIUM)
		return process.env.CHROMIUM;
	for (const d of (process.env.PATH || '').split(':'))
		for (const n of ['chromium', 'chromium-browser'])
			if (d && fs.existsSync(path.join(d, n)))
				return path.join(d, n);
	throw new Error('no chromium on PATH (scripts/install-deps installs Debian\'s chromium)');
}

async function launch() {
	const bin = findChromium();
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefixd-chromium-'));
	const args = ['--headless=new', '--remote-debugging-pipe', '--user-data-dir=' + dir,
		'--no-first-run', '--no-default-browser-check', '--disable-gpu', '--disable-extensions',
		'--disable-background-networking', '--disable-component-update', '--disable-sync',
		'--disable-dev-shm-usage', '--hide-scrollbars', '--mute-audio', '--force-color-profile=srgb',
		'about:blank'];
	if (process.getuid && process.getuid() === 0)
		args.unshift('--no-sandbox');
	const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
	const b = new Browser(proc, dir);
	await b.send('Browser.getVersion', {}, null, 30000);
	return b;
}

module.exports = { launch };
