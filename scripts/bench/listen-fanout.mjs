#!/usr/bin/env node
// Benchmark: N open subscriptions/listen streams on /mcp, one change
// fanned out to all of them, R times.  Prints the delivery latency from
// the trigger's POST to each stream's event (p50, p99, max) and the
// memory each idle stream costs the nginx workers (their RSS, from
// /proc, before and after the streams open).  It asserts nothing.
//
//   node scripts/bench/listen-fanout.mjs --url http://127.0.0.1:PORT/fx/mcp \
//       --token JWT --streams 1000 --rounds 5 --pids "PID PID"
//
// The location must serve the conformance fixtures (their trigger tool
// test_trigger_tool_change) and allow the streams
// (ttai_mcp_listen_per_user 0).

import http from 'node:http';
import fs from 'node:fs';

const opt = { url: '', token: '', streams: 1000, rounds: 5, pids: [] };
for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i], v = process.argv[i + 1];
    if (a === '--help' || a === '-h') {
        console.log('Usage: node scripts/bench/listen-fanout.mjs --url URL ' +
                    '--token JWT [--streams N] [--rounds R] [--pids "P ..."]');
        process.exit(0);
    }
    if (a === '--url') { opt.url = v; i++; }
    else if (a === '--token') { opt.token = v; i++; }
    else if (a === '--streams') { opt.streams = Number(v); i++; }
    else if (a === '--rounds') { opt.rounds = Number(v); i++; }
    else if (a === '--pids') { opt.pids = v.split(/\s+/).filter(Boolean); i++; }
    else { console.error(`listen-fanout: unknown argument ${a}`); process.exit(2); }
}
if (!opt.url || !opt.token) {
    console.error('listen-fanout: --url and --token are required');
    process.exit(2);
}

const url = new URL(opt.url);
const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28',
               'io.modelcontextprotocol/clientCapabilities': {} };
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

function headers(method, name, len) {
    const h = { Authorization: `Bearer ${opt.token}`,
                'Content-Type': 'application/json',
                Accept: 'application/json, text/event-stream',
                'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': method,
                'Content-Length': len };
    if (name) h['Mcp-Name'] = name;
    return h;
}

function rss() {
    let kb = 0;
    for (const p of opt.pids) {
        const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
        kb += m ? Number(m[1]) : 0;
    }
    return kb;
}

const streams = [];
let waiting = null;

function open(i) {
    return new Promise((resolve, reject) => {
        const body = JSON.stringify({ jsonrpc: '2.0', id: `s${i}`,
            method: 'subscriptions/listen',
            params: { notifications: { toolsListChanged: true }, _meta: meta } });
        const req = http.request({ host: url.hostname, port: url.port,
            path: url.pathname, method: 'POST', agent,
            headers: headers('subscriptions/listen', null, Buffer.byteLength(body)) });
        const s = { buf: '', acked: false, got: null };
        req.on('response', (res) => {
            res.setEncoding('utf8');
            res.on('data', (chunk) => {
                s.buf += chunk;
                let k;
                while ((k = s.buf.indexOf('\n\n')) >= 0) {
                    const ev = s.buf.slice(0, k);
                    s.buf = s.buf.slice(k + 2);
                    if (!ev.startsWith('data: ')) continue;
                    const m = JSON.parse(ev.slice(6));
                    if (m.method === 'notifications/subscriptions/acknowledged') {
                        s.acked = true;
                        resolve(s);
                    } else if (m.method === 'notifications/tools/list_changed'
                               && waiting && s.got === null) {
                        s.got = performance.now();
                        waiting.left--;
                        if (waiting.left === 0) waiting.done();
                    }
                }
            });
            res.on('end', () => { if (!s.acked) reject(new Error('closed before the ack')); });
        });
        req.on('error', reject);
        req.end(body);
        streams.push(s);
    });
}

function trigger() {
    return new Promise((resolve, reject) => {
        const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call',
            params: { name: 'test_trigger_tool_change', arguments: {}, _meta: meta } });
        const req = http.request({ host: url.hostname, port: url.port,
            path: url.pathname, method: 'POST', agent,
            headers: headers('tools/call', 'test_trigger_tool_change', Buffer.byteLength(body)) },
            (res) => { res.resume(); res.on('end', resolve); });
        req.on('error', reject);
        req.end(body);
    });
}

const before = rss();
const opened = [];
for (let i = 0; i < opt.streams; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(i + 100, opt.streams); j++) batch.push(open(j));
    opened.push(...await Promise.all(batch));
}
await new Promise((r) => setTimeout(r, 200));
const after = rss();

const lat = [];
let lost = 0;
for (let round = 0; round < opt.rounds; round++) {
    for (const s of streams) s.got = null;
    const t0 = performance.now();
    await new Promise((resolve) => {
        waiting = { left: streams.length, done: resolve };
        setTimeout(resolve, 5000);
        trigger();
    });
    for (const s of streams) {
        if (s.got === null) lost++;
        else lat.push(s.got - t0);
    }
    waiting = null;
}
lat.sort((a, b) => a - b);
const q = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : NaN;
const out = {
    streams: opt.streams, rounds: opt.rounds, delivered: lat.length, lost,
    p50_ms: Number(q(0.5).toFixed(2)), p99_ms: Number(q(0.99).toFixed(2)),
    max_ms: Number((lat.length ? lat[lat.length - 1] : NaN).toFixed(2)),
    rss_kb_before: before, rss_kb_after: after,
    bytes_per_stream: opt.pids.length ? Math.round((after - before) * 1024 / opt.streams) : null,
};
console.log(JSON.stringify(out));
process.exit(0);
