import { chromium } from 'playwright-core';
import http from 'node:http'; import fs from 'node:fs'; import path from 'node:path';
const site = '/tmp/site10k';
const server = http.createServer((req, res) => { let p = decodeURIComponent(new URL(req.url, 'http://x').pathname); let f = path.join(site, p); if (fs.existsSync(f) && fs.statSync(f).isDirectory()) f = path.join(f, 'index.html'); fs.readFile(f, (e, d) => e ? res.writeHead(404).end() : res.writeHead(200, {'Content-Type': f.endsWith('.js') ? 'text/javascript' : 'text/html'}).end(d)); });
await new Promise(r => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/`);
for (const q of ['wat zeg ik als ik een klant niet kan helpen', 'klachten', 'klant', 'medewerker leidinggevende klant']) {
  const r = await page.evaluate(async q => {
    const out = [];
    for (let i = 0; i < 8; i++) { const t = performance.now(); const res = await genSearch.query(q); out.push([+(performance.now() - t).toFixed(1), +genSearch.lastMs.toFixed(1), res.hits.length]); }
    return out;
  }, q);
  console.log(q, JSON.stringify(r));
}
await browser.close(); server.close();
