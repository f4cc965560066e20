#!/usr/bin/env node
// An alert made through an MCP client fires, end to end, with the
// official MCP TypeScript SDK 2.x client (@modelcontextprotocol/client)
// in the stateless revision 2026-07-28: it listens for ttai://alerts
// (subscriptions/listen), makes a price_cross rule with create_alert,
// waits for notifications/resources/updated on that stream when the
// mock's moving price crosses the level, reads the alert with get_alerts,
// and watches a while longer: no second alert while the price stays past
// the level.
//
//   node t/e2e/alerts-client.mjs --url http://localhost:8787/mcp \
//       --token "$(build/ttai token)" --symbol AAPL --direction above \
//       --level 231.50 [--wait 60000] [--hold 5000]
//
// Prints one JSON summary; exits 0 when every check passed, 1 when one
// failed, 2 on a usage error.

import { Client, StreamableHTTPClientTransport }
    from '@modelcontextprotocol/client';

import { parseArgs } from './lib/args.mjs';
import { checker, describe } from './lib/report.mjs';

const USAGE = `Usage: node t/e2e/alerts-client.mjs --symbol SYM --direction above|below --level N
                                     [--url URL] [--token JWT] [--wait MS] [--hold MS]

  --url URL        the MCP endpoint (default: $MCP_URL, else http://localhost:8787/mcp)
  --token JWT      the Bearer token (default: $MCP_TOKEN), e.g. from build/ttai token
  --symbol SYM     the symbol of the rule
  --direction D    above or below
  --level N        the price to cross
  --wait MS        how long to wait for the alert (default: 60000)
  --hold MS        how long to watch for a second one afterwards (default: 5000)

Prints a JSON summary; exits 0 when every check passed, 1 otherwise.`;

const opt = parseArgs(process.argv.slice(2), {
    name: 'alerts-client',
    usage: USAGE,
    options: { '--url': 'url', '--token': 'token', '--symbol': 'symbol',
               '--direction': 'direction', '--level': ['level', Number],
               '--wait': ['wait', Number], '--hold': ['hold', Number] },
    defaults: { url: process.env.MCP_URL || 'http://localhost:8787/mcp',
                token: process.env.MCP_TOKEN || '', symbol: null,
                direction: null, level: NaN, wait: 60000, hold: 5000 },
    check: (o) => (!o.token ? 'no token: pass --token or set MCP_TOKEN'
        : (!o.symbol || !['above', 'below'].includes(o.direction)
           || !(o.level > 0))
          ? '--symbol, --direction above|below and --level are needed'
        : (!(o.wait > 0) || !(o.hold >= 0))
          ? '--wait and --hold are milliseconds' : undefined),
});
const summary = { ok: false, url: opt.url.href, checks: [], updates: [] };

const check = checker(summary);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function run() {
    const client = new Client({ name: 'ttai-e2e-alerts', version: '1.0.0' }, {
        capabilities: {},
        versionNegotiation: { mode: 'auto' },
    });

    const updates = summary.updates;
    client.setNotificationHandler('notifications/resources/updated', (n) => {
        updates.push({ uri: n.params.uri, at: Date.now() });
    });

    await client.connect(new StreamableHTTPClientTransport(opt.url, {
        requestInit: { headers: { Authorization: `Bearer ${opt.token}` } },
    }), { timeout: 10000 });
    check('the client speaks 2026-07-28',
          client.getNegotiatedProtocolVersion() === '2026-07-28',
          client.getNegotiatedProtocolVersion());

    // the stream stays open: its promise settles only when it ends
    const listening = client.request({
        method: 'subscriptions/listen',
        params: { notifications: { resourceSubscriptions: ['ttai://alerts'] } },
    }, { timeout: opt.wait + opt.hold + 60000 }).catch((err) => {
        summary.listenEnded = describe(err);
    });
    void listening;
    await sleep(500);

    const made = await client.callTool({
        name: 'create_alert',
        arguments: { kind: 'price_cross', symbol: opt.symbol,
                     direction: opt.direction, level: opt.level,
                     note: 'end-to-end check' },
    }, { timeout: 10000 });
    const rule = made.structuredContent || {};
    summary.rule = rule;
    check('create_alert made the rule', !made.isError && rule.id, made);
    const madeAt = Date.now();

    const t0 = Date.now();
    while (updates.length === 0 && Date.now() - t0 < opt.wait) {
        await sleep(100);
    }
    check('resources/updated for ttai://alerts came on the listen stream',
          updates.length >= 1 && updates[0].uri === 'ttai://alerts', updates);
    summary.firedAfterMs = updates.length ? updates[0].at - madeAt : null;

    let got = await client.callTool({ name: 'get_alerts', arguments: {} },
                                    { timeout: 10000 });
    const alerts = (got.structuredContent || {}).alerts || [];
    summary.alert = alerts[0];
    check('get_alerts lists the alert of that rule',
          alerts.length === 1 && alerts[0].rule_id === rule.id
          && alerts[0].subject === opt.symbol, alerts);

    await sleep(opt.hold);
    check('no second update while the price stays past the level',
          updates.length === 1, updates);
    got = await client.callTool({ name: 'get_alerts', arguments: {} },
                                { timeout: 10000 });
    check('and get_alerts still lists one',
          ((got.structuredContent || {}).alerts || []).length === 1,
          got.structuredContent);

    const list = await client.callTool({ name: 'list_alerts', arguments: {} },
                                       { timeout: 10000 });
    const r = ((list.structuredContent || {}).rules || [])
        .find((x) => x.id === rule.id) || {};
    summary.listed = r;
    check('list_alerts shows it evaluated, holding, fired once',
          r.evaluated_at && (r.firing || []).includes(opt.symbol)
          && r.fired === 1, r);

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
