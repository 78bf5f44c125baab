// Shared harness for the end-to-end tests: serves the release build in dist/
// on 127.0.0.1 and drives the system Chromium with playwright-core.
import { chromium } from 'playwright-core';
import { before, after } from 'node:test';
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { extname, join, normalize, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
export const dist = process.env.KAFKASIM_DIST ?? join(root, 'dist');
export const shots = join(root, 'tests', 'screenshots');

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

/** Serves dist/ under a sub-path, proving relative asset URLs work. */
export async function serve(prefix = '/kafkasim/') {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (!url.pathname.startsWith(prefix)) {
      res.writeHead(404).end('not found');
      return;
    }
    let path = url.pathname.slice(prefix.length) || 'index.html';
    path = normalize(path).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = await readFile(join(dist, path));
      res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return { server, url: `http://127.0.0.1:${port}${prefix}` };
}

export const chromiumArgs = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic',
];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: chromiumArgs,
  });
}

/**
 * Serves dist/ and launches Chromium before a test file's tests and stops
 * both after them. `app.url` and `app.browser` are set once the tests run.
 */
export function useApp() {
  const app = {};
  before(async () => {
    ({ server: app.server, url: app.url } = await serve());
    app.browser = await launch();
  });
  after(async () => {
    await app.browser?.close();
    app.server?.close();
  });
  return app;
}

/** Opens the app and collects console errors and page errors. */
export async function openApp(browser, url, viewport = { width: 1280, height: 720 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  // A comparison draws two of each node.
  await page.getByRole('button', { name: 'Broker 1', exact: true }).first().waitFor();
  return { page, errors, context };
}

export async function screenshot(page, name) {
  await mkdir(shots, { recursive: true });
  const path = join(shots, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Selects broker `n` in the diagram and crashes it from its action panel. */
export async function crashBroker(page, n) {
  await page.getByRole('button', { name: `Broker ${n}`, exact: true }).click();
  await page.getByRole('button', { name: 'Crash broker' }).click();
}
