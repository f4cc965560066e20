#!/usr/bin/env node
/*
 * The DXLink mock: TastyTrade's market-data websocket, as the reference
 * describes it (tastytrade-api.md, 2.11), for the development server and
 * the tests.  It speaks the protocol (SETUP, AUTH_STATE, CHANNEL_REQUEST,
 * FEED_SETUP/FEED_CONFIG, FEED_SUBSCRIPTION, FEED_DATA in the COMPACT
 * format, KEEPALIVE) and takes every value from the mock TastyTrade API
 * (conf/mock/tastytrade.js): a token is asked of POST /mock/quote-token,
 * events of GET /mock/stream-events, so the streamed prices and greeks
 * are those of the REST mock's quotes and option chains.
 *
 * Faults on command, for the tests, on the same port:
 *     GET  /mock/state                what it holds and has seen
 *     POST /mock/close?how=close|drop  every connection closed (a close
 *                                      frame) or dropped (the socket)
 *     POST /mock/silence?ms=N          sends nothing, reads nothing
 *     POST /mock/malformed?what=json|frame|data
 *     POST /mock/refuse?count=N        the next N AUTHs are refused
 */

import http from 'node:http';
import process from 'node:process';
import { WebSocketServer } from 'ws';

const USAGE = `Usage: node conf/mock/dxlink.mjs [options]

The DXLink mock (market data over a websocket) for ttai's development
server and tests.

  --listen HOST:PORT   where to listen (default 127.0.0.1:8790)
  --api URL            the mock TastyTrade API that gives tokens and
                       values (default http://127.0.0.1:8789)
  --interval MS        how often each symbol's events go (default 1000)
  --synthetic          make values here (a random walk per symbol)
                       instead of asking the API: for benchmarks
  --help               this text
`;

const opts = { listen: '127.0.0.1:8790', api: 'http://127.0.0.1:8789',
               interval: 1000, synthetic: false };

for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i];
    const v = () => {
        if (i + 1 >= process.argv.length) {
            fail(`${a} needs a value`);
        }
        return process.argv[++i];
    };
    if (a === '--help' || a === '-h') {
        process.stdout.write(USAGE);
        process.exit(0);
    } else if (a === '--listen') {
        opts.listen = v();
    } else if (a === '--api') {
        opts.api = v().replace(/\/$/, '');
    } else if (a === '--interval') {
        opts.interval = Number(v());
        if (!(opts.interval >= 10)) {
            fail('--interval is milliseconds, at least 10');
        }
    } else if (a === '--synthetic') {
        opts.synthetic = true;
    } else {
        fail(`unknown option '${a}' (try --help)`);
    }
}

function fail(msg) {
    process.stderr.write(`dxlink-mock: ${msg}\n`);
    process.exit(2);
}

const [host, port] = (() => {
    const m = /^(.*):(\d+)$/.exec(opts.listen);
    if (!m) {
        fail('--listen is HOST:PORT');
    }
    return [m[1], Number(m[2])];
})();

/* the event types the mock knows, and their fields in its own order */
const FIELDS = {
    Quote: ['eventType', 'eventSymbol', 'askPrice', 'askSize', 'bidPrice',
            'bidSize'],
    Trade: ['eventType', 'eventSymbol', 'dayVolume', 'price', 'size'],
    Summary: ['eventType', 'eventSymbol', 'dayHighPrice', 'dayLowPrice',
              'dayOpenPrice', 'openInterest', 'prevDayClosePrice'],
    Greeks: ['eventType', 'eventSymbol', 'delta', 'gamma', 'price', 'rho',
             'theta', 'vega', 'volatility'],
    Profile: ['eventType', 'eventSymbol', 'description', 'tradingStatus'],
    Candle: ['eventType', 'eventSymbol', 'time', 'open', 'high', 'low',
             'close', 'volume']
};

/* "AAPL{=5m}" -> ["AAPL", 300000]; null for a symbol that is not one */
function candleOf(symbol) {
    const m = /^(.+)\{=(\d*)([smhdw])\}$/.exec(symbol);
    if (!m) {
        return null;
    }
    const unit = { s: 1000, m: 60000, h: 3600000, d: 86400000,
                   w: 604800000 }[m[3]];
    return [m[1], (Number(m[2]) || 1) * unit];
}

