#!/usr/bin/env node
// The sign-in flow end to end, as an OAuth client that knows only the MCP
// URL, with a real browser (headless Chromium through playwright-core)
// for the person who signs in:
//
//   node t/e2e/oauth-browser.mjs --url http://localhost:8787/mcp
//
// 1. discovery: POST /mcp without a token (401, and the resource_metadata
//    of its challenge), the protected-resource metadata (RFC 9728), the
//    authorization server's metadata (RFC 8414);
// 2. dynamic registration (RFC 7591) of a public client whose redirect
//    URI is a callback server of this script on 127.0.0.1;
// 3. the authorization request with PKCE S256, in the browser: the
//    consent page, "Allow", then the redirects through TastyTrade's
//    authorize page and the server's callback back to this script;
// 4. the code for tokens (with the verifier), and the access token with
//    the MCP SDK client: tools/list and tools/call get_accounts;
// 5. refresh: a new pair with a new refresh token; the old refresh token
//    used again is refused, and so are the new one after that and its
//    access token (the family is revoked); the code used again is
//    refused.
//
// Prints one JSON summary on stdout (secrets left out: URLs show the
// names of their query parameters only) and exits 0 when every check
// passed, 1 when one failed, 2 on a usage error.

import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { chromium } from 'playwright-core';
import { checker, describe, shown, jwtParts } from './lib/report.mjs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
    StreamableHTTPClientTransport,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const CLIENT_NAME = 'ttai browser test';
const SCOPE = 'mcp:tools';

const USAGE = `Usage: node t/e2e/oauth-browser.mjs [--url URL] [--chromium PATH] [--timeout MS]

  --url URL        the MCP endpoint (default: $MCP_URL, else http://localhost:8787/mcp)
  --chromium PATH  the browser (default: $CHROMIUM, else /usr/bin/chromium)
  --timeout MS     per request and per page (default: 15000)

Signs in as a new OAuth client through the consent page in headless
Chromium, then uses and refreshes the tokens.  Prints a JSON summary;
exits 0 when every check passed, 1 when one failed, 2 on a usage error.`;

function parseArgs(argv) {
    const opt = {
        url: process.env.MCP_URL || 'http://localhost:8787/mcp',
        chromium: process.env.CHROMIUM || '/usr/bin/chromium',
        timeout: 15000,
    };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) {
                usageError(`${a} needs a value`);
            }
            return argv[++i];
        };
        switch (a) {
        case '-h':
        case '--help':
            console.log(USAGE);
            process.exit(0);
            break;
        case '--url': opt.url = value(); break;
        case '--chromium': opt.chromium = value(); break;
        case '--timeout': opt.timeout = Number(value()); break;
        default: usageError(`unknown argument ${a}`);
        }
    }
    if (!Number.isInteger(opt.timeout) || opt.timeout <= 0) {
        usageError('--timeout must be a positive number of milliseconds');
    }
    try {
        opt.url = new URL(opt.url);
    } catch {
        usageError(`not a URL: ${opt.url}`);
    }
    try {
        accessSync(opt.chromium, constants.X_OK);
    } catch {
        usageError(`no browser at ${opt.chromium}: install Debian's chromium`
                   + ' (scripts/bootstrap) or pass --chromium');
    }
    return opt;
}

function usageError(msg) {
    console.error(`oauth-browser: ${msg}\n\n${USAGE}`);
    process.exit(2);
}

const opt = parseArgs(process.argv.slice(2));

const summary = {
    ok: false,
    url: opt.url.href,
    resourceMetadataUrl: null,
    resourceMetadata: null,
    issuer: null,
    authorizationServer: null, // its RFC 8414 metadata
    client: null,              // the registration, without a secret
    consent: null,
    navigation: [],            // the browser's top-level requests
    callback: null,            // what reached the redirect URI
    tokens: null,
    sub: null,
    tools: [],
    accounts: null,
    refresh: null,
    http: [],                  // this script's own requests
    checks: [],
};

const check = checker(summary);

