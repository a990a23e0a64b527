// Browser tests of the search UI on the real handbook, in Debian's
// chromium driven by playwright-core; prints TAP. Usage:
//   node search.mjs SITE_DIR
// SITE_DIR is a built site (tests/search-browser.sh builds content/).
// Every check runs twice: over http://127.0.0.1:PORT from a static server
// started here, and over file://, where search must work without fetch().
// Each run also watches for console errors and requests leaving the site;
// axe-core checks the home, an article, a theme page and the results page.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { ok, finish } from './tap.mjs';

const require = createRequire(import.meta.url);
const site = path.resolve(process.argv[2] || '');
if (!process.argv[2] || !fs.existsSync(path.join(site, 'zoeken', 'meta.js'))) {
	console.log('1..0 # SKIP no built site with a search index given');
	process.exit(0);
}
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');


/* ---- a static server like a plain intranet web server ---------------- */

const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8', '.xml': 'application/xml', '.png': 'image/png',
	'.svg': 'image/svg+xml', '.txt': 'text/plain; charset=utf-8', '.json': 'application/json' };

function serve(root) {
	const server = http.createServer((req, res) => {
		let p;
		try {
			p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
		} catch {
			res.writeHead(400).end();
			return;
		}
		let file = path.join(root, p);
		if (!file.startsWith(root)) {
			res.writeHead(403).end();
			return;
		}
		if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
			if (!p.endsWith('/')) {
				res.writeHead(301, { Location: p + '/' }).end();
				return;
			}
			file = path.join(file, 'index.html');
		}
		fs.readFile(file, (err, data) => {
			if (err) {
				res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
				return;
			}
			res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' });
			res.end(data);
		});
	});
	return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/* ---- helpers ----------------------------------------------------------- */

const started = Date.now();
const server = await serve(site);
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
		'--disable-component-update', '--disable-sync', '--no-first-run'],
});

