#!/usr/bin/env node
// Trading through an MCP client that asks its user, with the official
// MCP TypeScript SDK 2.x client (@modelcontextprotocol/client, revision
// 2026-07-28): place_order, replace_order and cancel_order each ask the
// human (elicitation), whose answer the client sends back with the
// requestState; the user accepts each, and the order is placed (and
// seen in get_orders), changed and cancelled.  The answered retry of
// place_order is then sent again, as it went on the wire: nothing more
// is placed.  A second order the user declines is not placed.  Then a
// client of the 2025 era, in a session, is asked the same way (the
// question on the call's own stream), and places and cancels an order.
//
//   node t/e2e/trading-client.mjs --url http://localhost:8787/mcp \
//       --token "$(build/ttai token)" [--mock http://127.0.0.1:8789]
//
// With --mock, the mock's GET /mock/orders counts the orders placed.
// Prints one JSON summary; exits 0 when every check passed, 1 when one
// failed, 2 on a usage error.

import { Client, StreamableHTTPClientTransport }
    from '@modelcontextprotocol/client';

import { parseArgs } from './lib/args.mjs';
import { checker, describe } from './lib/report.mjs';

const USAGE = `Usage: node t/e2e/trading-client.mjs [--url URL] [--token JWT] [--mock URL]

  --url URL     the MCP endpoint (default: $MCP_URL, else http://localhost:8787/mcp)
  --token JWT   the Bearer token (default: $MCP_TOKEN), e.g. from build/ttai token
  --mock URL    the mock TastyTrade API, whose /mock/orders is counted

Prints a JSON summary; exits 0 when every check passed, 1 otherwise.`;

const opt = parseArgs(process.argv.slice(2), {
    name: 'trading-client',
    usage: USAGE,
    options: { '--url': 'url', '--token': 'token', '--mock': 'mock' },
    defaults: { url: process.env.MCP_URL || 'http://localhost:8787/mcp',
                token: process.env.MCP_TOKEN || '', mock: '' },
    check: (o) => (!o.token ? 'no token: pass --token or set MCP_TOKEN'
                   : undefined),
});
const summary = { ok: false, url: opt.url.href, checks: [], questions: [] };
const check = checker(summary);

// the user's answers, in order; each question takes the next
const answers = [];

// the tools/call requests that carried an answer, as sent
const answered = [];

function textOf(result) {
    const t = (result && result.content || []).find((c) => c.type === 'text');
    return t ? t.text : '';
}

async function mockOrders() {
    if (!opt.mock) {
        return null;
    }
    const res = await fetch(new URL('/mock/orders', opt.mock));
    const body = await res.json();
    return body.data.items;
}

function recordingFetch() {
    return async (url, init = {}) => {
        let body;
        try {
            body = JSON.parse(init.body);
        } catch {
            body = undefined;
        }
        if (body && body.method === 'tools/call' && body.params
            && body.params.inputResponses)
        {
            answered.push({ url: String(url), init: { ...init } });
        }
        return fetch(url, init);
    };
}

