#!/usr/bin/env node
// End-to-end check of /mcp with the official MCP TypeScript SDK client.
//
//   node t/e2e/sdk-client.mjs --url http://localhost:8787/mcp --token "$(build/ttai token)"
//   MCP_URL=... MCP_TOKEN=... node t/e2e/sdk-client.mjs
//
// Runs initialize, tools/list, ping, tools/call get_session_info and
// DELETE (terminateSession) as a real client does, checks each answer,
// then checks that the ended session is gone (404) and that a client
// without a token is refused (401).  Prints one JSON summary on stdout
// and exits 0 when every check passed, 1 when one failed, 2 on a usage
// error.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport }
    from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { checker, describe, jwtParts } from './lib/report.mjs';

const USAGE = `Usage: node t/e2e/sdk-client.mjs [--url URL] [--token JWT] [--timeout MS]

  --url URL      the MCP endpoint (default: $MCP_URL, else http://localhost:8787/mcp)
  --token JWT    the Bearer token (default: $MCP_TOKEN), e.g. from build/ttai token
  --timeout MS   per request (default: 10000)

Prints a JSON summary; exits 0 when every check passed, 1 otherwise.`;

function parseArgs(argv) {
    const opt = {
        url: process.env.MCP_URL || 'http://localhost:8787/mcp',
        token: process.env.MCP_TOKEN || '',
        timeout: 10000,
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
        case '--token': opt.token = value(); break;
        case '--timeout': opt.timeout = Number(value()); break;
        default: usageError(`unknown argument ${a}`);
        }
    }
    if (!opt.token) {
        usageError('no token: pass --token or set MCP_TOKEN');
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
    console.error(`sdk-client: ${msg}\n\n${USAGE}`);
    process.exit(2);
}

// the claims of a JWT, without verifying it: the test only needs "sub"
function jwtClaims(token) {
    const parts = jwtParts(token);
    if (parts === null) {
        throw new Error('the token is not a JWT (three dot-separated parts)');
    }
    return parts.claims;
}

const opt = parseArgs(process.argv.slice(2));

const summary = {
    ok: false,
    url: opt.url.href,
    server: null,
    protocolVersion: null,
    sessionId: null,
    tools: [],
    sessionInfo: null,
    http: [],            // every HTTP exchange: method, status, session header
    transportErrors: [], // what the transport reported through onerror
    checks: [],
};

const check = checker(summary);

// fetch that records each exchange, so the checks can look at statuses
// the SDK would otherwise hide (the GET it tries after initialize, the
// DELETE's status)
function recordingFetch(label) {
    return async (url, init = {}) => {
        const method = (init.method || 'GET').toUpperCase();
        const sent = new Headers(init.headers);
        let body;
        if (typeof init.body === 'string') {
            try {
                body = JSON.parse(init.body);
            } catch {
                body = undefined;
            }
        }
        const entry = {
            client: label,
            method,
            rpc: body && !Array.isArray(body) ? body.method ?? 'response' : undefined,
            sessionSent: sent.get('mcp-session-id') ?? undefined,
            protocolSent: sent.get('mcp-protocol-version') ?? undefined,
            status: null,
        };
        summary.http.push(entry);
        try {
            const res = await fetch(url, init);
            entry.status = res.status;
            entry.contentType = res.headers.get('content-type') ?? undefined;
            const sid = res.headers.get('mcp-session-id');
            if (sid) {
                entry.sessionReceived = sid;
            }
            const challenge = res.headers.get('www-authenticate');
            if (challenge) {
                entry.wwwAuthenticate = challenge;
            }
            const allow = res.headers.get('allow');
            if (allow) {
                entry.allow = allow;
            }
            return res;
        } catch (err) {
            entry.error = String(err && err.message || err);
            throw err;
        }
    };
}

function transport(label, extra = {}) {
    const t = new StreamableHTTPClientTransport(opt.url, {
        fetch: recordingFetch(label),
        ...extra,
    });
    return t;
}

function newClient(label) {
    const c = new Client({ name: `ttai-e2e-${label}`, version: '1.0.0' },
                         { capabilities: {} });
    c.onerror = (err) => summary.transportErrors.push({ client: label,
        closing: Boolean(summary.closing && summary.closing[label]), ...describe(err) });
    return c;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond, ms) {
    const end = Date.now() + ms;
    while (Date.now() < end) {
        if (cond()) {
            return true;
        }
        await sleep(20);
    }
    return cond();
}

