#!/usr/bin/env node
// The sign-in flow end to end with the official MCP SDK's own OAuth
// support: a StreamableHTTPClientTransport with an authProvider discovers
// the authorization server, registers, sends the user to authorize, and
// exchanges the code by itself.  The user is played by hand, without a
// browser: the consent page is fetched, its form posted with "Allow", and
// the redirects followed one by one to the redirect URI.
//
//   node t/e2e/sdk-oauth.mjs --url http://localhost:8787/mcp
//
// Then: connect again with the tokens, tools/list, tools/call
// get_accounts; and once more with an access token the server refuses,
// which the SDK replaces by itself with its refresh token.
//
// Prints one JSON summary on stdout (secrets left out: URLs show the
// names of their query parameters only) and exits 0 when every check
// passed, 1 when one failed, 2 on a usage error.

import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
    StreamableHTTPClientTransport,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { checker, describe, shown, jwtParts } from './lib/report.mjs';

const CLIENT_NAME = 'ttai sdk test';
const SCOPE = 'mcp:tools';
// never contacted: the code is taken from the Location that points here
const REDIRECT_URL = 'http://127.0.0.1:53682/callback';
const MAX_HOPS = 10;

const USAGE = `Usage: node t/e2e/sdk-oauth.mjs [--url URL] [--timeout MS]

  --url URL      the MCP endpoint (default: $MCP_URL, else http://localhost:8787/mcp)
  --timeout MS   per request (default: 15000)

Signs in with the MCP SDK's OAuth client (an authProvider), approving
the consent page by hand, then uses and refreshes the tokens.  Prints a
JSON summary; exits 0 when every check passed, 1 when one failed, 2 on a
usage error.`;

function parseArgs(argv) {
    const opt = {
        url: process.env.MCP_URL || 'http://localhost:8787/mcp',
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
    return opt;
}

function usageError(msg) {
    console.error(`sdk-oauth: ${msg}\n\n${USAGE}`);
    process.exit(2);
}

const opt = parseArgs(process.argv.slice(2));

const summary = {
    ok: false,
    url: opt.url.href,
    issuer: null,
    client: null,               // what the SDK registered, without a secret
    authorizationRequest: null, // what the SDK asked the user's agent to open
    consent: null,
    hops: [],                   // the user's requests, from the consent page on
    callback: null,
    tokens: null,
    sub: null,
    tools: [],
    accounts: null,
    refreshed: null,
    providerCalls: [],          // the OAuthClientProvider methods the SDK called
    http: [],                   // the SDK's requests
    checks: [],
};

const check = checker(summary);

function jwtClaims(token) {
    return jwtParts(token)?.claims ?? null;
}


function samePlace(a, b) {
    const x = new URL(a);
    const y = new URL(b);
    return x.origin === y.origin && x.pathname === y.pathname;
}

// -- the user's agent, by hand -------------------------------------------------

// enough of a cookie jar for one flow: host and path matching, no expiry
// but deletion
class CookieJar {
    constructor() {
        this.cookies = [];
    }

    store(url, headers) {
        const u = new URL(url);
        for (const line of headers.getSetCookie()) {
            const [pair, ...attrs] = line.split(';').map((s) => s.trim());
            const eq = pair.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            const name = pair.slice(0, eq);
            const value = pair.slice(eq + 1);
            let path = u.pathname.replace(/\/[^/]*$/, '') || '/';
            let gone = false;
            for (const a of attrs) {
                const [k, v = ''] = a.split('=');
                if (/^path$/i.test(k) && v.startsWith('/')) {
                    path = v;
                } else if (/^max-age$/i.test(k) && Number(v) <= 0) {
                    gone = true;
                }
            }
            this.cookies = this.cookies.filter((c) => !(c.host === u.hostname
                                                       && c.path === path && c.name === name));
            if (!gone) {
                this.cookies.push({ host: u.hostname, path, name, value });
            }
        }
    }

    header(url) {
        const u = new URL(url);
        return this.cookies
            .filter((c) => c.host === u.hostname
                    && (u.pathname === c.path || u.pathname.startsWith(
                        c.path.endsWith('/') ? c.path : `${c.path}/`)))
            .map((c) => `${c.name}=${c.value}`).join('; ');
    }
}

function htmlDecode(s) {
    return s.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (m, e) => {
        const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: '\'' };
        if (e[0] !== '#') {
            return named[e.toLowerCase()];
        }
        return String.fromCodePoint(e[1] === 'x' || e[1] === 'X'
            ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    });
}

function attributes(tag) {
    const attrs = {};
    const re = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
    let m;
    re.exec(tag); // the tag's name
    while ((m = re.exec(tag)) !== null) {
        attrs[m[1].toLowerCase()] = htmlDecode(m[2] ?? m[3] ?? m[4] ?? '');
    }
    return attrs;
}

