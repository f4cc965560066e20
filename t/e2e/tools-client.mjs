#!/usr/bin/env node
// Calls ttai's tools with the official MCP TypeScript SDK client, as an
// assistant would: initialize, tools/list, then one tools/call per line
// of a calls file, and DELETE.  Prints one JSON object on stdout:
//
//   {"tools":[<tools/list entries>],
//    "calls":[{"name","arguments","isError","text","structured","error"}]}
//
//   node t/e2e/tools-client.mjs --url URL --token JWT --calls FILE
//
// FILE holds a JSON array of {"name":..., "arguments":{...}}.  Checking
// the results is the caller's business (t/081-tools-e2e.t); this exits 0
// when every call got an answer (a tool error is an answer), 1 when the
// transport failed, 2 on a usage error.

import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport }
    from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const USAGE = `Usage: node t/e2e/tools-client.mjs --url URL --token JWT --calls FILE [--timeout MS]`;

function parseArgs(argv) {
    const opt = { url: '', token: process.env.MCP_TOKEN || '', calls: '',
                  timeout: 30000 };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) {
                usage(`${a} needs a value`);
            }
            return argv[++i];
        };
        switch (a) {
        case '-h':
        case '--help': console.log(USAGE); process.exit(0); break;
        case '--url': opt.url = value(); break;
        case '--token': opt.token = value(); break;
        case '--calls': opt.calls = value(); break;
        case '--timeout': opt.timeout = Number(value()); break;
        default: usage(`unknown argument ${a}`);
        }
    }
    if (!opt.url || !opt.token || !opt.calls) {
        usage('--url, --token and --calls are needed');
    }
    return opt;
}

function usage(msg) {
    console.error(`tools-client: ${msg}\n${USAGE}`);
    process.exit(2);
}

const opt = parseArgs(process.argv.slice(2));
const calls = JSON.parse(readFileSync(opt.calls, 'utf8'));

const transport = new StreamableHTTPClientTransport(new URL(opt.url), {
    requestInit: { headers: { Authorization: `Bearer ${opt.token}` } },
});
const client = new Client({ name: 'ttai-tools-e2e', version: '1.0.0' });
const out = { tools: [], calls: [] };

try {
    await client.connect(transport);

    let cursor;
    do {
        const page = await client.listTools(cursor ? { cursor } : {},
                                            { timeout: opt.timeout });
        out.tools.push(...page.tools);
        cursor = page.nextCursor;
    } while (cursor);

    for (const c of calls) {
        const rec = { name: c.name, arguments: c.arguments };
        try {
            // the SDK checks structuredContent against the outputSchema
            // that tools/list gave, as a strict client does
            const r = await client.callTool(
                { name: c.name, arguments: c.arguments }, undefined,
                { timeout: opt.timeout });
            rec.isError = r.isError === true;
            rec.text = (r.content || []).filter((x) => x.type === 'text')
                .map((x) => x.text).join('\n');
            rec.structured = r.structuredContent ?? null;
        } catch (e) {
            rec.error = String(e && e.message ? e.message : e);
        }
        out.calls.push(rec);
    }

    await transport.terminateSession();
    await client.close();
} catch (e) {
    out.fatal = String(e && e.message ? e.message : e);
    console.log(JSON.stringify(out, null, 1));
    process.exit(1);
}

console.log(JSON.stringify(out, null, 1));
