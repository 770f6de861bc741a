// tests/integration/lib/ui_seed.js — sends many API requests fast for test data:
//   node ui_seed.js SOCKET FILE     FILE: one request per line, "METHOD<TAB>PATH[<TAB>JSON]"
// One keep-alive connection over prefixd's unix socket, requests one after the other (no
// commit-delay interplay); exits 1 naming the first request that did not answer 2xx.
'use strict';
const fs = require('fs');
const http = require('http');

const [sock, file] = process.argv.slice(2);
const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(process.env.SEED_CONNS || 1) });

function send(line) {
	const [method, path, body] = line.split('\t');
	return new Promise((resolve, reject) => {
		const req = http.request({ socketPath: sock, path, method, agent,
			headers: body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
			let s = '';
			res.on('data', (d) => { s += d; });
			res.on('end', () => (res.statusCode < 300 ? resolve() :
				reject(new Error(method + ' ' + path + ': ' + res.statusCode + ' ' + s))));
		});
		req.setTimeout(10000, () => req.destroy(new Error(method + ' ' + path + ': no answer in 10 s')));
		req.on('error', reject);
		req.end(body);
	});
}

(async () => {
	let next = 0;
	const worker = async () => { while (next < lines.length) await send(lines[next++]); };
	await Promise.all(Array.from({ length: Number(process.env.SEED_CONNS || 1) }, worker));
	agent.destroy();
})().catch((e) => { console.error('FAIL: ' + e.message); process.exit(1); });