const state = { connections: 0, auths: 0, refusedAuths: 0, refuse: 0,
                silentUntil: 0, sent: 0, keepalives: 0, errors: [] };
const clients = new Set();

function log(msg) {
    process.stderr.write(`dxlink-mock: ${msg}\n`);
}

function send(c, msg) {
    if (Date.now() < state.silentUntil || c.ws.readyState !== 1) {
        return;
    }
    c.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
}

async function getJson(path, body) {
    const res = await fetch(opts.api + path, body === undefined ? {} : {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body)
    });
    if (res.status !== 200) {
        throw new Error(`${path}: ${res.status}`);
    }
    return JSON.parse(await res.text());
}

async function authorize(token) {
    if (state.refuse > 0) {
        state.refuse--;
        return { valid: false, reason: 'refused on command' };
    }
    try {
        return await getJson('/mock/quote-token', { token: token || '' });
    } catch (e) {
        return { valid: false, reason: String(e.message) };
    }
}

async function onMessage(c, text) {
    if (Date.now() < state.silentUntil) {
        return;
    }
    let m;
    try {
        m = JSON.parse(text);
    } catch (e) {
        send(c, { type: 'ERROR', channel: 0, error: 'INVALID_MESSAGE',
                  message: 'not JSON' });
        return;
    }
    switch (m.type) {
    case 'SETUP':
        c.setup = m;
        c.keepalive = Math.max(2, Number(m.keepaliveTimeout) || 60);
        send(c, { type: 'SETUP', channel: 0, version: '1.0-ttai-mock',
                  keepaliveTimeout: c.keepalive,
                  acceptKeepaliveTimeout: c.keepalive });
        send(c, { type: 'AUTH_STATE', channel: 0, state: 'UNAUTHORIZED' });
        armKeepalive(c);
        break;
    case 'AUTH': {
        state.auths++;
        const v = await authorize(m.token);
        if (v.valid) {
            c.user = v.sub;
            send(c, { type: 'AUTH_STATE', channel: 0, state: 'AUTHORIZED',
                      userId: v.sub });
        } else {
            state.refusedAuths++;
            c.user = null;
            send(c, { type: 'ERROR', channel: 0, error: 'UNAUTHORIZED',
                      message: v.reason });
            send(c, { type: 'AUTH_STATE', channel: 0,
                      state: 'UNAUTHORIZED' });
        }
        break;
    }
    case 'CHANNEL_REQUEST':
        if (!c.user) {
            send(c, { type: 'ERROR', channel: 0, error: 'UNAUTHORIZED',
                      message: 'authorize first' });
            break;
        }
        c.channel = m.channel;
        send(c, { type: 'CHANNEL_OPENED', channel: m.channel,
                  service: m.service, parameters: m.parameters || {} });
        break;
    case 'FEED_SETUP': {
        const fields = {};
        Object.entries(m.acceptEventFields || {}).forEach(([t, asked]) => {
            if (FIELDS[t] && Array.isArray(asked)) {
                fields[t] = FIELDS[t].filter((f) => asked.includes(f));
            }
        });
        c.fields = fields;
        send(c, { type: 'FEED_CONFIG', channel: m.channel,
                  aggregationPeriod: m.acceptAggregationPeriod || 0.1,
                  dataFormat: 'COMPACT', eventFields: fields });
        break;
    }
    case 'FEED_SUBSCRIPTION': {
        if (m.reset) {
            c.subs.clear();
        }
        const added = [];
        (m.add || []).forEach((s) => {
            const k = `${s.type}\u0000${s.symbol}`;
            if (s.type === 'Candle') {
                /* its bars from fromTime at once, then the forming one */
                const sub = { ready: false };
                c.candles.set(s.symbol, sub);
                candles(c, s.symbol, Number(s.fromTime) || Date.now())
                    .then(() => { sub.ready = true; })
                    .catch((e) => log(e.message));
            } else if (!c.subs.has(k)) {
                added.push(s);
            }
            c.subs.add(k);
        });
        (m.remove || []).forEach((s) => {
            c.subs.delete(`${s.type}\u0000${s.symbol}`);
            c.candles.delete(s.symbol);
        });
        if (added.length > 0) {
            /* a new symbol's first events go at once */
            emit([c], added).catch((e) => log(e.message));
        }
        break;
    }
    case 'KEEPALIVE':
        c.keepalives++;
        state.keepalives++;
        break;
    default:
        send(c, { type: 'ERROR', channel: m.channel || 0,
                  error: 'UNSUPPORTED_PROTOCOL',
                  message: `unknown message ${m.type}` });
    }
}

