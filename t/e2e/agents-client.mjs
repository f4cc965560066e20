#!/usr/bin/env node
// The agents through an MCP client, with the official MCP TypeScript SDK
// 2.x client (@modelcontextprotocol/client): analyze_portfolio answers
// with progress notifications on the way, having read the account with
// ttai's tools and asked the model (the mock's, on a machine with no
// key); save_note keeps a journal entry and search_notes finds it first
// by meaning, quoted as data.  Then analyze_portfolio as a task (the
// 2026-07-28 tasks extension), through the SDK's transport: the SDK's
// Client has no tasks runtime ("Task methods are 2025-11-25 wire
// vocabulary with no SDK runtime") and refuses tasks/get toward a
// 2026-07-28 server, so the requests go through the transport it uses,
// which sends the same headers: polled with tasks/get to completion, and
// in a second run cancelled with tasks/cancel while it waits to try an
// overloaded model again (with --mock, whose /mock/llm-fault makes it so).
//
//   node t/e2e/agents-client.mjs --url http://localhost:8787/mcp \
//       --token "$(build/ttai token)" [--mock http://127.0.0.1:8789]
//
// Prints one JSON summary; exits 0 when every check passed, 1 when one
// failed, 2 on a usage error.

import { Client, StreamableHTTPClientTransport }
    from '@modelcontextprotocol/client';

import { parseArgs } from './lib/args.mjs';
import { checker, describe } from './lib/report.mjs';

const USAGE = `Usage: node t/e2e/agents-client.mjs [--url URL] [--token JWT] [--mock URL]

  --url URL     the MCP endpoint (default: $MCP_URL, else http://localhost:8787/mcp)
  --token JWT   the Bearer token (default: $MCP_TOKEN), e.g. from build/ttai token
  --mock URL    the mock server, whose LLM faults hold a task for its cancel

Prints a JSON summary; exits 0 when every check passed, 1 otherwise.`;

const opt = parseArgs(process.argv.slice(2), {
    name: 'agents-client',
    usage: USAGE,
    options: { '--url': 'url', '--token': 'token', '--mock': 'mock' },
    defaults: { url: process.env.MCP_URL || 'http://localhost:8787/mcp',
                token: process.env.MCP_TOKEN || '', mock: '' },
    check: (o) => (!o.token ? 'no token: pass --token or set MCP_TOKEN'
                   : undefined),
});
const summary = { ok: false, url: opt.url.href, checks: [] };
const check = checker(summary);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const TASKS = 'io.modelcontextprotocol/tasks';

// JSON-RPC over the SDK's transport, each request in the 2026-07-28
// envelope, the tasks extension declared
function taskChannel() {
    const transport = new StreamableHTTPClientTransport(opt.url, {
        requestInit: { headers: { Authorization: `Bearer ${opt.token}` } },
    });
    const waiting = new Map();
    let id = 0;
    transport.onmessage = (m) => {
        if (m.id !== undefined && waiting.has(m.id)) {
            waiting.get(m.id)(m);
            waiting.delete(m.id);
        }
    };
    return {
        start: () => transport.start(),
        close: () => transport.close(),
        request(method, params) {
            const mid = ++id;
            const answered = new Promise((resolve) => waiting.set(mid, resolve));
            return transport.send({
                jsonrpc: '2.0', id: mid, method,
                params: { ...params, _meta: {
                    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
                    'io.modelcontextprotocol/clientCapabilities':
                        { extensions: { [TASKS]: {} } },
                    'io.modelcontextprotocol/clientInfo':
                        { name: 'ttai-e2e-agents', version: '1.0.0' } } },
            }).then(() => answered);
        },
    };
}

async function llmFault(body) {
    const res = await fetch(new URL('/mock/llm-fault', opt.mock), {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body) });
    return res.status;
}