// the consent form: its action and its inputs
function parseForm(html) {
    const formTag = /<form\b[^>]*>/i.exec(html);
    if (!formTag) {
        return null;
    }
    const f = attributes(formTag[0].slice(1, -1));
    const inputs = {};
    for (const m of html.matchAll(/<input\b[^>]*>/gi)) {
        const a = attributes(m[0].slice(1, -1));
        if (a.name !== undefined) {
            inputs[a.name] = a.value ?? '';
        }
    }
    const buttons = [...html.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)]
        .map((m) => ({ ...attributes(`button ${m[1]}`), text: m[2].trim() }));
    return { method: (f.method || 'get').toLowerCase(), action: f.action, inputs, buttons };
}

function pageText(html) {
    return htmlDecode(html.replace(/<style[\s\S]*?<\/style>/gi, '')
        .replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
}

async function userFetch(jar, url, init = {}) {
    const headers = new Headers(init.headers);
    const cookie = jar.header(url);
    if (cookie) {
        headers.set('Cookie', cookie);
    }
    headers.set('User-Agent', 'ttai-sdk-oauth/1.0');
    const hop = { method: init.method || 'GET', url: shown(url), status: null,
                  cookies: cookie ? cookie.split('; ').map((c) => c.split('=')[0]) : [] };
    summary.hops.push(hop);
    const res = await fetch(url, {
        ...init,
        headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(opt.timeout),
    });
    hop.status = res.status;
    jar.store(url, res.headers);
    const location = res.headers.get('location');
    if (location) {
        hop.location = shown(new URL(location, url));
    }
    return res;
}

// opens the authorization URL as the user would, approves, and follows
// the redirects to the redirect URI; returns the code
async function actAsUser(authorizationUrl, provider) {
    const jar = new CookieJar();
    const p = authorizationUrl.searchParams;
    summary.authorizationRequest = {
        url: shown(authorizationUrl),
        response_type: p.get('response_type'),
        code_challenge_method: p.get('code_challenge_method'),
        scope: p.get('scope'),
        resource: p.get('resource'),
        redirect_uri: p.get('redirect_uri'),
    };
    check('the SDK asks for a code with PKCE S256, a state, the resource and'
          + ' this redirect URI',
          p.get('response_type') === 'code' && p.get('code_challenge_method') === 'S256'
          && (p.get('code_challenge') ?? '').length >= 43 && p.get('state')
          && p.get('resource') === opt.url.href && p.get('redirect_uri') === REDIRECT_URL
          && p.get('client_id') === provider.clientInformation()?.client_id,
          summary.authorizationRequest);

    const page = await userFetch(jar, authorizationUrl);
    const html = await page.text();
    const type = page.headers.get('content-type') ?? '';
    const consentForm = parseForm(html);
    const text = pageText(html);
    const csrfCookie = page.headers.getSetCookie().find((c) => /^ttai_csrf=/.test(c));
    summary.consent = {
        status: page.status,
        contentType: type,
        form: consentForm && { method: consentForm.method, action: consentForm.action,
                               inputs: Object.keys(consentForm.inputs),
                               buttons: consentForm.buttons },
        cookie: csrfCookie ? csrfCookie.split(';').slice(1).map((s) => s.trim()) : null,
    };
    if (!check('the consent page answers 200 text/html', page.status === 200
               && /^text\/html\b/.test(type), { status: page.status, contentType: type,
                                               text: text.slice(0, 300) })) {
        throw new Error('no consent page');
    }
    check('it shows the client\'s name', text.includes(CLIENT_NAME), text.slice(0, 500));
    check('it sets the ttai_csrf cookie', Boolean(csrfCookie), summary.consent.cookie);
    if (!check('it has a POST form with the hidden request and csrf and an Allow button',
               consentForm && consentForm.method === 'post' && consentForm.action
               && consentForm.inputs.request && consentForm.inputs.csrf
               && consentForm.buttons.some((b) => b.name === 'decision'
                                           && b.value === 'approve' && b.text === 'Allow'),
               summary.consent.form)) {
        throw new Error('no consent form');
    }

    // "Allow", as a browser posts it
    const action = new URL(consentForm.action, authorizationUrl);
    let res = await userFetch(jar, action, {
        method: 'POST',
        headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Origin: authorizationUrl.origin,
            Referer: authorizationUrl.href,
        },
        body: new URLSearchParams({
            request: consentForm.inputs.request,
            csrf: consentForm.inputs.csrf,
            decision: 'approve',
        }).toString(),
    });
    let at = action;
    for (let hop = 0; ; hop++) {
        const location = res.headers.get('location');
        if (!(res.status >= 300 && res.status < 400 && location)) {
            const body = await res.text();
            check('"Allow" leads through redirects to the redirect URI', false,
                  { at: shown(at), status: res.status, text: pageText(body).slice(0, 300) });
            throw new Error('the redirects stopped short of the redirect URI');
        }
        await res.body?.cancel();
        const next = new URL(location, at);
        if (samePlace(next, REDIRECT_URL)) {
            at = next;
            break;
        }
        if (hop >= MAX_HOPS) {
            check('"Allow" leads through redirects to the redirect URI', false,
                  `more than ${MAX_HOPS} redirects`);
            throw new Error('too many redirects');
        }
        at = next;
        res = await userFetch(jar, next);
    }
    check('"Allow" leads through redirects to the redirect URI', true,
          summary.hops.map((h) => `${h.method} ${h.url} ${h.status}`));
    const origins = new Set(summary.hops.map((h) => new URL(h.url).origin));
    check('the way went through another origin (TastyTrade\'s authorize page)',
          origins.size >= 2, [...origins]);

    const q = Object.fromEntries(at.searchParams);
    summary.callback = { parameters: Object.keys(q), iss: q.iss, error: q.error,
                         error_description: q.error_description };
    if (!check('the redirect has a code and no error', q.code && !q.error, summary.callback)) {
        throw new Error('no code');
    }
    check('its state is the one the provider gave', q.state === provider.lastState,
          q.state === undefined ? 'no state' : 'another state');
    const issuer = provider.discovery?.authorizationServerMetadata?.issuer;
    summary.issuer = issuer ?? null;
    check('its iss is the issuer the SDK discovered (RFC 9207)',
          typeof issuer === 'string' && q.iss === issuer, { got: q.iss, expected: issuer });
    return q.code;
}

