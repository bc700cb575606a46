/**
 * Headless Chromium for the page tests: Debian's chromium driven by playwright-core (never a browser download),
 * with the flags these machines need, and a loopback static server for an exported folder.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json' };

/** True (and the test skipped, saying why) when Chromium is not installed. */
export function skipWithoutChromium(t: TestContext, what = 'the page was not opened'): boolean {
  if (existsSync(CHROMIUM)) return false;
  t.skip(`${CHROMIUM} is not installed (apt-get install chromium); ${what}`);
  return true;
}

/** Launches headless Chromium; the caller closes it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** Serves `root` on a free loopback port (`/` is index.html) and opens Chromium; both are closed after `fn`. */
export async function withServedFolder(root: string, fn: (browser: Browser, base: string) => Promise<void>): Promise<void> {
  const server = createServer(async (req, res) => {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0].slice(1)) || 'index.html';
    try {
      const body = await readFile(join(root, name));
      res.writeHead(200, { 'content-type': TYPES[extname(name)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    await fn(browser, `http://127.0.0.1:${(server.address() as { port: number }).port}/`);
  } finally {
    await browser?.close();
    server.close();
  }
}