function armKeepalive(c) {
    clearInterval(c.kaTimer);
    c.kaTimer = setInterval(() => {
        send(c, { type: 'KEEPALIVE', channel: 0 });
    }, c.keepalive * 500);
}

/* a candle symbol's bars from a time, as Candle events */
async function candles(c, symbol, from) {
    const cs = candleOf(symbol);
    const fields = (c.fields || {}).Candle;
    if (!cs || !fields) {
        return;
    }
    const r = await getJson(`/mock/candles?symbol=${encodeURIComponent(cs[0])}`
                            + `&period=${cs[1]}&from=${from}`);
    for (let i = 0; i < r.bars.length; i += 100) {
        const values = r.bars.slice(i, i + 100).flatMap((b) => {
            b.eventSymbol = symbol;
            return fields.map((f) => b[f]);
        });
        state.sent++;
        send(c, { type: 'FEED_DATA', channel: c.channel,
                  data: ['Candle', values] });
    }
}

/* synthetic values: a walk per symbol, for benchmarks */
const walk = new Map();

function synthetic(sym) {
    let p = walk.get(sym) || 50 + (sym.length * 37) % 400;
    p = Math.max(1, p * (1 + (Math.random() - 0.5) / 500));
    walk.set(sym, p);
    return [
        { eventType: 'Quote', eventSymbol: sym, bidPrice: p - 0.01,
          askPrice: p + 0.01, bidSize: 10, askSize: 12 },
        { eventType: 'Trade', eventSymbol: sym, price: p, size: 100,
          dayVolume: 1e6 },
        { eventType: 'Greeks', eventSymbol: sym, price: p / 50,
          volatility: 0.3, delta: 0.5, gamma: 0.02, theta: -0.05,
          rho: 0.01, vega: 0.1 }
    ];
}

async function events(symbols) {
    if (opts.synthetic) {
        return symbols.flatMap(synthetic);
    }
    const out = [];
    for (let i = 0; i < symbols.length; i += 100) {
        const part = symbols.slice(i, i + 100);
        const r = await getJson('/mock/stream-events?symbols='
                                + part.map(encodeURIComponent).join(','));
        out.push(...r.events);
    }
    return out;
}

/*
 * Sends to each connection the events of its subscriptions (or of only
 * the given ones), in COMPACT: ["Quote", [values of every Quote...], ...]
 */
async function emit(conns, only) {
    const want = new Set();
    conns.forEach((c) => {
        const subs = only ? only.map((s) => `${s.type}\u0000${s.symbol}`)
                          : [...c.subs];
        subs.forEach((k) => {
            if (!k.startsWith('Candle\u0000')) {
                want.add(k.split('\u0000')[1]);
            }
        });
    });
    if (want.size === 0) {
        return;
    }
    const evs = await events([...want]);
    conns.forEach((c) => {
        if (!c.fields || c.channel === undefined) {
            return;
        }
        /* at most 100 events a message, as DXLink's batches are small */
        let byType = {};
        let count = 0;
        const flush = () => {
            const data = Object.entries(byType).flatMap(([t, v]) => [t, v]);
            if (data.length > 0) {
                state.sent++;
                send(c, { type: 'FEED_DATA', channel: c.channel, data });
            }
            byType = {};
            count = 0;
        };
        evs.forEach((e) => {
            const k = `${e.eventType}\u0000${e.eventSymbol}`;
            const fields = c.fields[e.eventType];
            if (!fields || !c.subs.has(k)) {
                return;
            }
            if (only && !only.some((s) => s.type === e.eventType
                                          && s.symbol === e.eventSymbol)) {
                return;
            }
            (byType[e.eventType] ||= []).push(...fields.map((f) => e[f]));
            if (++count === 100) {
                flush();
            }
        });
        flush();
    });
}