async function main() {
    const client = new Client({ name: 'ttai-e2e-trading', version: '1.0.0' }, {
        capabilities: { elicitation: {} },
        versionNegotiation: { mode: 'auto' },
    });
    client.setRequestHandler('elicitation/create', async (request) => {
        const action = answers.shift() || 'cancel';
        summary.questions.push({ action, message: request.params.message });
        return action === 'accept'
            ? { action, content: { confirm: true } }
            : { action };
    });

    await client.connect(new StreamableHTTPClientTransport(opt.url, {
        fetch: recordingFetch(),
        requestInit: { headers: { Authorization: `Bearer ${opt.token}` } },
    }), { timeout: 15000 });
    check('the client speaks 2026-07-28',
          client.getNegotiatedProtocolVersion() === '2026-07-28',
          client.getNegotiatedProtocolVersion());

    const list = await client.listTools(undefined, { timeout: 15000 });
    const tools = Object.fromEntries((list.tools || []).map((t) => [t.name, t]));
    for (const name of ['place_order', 'replace_order', 'cancel_order']) {
        const t = tools[name];
        check(`tools/list has ${name}, marked destructive`,
              t && t.annotations && t.annotations.destructiveHint === true
              && t.annotations.readOnlyHint === false, t && t.annotations);
    }

    const before = (await mockOrders()) || [];
    const order = {
        order_type: 'Limit', price: 140, time_in_force: 'Day',
        legs: [{ symbol: 'AAPL', instrument_type: 'Equity',
                 action: 'Buy to Open', quantity: 2 }],
    };

    // placed, as the user accepts the question
    answers.push('accept');
    const placed = await client.callTool({ name: 'place_order',
                                           arguments: order },
                                         { timeout: 15000 });
    const asked = summary.questions[0] || {};
    check('place_order asked the user, with the dry run',
          /Place this order/.test(asked.message || '')
          && /Buying power/.test(asked.message || ''), asked.message);
    const id = placed.structuredContent && placed.structuredContent.order_id;
    check('place_order placed it after the user accepted',
          !placed.isError && placed.structuredContent.placed === true
          && Number.isInteger(id), textOf(placed));

    // the order is among the account's
    const orders = await client.callTool({ name: 'get_orders',
                                           arguments: { status: 'live' } },
                                         { timeout: 15000 });
    check('get_orders shows the order placed',
          JSON.stringify(orders.structuredContent || {}).includes(String(id)),
          textOf(orders));

    // the answered retry, sent again as it was: nothing more is placed
    const retry = answered[answered.length - 1];
    if (check('the answer went back with the requestState',
              retry && /requestState/.test(retry.init.body))) {
        const res = await fetch(retry.url, retry.init);
        const again = await res.text();
        check('the same answered retry sent again places nothing more',
              /placed already with this confirmation/.test(again), again);
    }

    // changed, as the user accepts
    answers.push('accept');
    const replaced = await client.callTool({
        name: 'replace_order',
        arguments: { order_id: id, order_type: 'Limit', price: 141 },
    }, { timeout: 15000 });
    const newId = replaced.structuredContent
                  && replaced.structuredContent.order_id;
    check('replace_order asked, then replaced the order',
          !replaced.isError && summary.questions.length === 2
          && /Replace order/.test(summary.questions[1].message)
          && Number.isInteger(newId) && newId !== id, textOf(replaced));

    // cancelled, as the user accepts
    answers.push('accept');
    const cancelled = await client.callTool({
        name: 'cancel_order', arguments: { order_id: newId },
    }, { timeout: 15000 });
    check('cancel_order asked, then cancelled the replacement',
          !cancelled.isError && summary.questions.length === 3
          && cancelled.structuredContent.status === 'Cancelled',
          textOf(cancelled));

    // declined: nothing placed
    answers.push('decline');
    const declined = await client.callTool({ name: 'place_order',
                                             arguments: order },
                                           { timeout: 15000 });
    check('a declined order is not placed',
          declined.isError && /declined/.test(textOf(declined)),
          textOf(declined));

    const after = await mockOrders();
    if (after !== null) {
        const added = after.filter((o) => !before.some((b) => b.id === o.id));
        check('the mock got one order and its replacement, nothing more',
              added.length === 2, added.map((o) => [o.id, o.status]));
        const byId = Object.fromEntries(added.map((o) => [o.id, o]));
        check('the first is cancelled by the replace, the second by cancel',
              byId[id] && byId[id].status === 'Cancelled'
              && byId[newId] && byId[newId].status === 'Cancelled'
              && byId[newId]['replaces-order-id'] === id,
              added.map((o) => [o.id, o.status, o['replaces-order-id']]));
    }

    summary.placed = id;
    summary.replacement = newId;
    await client.close();
}

// the 2025 era: a session, and the question as elicitation/create on the
// call's own stream
async function legacy() {
    const client = new Client({ name: 'ttai-e2e-trading-2025',
                                version: '1.0.0' },
                              { capabilities: { elicitation: {} } });
    client.setRequestHandler('elicitation/create', async (request) => {
        summary.questions.push({ action: 'accept', era: '2025',
                                 message: request.params.message });
        return { action: 'accept', content: { confirm: true } };
    });
    await client.connect(new StreamableHTTPClientTransport(opt.url, {
        requestInit: { headers: { Authorization: `Bearer ${opt.token}` } },
    }), { timeout: 15000 });
    check('a 2025 client: 2025-11-25 in a session',
          client.getNegotiatedProtocolVersion() === '2025-11-25',
          client.getNegotiatedProtocolVersion());

    const asked = summary.questions.length;
    const placed = await client.callTool({
        name: 'place_order',
        arguments: { order_type: 'Limit', price: 139, time_in_force: 'Day',
                     legs: [{ symbol: 'AAPL', instrument_type: 'Equity',
                              action: 'Buy to Open', quantity: 1 }] },
    }, { timeout: 15000 });
    const id = placed.structuredContent && placed.structuredContent.order_id;
    check('2025: place_order asked the user, then placed the order',
          !placed.isError && summary.questions.length === asked + 1
          && Number.isInteger(id), textOf(placed));

    const cancelled = await client.callTool({
        name: 'cancel_order', arguments: { order_id: id },
    }, { timeout: 15000 });
    check('2025: cancel_order asked, then cancelled it',
          !cancelled.isError && summary.questions.length === asked + 2
          && cancelled.structuredContent.status === 'Cancelled',
          textOf(cancelled));
    await client.close();
}

try {
    await main();
    await legacy();
    summary.ok = summary.checks.every((c) => c.ok);
} catch (err) {
    summary.error = describe(err);
}
console.log(JSON.stringify(summary, null, 2));
process.exit(summary.ok ? 0 : 1);