// -- the SDK's side --------------------------------------------------------------

class Provider {
    constructor() {
        this.client = undefined;
        this.saved = undefined;
        this.verifier = undefined;
        this.lastState = undefined;
        this.code = undefined;
        this.authorizationUrl = undefined;
    }

    called(name) {
        summary.providerCalls.push(name);
    }

    get redirectUrl() {
        return REDIRECT_URL;
    }

    get clientMetadata() {
        return {
            client_name: CLIENT_NAME,
            redirect_uris: [REDIRECT_URL],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
            scope: SCOPE,
        };
    }

    state() {
        this.called('state');
        this.lastState = randomBytes(16).toString('base64url');
        return this.lastState;
    }

    clientInformation() {
        return this.client;
    }

    saveClientInformation(info) {
        this.called('saveClientInformation');
        this.client = info;
    }

    tokens() {
        return this.saved;
    }

    saveTokens(tokens) {
        this.called('saveTokens');
        this.saved = tokens;
    }

    saveCodeVerifier(verifier) {
        this.called('saveCodeVerifier');
        this.verifier = verifier;
    }

    codeVerifier() {
        this.called('codeVerifier');
        if (!this.verifier) {
            throw new Error('no code verifier saved');
        }
        return this.verifier;
    }

    async redirectToAuthorization(url) {
        this.called('redirectToAuthorization');
        this.authorizationUrl = url;
        this.code = await actAsUser(url, this);
    }

    // what discovery found: the issuer the callback's iss must name
    saveDiscoveryState(state) {
        this.called('saveDiscoveryState');
        this.discovery = state;
    }

    invalidateCredentials(scope) {
        this.called(`invalidateCredentials(${scope})`);
        if (scope === 'all' || scope === 'client') {
            this.client = undefined;
        }
        if (scope === 'all' || scope === 'tokens') {
            this.saved = undefined;
        }
        if (scope === 'all' || scope === 'verifier') {
            this.verifier = undefined;
        }
    }
}

function recordingFetch(label) {
    return async (url, init = {}) => {
        const entry = { transport: label, method: (init.method || 'GET').toUpperCase(),
                        url: shown(url), status: null };
        summary.http.push(entry);
        try {
            const res = await fetch(url, init);
            entry.status = res.status;
            return res;
        } catch (err) {
            entry.error = String(err && err.message || err);
            throw err;
        }
    };
}

function transport(provider, label) {
    return new StreamableHTTPClientTransport(opt.url, {
        authProvider: provider,
        fetch: recordingFetch(label),
    });
}

function newClient() {
    return new Client({ name: 'ttai-sdk-oauth', version: '1.0.0' }, { capabilities: {} });
}