async function main() {
    const reqOpts = { timeout: opt.timeout };
    const auth = { headers: { Authorization: `Bearer ${opt.token}` } };

    let sub;
    try {
        sub = jwtClaims(opt.token).sub;
    } catch (err) {
        check('the token has a sub claim', false, String(err.message));
        return;
    }
    check('the token has a sub claim', typeof sub === 'string' && sub !== '', sub);

    // -- the session: initialize, tools/list, ping, tools/call, DELETE ------

    const main = transport('main', { requestInit: auth });
    const client = newClient('main');

    try {
        await client.connect(main, reqOpts);
    } catch (err) {
        check('connect (initialize + notifications/initialized)', false, describe(err));
        return;
    }
    check('connect (initialize + notifications/initialized)', true);

    const info = client.getServerVersion();
    summary.server = info ?? null;
    summary.protocolVersion = main.protocolVersion ?? null;
    summary.sessionId = main.sessionId ?? null;
    check('serverInfo.name is "ttai"', info && info.name === 'ttai', info);
    check('serverInfo.version is set', info && typeof info.version === 'string'
          && info.version !== '', info && info.version);
    check('the server announces the tools capability',
          client.getServerCapabilities()?.tools !== undefined,
          client.getServerCapabilities());
    check('an Mcp-Session-Id was issued at initialize',
          typeof main.sessionId === 'string' && /^[\x21-\x7e]+$/.test(main.sessionId),
          main.sessionId);
    check('the protocol version was negotiated',
          typeof main.protocolVersion === 'string', main.protocolVersion);

    // tools/list, following nextCursor
    const tools = [];
    try {
        let cursor;
        let pages = 0;
        do {
            const page = await client.listTools(cursor ? { cursor } : {}, reqOpts);
            tools.push(...page.tools);
            cursor = page.nextCursor;
        } while (cursor && ++pages < 100);
        check('tools/list', true, `${tools.length} tools`);
    } catch (err) {
        check('tools/list', false, describe(err));
    }
    summary.tools = tools.map((t) => t.name);
    const tool = tools.find((t) => t.name === 'get_session_info');
    check('tools/list has get_session_info', Boolean(tool), summary.tools);
    if (tool) {
        check('get_session_info has an object inputSchema',
              tool.inputSchema && tool.inputSchema.type === 'object', tool.inputSchema);
        check('get_session_info is annotated readOnlyHint: true',
              tool.annotations && tool.annotations.readOnlyHint === true,
              tool.annotations);
    }
    check('every tool has a description and an object inputSchema',
          tools.every((t) => typeof t.description === 'string'
                      && t.inputSchema && t.inputSchema.type === 'object'),
          tools.filter((t) => !(typeof t.description === 'string'
                              && t.inputSchema && t.inputSchema.type === 'object'))
               .map((t) => t.name));

    try {
        const pong = await client.ping(reqOpts);
        check('ping', pong && typeof pong === 'object', pong);
    } catch (err) {
        check('ping', false, describe(err));
    }

    try {
        const res = await client.callTool({ name: 'get_session_info', arguments: {} },
                                          undefined, reqOpts);
        const sc = res.structuredContent;
        summary.sessionInfo = sc ?? null;
        check('tools/call get_session_info is not isError', res.isError !== true,
              res.isError ? res.content : undefined);
        check('the result has a content array', Array.isArray(res.content)
              && res.content.length > 0, res.content);
        check('structuredContent.user.sub is the token\'s sub',
              sc && sc.user && sc.user.sub === sub,
              { expected: sub, got: sc && sc.user && sc.user.sub });
        check('structuredContent.session.id is the transport\'s session id',
              sc && sc.session && sc.session.id === main.sessionId,
              { expected: main.sessionId, got: sc && sc.session && sc.session.id });
    } catch (err) {
        check('tools/call get_session_info', false, describe(err));
    }

    // the GET for a server-to-client stream that the SDK opens after
    // notifications/initialized: the session's event stream
    await waitFor(() => summary.http.some((h) => h.client === 'main'
                                          && h.method === 'GET' && h.status), 2000);
    const get = summary.http.find((h) => h.client === 'main' && h.method === 'GET');
    check('GET /mcp opens the session\'s event stream',
          get && get.status === 200 && /^text\/event-stream/.test(get.contentType || ''),
          get && { status: get.status, contentType: get.contentType });

    check('every request after initialize sent the session id and protocol version',
          summary.http.filter((h) => h.client === 'main' && h.rpc !== 'initialize')
              .every((h) => h.sessionSent === main.sessionId && h.protocolSent),
          summary.http.filter((h) => h.client === 'main')
              .map((h) => ({ method: h.method, rpc: h.rpc, session: h.sessionSent,
                             protocol: h.protocolSent })));

    const oldSession = main.sessionId;
    // from here the client ends its own event stream: the SDK reports
    // the abort of its GET, which is then no server's doing
    summary.closing = { main: true };
    try {
        await main.terminateSession();
        const del = summary.http.find((h) => h.client === 'main' && h.method === 'DELETE');
        check('DELETE ends the session with a 2xx',
              del && del.status >= 200 && del.status < 300, del && del.status);
    } catch (err) {
        check('DELETE ends the session with a 2xx', false, describe(err));
    }
    await client.close();

    // -- the ended session is gone: 404 ------------------------------------

    if (oldSession) {
        const again = transport('ended-session', { requestInit: auth, sessionId: oldSession });
        const c2 = newClient('ended-session');
        let outcome;
        try {
            await c2.connect(again, reqOpts); // with a session id: no initialize
            await c2.ping(reqOpts);
            outcome = { error: 'none: the request succeeded' };
        } catch (err) {
            outcome = describe(err);
        }
        check('a request on the ended session fails with 404',
              outcome.error === 'StreamableHTTPError' && outcome.code === 404, outcome);
        await c2.close();
    }

    // -- no token: 401 -------------------------------------------------------

    const anon = transport('no-token');
    const c3 = newClient('no-token');
    let refused;
    try {
        await c3.connect(anon, reqOpts);
        refused = { error: 'none: connect succeeded without a token' };
    } catch (err) {
        refused = describe(err);
    }
    check('without a token, connect rejects with a 401 StreamableHTTPError',
          refused.error === 'StreamableHTTPError' && refused.code === 401, refused);
    const challenge = summary.http.find((h) => h.client === 'no-token' && h.status === 401);
    check('the 401 carries a Bearer WWW-Authenticate challenge',
          challenge && /^Bearer\b/.test(challenge.wwwAuthenticate ?? ''),
          challenge && challenge.wwwAuthenticate);
    await c3.close();

    // -- OAuth discovery (RFC 9728), as a client follows it after a 401 ------

    const challengeText = challenge && challenge.wwwAuthenticate || '';
    const pointed = /resource_metadata="([^"]*)"/.exec(challengeText);
    const wellKnown = [
        ['the 401\'s resource_metadata', pointed && pointed[1]],
        ['the path-inserted well-known URL',
         new URL(`/.well-known/oauth-protected-resource${opt.url.pathname}`, opt.url).href],
        ['the root well-known URL',
         new URL('/.well-known/oauth-protected-resource', opt.url).href],
    ];
    summary.metadata = {};
    for (const [what, where] of wellKnown) {
        if (!where) {
            summary.metadata[what] = 'absent';
            continue;
        }
        let res;
        try {
            res = await fetch(where, { signal: AbortSignal.timeout(opt.timeout) });
        } catch (err) {
            check(`${what} answers`, false, { url: where, ...describe(err) });
            continue;
        }
        if (res.status === 404) {
            summary.metadata[what] = 'absent'; // not configured: nothing to check
            await res.body?.cancel();
            continue;
        }
        let doc;
        try {
            doc = await res.json();
        } catch {
            doc = null;
        }
        summary.metadata[what] = { url: where, status: res.status, document: doc };
        check(`${what} serves protected-resource metadata for this URL`,
              res.status === 200 && doc && doc.resource === opt.url.href
              && Array.isArray(doc.authorization_servers)
              && doc.authorization_servers.length > 0,
              { url: where, status: res.status, document: doc, expected: opt.url.href });
    }

    // only the expected errors were reported by the transport
    const unexpected = summary.transportErrors.filter(
        (e) => !(e.client === 'ended-session' && e.code === 404)
            && !(e.client === 'no-token' && e.code === 401)
            && !(e.closing && /SSE stream disconnected: AbortError/.test(e.message)));
    check('the transport reported no other error', unexpected.length === 0, unexpected);
}

const watchdog = setTimeout(() => {
    check('finished in time', false, 'still running after 60 s');
    finish();
}, 60000);

function finish() {
    clearTimeout(watchdog);
    summary.ok = summary.checks.length > 0 && summary.checks.every((c) => c.ok);
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    for (const c of summary.checks.filter((c) => !c.ok)) {
        console.error(`sdk-client: FAILED: ${c.name}: ${JSON.stringify(c.detail)}`);
    }
    process.exit(summary.ok ? 0 : 1);
}

main().then(finish, (err) => {
    check('no unexpected exception', false, describe(err));
    finish();
});