let ticking = false;

setInterval(() => {
    if (ticking || Date.now() < state.silentUntil) {
        return;
    }
    ticking = true;
    /* the bar forming now, of each candle symbol */
    const now = Date.now();
    const forming = [...clients].flatMap((c) => [...c.candles.entries()]
        .filter(([, sub]) => sub.ready)
        .map(([s]) => candles(c, s, now - now % candleOf(s)[1])));
    Promise.all([emit([...clients]), ...forming])
        .catch((e) => log(e.message))
        .finally(() => { ticking = false; });
}, opts.interval);

function malformed(what) {
    clients.forEach((c) => {
        if (what === 'frame') {
            /* opcode 3 is reserved: a client must fail the connection */
            c.ws._socket.write(Buffer.from([0x83, 0x00]));
        } else if (what === 'data') {
            send(c, { type: 'FEED_DATA', channel: c.channel,
                      data: ['Quote', ['Quote']] });
        } else {
            send(c, '{"type":"FEED_DATA", this is not JSON');
        }
    });
}

function control(req, res) {
    const url = new URL(req.url, 'http://mock');
    const reply = (status, body) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'Content-Type': 'application/json',
                                'Content-Length': Buffer.byteLength(text) });
        res.end(text);
    };
    if (req.method === 'GET' && url.pathname === '/mock/state') {
        reply(200, {
            ...state,
            silent: Date.now() < state.silentUntil,
            clients: [...clients].map((c) => ({
                user: c.user || null,
                keepaliveTimeout: c.setup ? c.setup.keepaliveTimeout : null,
                keepalives: c.keepalives,
                fields: c.fields || null,
                subscriptions: [...c.subs].map((k) => {
                    const [type, symbol] = k.split('\u0000');
                    return { type, symbol };
                })
            }))
        });
        return;
    }
    if (req.method !== 'POST') {
        reply(404, { error: 'no such control' });
        return;
    }
    const n = (k, d) => Number(url.searchParams.get(k) || d);
    switch (url.pathname) {
    case '/mock/close': {
        const how = url.searchParams.get('how') || 'close';
        clients.forEach((c) => (how === 'drop' ? c.ws.terminate()
                                               : c.ws.close(1001, 'mock')));
        reply(200, { closed: clients.size, how });
        return;
    }
    case '/mock/silence':
        state.silentUntil = Date.now() + n('ms', 5000);
        reply(200, { silentUntil: state.silentUntil });
        return;
    case '/mock/malformed':
        malformed(url.searchParams.get('what') || 'json');
        reply(200, { sent: clients.size });
        return;
    case '/mock/refuse':
        state.refuse = n('count', 1);
        reply(200, { refuse: state.refuse });
        return;
    default:
        reply(404, { error: 'no such control' });
    }
}

const server = http.createServer(control);
const wss = new WebSocketServer({ server, path: '/realtime' });

wss.on('connection', (ws) => {
    const c = { ws, subs: new Set(), keepalives: 0, keepalive: 60,
                candles: new Map() };
    clients.add(c);
    state.connections++;
    ws.on('message', (data, binary) => {
        if (binary) {
            send(c, { type: 'ERROR', channel: 0, error: 'INVALID_MESSAGE',
                      message: 'binary' });
            return;
        }
        onMessage(c, data.toString()).catch((e) => log(e.message));
    });
    ws.on('close', () => {
        clearInterval(c.kaTimer);
        clients.delete(c);
    });
    ws.on('error', (e) => log(e.message));
});

server.on('error', (e) => fail(e.message));
server.listen(port, host, () => {
    log(`listening on ${host}:${port}, values from `
        + (opts.synthetic ? 'a random walk' : opts.api));
});

for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => process.exit(0));
}
