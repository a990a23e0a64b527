// Measures what a browser loads for a first search query, and how long
// queries take, on a built site: gen's search, and Pagefind's when the
// site has a pagefind/ folder (npx pagefind --site DIR). Usage:
//   node bench/search-bytes.mjs SITE_DIR [QUERY...]
// Each query runs in a fresh browser context (empty cache) on the home
// page: for gen, typed into the search box until the results with their
// snippets are shown; for Pagefind, through its JavaScript API (search,
// then data() of the first six results, what its UI shows first). Bytes
// are response bodies as served (uncompressed: the server compresses
// nothing), scripts included. Run by bench/search-bench.sh.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/browser/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const site = path.resolve(process.argv[2] || 'public');
const queries = process.argv.length > 3 ? process.argv.slice(3) : [
	'klachten', 'klant', 'tevredenheid', 'klanttevredenheid',
	'wat zeg ik als ik een klant niet kan helpen', 'leidinggevende voorbeeld',
];
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css',
	'.json': 'application/json', '.wasm': 'application/wasm' };

const server = http.createServer((req, res) => {
	let p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
	let file = path.join(site, p);
	if (fs.existsSync(file) && fs.statSync(file).isDirectory())
		file = path.join(file, 'index.html');
	fs.readFile(file, (err, data) => {
		if (err)
			return res.writeHead(404).end();
		res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
		res.end(data);
	});
});
await new Promise(r => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });

async function measure(q, run, counted) {
	const context = await browser.newContext();
	const page = await context.newPage();
	await page.goto(base);
	await page.waitForLoadState('load');
	const seen = [];
	const pending = [];
	page.on('response', r => pending.push(r.body().then(b => seen.push([r.url(), b.length])).catch(() => {})));
	const t0 = Date.now();
	const extra = await run(page, q);
	const ms = Date.now() - t0;
	await Promise.all(pending);
	let bytes = 0, files = 0;
	for (const [u, n] of seen)
		if (counted(u)) {
			bytes += n;
			files++;
		}
	/* Scripts the page loaded before the query count too. */
	for (const s of extra.preloaded || []) {
		bytes += s;
		files++;
	}
	await context.close();
	return { bytes, files, ms, compute: extra.compute };
}

function fileSize(rel) {
	try {
		return fs.statSync(path.join(site, rel)).size;
	} catch {
		return 0;
	}
}

async function gen(page, q) {
	await page.fill('#search-q', q);
	await page.waitForFunction(() => {
		const l = document.querySelector('#search-listbox');
		const n = document.querySelector('.search-popup-note');
		return (l && !l.hidden && l.children.length) || (n && !n.hidden);
	}, null, { timeout: 20000 });
	/* The same query again, everything loaded: the time to answer
	 * (the median of nine, a busy machine makes single runs noisy). */
	const compute = await page.evaluate(async q => {
		const t = [];
		for (let i = 0; i < 9; i++) {
			await window.genSearch.query(q);
			t.push(window.genSearch.lastMs);
		}
		return t.sort((a, b) => a - b)[4];
	}, q);
	return { compute, preloaded: [fileSize('js/search.js')] };
}

async function pagefind(page, q) {
	return page.evaluate(async q => {
		const pf = await import('/pagefind/pagefind.js');
		await pf.options({});
		const s = await pf.search(q);
		await Promise.all(s.results.slice(0, 6).map(r => r.data()));
		const t = [];
		for (let i = 0; i < 9; i++) {
			const t0 = performance.now();
			await pf.search(q + ' '.repeat(i + 1));
			t.push(performance.now() - t0);
		}
		return { compute: t.sort((a, b) => a - b)[4] };
	}, q);
}

const hasPagefind = fs.existsSync(path.join(site, 'pagefind', 'pagefind.js'));
const rows = [];
for (const q of queries) {
	const g = await measure(q, gen, u => /\/zoeken\/|\/js\/stem-/.test(u));
	const p = hasPagefind ? await measure(q, pagefind, u => u.includes('/pagefind/')) : null;
	rows.push({ q, g, p });
}
const kb = n => (n / 1024).toFixed(1).padStart(6);
console.log(`first query on ${site} (KB loaded, files; median answer time of the query repeated)`);
console.log('query'.padEnd(44) + 'gen KB files  ms' + (hasPagefind ? '   pagefind KB files  ms' : ''));
for (const { q, g, p } of rows)
	console.log(q.slice(0, 42).padEnd(44) + `${kb(g.bytes)} ${String(g.files).padStart(4)} ${g.compute.toFixed(1).padStart(4)}` +
		(p ? `   ${kb(p.bytes)}      ${String(p.files).padStart(4)} ${p.compute.toFixed(1).padStart(5)}` : ''));
const max = rows.reduce((m, r) => Math.max(m, r.g.bytes), 0);
const worst = rows.reduce((m, r) => Math.max(m, r.g.compute), 0);
console.log(`gen: at most ${kb(max).trim()} KB for a first query; slowest answer ${worst.toFixed(1)} ms`);
if (hasPagefind) {
	const pmax = rows.reduce((m, r) => Math.max(m, r.p.bytes), 0);
	const ui = fileSize('pagefind/pagefind-ui.js') + fileSize('pagefind/pagefind-ui.css');
	console.log(`pagefind: at most ${kb(pmax).trim()} KB through its API, plus ${kb(ui).trim()} KB for its default UI`);
}
await browser.close();
server.close();
