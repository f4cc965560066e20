#!/usr/bin/env node
// Live greeks through an MCP client, with the official MCP TypeScript
// SDK 2.x client (@modelcontextprotocol/client): get_position_greeks
// shows the account's greeks, get_greeks those of its options, the
// values are in range (|delta| <= 1 a contract, gamma and vega >= 0,
// calls' delta >= 0, puts' <= 0, IV > 0) and agree between the two
// tools, and a second look a few seconds later finds them moved (the
// mock's prices move, and the stream with them).
//
//   node t/e2e/greeks-client.mjs --url http://localhost:8787/mcp \
//       --token "$(build/ttai token)" [--again 4000]
//
// Prints one JSON summary; exits 0 when every check passed, 1 when one
// failed, 2 on a usage error.

import { Client, StreamableHTTPClientTransport }
    from '@modelcontextprotocol/client';

import { parseArgs } from './lib/args.mjs';
import { checker, describe } from './lib/report.mjs';

const USAGE = `Usage: node t/e2e/greeks-client.mjs [--url URL] [--token JWT] [--again MS]

  --url URL     the MCP endpoint (default: $MCP_URL, else http://localhost:8787/mcp)
  --token JWT   the Bearer token (default: $MCP_TOKEN), e.g. from build/ttai token
  --again MS    how long to wait before the second look (default: 4000)

Prints a JSON summary; exits 0 when every check passed, 1 otherwise.`;

const opt = parseArgs(process.argv.slice(2), {
    name: 'greeks-client',
    usage: USAGE,
    options: { '--url': 'url', '--token': 'token',
               '--again': ['again', Number] },
    defaults: { url: process.env.MCP_URL || 'http://localhost:8787/mcp',
                token: process.env.MCP_TOKEN || '', again: 4000 },
    check: (o) => (!o.token ? 'no token: pass --token or set MCP_TOKEN'
                   : !(o.again >= 0) ? '--again is milliseconds' : undefined),
});
const summary = { ok: false, url: opt.url.href, checks: [] };
const check = checker(summary);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// close enough, for values read a moment apart
const near = (a, b, rel) => Math.abs(a - b) <= Math.max(0.5, rel * Math.abs(b));

async function call(client, name, args) {
    const r = await client.callTool({ name, arguments: args },
                                    { timeout: 15000 });
    return r;
}

async function run() {
    const client = new Client({ name: 'ttai-e2e-greeks', version: '1.0.0' }, {
        capabilities: {},
        versionNegotiation: { mode: 'auto' },
    });

    await client.connect(new StreamableHTTPClientTransport(opt.url, {
        requestInit: { headers: { Authorization: `Bearer ${opt.token}` } },
    }), { timeout: 10000 });

    const listed = await client.listTools();
    const names = listed.tools.map((t) => t.name);
    check('tools/list has get_greeks and get_position_greeks',
          names.includes('get_greeks') && names.includes('get_position_greeks'),
          names);

    const pg = await call(client, 'get_position_greeks', {});
    const first = pg.structuredContent || {};
    summary.first = first;
    summary.text = (pg.content || [])[0]?.text;
    check('get_position_greeks answers', !pg.isError && first.total, pg);

    const positions = await call(client, 'get_positions', {});
    const options = ((positions.structuredContent || {}).positions || [])
        .filter((p) => p.instrument_type === 'Equity Option');
    check('the account holds options', options.length > 0, positions);

    const g = await call(client, 'get_greeks',
                         { symbols: options.map((p) => p.symbol) });
    const greeks = (g.structuredContent || {}).greeks || [];
    summary.greeks = greeks;
    check('get_greeks answers for every option',
          !g.isError && greeks.length === options.length, g);

    for (const x of greeks) {
        const call_ = /\d{6}C/.test(x.symbol);
        check(`${x.symbol}: values in range`,
              Math.abs(x.delta) <= 1 && x.gamma >= 0 && x.vega >= 0
              && x.iv > 0 && x.theo_price >= 0
              && (call_ ? x.delta >= 0 && x.theta <= 0.01 : x.delta <= 0)
              && x.age_seconds < 10, x);

        const p = options.find((o) => o.symbol === x.symbol);
        const row = (first.positions || []).find((o) => o.symbol === x.symbol);
        const mult = p.multiplier || 100;
        check(`${x.symbol}: the position's delta is quantity x multiplier x `
              + 'the option\'s', row && near(row.delta,
                                             p.quantity * mult * x.delta,
                                             0.05),
              { row, option: x, quantity: p.quantity });
    }

    const sum = (first.positions || []).reduce((s, p) => s + p.delta, 0);
    check('the total delta is the sum of the positions\'',
          near(first.total.delta, sum, 0.001), { total: first.total, sum });
    check('a beta-weighted delta is given',
          typeof first.total.beta_weighted_delta === 'number', first.total);

    await sleep(opt.again);

    const again = await call(client, 'get_position_greeks', {});
    const second = again.structuredContent || {};
    summary.second = second;
    const moved = (second.positions || []).some((p) => {
        const was = (first.positions || []).find((o) => o.symbol === p.symbol);
        return was && options.some((o) => o.symbol === p.symbol)
               && (was.delta !== p.delta || was.theta !== p.theta);
    });
    check('a second look finds the options\' greeks changed', !again.isError
          && moved, { first: first.positions, second: second.positions });

    await client.close();
}

try {
    await run();
} catch (err) {
    check('no exception', false, describe(err));
}

summary.ok = summary.checks.length > 0 && summary.checks.every((c) => c.ok);
console.log(JSON.stringify(summary, null, 2));
process.exit(summary.ok ? 0 : 1);
