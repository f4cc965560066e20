#!/usr/bin/env node
// End-to-end check of /mcp with the official MCP TypeScript SDK 2.x
// client (@modelcontextprotocol/client), which speaks the stateless
// revision 2026-07-28 and falls back to 2025-11-25.
//
//   node t/e2e/sdk2-client.mjs --url http://localhost:8787/mcp \
//       --token "$(build/ttai token)" [--ask TOOL]
//
// With negotiation "auto": the probe (server/discover) must choose
// 2026-07-28; then discover, tools/list and tools/call get_session_info.
// With --ask TOOL (a tool that asks the user, as the conformance
// fixtures' test_input_required_result_request_state does): one call per
// answer the user can give, accept, decline and cancel, through the
// client's elicitation handler and its automatic retry.  Then a client
// pinned to the 2025 era must still connect the old way.  Prints one JSON
// summary and exits 0 when every check passed, 1 when one failed, 2 on a
// usage error.

import { Client, StreamableHTTPClientTransport }
    from '@modelcontextprotocol/client';

const USAGE = `Usage: node t/e2e/sdk2-client.mjs [--url URL] [--token JWT] [--ask TOOL]

  --url URL      the MCP endpoint (default: $MCP_URL, else http://localhost:8787/mcp)
  --token JWT    the Bearer token (default: $MCP_TOKEN), e.g. from build/ttai token
  --ask TOOL     a tool that asks the user to confirm, for the elicitation checks
  --timeout MS   per request (default: 10000)

Prints a JSON summary; exits 0 when every check passed, 1 otherwise.`;

function usageError(msg) {
    console.error(`sdk2-client: ${msg}\n\n${USAGE}`);
    process.exit(2);
}

function parseArgs(argv) {
    const opt = {
        url: process.env.MCP_URL || 'http://localhost:8787/mcp',
        token: process.env.MCP_TOKEN || '',
        ask: null,
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
        case '--ask': opt.ask = value(); break;
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

const opt = parseArgs(process.argv.slice(2));
const summary = { ok: false, url: opt.url.href, http: [], checks: [] };

function check(name, ok, detail) {
    const c = { name, ok: Boolean(ok) };
    if (detail !== undefined) {
        c.detail = detail;
    }
    summary.checks.push(c);
    return c.ok;
}

function describe(err) {
    return { error: (err && err.name) || 'Error', code: err && err.code,
             message: String((err && err.message) || err) };
}

// fetch that records what went on the wire: method, headers, statuses
function recordingFetch(label) {
    return async (url, init = {}) => {
        const sent = new Headers(init.headers);
        let body;
        try {
            body = JSON.parse(init.body);
        } catch {
            body = undefined;
        }
        const entry = {
            client: label,
            method: (init.method || 'GET').toUpperCase(),
            rpc: body && body.method,
            protocol: sent.get('mcp-protocol-version') ?? undefined,
            mcpMethod: sent.get('mcp-method') ?? undefined,
            session: sent.get('mcp-session-id') ?? undefined,
            inputResponses: body && body.params && body.params.inputResponses
                            ? Object.keys(body.params.inputResponses) : undefined,
            status: null,
        };
        summary.http.push(entry);
        const res = await fetch(url, init);
        entry.status = res.status;
        entry.sessionReceived = res.headers.get('mcp-session-id') ?? undefined;
        return res;
    };
}

function connectOptions(label) {
    return {
        fetch: recordingFetch(label),
        requestInit: { headers: { Authorization: `Bearer ${opt.token}` } },
    };
}

function textOf(result) {
    const t = (result && result.content || []).find((c) => c.type === 'text');
    return t ? t.text : '';
}

async function modern() {
    const answers = [];
    const client = new Client({ name: 'ttai-e2e-sdk2', version: '1.0.0' }, {
        capabilities: { elicitation: {} },
        versionNegotiation: { mode: 'auto' },
    });
    client.setRequestHandler('elicitation/create', async (request) => {
        const action = answers.shift() || 'cancel';
        summary.elicited = (summary.elicited || 0) + 1;
        summary.lastQuestion = request.params.message;
        return action === 'accept'
            ? { action, content: { ok: true } }
            : { action };
    });

    await client.connect(new StreamableHTTPClientTransport(opt.url,
                             connectOptions('modern')),
                         { timeout: opt.timeout });
    const version = client.getNegotiatedProtocolVersion();
    check('auto negotiation chooses 2026-07-28', version === '2026-07-28',
          version);

    const probe = summary.http.find((e) => e.rpc === 'server/discover');
    check('the client probed with server/discover, and got 200',
          probe && probe.status === 200, probe);

    const d = await client.discover({ timeout: opt.timeout });
    check('discover names 2026-07-28',
          (d.supportedVersions || []).includes('2026-07-28'),
          d.supportedVersions);
    check('discover offers tools', Boolean(d.capabilities && d.capabilities.tools));

    const list = await client.listTools(undefined, { timeout: opt.timeout });
    const names = (list.tools || []).map((t) => t.name);
    summary.tools = names;
    check('tools/list lists get_session_info', names.includes('get_session_info'));

    const info = await client.callTool({ name: 'get_session_info', arguments: {} },
                                       { timeout: opt.timeout });
    check('get_session_info answers', !info.isError, textOf(info));

    const sent = summary.http.filter((e) => e.client === 'modern'
                                           && e.method === 'POST');
    check('every request carried the revision\'s headers',
          sent.length > 0 && sent.every((e) => e.protocol === '2026-07-28'
                                              && e.mcpMethod),
          sent.map((e) => [e.rpc, e.protocol, e.mcpMethod]));
    check('and no session was made or sent',
          sent.every((e) => !e.session && !e.sessionReceived));

    if (opt.ask) {
        for (const action of ['accept', 'decline', 'cancel']) {
            answers.push(action);
            const before = summary.http.length;
            const r = await client.callTool({ name: opt.ask, arguments: {} },
                                            { timeout: opt.timeout });
            const rounds = summary.http.slice(before)
                .filter((e) => e.rpc === 'tools/call');
            summary[action] = textOf(r);
            check(`${action}: the call took two rounds, the second with the answer`,
                  rounds.length === 2 && rounds[1].inputResponses
                  && rounds[1].inputResponses.length === 1,
                  rounds.map((e) => e.inputResponses));
            check(`${action}: the tool saw the user's answer`,
                  textOf(r).includes(`(${action}`), textOf(r));
        }
        check('the handler was asked three times', summary.elicited === 3,
              summary.elicited);
    }

    await client.close();
}

async function legacy() {
    const client = new Client({ name: 'ttai-e2e-sdk2-legacy', version: '1.0.0' },
                              { capabilities: {} });
    await client.connect(new StreamableHTTPClientTransport(opt.url,
                             connectOptions('legacy')),
                         { timeout: opt.timeout });
    const version = client.getNegotiatedProtocolVersion();
    check('a client in legacy mode negotiates 2025-11-25',
          version === '2025-11-25', version);
    const init = summary.http.find((e) => e.client === 'legacy'
                                         && e.rpc === 'initialize');
    check('with initialize and a session', init && init.sessionReceived, init);
    const list = await client.listTools(undefined, { timeout: opt.timeout });
    check('its tools/list works', (list.tools || []).length > 0);
    await client.close();
}

try {
    await modern();
    await legacy();
} catch (err) {
    check('no exception', false, describe(err));
}

summary.ok = summary.checks.length > 0 && summary.checks.every((c) => c.ok);
console.log(JSON.stringify(summary, null, 2));
process.exit(summary.ok ? 0 : 1);