async function runMode(mode) {
	const base = mode === 'http' ? `http://127.0.0.1:${server.address().port}/` : `file://${site}/`;
	const at = p => mode === 'file' && (p === '' || p.endsWith('/')) ? base + p + 'index.html'
		: mode === 'file' ? base + p.replace(/\/\?/, '/index.html?') : base + p;
	const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const errors = [], outside = [];
	context.on('request', r => {
		const u = r.url();
		if (!u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('about:'))
			outside.push(u);
	});
	await context.route(/^(https?|wss?):/, route =>
		route.request().url().startsWith(base) ? route.continue() : route.abort());
	context.on('page', watch);
	function watch(page) {
		page.on('console', m => {
			if (m.type() === 'error' || m.type() === 'warning')
				errors.push(`${m.type()}: ${m.text()} (${page.url()})`);
		});
		page.on('pageerror', e => errors.push(`pageerror: ${e.message} (${page.url()})`));
	}
	const page = await context.newPage();
	const t = name => `${mode}: ${name}`;

	async function results(q, extra = '') {
		await page.goto(at('zoeken/?q=' + encodeURIComponent(q) + extra));
		await page.waitForSelector('#search-page[data-ready]');
		await page.waitForFunction(() => {
			const s = document.querySelector('.search-status');
			return s && !s.hasAttribute('aria-busy') && s.textContent.trim() !== '';
		});
		return page.$$eval('.search-hit-heading a', as => as.map(a => a.getAttribute('href')));
	}
	const rel = hrefs => hrefs.map(h => h.slice(base.length).replace(/index\.html/, '').replace(/#.*/, ''));

	// Inflections, diacritics, compounds, through deep links.
	let r = rel(await results('klachten'));
	ok(r.includes('verhalen/de-vloerenwinkel/') && r.includes('verhalen/de-digitale-factuur/'),
		t("'klachten' finds the stories with 'klacht'"), r);
	const klacht = rel(await results('klacht'));
	ok(r.length > 0 && JSON.stringify(r) === JSON.stringify(klacht), t("'klacht' and 'klachten' find the same"), { r, klacht });
	const marks = await page.$$eval('.search-hit mark', ms => ms.map(m => m.textContent.toLowerCase()));
	ok(marks.length > 0 && marks.every(m => m.includes('klacht')), t('matches are highlighted'), marks);
	const accents = rel(await results('ideeën'));
	const plain = rel(await results('ideeen'));
	ok(accents.includes('over/') && JSON.stringify(accents) === JSON.stringify(plain),
		t("'ideeën' and 'ideeen' find the same articles"), { accents, plain });
	r = rel(await results('tevredenheid'));
	ok(r.includes('verhalen/een-onsje-klant/'), t("'tevredenheid' finds 'klanttevredenheid'"), r);
	ok(r.includes('tips/specialisatie/'), t("... and the article with 'tevredenheid' itself"), r);
	const talent = await results('talent');
	ok(talent.some(h => /tips\/snifo-voorkomen\/(index\.html)?#tip-5$/.test(h)), t('a match in a tip links to its anchor'), talent);
	const ms = await page.evaluate(() => window.genSearch.lastMs);
	ok(ms < 20, t(`a query takes ${ms.toFixed(1)} ms`));

	// The browser's stemmer agrees with gen's on every word of the index.
	if (mode === 'http') {
		const bad = await page.evaluate(async () => {
			await window.genSearch.query('klant');
			const meta = await new Promise(resolve => {
				const s = document.createElement('script');
				const old = window.genSearch.meta;
				window.genSearch.meta = m => { window.genSearch.meta = old; resolve(m); };
				s.src = document.querySelector('script[src$="search.js"]').src.replace(/js\/search\.js$/, 'zoeken/meta.js');
				document.head.appendChild(s);
			});
			const stem = window.genSearch.stemWord;
			const out = [];
			let checked = 0;
			for (let i = 0; i < meta.shards.length; i++) {
				const sh = await window.genSearch.shard(i);
				for (const [key, e] of Object.entries(sh)) {
					const v = Array.isArray(e) ? e[1] : e;
					let want = null;
					if (typeof v === 'number')
						want = key.slice(0, key.length - v);
					else if (v.charAt(0) === '=')
						want = v.slice(1);
					else if (v.charAt(0) !== '!')
						want = key;
					if (want === null)
						continue;
					checked++;
					if (stem(key) !== want)
						out.push(`${key}: gen ${want}, browser ${stem(key)}`);
				}
			}
			return { checked, out };
		});
		ok(bad.checked > 1000 && bad.out.length === 0, t(`the browser stems all ${bad.checked} words as gen does`), bad.out.slice(0, 20).join('\n'));
	}

	// Facets: counts add up, filtering shows what the count promised.
	r = await results('klant');
	const total = await page.$eval('.search-status', s => parseInt(s.textContent, 10));
	const kinds = await page.$$eval('input[name="soort"]', cs => cs.map(c => ({ v: c.value,
		n: parseInt(c.nextElementSibling.textContent.match(/\((\d+)\)/)[1], 10) })));
	ok(total > 10 && kinds.reduce((s, k) => s + k.n, 0) === total, t('kind counts add up to the total'), { total, kinds });
	const theme = await page.$eval('input[name="thema"]:not([disabled])', c => ({ v: c.value, id: c.id,
		n: parseInt(c.nextElementSibling.textContent.match(/\((\d+)\)/)[1], 10) }));
	await page.click(`label[for="${theme.id}"]`);
	await page.waitForFunction(n => parseInt(document.querySelector('.search-status').textContent, 10) === n, theme.n)
		.catch(() => {});
	const after = await page.$eval('.search-status', s => parseInt(s.textContent, 10));
	ok(after === theme.n, t(`theme filter '${theme.v}' shows its count`), { after, theme });
	if (mode === 'http')
		ok(page.url().includes('thema=' + theme.v), t('the filter is in the URL'), page.url());
	let tips = await results('klant', '&soort=tips');
	const badges = await page.$$eval('.search-hit .badge', bs => bs.map(b => b.className));
	const checked = await page.$eval('input[name="soort"][value="tips"]', c => c.checked);
	ok(tips.length > 0 && checked && badges.every(b => b.includes('badge-tips')),
		t('a deep link with soort=tips shows only tip lists'), badges);
	const cls = await page.evaluate(() => new Promise(resolve => {
		let sum = 0;
		new PerformanceObserver(l => { for (const e of l.getEntries()) if (!e.hadRecentInput) sum += e.value; })
			.observe({ type: 'layout-shift', buffered: true });
		setTimeout(() => resolve(sum), 200);
	}));
	ok(cls < 0.01, t(`no layout shift while results load (CLS ${cls.toFixed(4)})`));

	// No results: the closest known words.
	await results('klnat');
	const sugg = await page.$$eval('.search-suggest a', as => as.map(a => a.textContent));
	ok(sugg.includes('klant'), t("'klnat' suggests 'klant'"), sugg);

	// Keyboard: '/' focuses the box, arrows walk the options, Enter opens.
	await page.goto(at(''));
	await page.keyboard.press('/');
	ok(await page.evaluate(() => document.activeElement.id === 'search-q'), t("'/' focuses the search box"));
	await page.keyboard.type('klant');
	await page.waitForSelector('#search-listbox [role="option"]');
	ok(await page.getAttribute('#search-q', 'aria-expanded') === 'true', t('combobox expanded with results'));
	await page.keyboard.press('ArrowDown');
	await page.keyboard.press('ArrowDown');
	await page.keyboard.press('ArrowUp');
	const activeId = await page.getAttribute('#search-q', 'aria-activedescendant');
	const sel = await page.$$eval('#search-listbox [aria-selected="true"]', os => os.map(o => o.id));
	ok(activeId === 'search-option-0' && sel.length === 1 && sel[0] === activeId,
		t('arrow keys move the active option'), { activeId, sel });
	const target = await page.getAttribute('#search-option-0', 'data-href');
	await Promise.all([page.waitForURL(u => u.href === target || u.href === encodeURI(target)), page.keyboard.press('Enter')]);
	ok(page.url().startsWith(target.replace(/#.*/, '')), t('Enter opens the active result'), { url: page.url(), target });
	await page.goto(at(''));
	await page.fill('#search-q', 'klant');
	await page.waitForSelector('#search-listbox [role="option"]');
	await page.keyboard.press('Escape');
	ok(await page.isHidden('.search-popup'), t('Escape closes the popup'));
	await results('klant');
	await page.focus('#search-page-q');
	await page.keyboard.press('ArrowDown');
	await page.keyboard.press('ArrowDown');
	const focused = await page.evaluate(() => {
		const links = [...document.querySelectorAll('.search-hit-heading a')];
		return links.indexOf(document.activeElement);
	});
	ok(focused === 1, t('arrow keys walk the results page'), focused);

	// Accessibility of the pages that carry search.
	const pages = { home: '', article: 'verhalen/de-garage/', theme: 'themas/empathie/',
		search: 'zoeken/?q=klant' };
	for (const [name, p] of Object.entries(pages)) {
		await page.goto(at(p));
		if (name === 'search')
			await page.waitForSelector('.search-hit');
		else {
			await page.fill('#search-q', 'klacht');
			await page.waitForSelector('#search-listbox [role="option"]');
		}
		await page.addScriptTag({ content: axeSource });
		const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'], preload: false }));
		ok(res.violations.length === 0, t(`axe: no violations on the ${name} page`),
			res.violations.map(v => `${v.id}: ${v.help} (${v.nodes.map(x => x.target.join(' ')).join(', ')})`).join('\n'));
	}

	ok(errors.length === 0, t('no console errors or warnings'), errors.join('\n'));
	ok(outside.length === 0, t('no request leaves the site'), outside.join('\n'));
	await context.close();
}

try {
	await runMode('http');
	await runMode('file');
} catch (e) {
	ok(false, 'the test ran to the end', e.stack);
} finally {
	await browser.close();
	server.close();
}
console.log(`# ${((Date.now() - started) / 1000).toFixed(1)} s`);
finish();