async function main() {
    const reqOpts = { timeout: opt.timeout };
    const provider = new Provider();

    // -- the first connect: the SDK discovers, registers and sends the user ----

    const first = transport(provider, 'first');
    let refused;
    try {
        await newClient().connect(first, reqOpts);
        refused = { error: 'none: connected without signing in' };
    } catch (err) {
        refused = err instanceof UnauthorizedError ? 'UnauthorizedError' : describe(err);
    }
    await first.close().catch(() => {});
    const { client_secret: secret, ...registered } = provider.client ?? {};
    summary.client = provider.client ? { ...registered,
                                         client_secret: secret ? '(issued)' : undefined }
                                     : null;
    check('the SDK registered a client (RFC 7591)',
          provider.client && typeof provider.client.client_id === 'string',
          summary.http.filter((h) => h.method === 'POST'));
    check('the first connect rejects with UnauthorizedError once the user is sent'
          + ' to authorize', refused === 'UnauthorizedError', refused);
    if (!check('the user approved and the code reached the redirect URI',
               typeof provider.code === 'string' && provider.code !== '',
               provider.authorizationUrl ? shown(provider.authorizationUrl)
                                         : 'redirectToAuthorization was not called')) {
        return;
    }

    // -- the code for tokens ------------------------------------------------------

    try {
        await first.finishAuth(provider.code);
    } catch (err) {
        check('finishAuth exchanges the code for tokens', false, describe(err));
        return;
    }
    const tokens = provider.saved ?? {};
    const claims = jwtClaims(tokens.access_token ?? '');
    summary.tokens = { fields: Object.keys(tokens), token_type: tokens.token_type,
                       expires_in: tokens.expires_in, scope: tokens.scope, claims };
    if (!check('finishAuth exchanges the code for tokens: a JWT and a refresh token',
               claims && typeof claims.sub === 'string'
               && typeof tokens.refresh_token === 'string' && tokens.refresh_token !== '',
               summary.tokens)) {
        return;
    }
    check('expires_in is 3600', tokens.expires_in === 3600, tokens.expires_in);
    summary.sub = claims.sub;

    // -- connect again, signed in ----------------------------------------------------

    const second = transport(provider, 'second');
    const client = newClient();
    try {
        await client.connect(second, reqOpts);
        check('connect with the tokens', true);
    } catch (err) {
        check('connect with the tokens', false, describe(err));
        return;
    }
    try {
        const tools = [];
        let cursor;
        let pages = 0;
        do {
            const page = await client.listTools(cursor ? { cursor } : {}, reqOpts);
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
        const res = await client.callTool({ name: 'get_accounts', arguments: {} }, undefined,
                                          { timeout: Math.max(opt.timeout, 30000) });
        summary.accounts = res.structuredContent ?? null;
        check('tools/call get_accounts is not isError', res.isError !== true,
              res.isError ? res.content : undefined);
    } catch (err) {
        check('tools/call get_accounts is not isError', false, describe(err));
    }
    await second.terminateSession().catch(() => {});
    await client.close();

    // -- an access token the server refuses: the SDK refreshes by itself ---------

    const oldRefresh = tokens.refresh_token;
    provider.saved = { ...tokens, access_token: 'not-a-token' };
    const third = transport(provider, 'third');
    const again = newClient();
    try {
        await again.connect(third, reqOpts);
        const list = await again.listTools({}, reqOpts);
        check('with a refused access token the SDK refreshes and connects',
              list.tools.some((t) => t.name === 'get_accounts'));
    } catch (err) {
        check('with a refused access token the SDK refreshes and connects', false,
              describe(err));
    }
    const now = provider.saved ?? {};
    const nowClaims = jwtClaims(now.access_token ?? '');
    summary.refreshed = { fields: Object.keys(now), expires_in: now.expires_in,
                          claims: nowClaims };
    check('the refresh gave a new JWT for the same sub and a new refresh token',
          nowClaims && nowClaims.sub === claims.sub
          && typeof now.refresh_token === 'string' && now.refresh_token !== oldRefresh,
          { sub: nowClaims && nowClaims.sub,
            rotated: now.refresh_token !== oldRefresh });
    check('without sending the user to authorize again',
          summary.providerCalls.filter((c) => c === 'redirectToAuthorization').length === 1,
          summary.providerCalls);
    await third.terminateSession().catch(() => {});
    await again.close();
}

const watchdog = setTimeout(() => {
    check('finished in time', false, 'still running after 120 s');
    finish();
}, 120000);

function finish() {
    clearTimeout(watchdog);
    summary.ok = summary.checks.length > 0 && summary.checks.every((c) => c.ok);
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    for (const c of summary.checks.filter((c) => !c.ok)) {
        console.error(`sdk-oauth: FAILED: ${c.name}: ${JSON.stringify(c.detail)}`);
    }
    process.exit(summary.ok ? 0 : 1);
}

main().then(finish, (err) => {
    check('no unexpected exception', false, describe(err));
    finish();
});