async function tasks() {
    const ch = taskChannel();
    await ch.start();

    const made = await ch.request('tools/call',
                                  { name: 'analyze_portfolio', arguments: {} });
    const task = (made.result || {}).taskId;
    check('analyze_portfolio becomes a task', (made.result || {}).resultType
          === 'task' && /^[0-9a-f]{32}$/.test(task || ''), made);

    let got = {};
    const said = [];
    for (let i = 0; i < 100; i++) {
        got = (await ch.request('tasks/get', { taskId: task })).result || {};
        if (got.statusMessage) {
            said.push(got.statusMessage);
        }
        if (['completed', 'failed', 'cancelled'].includes(got.status)) {
            break;
        }
        await sleep(200);
    }
    summary.task = { status: got.status, said };
    check('tasks/get polls it to completion, with its analysis',
          got.status === 'completed'
          && /analyze_portfolio by mock\//.test(
              ((got.result || {}).content || [])[0]?.text || ''), got);

    if (opt.mock) {
        check('the mock holds the model overloaded a while',
              await llmFault({ status: 529, count: 3 }) === 200);
        const second = await ch.request('tools/call',
            { name: 'analyze_portfolio', arguments: {} });
        const id2 = (second.result || {}).taskId;
        let st = {};
        for (let i = 0; i < 50; i++) {
            st = (await ch.request('tasks/get', { taskId: id2 })).result || {};
            if (/the model answered/.test(st.statusMessage || '')) {
                break;
            }
            await sleep(100);
        }
        check('a second run waits to try the model again',
              st.status === 'working', st);
        const cancelled = await ch.request('tasks/cancel', { taskId: id2 });
        check('tasks/cancel is answered', !!cancelled.result, cancelled);
        await sleep(3500);
        st = (await ch.request('tasks/get', { taskId: id2 })).result || {};
        check('and the task stays cancelled', st.status === 'cancelled', st);
        await llmFault({ count: 0 });
    }

    await ch.close();
}

async function run() {
    const client = new Client({ name: 'ttai-e2e-agents', version: '1.0.0' }, {
        capabilities: {},
        versionNegotiation: { mode: 'auto' },
    });

    await client.connect(new StreamableHTTPClientTransport(opt.url, {
        requestInit: { headers: { Authorization: `Bearer ${opt.token}` } },
    }), { timeout: 10000 });

    const listed = await client.listTools();
    const names = listed.tools.map((t) => t.name);
    check('tools/list has analyze_portfolio, save_note and search_notes',
          ['analyze_portfolio', 'save_note', 'search_notes']
              .every((n) => names.includes(n)), names);

    const progress = [];
    const r = await client.callTool(
        { name: 'analyze_portfolio', arguments: { focus: 'delta and theta' } },
        { timeout: 60000, resetTimeoutOnProgress: true,
          onprogress: (p) => progress.push(p) });
    const sc = r.structuredContent || {};
    summary.analysis = (r.content || [])[0]?.text;
    summary.progress = progress;
    check('analyze_portfolio answers', !r.isError && summary.analysis, r);
    check('having read the balances and the positions',
          (sc.data || []).includes('balances')
          && (sc.data || []).includes('positions'), sc.data);
    check('the model (the mock\'s, with no key) called a read-only tool',
          /^mock\//.test(sc.model || '') && (sc.tools_called || []).length > 0,
          { model: sc.model, tools: sc.tools_called });
    check('progress came before the answer, growing',
          progress.length >= 1
          && progress.every((p, i) => i === 0
                            || p.progress > progress[i - 1].progress),
          progress);

    // a tag of this run's: the notes of earlier runs stay out of it
    const tag = `e2e-${Date.now()}`;
    const saved = await client.callTool(
        { name: 'save_note',
          arguments: { text: 'Sold the SPY 30-delta put for 1.20 after '
                             + 'earnings, IV rank high.',
                       tags: ['spy', tag] } }, { timeout: 15000 });
    check('save_note saves', !saved.isError
          && /^Saved note note-/.test((saved.content || [])[0]?.text || ''),
          saved);
    await client.callTool(
        { name: 'save_note',
          arguments: { text: 'Rolled the AAPL covered call before the '
                             + 'dividend.', tags: ['aapl', tag] } },
        { timeout: 15000 });

    const found = await client.callTool(
        { name: 'search_notes',
          arguments: { query: 'SPY put after earnings',
                       filters: { tags: [tag] } } }, { timeout: 15000 });
    const matches = (found.structuredContent || {}).matches || [];
    summary.matches = matches;
    check('search_notes finds the SPY note first',
          !found.isError && matches.length === 2
          && /SPY 30-delta put/.test(matches[0].text)
          && matches[0].score > matches[1].score, matches);
    check('the notes\' text comes quoted, as data',
          (found._meta || {})['ttai/untrusted-text'] === true, found._meta);

    await client.close();
    await tasks();
}

try {
    await run();
} catch (err) {
    check('no exception', false, describe(err));
}

summary.ok = summary.checks.length > 0 && summary.checks.every((c) => c.ok);
console.log(JSON.stringify(summary, null, 2));
process.exit(summary.ok ? 0 : 1);
