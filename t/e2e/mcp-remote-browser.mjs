#!/usr/bin/env node
// The "browser" that mcp-remote opens (through $BROWSER, as xdg-open
// does): headless Chromium loads the authorization URL and clicks Allow
// on ttai's consent page, like a user; the rest of the redirects lead
// back to mcp-remote's own callback server.
//
//   BROWSER=t/e2e/mcp-remote-browser.mjs npx mcp-remote http://localhost:8787/mcp
//
// Environment: TTAI_CHROMIUM (default /usr/bin/chromium).  Logs to
// stderr; exits 0 once the browser left ttai for the callback.

import { chromium } from 'playwright-core';

const url = process.argv[2];

if (!url || url === '--help' || url === '-h') {
    console.error('Usage: t/e2e/mcp-remote-browser.mjs URL');
    process.exit(url ? 0 : 2);
}

const browser = await chromium.launch({
    executablePath: process.env.TTAI_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // as root, Chromium's sandbox cannot start
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
});

let code = 1;

try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.click('button[name="decision"][value="approve"]');
    await page.waitForURL((u) => u.searchParams.has('code')
                                 || u.searchParams.has('error'),
                          { timeout: 15000 });
    console.error(`mcp-remote-browser: back at ${new URL(page.url()).pathname}`);
    code = new URL(page.url()).searchParams.has('code') ? 0 : 1;
} catch (e) {
    console.error(`mcp-remote-browser: ${e.message}`);
} finally {
    await browser.close();
}

process.exit(code);
