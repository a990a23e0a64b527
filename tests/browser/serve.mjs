// Browser tests of gen serve's live script, in Debian's chromium driven by
// playwright-core; prints TAP. Usage:
//   node serve.mjs GEN PROJECT
// GEN is the gen binary and PROJECT the folder made by
// tests/serve-browser.sh: this script runs `gen serve` on it (twice: it
// also stops and starts it again), edits its files and watches what the
// open pages do.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
import { ok, finish } from './tap.mjs';

const [gen, project] = process.argv.slice(2);
if (!gen || !project) {
	console.log('1..0 # SKIP usage: node serve.mjs GEN PROJECT');
	process.exit(0);
}

// Starts gen serve on port (0: any); resolves { child, url }.
function serve(port) {
	const child = spawn(gen, ['serve', '-q', '-C', project, '-p', String(port)],
		{ stdio: ['ignore', 'ignore', 'pipe'] });
	let log = '';
	return new Promise((resolve, reject) => {
		child.stderr.on('data', d => {
			log += d;
			const m = /^gen serve: (http:\/\/\S+\/) /m.exec(log);
			// It tells the address before its first build is done.
			if (m && !child.url) {
				child.url = m[1];
				fetch(m[1] + '_gen/wait?after=0').then(() => resolve({ child, url: m[1] }), reject);
			}
		});
		child.on('exit', code => reject(new Error(`gen serve exited (${code}): ${log}`)));
	});
}
function stop(child) {
	return new Promise(resolve => {
		child.on('exit', resolve);
		child.kill('SIGTERM');
	});
}
let { child, url } = await serve(0);
const story = path.join(project, 'content', 'verhalen', 'de-garage.md');


// Resolves true when fn turns true in the page within the time, false
// when it does not (a failed check, not a crash of the test).
async function until(page, fn, arg) {
	try {
		await page.waitForFunction(fn, arg, { timeout: 15000, polling: 50 });
		return true;
	} catch {
		return false;
	}
}

const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
		'--disable-component-update', '--disable-sync', '--no-first-run'],
});
const context = await browser.newContext();
const errors = [];
context.on('page', page => {
	// Failed requests are told by their answers below; the console
	// names only the page for them.
	page.on('console', m => {
		if ((m.type() === 'error' || m.type() === 'warning') &&
		    !m.text().startsWith('Failed to load resource'))
			errors.push(`${m.type()}: ${m.text()} (${page.url()})`);
	});
	// Chromium asks every server for /favicon.ico; the test site has none.
	page.on('response', r => {
		if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico')
			errors.push(`${r.status()}: ${r.url()}`);
	});
	page.on('pageerror', e => errors.push(`pageerror: ${e.message} (${page.url()})`));
});
const main = page => page.evaluate(() => document.querySelector('main').textContent);
const problems = page => page.evaluate(() => {
	const box = document.getElementById('gen-preview-problems');
	return box ? box.textContent : null;
});

const page = await context.newPage();
await page.goto(url + 'verhalen/de-garage/');
ok(await problems(page) === null, 'a page of a good build shows no errors');
let loads = 0;
page.on('load', () => loads++);
// The page's text can show before its 'load' event reaches us (the
// stylesheet and script still loading on a busy machine): waits up to
// 15 s for the count to reach n.
async function loaded(n) {
	for (let i = 0; i < 300 && loads < n; i++)
		await new Promise(r => setTimeout(r, 50));
}

// A saved edit: the page loads again by itself and shows it.
fs.appendFileSync(story, '\nDe klant komt terug met een taart.\n');
ok(await until(page, () => document.querySelector('main').textContent.includes('met een taart')),
	'the open page shows the edit once the article is saved', await main(page));
await loaded(1);
ok(loads === 1, 'by loading once', loads);

// A failed build: its errors over the page, the page as it was.
fs.appendFileSync(story, '\nZie [de kantine](kantine.md).\n');
const line = fs.readFileSync(story, 'utf8').split('\n').findIndex(l => l.includes('kantine')) + 1;
ok(await until(page, () => document.getElementById('gen-preview-problems')),
	'a failed build lays its errors over the open page');
const text = await problems(page) || '';
ok(text.includes(`content/verhalen/de-garage.md:${line}:5: error: link target 'kantine.md' does not exist`),
	'naming file, line and column', text);
ok(!(await main(page)).includes('kantine') && (await main(page)).includes('met een taart'),
	'the page stays as the last good build made it', await main(page));
ok(loads === 1, 'without loading again', loads);
const box = await page.evaluate(() => {
	const r = document.getElementById('gen-preview-problems').getBoundingClientRect();
	return { bottom: Math.round(r.bottom), height: innerHeight };
});
ok(box.bottom === box.height, 'the errors sit at the bottom of the window', box);

// A page opened while the latest build is a failed one shows it at once.
const other = await context.newPage();
await other.goto(url);
ok(await until(other, () => document.getElementById('gen-preview-problems')),
	'a page opened after the failed build shows its errors too');

// The fix: the errors go, the page shows the fixed text.
fs.writeFileSync(story, fs.readFileSync(story, 'utf8').replace('(kantine.md)', '(../tips/snifo.md)'));
ok(await until(page, () => !document.getElementById('gen-preview-problems') &&
	document.querySelector('main').textContent.includes('de kantine')),
	'after the fix the errors go and the page shows the fixed paragraph', await main(page));
ok(await until(other, () => !document.getElementById('gen-preview-problems')),
	'on every open page');

// The server stops and starts again (new build numbers from 1); an edit
// made meanwhile is shown once it is back.
await stop(child);
fs.appendFileSync(story, '\nTerwijl de server weg was.\n');
({ child } = await serve(new URL(url).port));
ok(await until(page, () => document.querySelector('main').textContent.includes('Terwijl de server weg was')),
	'after a restart of the server the open page loads again, with the edit', await main(page));
await stop(child);
// Chromium reports the requests made while the server was away.
const real = errors.filter(e => !e.includes('ERR_CONNECTION_REFUSED'));
ok(real.length === 0, 'no errors in the console, no failed requests', real);

await browser.close();
finish();