// one request of this script's own; never follows redirects
async function http(what, url, init = {}) {
    const entry = { what, method: init.method || 'GET', url: shown(url), status: null };
    summary.http.push(entry);
    let res;
    try {
        res = await fetch(url, {
            redirect: 'manual',
            signal: AbortSignal.timeout(opt.timeout),
            ...init,
        });
    } catch (err) {
        entry.error = String(err && err.message || err);
        throw err;
    }
    entry.status = res.status;
    entry.contentType = res.headers.get('content-type') ?? undefined;
    const text = await res.text();
    let json;
    try {
        json = JSON.parse(text);
    } catch {
        json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
}

function form(what, url, params) {
    return http(what, url, {
        method: 'POST',
        headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Accept: 'application/json',
        },
        body: new URLSearchParams(params).toString(),
    });
}

// an RFC 6749 error answer: 400 with {"error": code}
function isOAuthError(r, status, code) {
    return r.status === status && r.json && r.json.error === code;
}

function errorDetail(r) {
    return { status: r.status, body: r.json ?? r.text.slice(0, 300) };
}

// the redirect URI: a server on 127.0.0.1 that keeps the first callback
function callbackServer() {
    return new Promise((resolve, reject) => {
        let arrived;
        const result = new Promise((r) => { arrived = r; });
        const server = createServer((req, res) => {
            const u = new URL(req.url, 'http://127.0.0.1');
            if (req.method !== 'GET' || u.pathname !== '/callback') {
                res.writeHead(404, { 'Content-Type': 'text/plain' });
                res.end('not found\n');
                return;
            }
            arrived(Object.fromEntries(u.searchParams));
            res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
            res.end('<!doctype html><title>Signed in</title>'
                    + '<p>Signed in: you can close this window.</p>\n');
        });
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            resolve({
                url: `http://127.0.0.1:${port}/callback`,
                result,
                close: () => new Promise((r) => {
                    server.closeAllConnections();
                    server.close(r);
                }),
            });
        });
    });
}

function within(promise, ms, what) {
    let timer;
    return Promise.race([
        promise,
        new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
        }),
    ]).finally(() => clearTimeout(timer));
}

let browser;
let callback;

async function main() {
    const reqOpts = { timeout: opt.timeout };

    // -- 1. discovery ---------------------------------------------------------

    const initialize = {
        jsonrpc: '2.0', id: 1, method: 'initialize',
        params: {
            protocolVersion: '2025-11-25', capabilities: {},
            clientInfo: { name: 'ttai-oauth-browser', version: '1.0.0' },
        },
    };
    const anon = await http('POST /mcp without a token', opt.url, {
        method: 'POST',
        headers: {
            'Content-Type': 'application/json',
            Accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify(initialize),
    });
    check('POST /mcp without a token is 401', anon.status === 401, anon.status);
    const challenge = anon.headers.get('www-authenticate') ?? '';
    const pointer = /\bresource_metadata="([^"]+)"/.exec(challenge);
    if (!check('its WWW-Authenticate is a Bearer challenge with resource_metadata',
               /^Bearer\b/i.test(challenge) && pointer, challenge)) {
        return;
    }
    summary.resourceMetadataUrl = pointer[1];

    const prm = await http('protected-resource metadata', pointer[1],
                           { headers: { Accept: 'application/json' } });
    summary.resourceMetadata = prm.json ?? null;
    if (!check('the protected-resource metadata (RFC 9728) names this URL and an'
               + ' authorization server',
               prm.status === 200 && prm.json && prm.json.resource === opt.url.href
               && Array.isArray(prm.json.authorization_servers)
               && typeof prm.json.authorization_servers[0] === 'string',
               { status: prm.status, document: prm.json ?? prm.text.slice(0, 300) })) {
        return;
    }
    const issuer = prm.json.authorization_servers[0];
    summary.issuer = issuer;

    // RFC 8414 3.1: the well-known segment goes between the host and the
    // issuer's path
    const issuerUrl = new URL(issuer);
    const issuerPath = issuerUrl.pathname.replace(/\/$/, '');
    const asMetadataUrl = new URL(`/.well-known/oauth-authorization-server${issuerPath}`,
                                  issuerUrl.origin);
    const asm = await http('authorization server metadata', asMetadataUrl,
                           { headers: { Accept: 'application/json' } });
    const meta = asm.json;
    summary.authorizationServer = meta ?? null;
    if (!check('the authorization server metadata (RFC 8414) answers 200 JSON',
               asm.status === 200 && meta && typeof meta === 'object',
               errorDetail(asm))) {
        return;
    }
    check('its issuer is the authorization server the resource named',
          meta.issuer === issuer, { expected: issuer, got: meta.issuer });
    const endpoints = ['authorization_endpoint', 'token_endpoint',
                       'registration_endpoint', 'revocation_endpoint'];
    const bad = endpoints.filter((e) => {
        try {
            return !/^https?:$/.test(new URL(meta[e]).protocol);
        } catch {
            return true;
        }
    });
    if (!check('it has the authorization, token, registration and revocation endpoints',
               bad.length === 0, { missing: bad })) {
        return;
    }
    check('it offers PKCE S256', Array.isArray(meta.code_challenge_methods_supported)
          && meta.code_challenge_methods_supported.includes('S256'),
          meta.code_challenge_methods_supported);
    check('it offers response_type code', Array.isArray(meta.response_types_supported)
          && meta.response_types_supported.includes('code'),
          meta.response_types_supported);

    // -- 2. registration -------------------------------------------------------

    callback = await callbackServer();
    const registration = {
        redirect_uris: [callback.url],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        client_name: CLIENT_NAME,
    };
    const reg = await http('register', meta.registration_endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(registration),
    });
    const client = reg.json;
    if (client && typeof client === 'object') {
        const { client_secret: secret, ...shownClient } = client;
        summary.client = { ...shownClient, client_secret: secret ? '(issued)' : undefined };
    }
    if (!check('registration (RFC 7591) answers 201 with a client_id',
               reg.status === 201 && client && typeof client.client_id === 'string'
               && client.client_id !== '', errorDetail(reg))) {
        return;
    }
    check('the registration echoes the redirect URI, the auth method and the name',
          JSON.stringify(client.redirect_uris) === JSON.stringify([callback.url])
          && client.token_endpoint_auth_method === 'none'
          && client.client_name === CLIENT_NAME,
          { redirect_uris: client.redirect_uris,
            token_endpoint_auth_method: client.token_endpoint_auth_method,
            client_name: client.client_name });
    check('it grants authorization_code and refresh_token',
          Array.isArray(client.grant_types)
          && client.grant_types.includes('authorization_code')
          && client.grant_types.includes('refresh_token'), client.grant_types);
    const clientId = client.client_id;

    // -- 3. authorization, in the browser --------------------------------------

    const verifier = randomBytes(32).toString('base64url');
    const codeChallenge = createHash('sha256').update(verifier).digest('base64url');
    const state = randomBytes(16).toString('base64url');
    const authUrl = new URL(meta.authorization_endpoint);
    for (const [k, v] of Object.entries({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: callback.url,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
        state,
        scope: SCOPE,
        resource: opt.url.href,
    })) {
        authUrl.searchParams.set(k, v);
    }

    browser = await chromium.launch({
        executablePath: opt.chromium,
        headless: true,
        // Chromium's sandbox cannot start as root
        args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
        timeout: opt.timeout,
    });
    summary.browser = browser.version();
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(opt.timeout);
    page.setDefaultNavigationTimeout(opt.timeout);
    const navigations = [];
    page.on('request', (req) => {
        if (req.isNavigationRequest() && req.frame() === page.mainFrame()) {
            navigations.push(req);
        }
    });

    let consent;
    try {
        consent = await page.goto(authUrl.href);
    } catch (err) {
        check('the browser opens the authorization URL', false, describe(err));
        return;
    }
    const consentType = consent && consent.headers()['content-type'];
    const cookies = ((consent && await consent.headerValue('set-cookie')) ?? '')
        .split('\n').filter((c) => c !== '');
    const csrfCookie = cookies.find((c) => /^ttai_csrf=/.test(c));
    const bodyText = await page.locator('body').innerText().catch(() => '');
    summary.consent = {
        status: consent && consent.status(),
        contentType: consentType,
        title: await page.title(),
        // the cookie's attributes, not its value
        cookie: csrfCookie ? csrfCookie.split(';').slice(1).map((s) => s.trim()) : null,
    };
    if (!check('the consent page answers 200 text/html',
               consent && consent.status() === 200 && /^text\/html\b/.test(consentType ?? ''),
               { status: summary.consent.status, contentType: consentType,
                 text: bodyText.slice(0, 300) })) {
        return;
    }
    check('it shows the client\'s name', bodyText.includes(CLIENT_NAME),
          bodyText.slice(0, 500));
    check('it sets the ttai_csrf cookie HttpOnly, SameSite=Lax, Path=/authorize',
          csrfCookie && /;\s*HttpOnly\b/i.test(csrfCookie)
          && /;\s*SameSite=Lax\b/i.test(csrfCookie)
          && /;\s*Path=\/authorize\s*(;|$)/i.test(csrfCookie), summary.consent.cookie);
    const allow = page.locator('form button[name="decision"][value="approve"]');
    const deny = page.locator('form button[name="decision"][value="deny"]');
    const allowText = (await allow.count()) === 1 ? (await allow.innerText()).trim() : null;
    if (!check('it has an "Allow" button (decision=approve) and a deny button',
               allowText === 'Allow' && (await deny.count()) === 1,
               { allow: allowText, deny: await deny.count() })) {
        return;
    }

    const before = navigations.length;
    let arrived;
    try {
        await allow.click();
        arrived = await within(callback.result, opt.timeout, 'the callback');
    } catch (err) {
        check('"Allow" leads the browser back to the redirect URI', false,
              { ...describe(err), page: shown(page.url()),
                text: (await page.locator('body').innerText().catch(() => '')).slice(0, 300) });
        return;
    }
    await page.waitForLoadState('load').catch(() => {});
    for (const req of navigations.slice(before)) {
        const res = await req.response().catch(() => null);
        summary.navigation.push({
            method: req.method(),
            url: shown(req.url()),
            status: res ? res.status() : null,
        });
    }
    check('"Allow" leads the browser back to the redirect URI', true,
          summary.navigation.map((n) => `${n.method} ${n.url} ${n.status}`));

    // the way there: the form to the authorization endpoint, TastyTrade's
    // page (another origin), the authorization server again, the client
    const origin = (u) => new URL(u).origin;
    const hops = summary.navigation;
    const ttaiOrigin = origin(meta.authorization_endpoint);
    const clientOrigin = origin(callback.url);
    const first = hops[0];
    check('Allow posts the form to the authorization endpoint',
          first && first.method === 'POST'
          && first.url === shown(meta.authorization_endpoint), first);
    const away = hops.findIndex((h) => origin(h.url) !== ttaiOrigin
                                && origin(h.url) !== clientOrigin);
    const back = away < 0 ? -1
        : hops.findIndex((h, i) => i > away && origin(h.url) === ttaiOrigin);
    const home = back < 0 ? -1
        : hops.findIndex((h, i) => i > back && h.url.startsWith(callback.url));
    check('the browser went through TastyTrade\'s authorize page, back to the'
          + ' authorization server, then to the redirect URI',
          away > 0 && back > away && home > back,
          hops.map((h) => `${h.method} ${h.url} ${h.status}`));

    summary.callback = {
        parameters: Object.keys(arrived),
        iss: arrived.iss,
        error: arrived.error,
        error_description: arrived.error_description,
    };
    if (!check('the callback has a code and no error',
               typeof arrived.code === 'string' && arrived.code !== '' && !arrived.error,
               summary.callback)) {
        return;
    }
    check('the callback\'s state is the one sent', arrived.state === state,
          arrived.state === undefined ? 'no state' : 'another state');
    check('the callback\'s iss is the issuer (RFC 9207)', arrived.iss === issuer,
          { expected: issuer, got: arrived.iss });

    await browser.close();
    browser = undefined;

    // -- 4. the code for tokens ------------------------------------------------

    const exchange = {
        grant_type: 'authorization_code',
        code: arrived.code,
        redirect_uri: callback.url,
        client_id: clientId,
        code_verifier: verifier,
        resource: opt.url.href,
    };
    const tok = await form('token (authorization_code)', meta.token_endpoint, exchange);
    const tokens = tok.json ?? {};
    const jwt = jwtParts(tokens.access_token ?? '');
    summary.tokens = {
        status: tok.status,
        fields: Object.keys(tokens),
        token_type: tokens.token_type,
        expires_in: tokens.expires_in,
        scope: tokens.scope,
        cacheControl: tok.headers.get('cache-control'),
        jwtHeader: jwt && jwt.header,
        claims: jwt && jwt.claims,
    };
    if (!check('the token endpoint exchanges the code: 200 with an access token'
               + ' and a refresh token',
               tok.status === 200 && typeof tokens.access_token === 'string'
               && typeof tokens.refresh_token === 'string' && tokens.refresh_token !== '',
               errorDetail(tok))) {
        return;
    }
    check('the access token is a JWT with a sub', jwt && typeof jwt.claims.sub === 'string'
          && jwt.claims.sub !== '', jwt);
    const aud = jwt && jwt.claims.aud;
    check('the JWT is for this resource (aud, RFC 8707) from this issuer (iss)',
          jwt && (aud === opt.url.href || (Array.isArray(aud) && aud.includes(opt.url.href)))
          && jwt.claims.iss === issuer,
          jwt && { aud, iss: jwt.claims.iss, expected: { aud: opt.url.href, iss: issuer } });
    check('token_type is Bearer', /^bearer$/i.test(tokens.token_type ?? ''), tokens.token_type);
    check('expires_in is 3600', tokens.expires_in === 3600, tokens.expires_in);
    const now = Math.floor(Date.now() / 1000);
    check('the JWT expires in an hour', jwt && typeof jwt.claims.exp === 'number'
          && Math.abs(jwt.claims.exp - now - 3600) <= 60,
          jwt && { exp: jwt.claims.exp, now });
    check('the token answer is not to be cached (Cache-Control: no-store)',
          /\bno-store\b/i.test(tok.headers.get('cache-control') ?? ''),
          tok.headers.get('cache-control'));
    summary.sub = jwt ? jwt.claims.sub : null;

    // -- the access token with the MCP SDK client ------------------------------

    const transport = new StreamableHTTPClientTransport(opt.url, {
        requestInit: { headers: { Authorization: `Bearer ${tokens.access_token}` } },
    });
    const mcp = new Client({ name: 'ttai-oauth-browser', version: '1.0.0' },
                           { capabilities: {} });
    try {
        await mcp.connect(transport, reqOpts);
        check('the SDK client connects with the access token', true);
    } catch (err) {
        check('the SDK client connects with the access token', false, describe(err));
        return;
    }
    try {
        const tools = [];
        let cursor;
        let pages = 0;
        do {
            const page = await mcp.listTools(cursor ? { cursor } : {}, reqOpts);
            tools.push(...page.tools);
            cursor = page.nextCursor;
        } while (cursor && ++pages < 100);
        summary.tools = tools.map((t) => t.name);
        check('tools/list has get_accounts', summary.tools.includes('get_accounts'),
              summary.tools);
    } catch (err) {
        check('tools/list has get_accounts', false, describe(err));
    }
    try {
        const res = await mcp.callTool({ name: 'get_accounts', arguments: {} }, undefined,
                                       { timeout: Math.max(opt.timeout, 30000) });
        summary.accounts = res.structuredContent ?? null;
        check('tools/call get_accounts is not isError', res.isError !== true,
              res.isError ? res.content : undefined);
    } catch (err) {
        check('tools/call get_accounts is not isError', false, describe(err));
    }
    await transport.terminateSession().catch(() => {});
    await mcp.close();

    // -- 5. refresh, rotation, and the reuse of an old refresh token -----------

    const refreshWith = (what, token) => form(what, meta.token_endpoint, {
        grant_type: 'refresh_token',
        refresh_token: token,
        client_id: clientId,
        resource: opt.url.href,
    });

    summary.refresh = {};
    const r1 = await refreshWith('token (refresh_token)', tokens.refresh_token);
    const next = r1.json ?? {};
    const nextJwt = jwtParts(next.access_token ?? '');
    summary.refresh.first = { status: r1.status, fields: Object.keys(next),
                              expires_in: next.expires_in,
                              claims: nextJwt && nextJwt.claims };
    if (check('refresh_token gives a new access token and a new refresh token',
              r1.status === 200 && nextJwt && typeof next.refresh_token === 'string'
              && next.refresh_token !== '', errorDetail(r1))) {
        check('the refresh token was rotated (a different one)',
              next.refresh_token !== tokens.refresh_token);
        check('the refreshed access token has the same sub and expires_in 3600',
              nextJwt.claims.sub === jwt.claims.sub && next.expires_in === 3600,
              { sub: nextJwt.claims.sub, expires_in: next.expires_in });

        // the new access token works, one-shot
        const list = await http('POST /mcp with the refreshed token', opt.url, {
            method: 'POST',
            headers: {
                Authorization: `Bearer ${next.access_token}`,
                'Content-Type': 'application/json',
                Accept: 'application/json, text/event-stream',
            },
            body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
        });
        check('the refreshed access token is accepted by /mcp',
              list.status === 200 && list.json && Array.isArray(list.json.result?.tools),
              { status: list.status, body: list.text.slice(0, 200) });

        const reuse = await refreshWith('token (the old refresh token again)',
                                        tokens.refresh_token);
        summary.refresh.reuse = errorDetail(reuse);
        check('the old refresh token used again is refused: 400 invalid_grant',
              isOAuthError(reuse, 400, 'invalid_grant'), errorDetail(reuse));

        const after = await refreshWith('token (the new refresh token, after the reuse)',
                                        next.refresh_token);
        summary.refresh.afterReuse = errorDetail(after);
        check('after that the new refresh token is refused too (the family is revoked)',
              isOAuthError(after, 400, 'invalid_grant'), errorDetail(after));

        // and so is the family's access token, which /mcp takes no more
        const gone = await http('POST /mcp with the refreshed token, after the reuse',
                                opt.url, {
            method: 'POST',
            headers: {
                Authorization: `Bearer ${next.access_token}`,
                'Content-Type': 'application/json',
                Accept: 'application/json, text/event-stream',
            },
            body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
        });
        check('and /mcp refuses its access token: 401 invalid_token',
              gone.status === 401
              && /error="invalid_token"/.test(gone.headers.get('www-authenticate') ?? ''),
              { status: gone.status,
                wwwAuthenticate: gone.headers.get('www-authenticate') });
    }

    const again = await form('token (the code again)', meta.token_endpoint, exchange);
    check('the code used again is refused: 400 invalid_grant',
          isOAuthError(again, 400, 'invalid_grant'), errorDetail(again));
}

const watchdog = setTimeout(() => {
    check('finished in time', false, 'still running after 120 s');
    finish();
}, 120000);

let finishing = false;
async function finish() {
    if (finishing) {
        return;
    }
    finishing = true;
    clearTimeout(watchdog);
    await browser?.close().catch(() => {});
    await callback?.close();
    summary.ok = summary.checks.length > 0 && summary.checks.every((c) => c.ok);
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    for (const c of summary.checks.filter((c) => !c.ok)) {
        console.error(`oauth-browser: FAILED: ${c.name}: ${JSON.stringify(c.detail)}`);
    }
    process.exit(summary.ok ? 0 : 1);
}

main().then(finish, (err) => {
    check('no unexpected exception', false, describe(err));
    finish();
});
