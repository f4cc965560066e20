/*
 * A mock of the TastyTrade REST API, answered by nginx through njs, for
 * ttai's tests and development server.  conf/mock/README.md describes
 * what it serves and why it looks the way it does.
 *
 * njs 0.7.9 (Debian 12) runs every request in a VM of its own and has no
 * shared dictionary, so nothing is remembered between requests: tokens
 * carry their own state and are signed, and an account's data is made
 * from a hash of its number and the fixtures in mock/fixtures/.  The same
 * request always gets the same answer, apart from what depends on the
 * clock (token expiry, dates relative to today).
 *
 * njs 0.7.9 also lacks for...of, default parameters, spread and
 * destructuring, and does not keep the insertion order of larger objects;
 * the code below avoids the first four and writes JSON itself with sorted
 * keys (see enc), which is the order TastyTrade's own payloads show.
 */

var crypto = require('crypto');
var fs = require('fs');

/*
 * The signing key of every token the mock issues.  It is public on
 * purpose: the mock protects nothing, and tests and scripts/mock-grant
 * mint tokens with it offline.
 */
var MOCK_KEY = 'ttai-mock-tastytrade-signing-key';

var ACCESS_TTL = 900;       /* TastyTrade's access tokens last 15 minutes */
var CODE_TTL = 600;         /* authorization codes from /mock/authorize */
var MAX_SYMBOLS = 100;      /* /market-data/by-type's limit, all types */
var DAY = 86400000;
var HOUR = 3600000;

/* ------------------------------------------------------------------ */
/* Output                                                               */
/* ------------------------------------------------------------------ */

/*
 * JSON with the keys of every object sorted: njs 0.7.9 would otherwise
 * write them in hash order.  Undefined members are left out, as
 * JSON.stringify does.
 */
function enc(v) {
    if (v === null || v === undefined) {
        return 'null';
    }
    if (Array.isArray(v)) {
        return '[' + v.map(enc).join(',') + ']';
    }
    if (typeof v === 'object') {
        return '{' + Object.keys(v).sort()
            .filter(function (k) { return v[k] !== undefined; })
            .map(function (k) { return JSON.stringify(k) + ':' + enc(v[k]); })
            .join(',') + '}';
    }
    return JSON.stringify(v);
}

function send(r, status, text) {
    r.headersOut['Content-Type'] = 'application/json';
    r.return(status, text);
}

/* {"data":...,"context":"/path"} plus top-level members such as pagination */
function sendData(r, data, extra, status) {
    var s = '{"data":' + enc(data) + ',"context":' + JSON.stringify(ctxPath);
    Object.keys(extra || {}).sort().forEach(function (k) {
        s += ',' + JSON.stringify(k) + ':' + enc(extra[k]);
    });
    send(r, status || 200, s + '}');
}

function sendItems(r, items, extra) {
    sendData(r, { items: items }, extra);
}

/* A failure thrown by a handler; api() turns it into the answer. */
function Fail(status, body, headers) {
    this.status = status;
    this.body = body;
    this.headers = headers;
}

/* The REST error envelope: {"error":{"code","message"[,"errors"]}} */
function fail(status, code, message, errors, extra) {
    var e = { code: code, message: message };
    if (errors) {
        e.errors = errors;
    }
    var body = { error: e };
    Object.keys(extra || {}).forEach(function (k) { body[k] = extra[k]; });
    return new Fail(status, body);
}

/* 400 for a request that breaks the schema; errors are {domain, reason} */
function invalid(domain, reason) {
    return fail(400, 'validation_error', domain + ' ' + reason,
                [{ domain: domain, reason: reason }]);
}

/* The token endpoint's own shape: {"error_code","error_description"} */
function oauthFail(status, code, description) {
    return new Fail(status, { error_code: code,
                              error_description: description });
}

function notFound(what) {
    return fail(404, 'record_not_found', "Couldn't find " + what);
}

/* ------------------------------------------------------------------ */
/* Numbers and hashes                                                  */
/* ------------------------------------------------------------------ */

/*
 * A decimal as TastyTrade writes it: a string, rounded to `places`,
 * without trailing zeros but with at least one decimal ("150.0").
 */
function dec(x, places) {
    var p = places === undefined ? 2 : places;
    var f = Math.pow(10, p);
    var s = (Math.round(x * f) / f).toFixed(p);
    if (s.indexOf('.') >= 0) {
        s = s.replace(/0+$/, '').replace(/\.$/, '.0');
    }
    return s === '-0.0' ? '0.0' : s;
}

/* a signed amount as an unsigned string and its Credit/Debit/None effect */
function putSigned(obj, key, x, places) {
    var v = Number(dec(x, places === undefined ? 2 : places));
    obj[key] = dec(Math.abs(v), places);
    obj[key + '-effect'] = v > 0 ? 'Credit' : v < 0 ? 'Debit' : 'None';
}

/* 32 bits of SHA-256: the source of everything "random" about a customer */
function hnum(s) {
    return parseInt(crypto.createHash('sha256').update(s).digest('hex')
                    .slice(0, 8), 16);
}

function pad(n, width) {
    return String(n).padStart(width, '0');
}

function round2(x) {
    return Math.round(x * 100) / 100;
}

function clone(v) {
    return JSON.parse(JSON.stringify(v));
}

/* ------------------------------------------------------------------ */
/* Calendar: days are counted from 1970-01-01, in New York time         */
/* ------------------------------------------------------------------ */

function dayNum(y, m, d) {
    return Math.floor(Date.UTC(y, m - 1, d) / DAY);
}

function ymd(dn) {
    var d = new Date(dn * DAY);
    return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1,
             d: d.getUTCDate() };
}

function isoDay(dn) {
    return new Date(dn * DAY).toISOString().slice(0, 10);
}

/* 0 is Sunday */
function weekday(dn) {
    return ((dn + 4) % 7 + 7) % 7;
}

function nthSunday(y, m, n) {
    var first = dayNum(y, m, 1);
    return first + (7 - weekday(first)) % 7 + 7 * (n - 1);
}

/* New York's offset from UTC in hours at the instant ms (US rules, 2007-) */
function nyOffset(ms) {
    var y = new Date(ms).getUTCFullYear();
    var start = nthSunday(y, 3, 2) * DAY + 7 * HOUR;   /* 2:00 EST */
    var end = nthSunday(y, 11, 1) * DAY + 6 * HOUR;    /* 2:00 EDT */
    return ms >= start && ms < end ? -4 : -5;
}

/* the instant of New York wall-clock time `minutes` after midnight of day dn */
function nyTime(dn, minutes) {
    var local = dn * DAY + minutes * 60000;
    return local - nyOffset(local + 5 * HOUR) * HOUR;
}

function nyDay(ms) {
    return Math.floor((ms + nyOffset(ms) * HOUR) / DAY);
}

/* "2026-06-12T19:33:24.172+00:00": accounts, positions and orders */
function isoOff(ms) {
    return new Date(ms).toISOString().replace('Z', '+00:00');
}

/* njs 0.7.9's Date.parse takes "Z" but not "+00:00" */
function parseIso(s) {
    return Date.parse(s.replace('+00:00', 'Z'));
}

/* "2026-06-05T13:30:02.910Z", as transactions and market data write it */
function isoZ(ms) {
    return new Date(ms).toISOString();
}

function holidays() {
    if (!cache.holidays) {
        var h = fixture('holidays.json');
        var map = {};
        h['market-holidays'].forEach(function (d) { map[d] = 'closed'; });
        h['market-half-days'].forEach(function (d) { map[d] = 'half'; });
        cache.holidays = map;
    }
    return cache.holidays;
}

function isTradingDay(dn) {
    var w = weekday(dn);
    return w !== 0 && w !== 6 && holidays()[isoDay(dn)] !== 'closed';
}

function isHalfDay(dn) {
    return holidays()[isoDay(dn)] === 'half';
}

function tradingDayOnOrBefore(dn) {
    while (!isTradingDay(dn)) {
        dn--;
    }
    return dn;
}

function thirdFriday(y, m) {
    var first = dayNum(y, m, 1);
    return first + (5 - weekday(first) + 7) % 7 + 14;
}

/* the monthly expiration `offset` months from today's month */
function monthlyExpiration(today, offset) {
    var t = ymd(today);
    var i = t.y * 12 + t.m - 1 + offset;
    return tradingDayOnOrBefore(thirdFriday(Math.floor(i / 12), i % 12 + 1));
}

/*
 * Every Friday's expiration from today for about three months (a Friday
 * holiday moves it to the day before); the third Friday of a month is
 * the monthly ("Regular") one.
 */
function expirations(today) {
    var out = [];
    var friday = today + (5 - weekday(today) + 7) % 7;
    for (var f = friday; f - today <= 95; f += 7) {
        var day = tradingDayOnOrBefore(f);
        if (day < today) {
            continue;
        }
        var t = ymd(f);
        out.push({ day: day, monthly: thirdFriday(t.y, t.m) === f });
    }
    return out;
}

/* ------------------------------------------------------------------ */
/* Tokens: <kind>.<base64url(JSON payload)>.<hex HMAC-SHA256>           */
/* ------------------------------------------------------------------ */

function mac(text) {
    return crypto.createHmac('sha256', MOCK_KEY).update(text).digest('hex');
}

function mint(kind, payload) {
    var body = Buffer.from(enc(payload)).toString('base64url');
    return kind + '.' + body + '.' + mac(kind + '.' + body);
}

/* the payload of a token of this kind whose signature holds, or null */
function verify(token, kind) {
    if (typeof token !== 'string') {
        return null;
    }
    var parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== kind
        || mac(parts[0] + '.' + parts[1]) !== parts[2])
    {
        return null;
    }
    var p;
    try {
        p = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    } catch (e) {
        return null;
    }
    if (p === null || typeof p !== 'object' || typeof p.sub !== 'string'
        || p.sub === '')
    {
        return null;
    }
    return p;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

function decode(s) {
    try {
        return decodeURIComponent(s);
    } catch (e) {
        throw fail(400, 'invalid_request', 'malformed percent-encoding');
    }
}

/*
 * The query string as key -> [values].  Array parameters arrive as
 * "key[]=a&key[]=b", as repeated keys or as one comma list, so "[]" is
 * dropped from names here and listParam() splits commas.
 */
function parseQuery(qs, arrays) {
    var out = {};
    qs.split('&').forEach(function (pair) {
        if (pair === '') {
            return;
        }
        var i = pair.indexOf('=');
        var k = decode((i < 0 ? pair : pair.slice(0, i)).replace(/\+/g, ' '));
        var v = i < 0 ? '' : decode(pair.slice(i + 1).replace(/\+/g, ' '));
        if (arrays && k.slice(-2) === '[]') {
            k = k.slice(0, -2);
        }
        (out[k] = out[k] || []).push(v);
    });
    return out;
}

function listParam(q, key) {
    var out = [];
    (q[key] || []).forEach(function (v) {
        v.split(',').forEach(function (s) {
            s = s.trim();
            if (s !== '') {
                out.push(s);
            }
        });
    });
    return out;
}

function param(q, key) {
    var v = q[key];
    return v ? v[v.length - 1] : undefined;
}

function intParam(q, key, dflt, min, max) {
    var v = param(q, key);
    if (v === undefined || v === '') {
        return dflt;
    }
    if (!/^\d+$/.test(v) || Number(v) < min) {
        throw invalid(key, 'must be an integer of at least ' + min);
    }
    return Math.min(Number(v), max);
}

function dateParam(q, key) {
    var v = param(q, key);
    if (v === undefined || v === '') {
        return undefined;
    }
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || isNaN(Date.parse(v))) {
        throw invalid(key, 'must be a date (YYYY-MM-DD)');
    }
    return v;
}

/*
 * A POST body as an object: JSON or a form (the token endpoint gets both
 * from real clients).  JSON when the Content-Type says so or the body
 * starts with "{", which no form does: curl -d sends JSON labelled as a
 * form.
 */
function parseBody(r, oauth) {
    var text = r.requestText;
    if (text === undefined || text === '') {
        return {};
    }
    var type = (r.headersIn['Content-Type'] || '').toLowerCase();
    var json = type.indexOf('application/json') === 0
               || text.charAt(0) === '{';
    if (!json) {
        var q = parseQuery(text, false);
        var out = {};
        Object.keys(q).forEach(function (k) { out[k] = param(q, k); });
        return out;
    }
    var body;
    try {
        body = JSON.parse(text);
    } catch (e) {
        body = null;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw oauth ? oauthFail(400, 'invalid_request',
                                'The request body is not a JSON object')
                    : fail(400, 'invalid_json',
                           'The request body is not a JSON object');
    }
    return body;
}

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */
/* ------------------------------------------------------------------ */

/* per request: every request starts from a fresh copy of the VM */
var cache = {};
var fixturesDir = '';
var ctxPath = '';      /* the request's path: every answer's "context" */

function fixture(name) {
    if (!cache[name]) {
        cache[name] = JSON.parse(fs.readFileSync(fixturesDir + '/' + name,
                                                 'utf8'));
    }
    return cache[name];
}

/*
 * $tastytrade_mock_fixtures (js_var) names the fixtures folder, for a
 * configuration whose prefix is not the repository (tests); otherwise it
 * is mock/fixtures next to the configuration.
 */
function findFixtures(r) {
    var dir = r.variables.tastytrade_mock_fixtures;
    if (!dir) {
        dir = 'mock/fixtures';
    }
    if (dir.charAt(0) !== '/') {
        dir = ngx.conf_prefix + dir;
    }
    return dir.replace(/\/$/, '');
}

/* ------------------------------------------------------------------ */
/* Instruments                                                         */
/* ------------------------------------------------------------------ */

var TYPE_PARAMS = [
    ['equity', 'Equity'],
    ['equity-option', 'Equity Option'],
    ['future', 'Future'],
    ['future-option', 'Future Option'],
    ['cryptocurrency', 'Cryptocurrency'],
    ['index', 'Index']
];

/* Symbol syntax by instrument type; lowercase is never valid. */
var SYNTAX = {
    'Equity': /^[A-Z]{1,5}([./][A-Z]{1,2})?$/,
    'Index': /^[A-Z]{1,5}$/,
    'Future': /^\/[A-Z0-9]{1,4}[FGHJKMNQUVXZ]\d{1,2}$/,
    'Future Option':
        /^\.\/[A-Z0-9]{1,4}[FGHJKMNQUVXZ]\d{1,2} +[A-Z0-9]{1,6} +\d{6}[CP]\d+(\.\d+)?$/,
    'Cryptocurrency': /^[A-Z0-9]{2,6}\/USD$/
};

/*
 * An OCC option symbol: the root padded with spaces to 6 characters,
 * yymmdd, C or P, and the strike times 1000 in 8 digits.
 */
function parseOcc(sym) {
    var m = /^([A-Z0-9]{1,6}) *(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/.exec(sym);
    if (!m || sym.length !== 21) {
        return null;
    }
    var y = 2000 + Number(m[2]);
    var mo = Number(m[3]);
    var d = Number(m[4]);
    var day = dayNum(y, mo, d);
    if (mo < 1 || mo > 12 || ymd(day).d !== d) {
        return null;
    }
    var strike = Number(m[6]) / 1000;
    if (strike <= 0) {
        return null;
    }
    return { root: m[1], underlying: m[1] === 'SPXW' ? 'SPX' : m[1],
             day: day, type: m[5], strike: strike };
}

function validSymbol(type, sym) {
    if (type === 'Equity Option') {
        return parseOcc(sym) !== null;
    }
    return SYNTAX[type].test(sym);
}

function yymmdd(dn) {
    return isoDay(dn).slice(2).replace(/-/g, '');
}

function occSymbol(root, dn, type, strike) {
    return (root + '      ').slice(0, 6) + yymmdd(dn) + type
           + pad(Math.round(strike * 1000), 8);
}

/* DXLink's form: ".AAPL261218C150", ".AAPL261218C152.5" */
function streamerSymbol(root, dn, type, strike) {
    return '.' + root + yymmdd(dn) + type + String(round2(strike));
}

/* "12/18/26", as descriptions write expirations */
function mmddyy(dn) {
    var d = isoDay(dn);
    return d.slice(5, 7) + '/' + d.slice(8, 10) + '/' + d.slice(2, 4);
}

function symbolInfo(sym) {
    return fixture('symbols.json').symbols.find(function (s) {
        return s.symbol === sym;
    });
}

/* strikes are this far apart, as listed chains roughly are */
function strikeStep(px) {
    return px < 25 ? 0.5 : px < 100 ? 1 : px < 250 ? 2.5 : px < 1000 ? 5
         : px < 3000 ? 10 : 25;
}

function nearestStrike(px, target) {
    var step = strikeStep(px);
    return Math.max(step, Math.round(target / step) * step);
}

/*
 * A fixture's instrument: {"symbol","instrument-type"} as such, or
 * {"option": {"underlying","type","month","moneyness"}} made into the
 * OCC symbol of that monthly expiration and the chain strike nearest to
 * price * (1 + moneyness).
 */
function instrument(t, today) {
    if (!t.option) {
        return { symbol: t.symbol, type: t['instrument-type'] || 'Equity',
                 underlying: t.symbol, multiplier: 1 };
    }
    var o = t.option;
    var px = spot(o.underlying);
    var day = monthlyExpiration(today, o.month);
    var strike = nearestStrike(px, px * (1 + o.moneyness));
    return { symbol: occSymbol(o.underlying, day, o.type, strike),
             type: 'Equity Option', underlying: o.underlying, multiplier: 100,
             expiry: day, optionType: o.type, strike: strike,
             streamer: streamerSymbol(o.underlying, day, o.type, strike) };
}

/* as descriptions name it: "AAPL" or "AAPL 12/18/26 Call 165.00" */
function describe(inst) {
    if (inst.type !== 'Equity Option') {
        return inst.symbol;
    }
    return inst.underlying + ' ' + mmddyy(inst.expiry) + ' '
           + (inst.optionType === 'C' ? 'Call' : 'Put') + ' '
           + inst.strike.toFixed(2);
}

/* ------------------------------------------------------------------ */
/* Prices                                                              */
/* ------------------------------------------------------------------ */

/*
 * Prices that move, when $tastytrade_mock_motion (js_var) names a seed:
 * each symbol swings MOTION_AMPLITUDE either way around its price, over
 * MOTION_PERIOD seconds, from a phase its seed and its name give it, so
 * that a rule on a price can be seen to fire on a fresh machine, and a
 * test can know when: GET /mock/price?symbol=&at= says the price at a
 * time.  Without a seed, prices stand still, as the fixtures say.
 */
var MOTION_PERIOD = 600;
var MOTION_AMPLITUDE = 0.03;
var motionSeed = '';

function motion(sym, now) {
    if (!motionSeed) {
        return 1;
    }
    var phase = hnum('motion:' + motionSeed + ':' + sym) % MOTION_PERIOD;
    var t = (now / 1000 + phase) % MOTION_PERIOD;
    return 1 + MOTION_AMPLITUDE * Math.sin(2 * Math.PI * t / MOTION_PERIOD);
}

/* a quote's prices, moved by the factor m */
function moved(q, m) {
    if (m === 1) {
        return q;
    }
    ['last', 'last-mkt', 'mark', 'bid', 'ask', 'close'].forEach(function (f) {
        if (q[f] !== undefined && q[f] !== null) {
            q[f] = dec(Number(q[f]) * m, 2);
        }
    });
    if (q.mid !== undefined) {
        q.mid = dec(Number(q.mid) * m, 4);
    }
    if (q['day-high-price'] !== undefined) {
        q['day-high-price'] = dec(Math.max(Number(q['day-high-price']),
                                           Number(q.last)), 2);
        q['day-low-price'] = dec(Math.min(Number(q['day-low-price']),
                                          Number(q.last)), 2);
    }
    return q;
}

/* GET /mock/price?symbol=&at=: the price of an equity at a time (ms) */
function mockPrice(r, a) {
    var sym = param(a.query, 'symbol');
    var at = Number(param(a.query, 'at') || a.now);
    if (!sym) {
        throw fail(400, 'invalid_request', 'symbol is required');
    }
    var q = quote('Equity', sym, at);
    send(r, 200, enc({ symbol: sym, at: at, seed: motionSeed || null,
                       last: q.last, factor: motion(sym, at) }));
}

/* a symbol's price: the fixture's last, else 5.00 to 499.99 from a hash */
function spot(sym) {
    var q = fixture('quotes.json').quotes[sym];
    if (q) {
        return Number(q.last);
    }
    return 5 + hnum('price:' + sym) % 49500 / 100;
}

function impliedVol(sym) {
    var m = fixture('metrics.json').metrics[sym];
    if (m) {
        return Number(m['implied-volatility-index']);
    }
    return 0.2 + hnum('iv:' + sym) % 40 / 100;
}

/* the standard normal distribution function (Abramowitz and Stegun 26.2.17) */
function ncdf(x) {
    var t = 1 / (1 + 0.2316419 * Math.abs(x));
    var d = 0.3989422804014327 * Math.exp(-x * x / 2);
    var p = d * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937
            + t * (-1.821255978 + t * 1.330274429))));
    return x > 0 ? 1 - p : p;
}

/* Black-Scholes, so that an option's price moves sensibly with its strike */
function optionValue(S, K, years, sigma, call) {
    var rate = 0.04;
    if (years <= 0) {
        return Math.max(0, call ? S - K : K - S);
    }
    var sd = sigma * Math.sqrt(years);
    var d1 = (Math.log(S / K) + (rate + sigma * sigma / 2) * years) / sd;
    var d2 = d1 - sd;
    var disc = K * Math.exp(-rate * years);
    return call ? S * ncdf(d1) - disc * ncdf(d2)
                : disc * ncdf(-d2) - S * ncdf(-d1);
}

/*
 * The greeks of that same model, as DXLink's Greeks event gives them:
 * theta per calendar day, vega and rho per point (1%) of their input
 */
function optionGreeks(S, K, years, sigma, call) {
    var rate = 0.04;
    var price = optionValue(S, K, years, sigma, call);
    if (years <= 0) {
        var itm = call ? S > K : S < K;
        return { price: price, volatility: sigma,
                 delta: itm ? (call ? 1 : -1) : 0, gamma: 0, theta: 0,
                 rho: 0, vega: 0 };
    }
    var sq = Math.sqrt(years);
    var sd = sigma * sq;
    var d1 = (Math.log(S / K) + (rate + sigma * sigma / 2) * years) / sd;
    var d2 = d1 - sd;
    var pdf = 0.3989422804014327 * Math.exp(-d1 * d1 / 2);
    var disc = K * Math.exp(-rate * years);
    var decay = -S * pdf * sigma / (2 * sq);
    return {
        price: price,
        volatility: sigma,
        delta: call ? ncdf(d1) : ncdf(d1) - 1,
        gamma: pdf / (S * sd),
        theta: (call ? decay - rate * disc * ncdf(d2)
                     : decay + rate * disc * ncdf(-d2)) / 365,
        rho: (call ? disc * years * ncdf(d2) : -disc * years * ncdf(-d2))
             / 100,
        vega: S * pdf * sq / 100
    };
}

/* options trade in pennies under $3 and nickels above */
function optionTick(px) {
    return px < 3 ? 0.01 : 0.05;
}

function onTick(px, tick) {
    return Math.max(tick, Math.round(px / tick) * tick);
}

/*
 * The fields of a quote made around price px: a spread of a few ticks,
 * a previous close and day range within a few percent, all from hashes.
 */
function madeQuote(sym, px, tick, bidAsk) {
    var h = hnum('quote:' + sym);
    var spread = tick * (1 + h % 4);
    var prev = px * (1 + ((h >>> 4) % 600 - 300) / 10000);
    var open = (px + prev) / 2;
    var q = {
        last: dec(px, 2), 'last-mkt': dec(px, 2), mark: dec(px, 2),
        open: dec(open, 2),
        'day-high-price': dec(Math.max(px, open)
                              * (1 + (h >>> 8) % 80 / 10000), 2),
        'day-low-price': dec(Math.min(px, open)
                             * (1 - (h >>> 12) % 80 / 10000), 2),
        close: dec(px, 2), 'close-price-type': 'Regular',
        'prev-close': dec(prev, 2), 'prev-close-price-type': 'Final',
        'is-trading-halted': false, 'halt-start-time': -1,
        'halt-end-time': -1,
        'year-low-price': dec(px * (0.6 + (h >>> 16) % 20 / 100), 2),
        'year-high-price': dec(px * (1.1 + (h >>> 20) % 30 / 100), 2),
        volume: dec(100000 + h % 20000000, 1)
    };
    if (bidAsk) {
        var bid = Math.max(0, px - spread / 2);
        q.bid = dec(bid, 2);
        q.ask = dec(bid + spread, 2);
        q.mid = dec(bid + spread / 2, 4);
        q.mark = q.mid;
        q['bid-size'] = dec(1 + (h >>> 3) % 20, 1);
        q['ask-size'] = dec(1 + (h >>> 5) % 20, 1);
    }
    return q;
}

function optionQuote(sym, today, now) {
    var o = parseOcc(sym);
    var S = spot(o.underlying) * motion(o.underlying, now);
    var years = Math.max(o.day - today, 0.25) / 365;
    if (o.day < today) {
        years = 0;
    }
    var mid = optionValue(S, o.strike, years, impliedVol(o.underlying),
                          o.type === 'C');
    var tick = optionTick(mid);
    var q = madeQuote(sym, onTick(mid, tick), tick, true);
    delete q['year-low-price'];
    delete q['year-high-price'];
    delete q['last-mkt'];
    return q;
}

/* a by-type item: the fixture's, an option priced from its underlying,
 * or one made from a hash */
function quote(type, sym, now) {
    var today = nyDay(now);
    var fx = fixture('quotes.json').quotes[sym];
    var q;
    if (fx && fx['instrument-type'] === type) {
        q = clone(fx);
    } else if (type === 'Equity Option') {
        q = optionQuote(sym, today, now);
    } else {
        var px = spot(sym);
        q = madeQuote(sym, px, px < 1 ? 0.0001 : 0.01, type !== 'Index');
        if (type === 'Equity') {
            q.beta = dec(0.5 + hnum('beta:' + sym) % 150 / 100, 9);
            q['dividend-amount'] = '0.0';
            q['dividend-frequency'] = '0.0';
        }
    }
    if (type !== 'Equity Option') {
        q = moved(q, motion(sym, now));
    }
    var session = tradingDayOnOrBefore(today);
    q.symbol = sym;
    q['instrument-type'] = type;
    q['updated-at'] = isoZ(now - 1000 - hnum('at:' + sym) % 4000);
    q['summary-date'] = isoDay(session);
    q['prev-close-date'] = isoDay(tradingDayOnOrBefore(session - 1));
    return q;
}

function markOf(type, sym, now) {
    var q = quote(type, sym, now);
    return Number(q.mark || q.last);
}

/* ------------------------------------------------------------------ */
/* Streaming: the quote token and what the DXLink mock sends           */
/* ------------------------------------------------------------------ */

/*
 * GET /api-quote-tokens: a token for the DXLink mock (conf/mock/dxlink/),
 * which asks POST /mock/quote-token whether it holds.  It lasts 24 hours,
 * or $tastytrade_mock_quote_token_ttl seconds, so that a test can see one
 * expire; the mock's address is $tastytrade_mock_dxlink_url.
 */
var QUOTE_TOKEN_TTL = 86400;
var dxlinkUrl = 'ws://127.0.0.1:8790/realtime';
var quoteTokenTtl = QUOTE_TOKEN_TTL;

function quoteToken(r, a) {
    var at = Math.floor(a.now / 1000);
    var exp = at + quoteTokenTtl;
    sendData(r, { token: mint('qt', { sub: a.sub, exp: exp }),
                  'dxlink-url': dxlinkUrl, level: 'api',
                  'issued-at': isoZ(at * 1000),
                  'expires-at': isoZ(exp * 1000) });
}

/*
 * POST /mock/quote-token {"token"}: {"valid", "reason"?, "sub"?, "exp"?};
 * a POST, so that no token is written to an access log
 */
function mockQuoteToken(r, a) {
    var p = verify(parseBody(r, false).token, 'qt');
    var out = { valid: false };
    if (p === null) {
        out.reason = 'unknown token';
    } else if (p.exp <= a.now / 1000) {
        out.reason = 'expired';
    } else {
        out.valid = true;
    }
    if (p !== null) {
        out.sub = p.sub;
        out.exp = p.exp;
    }
    send(r, 200, enc(out));
}

/* ".AAPL261218C152.5" -> the OCC symbol, or null */
function fromStreamer(sym) {
    var m = /^\.([A-Z0-9]{1,6})(\d{6})([CP])(\d+(\.\d+)?)$/.exec(sym);
    if (!m) {
        return null;
    }
    var occ = (m[1] + '      ').slice(0, 6) + m[2] + m[3]
              + pad(Math.round(Number(m[4]) * 1000), 8);
    return parseOcc(occ) ? occ : null;
}

/* the instrument type of a symbol as DXLink names it, or null: unknown */
function streamType(sym) {
    if (sym.charAt(0) === '.') {
        return fromStreamer(sym) ? 'Equity Option' : null;
    }
    var info = symbolInfo(sym);
    if (info) {
        return info['instrument-type'];
    }
    return /^[A-Z]{1,5}$/.test(sym) ? 'Equity' : null;
}

function num(v) {
    return v === undefined || v === null ? NaN : Number(v);
}

/*
 * The events a symbol has at a time, as DXLink names their fields: an
 * index trades but has no Quote (as TastyTrade's indices do); an option
 * adds Greeks from the same model its price comes from (optionGreeks),
 * on the underlying's moving price.
 */
function streamEvents(sym, now) {
    var type = streamType(sym);
    if (type === null) {
        return [];
    }
    var occ = type === 'Equity Option' ? fromStreamer(sym) : sym;
    var q = quote(type, occ, now);
    var h = hnum('stream:' + sym);
    var out = [];
    if (type !== 'Index') {
        out.push({ eventType: 'Quote', eventSymbol: sym,
                   bidPrice: num(q.bid), askPrice: num(q.ask),
                   bidSize: 1 + h % 40, askSize: 1 + (h >>> 6) % 40 });
    }
    out.push({ eventType: 'Trade', eventSymbol: sym, price: num(q.last),
               size: 1 + (h >>> 12) % 300, dayVolume: num(q.volume) });
    var summary = { eventType: 'Summary', eventSymbol: sym,
                    dayOpenPrice: num(q.open),
                    dayHighPrice: num(q['day-high-price']),
                    dayLowPrice: num(q['day-low-price']),
                    prevDayClosePrice: num(q['prev-close']),
                    openInterest: NaN };
    out.push(summary);
    var info = symbolInfo(sym);
    out.push({ eventType: 'Profile', eventSymbol: sym,
               description: type === 'Equity Option'
                   ? describe(instrumentOf(occ)) : info ? info.description
                   : sym, tradingStatus: 'ACTIVE' });
    if (type === 'Equity Option') {
        var o = parseOcc(occ);
        var today = nyDay(now);
        var S = spot(o.underlying) * motion(o.underlying, now);
        var years = o.day < today ? 0 : Math.max(o.day - today, 0.25) / 365;
        var g = optionGreeks(S, o.strike, years, impliedVol(o.underlying),
                             o.type === 'C');
        g.eventType = 'Greeks';
        g.eventSymbol = sym;
        out.push(g);
        summary.openInterest = 100 + h % 20000;
    }
    return out;
}

/*
 * A bar's price at time t: the quote's (moving as motion() says), with a
 * slow swing of its own over weeks so that daily bars differ; at now the
 * two agree
 */
var CANDLE_SWING = 23 * DAY;

function candlePrice(type, sym, t, now) {
    var ph = hnum('swing:' + sym) % CANDLE_SWING;
    var swing = function (x) {
        return Math.sin(2 * Math.PI * ((x + ph) % CANDLE_SWING) / CANDLE_SWING);
    };
    return Number(quote(type, sym, t).last)
           * (1 + 0.06 * (swing(t) - swing(now)));
}

/*
 * GET /mock/candles?symbol=&period=<ms>&from=<ms>: the bars of a stock,
 * ETF or index from the bar holding from to the one forming now (1000
 * at most), as DXLink's Candle events: time, open, high, low, close,
 * volume
 */
function mockCandles(r, a) {
    var sym = param(a.query, 'symbol');
    var period = Number(param(a.query, 'period'));
    var type = sym ? streamType(sym) : null;
    if (!type || type === 'Equity Option' || !(period >= 1000)) {
        throw fail(400, 'invalid_request',
                   'symbol (a stock, ETF or index) and period (ms) are needed');
    }
    var now = a.now;
    var from = Math.max(Number(param(a.query, 'from')) || now,
                        now - 1000 * period);
    var bars = [];
    for (var t = Math.floor(from / period) * period; t <= now; t += period) {
        var end = Math.min(t + period, now);
        var ps = [0, 0.25, 0.5, 0.75, 1].map(function (k) {
            return candlePrice(type, sym, Math.min(t + k * (end - t), now), now);
        });
        bars.push({ eventType: 'Candle', time: t,
                    open: round2(ps[0]), close: round2(ps[4]),
                    high: round2(Math.max.apply(null, ps)),
                    low: round2(Math.min.apply(null, ps)),
                    volume: 1000 + hnum('volume:' + sym + ':' + t) % 100000 });
    }
    send(r, 200, JSON.stringify({ symbol: sym, period: period, bars: bars }));
}

/* an OCC symbol as describe() takes it */
function instrumentOf(occ) {
    var o = parseOcc(occ);
    return { type: 'Equity Option', underlying: o.underlying,
             expiry: o.day, optionType: o.type, strike: o.strike };
}

/*
 * GET /mock/stream-events?symbols=a,b&at=: every event of each symbol,
 * {"events": [...]}, for the DXLink mock to send; not a number is "NaN",
 * as DXLink writes it
 */
function mockStreamEvents(r, a) {
    var at = Number(param(a.query, 'at') || a.now);
    var events = [];
    listParam(a.query, 'symbols').forEach(function (sym) {
        events = events.concat(streamEvents(sym, at));
    });
    send(r, 200, JSON.stringify({ at: at, events: events },
        function (k, v) {
            return typeof v === 'number' && !isFinite(v) ? 'NaN' : v;
        }));
}

/* ------------------------------------------------------------------ */
/* Customers and accounts                                              */
/* ------------------------------------------------------------------ */

/*
 * A customer's accounts: those customers.json gives the sub, or one
 * numbered 5WT + five digits of a hash of the sub.  Each is
 * {account: {...}, "authority-level": ...}, as /customers/me/accounts has.
 */
function accountsOf(sub) {
    var c = fixture('customers.json');
    var listed = c.customers[sub];
    var base = listed ? listed.accounts
             : [{ 'account-number': '5WT' + pad(hnum('account:' + sub)
                                                % 100000, 5) }];
    return base.map(function (a) {
        var no = a['account-number'];
        var h = hnum('opened:' + no);
        var opened = Date.UTC(2018, 0, 2) + h % 2500 * DAY + h % 28800000
                     + 14 * HOUR;
        var acct = Object.assign({}, c['account-defaults'], {
            'account-number': no,
            'external-id': 'A' + pad(hnum('external:' + no) % 10000000000, 10),
            'opened-at': isoOff(opened),
            'created-at': isoOff(opened),
            'funding-date': isoDay(Math.floor(opened / DAY) + 3)
        }, a);
        var level = acct['authority-level'];
        delete acct['authority-level'];
        return { account: acct, 'authority-level': level };
    });
}

/* the account, when it is the customer's; anyone else's is 403 */
function ownAccount(sub, no) {
    var a = accountsOf(sub).find(function (x) {
        return x.account['account-number'] === no;
    });
    if (!a) {
        throw fail(403, 'not_permitted', 'User not permitted access');
    }
    return a.account;
}

/* 1 to 3: positions and trades are this many times the fixtures' */
function scale(no) {
    return 1 + hnum('scale:' + no) % 3;
}

/* the positions as {item, inst, qty, mark} */
function holdings(acct, now) {
    var no = acct['account-number'];
    var today = nyDay(now);
    var k = scale(no);
    var base = fixture('positions.json').positions.map(function (t) {
        var inst = instrument(t, today);
        var q = quote(inst.type, inst.symbol, now);
        var qty = t.quantity * k;
        var opened = tradingDayOnOrBefore(today - t['opened-days-ago']);
        var item = {
            'account-number': no,
            symbol: inst.symbol,
            'instrument-type': inst.type,
            'underlying-symbol': inst.underlying,
            quantity: String(Math.abs(qty)),
            'quantity-direction': qty < 0 ? 'Short' : 'Long',
            'close-price': q['prev-close'],
            'average-open-price': t['average-open-price'],
            'average-yearly-market-close-price': t['average-open-price'],
            'average-daily-market-close-price': q['prev-close'],
            multiplier: inst.multiplier,
            'cost-effect': qty < 0 ? 'Credit' : 'Debit',
            'is-suppressed': false,
            'is-frozen': false,
            'restricted-quantity': '0.0',
            'realized-day-gain': '0.0',
            'realized-day-gain-effect': 'None',
            'realized-day-gain-date': isoDay(today),
            'realized-today': '0.0',
            'realized-today-effect': 'None',
            'realized-today-date': isoDay(today),
            'streamer-symbol': inst.type === 'Equity Option' ? inst.streamer
                                                            : inst.symbol,
            'created-at': isoOff(nyTime(opened, 10 * 60 + 2)),
            'updated-at': isoOff(nyTime(tradingDayOnOrBefore(today), 9 * 60))
        };
        if (inst.expiry !== undefined) {
            item['expires-at'] = isoOff(nyTime(inst.expiry, 16 * 60));
        }
        return { item: item, inst: inst, qty: qty,
                 mark: Number(q.mark || q.last) };
    });
    return withFills(acct, base, now);
}

/*
 * The positions after the fills of the orders placed through the mock:
 * a fill adds to a position or opens one, and one that comes to nothing
 * is closed
 */
function withFills(acct, hold, now) {
    var no = acct['account-number'];
    var today = nyDay(now);
    placedFills(no, now).forEach(function (f) {
        var h = hold.find(function (x) { return x.inst.symbol === f.symbol; });
        if (!h) {
            var inst = legInstrument({ symbol: f.symbol,
                                       'instrument-type': f.type });
            if (inst.type === 'Equity Option') {
                inst.streamer = streamerSymbol(parseOcc(f.symbol).root,
                                               inst.expiry, inst.optionType,
                                               inst.strike);
            }
            var q = quote(inst.type, inst.symbol, now);
            h = { inst: inst, qty: 0, mark: Number(q.mark || q.last),
                  item: {
                      'account-number': no, symbol: inst.symbol,
                      'instrument-type': inst.type,
                      'underlying-symbol': inst.underlying,
                      'close-price': q['prev-close'],
                      'average-open-price': dec(f.price, 4),
                      'average-yearly-market-close-price': dec(f.price, 4),
                      'average-daily-market-close-price': q['prev-close'],
                      multiplier: inst.multiplier,
                      'is-suppressed': false, 'is-frozen': false,
                      'restricted-quantity': '0.0',
                      'realized-day-gain': '0.0',
                      'realized-day-gain-effect': 'None',
                      'realized-day-gain-date': isoDay(today),
                      'realized-today': '0.0',
                      'realized-today-effect': 'None',
                      'realized-today-date': isoDay(today),
                      'streamer-symbol': inst.type === 'Equity Option'
                                         ? inst.streamer : inst.symbol,
                      'created-at': isoOff(f.at)
                  } };
            if (inst.expiry !== undefined) {
                h.item['expires-at'] = isoOff(nyTime(inst.expiry, 16 * 60));
            }
            hold.push(h);
        }
        h.qty += f.qty;
        h.item.quantity = String(Math.abs(h.qty));
        h.item['quantity-direction'] = h.qty < 0 ? 'Short' : 'Long';
        h.item['cost-effect'] = h.qty < 0 ? 'Credit' : 'Debit';
        h.item['updated-at'] = isoOff(f.at);
    });
    return hold.filter(function (h) { return h.qty !== 0; });
}

/* what the fills of placed orders did to the cash, in USD */
function fillsCash(acct, now) {
    var cash = 0;
    placedFills(acct['account-number'], now).forEach(function (f) {
        var inst = legInstrument({ symbol: f.symbol, 'instrument-type': f.type });
        var fee = feesFor(inst, f.action, Math.abs(f.qty), f.price);
        cash -= f.qty * f.price * inst.multiplier + fee.total;
    });
    return cash;
}

/* shares of `underlying` the holdings have (for covered calls) */
function sharesHeld(hold, underlying) {
    return hold.reduce(function (n, h) {
        return h.inst.type === 'Equity' && h.inst.symbol === underlying
               ? n + h.qty : n;
    }, 0);
}

/*
 * A short option's requirement: 20% of the underlying less the amount
 * out of the money, at least 10% of the strike, plus the premium; none
 * for a call the shares held cover.
 */
function shortOptionRequirement(inst, qty, premium, shares) {
    if (inst.optionType === 'C' && shares >= qty * 100) {
        return 0;
    }
    var S = spot(inst.underlying);
    var otm = inst.optionType === 'C' ? Math.max(0, inst.strike - S)
                                      : Math.max(0, S - inst.strike);
    return (Math.max(0.2 * S - otm, 0.1 * inst.strike) + premium) * 100 * qty;
}

/*
 * The balances, made from the positions at their marks and a cash amount
 * from a hash: net liquidating value = cash + long - short; derivative
 * buying power = net liq - maintenance (margin) or cash less what short
 * options secure (cash accounts); equity buying power is twice it on
 * margin, as in TastyTrade's example.
 */
function balances(acct, now) {
    var no = acct['account-number'];
    var margin = acct['margin-or-cash'] === 'Margin';
    var hold = holdings(acct, now);
    var h = hnum('cash:' + no);
    var cash = 8000 + h % 40000 + (h >>> 8) % 1000 / 1000
               + fillsCash(acct, now);
    var v = { le: 0, se: 0, ld: 0, sd: 0, maint: 0, secured: 0 };
    hold.forEach(function (p) {
        var value = p.mark * Math.abs(p.qty) * p.inst.multiplier;
        if (p.inst.type === 'Equity') {
            if (p.qty > 0) {
                v.le += value;
                v.maint += margin ? 0.25 * value : 0;
            } else {
                v.se += value;
                v.maint += 0.3 * value;
            }
        } else if (p.qty > 0) {
            v.ld += value;
        } else {
            v.sd += value;
            var req = shortOptionRequirement(
                p.inst, -p.qty, p.mark, sharesHeld(hold, p.inst.underlying));
            v.maint += margin ? req : 0;
            v.secured += margin ? 0 : req;
        }
    });
    var nlv = cash + v.le - v.se + v.ld - v.sd;
    var excess = margin ? nlv - v.maint : cash - v.secured;
    var today = nyDay(now);
    var b = {
        'account-number': no,
        currency: 'USD',
        'cash-balance': dec(cash, 3),
        'long-equity-value': dec(v.le, 3),
        'short-equity-value': dec(v.se, 3),
        'long-derivative-value': dec(v.ld, 3),
        'short-derivative-value': dec(v.sd, 3),
        'long-futures-value': '0.0',
        'short-futures-value': '0.0',
        'long-futures-derivative-value': '0.0',
        'short-futures-derivative-value': '0.0',
        'long-margineable-value': dec(margin ? v.le : 0, 3),
        'short-margineable-value': dec(margin ? v.se : 0, 3),
        'margin-equity': dec(nlv, 3),
        'equity-buying-power': dec(margin ? 2 * excess : excess, 3),
        'derivative-buying-power': dec(excess, 3),
        'day-trading-buying-power': '0.0',
        'futures-margin-requirement': '0.0',
        'available-trading-funds': '0.0',
        'maintenance-requirement': dec(v.maint, 3),
        'maintenance-call-value': '0.0',
        'reg-t-call-value': '0.0',
        'day-trading-call-value': '0.0',
        'day-equity-call-value': '0.0',
        'net-liquidating-value': dec(nlv, 3),
        'cash-available-to-withdraw':
            dec(Math.max(0, Math.min(cash, excess)), 2),
        'day-trade-excess': dec(excess, 2),
        'pending-cash': '0.0',
        'pending-cash-effect': 'None',
        'long-cryptocurrency-value': '0.0',
        'short-cryptocurrency-value': '0.0',
        'cryptocurrency-margin-requirement': '0.0',
        'unsettled-cryptocurrency-fiat-amount': '0.0',
        'unsettled-cryptocurrency-fiat-effect': 'None',
        'closed-loop-available-balance': dec(Math.max(0, excess), 2),
        'equity-offering-margin-requirement': '0.0',
        'long-bond-value': '0.0',
        'bond-margin-requirement': '0.0',
        'used-derivative-buying-power': dec(v.maint + v.secured, 3),
        'snapshot-date': isoDay(today),
        'reg-t-margin-requirement': dec(v.maint, 8),
        'futures-overnight-margin-requirement': '0.0',
        'futures-intraday-margin-requirement': '0.0',
        'maintenance-excess': dec(excess, 8),
        'pending-margin-interest': '0.0',
        'effective-cryptocurrency-buying-power': dec(excess, 3),
        'updated-at': isoOff(now - 2000)
    };
    return { item: b, hold: hold, excess: excess, margin: margin };
}

/* ------------------------------------------------------------------ */
/* Fees, transactions and orders                                       */
/* ------------------------------------------------------------------ */

/*
 * TastyTrade's published schedule, simplified: options $1 a contract to
 * open (at most $10 a leg), nothing to close, $0.10 clearing and about
 * $0.02 regulatory a contract; stocks free to trade with a small
 * clearing fee, and the SEC fee on sales.  Positive amounts are debits.
 */
function feesFor(inst, action, qty, price) {
    var opening = / to Open$/.test(action) || action === 'Buy';
    var selling = /^Sell/.test(action);
    var f = { commission: 0, clearing: 0, regulatory: 0 };
    if (inst.type === 'Equity Option') {
        f.commission = opening ? Math.min(qty, 10) : 0;
        f.clearing = 0.1 * qty;
        f.regulatory = 0.02 * qty + (selling ? 0.01 : 0);
    } else if (inst.type === 'Equity') {
        f.clearing = 0.0008 * qty;
        f.regulatory = selling ? Math.max(0.01, 0.0000278 * qty * price) : 0;
    }
    f.total = f.commission + f.clearing + f.regulatory;
    return f;
}

/* the fee members of a transaction or a fee-calculation, as debits */
function putFees(obj, f) {
    putSigned(obj, 'commission', -f.commission, 3);
    putSigned(obj, 'clearing-fees', -f.clearing, 3);
    putSigned(obj, 'regulatory-fees', -f.regulatory, 3);
    putSigned(obj, 'proprietary-index-option-fees', 0, 3);
}

/* ids that differ between accounts and keep their order within one */
function idBase(no, what) {
    return (hnum(what + ':' + no) % 900000 + 100000) * 100;
}

/*
 * The account's transactions, newest first, from transactions.json;
 * every trade also yields its filled order (for /orders).
 */
function history(acct, now) {
    var no = acct['account-number'];
    var today = nyDay(now);
    var k = scale(no);
    var txId = idBase(no, 'tx');
    var orderId = idBase(no, 'order');
    var items = [];
    var orders = [];
    fixture('transactions.json').transactions.forEach(function (t, i) {
        var day = tradingDayOnOrBefore(today - t['days-ago']);
        var at = nyTime(day, 9 * 60 + 45 + i * 7);
        var tx = { id: txId + i, 'account-number': no, currency: 'USD',
                   'transaction-date': isoDay(day),
                   'executed-at': isoZ(at),
                   'created-at': isoZ(at + 2197),
                   'is-estimated-fee': true };
        if (!t.trade) {
            var amount = t['per-share'] ? Number(t['per-share']) * t.shares * k
                                        : Number(t.amount);
            tx['transaction-type'] = t['transaction-type'];
            tx['transaction-sub-type'] = t['transaction-sub-type'];
            tx.description = t.description;
            if (t.symbol) {
                tx.symbol = t.symbol;
                tx['underlying-symbol'] = t.symbol;
                tx['instrument-type'] = 'Equity';
            }
            putSigned(tx, 'value', amount);
            putSigned(tx, 'net-value', amount);
            items.push(tx);
            return;
        }
        var tr = t.trade;
        var inst = instrument(tr, today);
        var qty = tr.quantity * k;
        var price = Number(tr.price);
        var buying = /^Buy/.test(tr.action);
        var value = price * qty * inst.multiplier;
        var f = feesFor(inst, tr.action, qty, price);
        var signedValue = buying ? -value : value;
        var oid = orderId + i;
        Object.assign(tx, {
            'transaction-type': 'Trade',
            'transaction-sub-type': tr.action,
            action: tr.action,
            description: (buying ? 'Bought ' : 'Sold ') + qty + ' '
                         + describe(inst) + ' @ ' + dec(price, 2),
            symbol: inst.symbol,
            'underlying-symbol': inst.underlying,
            'instrument-type': inst.type,
            quantity: dec(qty, 1),
            price: dec(price, 2),
            'order-id': oid,
            'exec-id': String(hnum('exec:' + no + i) % 100000),
            'destination-venue': 'MARKET_SIMULATOR'
        });
        putFees(tx, f);
        putSigned(tx, 'value', signedValue);
        putSigned(tx, 'net-value', signedValue - f.total);
        items.push(tx);
        orders.push(filledOrder(no, oid, tr, inst, qty, price, at));
        if (tr.expires && inst.expiry <= today) {
            var exp = nyTime(inst.expiry, 17 * 60);
            var closing = buying ? 'Sell to Close' : 'Buy to Close';
            var rd = { id: txId + 100 + i, 'account-number': no,
                       currency: 'USD',
                       'transaction-date': isoDay(inst.expiry),
                       'executed-at': isoZ(exp), 'created-at': isoZ(exp + 1523),
                       'is-estimated-fee': true,
                       'transaction-type': 'Receive Deliver',
                       'transaction-sub-type': 'Expiration',
                       action: closing,
                       description: 'Removal of ' + dec(qty, 1) + ' '
                                    + describe(inst) + ' due to expiration.',
                       symbol: inst.symbol,
                       'underlying-symbol': inst.underlying,
                       'instrument-type': inst.type,
                       quantity: dec(qty, 1) };
            putFees(rd, { commission: 0, clearing: 0, regulatory: 0 });
            putSigned(rd, 'value', 0);
            putSigned(rd, 'net-value', 0);
            items.push(rd);
        }
    });
    items.sort(function (a, b) {
        return a['executed-at'] < b['executed-at'] ? 1
             : a['executed-at'] > b['executed-at'] ? -1 : b.id - a.id;
    });
    return { transactions: items, orders: orders };
}

function orderLeg(action, inst, qty, remaining) {
    return { action: action, 'instrument-type': inst.type, quantity: qty,
             'remaining-quantity': remaining, symbol: inst.symbol,
             fills: [] };
}

function filledOrder(no, id, tr, inst, qty, price, at) {
    var leg = orderLeg(tr.action, inst, qty, 0);
    leg.fills = [{ 'fill-id': 'FI' + id, quantity: dec(qty, 1),
                   'fill-price': dec(price, 2), 'filled-at': isoOff(at),
                   'destination-venue': 'MARKET_SIMULATOR',
                   'ext-exec-id': String(hnum('exec:' + id) % 100000),
                   'ext-group-fill-id': String(hnum('group:' + id) % 10000) }];
    return {
        id: id, 'account-number': no, 'time-in-force': 'Day',
        'order-type': 'Limit', size: qty, 'underlying-symbol': inst.underlying,
        'underlying-instrument-type': 'Equity', price: dec(price, 2),
        'price-effect': /^Buy/.test(tr.action) ? 'Debit' : 'Credit',
        status: 'Filled', cancellable: false, editable: false, edited: false,
        'ext-client-order-id': extClientId(id),
        'global-request-id': globalRequestId(id),
        'received-at': isoOff(at - 1840), 'terminal-at': isoOff(at + 312),
        'updated-at': at + 312, legs: [leg]
    };
}

function extClientId(id) {
    return 'MOCK' + pad(hnum('ext:' + id).toString(16), 8) + String(id);
}

function globalRequestId(id) {
    return pad(hnum('grid:' + id).toString(16), 8) + '-mock-order-api-' + id;
}

/*
 * today's orders: those placed through the mock, newest first, then
 * orders.json's (working, and one cancelled)
 */
function liveOrders(acct, now) {
    var no = acct['account-number'];
    var today = nyDay(now);
    var base = idBase(no, 'live');
    var placed = placedRecords(no).filter(function (rec) {
        return nyDay(parseIso(rec.order['received-at'])) === today
               || orderAt(rec, now).status === 'Live';
    }).map(function (rec) { return orderAt(rec, now); });
    return placed.concat(fixture('orders.json').live.map(function (t, i) {
        var id = base + i;
        var at = now - t['minutes-ago'] * 60000;
        var first = instrument(t.legs[0], today);
        var mid = markOf(first.type, first.symbol, now);
        var tick = first.type === 'Equity Option' ? optionTick(mid) : 0.01;
        var o = {
            id: id, 'account-number': no, 'time-in-force': t['time-in-force'],
            'order-type': t['order-type'], size: t.legs[0].quantity,
            'underlying-symbol': first.underlying,
            'underlying-instrument-type': 'Equity',
            price: dec(onTick(mid * t['price-factor'], tick), 2),
            'price-effect': /^Buy/.test(t.legs[0].action) ? 'Debit' : 'Credit',
            status: t.status, editable: t.status === 'Live',
            cancellable: t.status === 'Live', edited: false,
            'ext-client-order-id': extClientId(id),
            'global-request-id': globalRequestId(id),
            'received-at': isoOff(at), 'updated-at': at + 415,
            legs: t.legs.map(function (l) {
                var inst = instrument(l, today);
                return orderLeg(l.action, inst, l.quantity, l.quantity);
            })
        };
        if (t.status === 'Live') {
            o['live-at'] = isoOff(at + 415);
        } else {
            o['cancelled-at'] = isoOff(at + 60000);
            o['terminal-at'] = isoOff(at + 60054);
            o['updated-at'] = at + 60054;
        }
        return o;
    }));
}

/* the pagination block of list answers, and the page itself */
function paginate(items, q, perPageDefault) {
    var per = intParam(q, 'per-page', perPageDefault, 1, 2000);
    var page = intParam(q, 'page-offset', 0, 0, 1000000);
    var slice = items.slice(page * per, page * per + per);
    return {
        items: slice,
        pagination: {
            'per-page': per, 'page-offset': page, 'item-offset': page * per,
            'total-items': items.length,
            'total-pages': Math.max(1, Math.ceil(items.length / per)),
            'current-item-count': slice.length, 'previous-link': null,
            'next-link': null, 'paging-link-template': null
        }
    };
}

/* ------------------------------------------------------------------ */
/* Order validation and dry-run                                        */
/* ------------------------------------------------------------------ */

var ORDER_TYPES = ['Limit', 'Market', 'Stop', 'Stop Limit', 'Notional Market',
                   'Marketable Limit'];
var TIME_IN_FORCE = ['Day', 'GTC', 'GTD', 'Ext', 'Ext Overnight', 'GTC Ext',
                     'GTC Ext Overnight', 'IOC'];
var ACTIONS = ['Buy to Open', 'Buy to Close', 'Sell to Open', 'Sell to Close',
               'Buy', 'Sell'];
var LEG_TYPES = ['Equity', 'Equity Option', 'Future', 'Future Option',
                 'Cryptocurrency'];
var EFFECTS = ['Debit', 'Credit'];

function positiveDecimal(v) {
    return (typeof v === 'number' && v > 0)
           || (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v)
               && Number(v) > 0);
}

/* the schema: 400 validation_error naming the first member that is wrong */
function validateOrder(o) {
    if (ORDER_TYPES.indexOf(o['order-type']) < 0) {
        throw invalid('order-type', o['order-type'] === undefined
                      ? 'is missing' : 'does not have a valid value');
    }
    if (TIME_IN_FORCE.indexOf(o['time-in-force']) < 0) {
        throw invalid('time-in-force', o['time-in-force'] === undefined
                      ? 'is missing' : 'does not have a valid value');
    }
    var type = o['order-type'];
    if (/Limit/.test(type)) {
        if (!positiveDecimal(o.price)) {
            throw invalid('price', 'is missing or not a positive decimal');
        }
    }
    if (o.price !== undefined && EFFECTS.indexOf(o['price-effect']) < 0) {
        throw invalid('price-effect', 'must be Debit or Credit');
    }
    if (/^Stop/.test(type) && !positiveDecimal(o['stop-trigger'])) {
        throw invalid('stop-trigger', 'is missing or not a positive decimal');
    }
    if (type === 'Notional Market') {
        if (!positiveDecimal(o.value)
            || EFFECTS.indexOf(o['value-effect']) < 0)
        {
            throw invalid('value', 'and value-effect are required');
        }
    }
    if (o['time-in-force'] === 'GTD'
        && !/^\d{4}-\d{2}-\d{2}$/.test(o['gtc-date'] || ''))
    {
        throw invalid('gtc-date', 'is required for GTD orders');
    }
    if (!Array.isArray(o.legs) || o.legs.length === 0) {
        throw invalid('legs', 'is missing');
    }
    if (o.legs.length > 4) {
        throw invalid('legs', 'has more than 4 legs');
    }
    o.legs.forEach(function (l, i) {
        var d = 'legs[' + i + ']';
        if (l === null || typeof l !== 'object') {
            throw invalid(d, 'is not an object');
        }
        if (ACTIONS.indexOf(l.action) < 0) {
            throw invalid(d + '.action', l.action === undefined
                          ? 'is missing' : 'does not have a valid value');
        }
        if (LEG_TYPES.indexOf(l['instrument-type']) < 0) {
            throw invalid(d + '.instrument-type',
                          'does not have a valid value');
        }
        if (typeof l.symbol !== 'string' || l.symbol === '') {
            throw invalid(d + '.symbol', 'is missing');
        }
        if (!positiveDecimal(l.quantity)) {
            throw invalid(d + '.quantity', 'is missing or not positive');
        }
    });
    /* only options make spreads */
    o.legs.forEach(function (l) {
        if (l['instrument-type'] !== 'Equity Option'
            && l['instrument-type'] !== 'Future Option' && o.legs.length > 1)
        {
            throw invalid('legs', 'may hold one ' + l['instrument-type']
                          + ' leg only');
        }
    });
}

/* a leg's instrument as instrument() makes it, from the order's symbol */
function legInstrument(l) {
    var type = l['instrument-type'];
    var ok = type === 'Equity Option' ? parseOcc(l.symbol) !== null
           : SYNTAX[type].test(l.symbol);
    if (!ok) {
        throw fail(422, 'invalid_symbol', 'Invalid symbol: ' + l.symbol);
    }
    if (type !== 'Equity Option') {
        return { symbol: l.symbol, type: type, underlying: l.symbol,
                 multiplier: type === 'Future' ? 50 : 1 };
    }
    var o = parseOcc(l.symbol);
    return { symbol: l.symbol, type: type, underlying: o.underlying,
             multiplier: 100, expiry: o.day, optionType: o.type,
             strike: o.strike };
}

/* "Equity" when open now; sessions() holds the details */
function equityOpen(now) {
    var s = currentSession('Equity', now);
    return s !== null && s.state === 'Open';
}

/*
 * POST /accounts/{n}/orders/dry-run: the schema first (400), then the
 * symbols (422 invalid_symbol), then buying power (422
 * preflight_check_failure with margin_check_failed).  The requirement
 * is Reg T's 50% of a stock purchase on margin (all of it in a cash
 * account), an option's premium, or a short option's requirement.
 */
function assess(o, acct, now) {
    validateOrder(o);
    var bal = balances(acct, now);
    var legs = o.legs.map(function (l) {
        return { leg: l, inst: legInstrument(l), qty: Number(l.quantity) };
    });
    var warnings = [];
    var requirement = 0;
    var fees = { commission: 0, clearing: 0, regulatory: 0, total: 0 };
    var orderPrice = o.price !== undefined ? Number(o.price) : null;
    legs.forEach(function (x) {
        var mark = markOf(x.inst.type, x.inst.symbol, now);
        var px = orderPrice !== null && legs.length === 1 ? orderPrice : mark;
        var cost = px * x.qty * x.inst.multiplier;
        var action = x.leg.action;
        var f = feesFor(x.inst, action, x.qty, px);
        Object.keys(fees).forEach(function (k) { fees[k] += f[k]; });
        if (/to Close$/.test(action)) {
            var held = bal.hold.some(function (h) {
                return h.inst.symbol === x.inst.symbol;
            });
            if (!held) {
                warnings.push({ code: 'closing_with_no_position',
                                message: 'There is no position in '
                                         + x.inst.symbol + ' to close.' });
            }
            return;
        }
        var buying = /^Buy/.test(action);
        if (x.inst.type === 'Equity Option') {
            requirement += buying ? cost : shortOptionRequirement(
                x.inst, x.qty, px, sharesHeld(bal.hold, x.inst.underlying));
        } else if (x.inst.type === 'Equity') {
            requirement += bal.margin ? 0.5 * cost : cost;
            if (!buying) {
                requirement += bal.margin ? cost : 0;
            }
        } else {
            requirement += 0.1 * cost;
        }
    });
    if (o['time-in-force'] === 'Day' && !marketOpen(now)) {
        /* TastyTrade's code has the three s */
        warnings.push({ code: 'tif_next_valid_sesssion',
                        message: 'Your order will begin working during next'
                                 + ' valid session.' });
    }
    var current = bal.excess;
    var effect = {};
    putSigned(effect, 'change-in-margin-requirement', -requirement, 3);
    putSigned(effect, 'change-in-buying-power', -requirement, 3);
    putSigned(effect, 'current-buying-power', current, 3);
    putSigned(effect, 'new-buying-power', current - requirement, 3);
    putSigned(effect, 'isolated-order-margin-requirement', -requirement, 3);
    effect['is-spread'] = legs.length > 1;
    effect.impact = dec(requirement, 3);
    effect.effect = requirement > 0 ? 'Debit' : 'None';
    if (current - requirement < 0) {
        throw fail(422, 'preflight_check_failure',
                   'One or more preflight checks failed',
                   [{ code: 'margin_check_failed',
                      message: 'Account does not have sufficient buying power'
                               + ' available for this order.' }],
                   { data: { 'buying-power-effect': effect } });
    }
    var calc = {};
    putFees(calc, fees);
    putSigned(calc, 'total-fees', -fees.total, 3);
    var first = legs[0];
    var order = {
        'account-number': acct['account-number'],
        'time-in-force': o['time-in-force'], 'order-type': o['order-type'],
        size: first.qty, 'underlying-symbol': first.inst.underlying,
        'underlying-instrument-type': first.inst.type === 'Cryptocurrency'
            ? 'Cryptocurrency' : first.inst.type === 'Future' ? 'Future'
            : 'Equity',
        status: 'Received', cancellable: true, editable: true, edited: false,
        'updated-at': 0,
        legs: legs.map(function (x) {
            return orderLeg(x.leg.action, x.inst, x.qty, x.qty);
        })
    };
    ['price', 'stop-trigger', 'value'].forEach(function (k) {
        if (o[k] !== undefined) {
            order[k] = dec(Number(o[k]), 4);
        }
    });
    ['price-effect', 'value-effect', 'gtc-date'].forEach(function (k) {
        if (o[k] !== undefined) {
            order[k] = o[k];
        }
    });
    return { order: order, warnings: warnings, effect: effect, calc: calc,
             legs: legs };
}

function dryRun(r, acct, now) {
    var p = assess(parseBody(r, false), acct, now);
    sendData(r, { order: p.order, warnings: p.warnings,
                  'buying-power-effect': p.effect,
                  'fee-calculation': p.calc });
}

/* ------------------------------------------------------------------ */
/* The order engine                                                    */
/* ------------------------------------------------------------------ */

/*
 * Orders placed through the mock are kept, one file each, in
 * $tastytrade_mock_state/orders/<account>/<id>.json: njs 0.7.9 keeps
 * nothing between requests, and a file created exclusively (flag "wx")
 * is what every worker agrees on, so two orders never share an id.
 * What happens to an order later (a partial fill that completes) is
 * worked out from the clock when it is read, as the rest of the mock's
 * data is; a cancel or a replace rewrites its file.
 *
 * Fills: a marketable order (a market order while the market is open; a
 * limit at or through the other side) fills at once, half of it when it
 * is for more than one, and the rest PARTIAL_FILL_MS later; any other
 * order works until it is cancelled.  Positions and balances follow the
 * fills.  $tastytrade_mock_market (open or closed) overrides the clock's
 * session, so that a test does not depend on the hour it runs at.
 */

var stateDir = '';
var marketState = '';
var PARTIAL_FILL_MS = 2000;

function marketOpen(now) {
    if (marketState === 'open' || marketState === 'closed') {
        return marketState === 'open';
    }
    return equityOpen(now);
}

function mkdir(d) {
    try {
        fs.mkdirSync(d);
    } catch (e) {
        if (e.code !== 'EEXIST') {
            throw e;
        }
    }
}

function ordersDir(no, create) {
    if (!stateDir) {
        throw fail(503, 'service_unavailable', 'This mock keeps no orders:'
                   + ' set $tastytrade_mock_state to a folder');
    }
    var d = stateDir + '/orders/' + no;
    if (create) {
        mkdir(stateDir);
        mkdir(stateDir + '/orders');
        mkdir(d);
    }
    return d;
}

/* the account's placed orders as kept, newest first */
function placedRecords(no) {
    if (!stateDir) {
        return [];
    }
    var d = stateDir + '/orders/' + no;
    var names;
    try {
        names = fs.readdirSync(d);
    } catch (e) {
        return [];
    }
    return names.filter(function (n) { return /^\d+\.json$/.test(n); })
        .map(function (n) {
            return JSON.parse(fs.readFileSync(d + '/' + n));
        })
        .sort(function (x, y) { return y.order.id - x.order.id; });
}

function saveRecord(no, rec, exclusive) {
    var path = ordersDir(no, true) + '/' + rec.order.id + '.json';
    fs.writeFileSync(path, JSON.stringify(rec),
                     exclusive ? { flag: 'wx' } : undefined);
}

/* the order as it stands at now: its fills so far, its status */
function orderAt(rec, now) {
    var o = clone(rec.order);
    var end = rec['cancelled-at'] || Infinity;
    var filled = 0;
    var fills = rec.fills.filter(function (f) { return f.at <= Math.min(now, end); });
    fills.forEach(function (f) { filled += f.quantity; });
    o.legs.forEach(function (l, i) {
        l.fills = fills.map(function (f, k) {
            return { 'fill-id': 'FI' + o.id + '-' + i + '-' + k,
                     quantity: dec(f.quantity * l.ratio, 1),
                     'fill-price': dec(f.legPrices[i], 4),
                     'filled-at': isoOff(f.at),
                     'destination-venue': 'MARKET_SIMULATOR',
                     'ext-exec-id': String(hnum('exec:' + o.id + k) % 100000),
                     'ext-group-fill-id': String(o.id) };
        });
        l['remaining-quantity'] = (o.size - filled) * l.ratio;
        delete l.ratio;
    });
    if (filled >= o.size) {
        var last = fills[fills.length - 1].at;
        o.status = 'Filled';
        o['terminal-at'] = isoOff(last);
        o['updated-at'] = last;
        o.cancellable = false;
        o.editable = false;
    } else if (rec['live-from'] !== undefined
               && (rec['live-from'] === null || rec['live-from'] > now)
               && !(rec['cancelled-at'] <= now))
    {
        o.status = 'Contingent';
        o.cancellable = true;
        o.editable = false;
    } else if (rec['cancelled-at'] !== undefined && rec['cancelled-at'] <= now) {
        o.status = 'Cancelled';
        o['cancelled-at'] = isoOff(rec['cancelled-at']);
        o['terminal-at'] = isoOff(rec['cancelled-at'] + 54);
        o['updated-at'] = rec['cancelled-at'] + 54;
        o.cancellable = false;
        o.editable = false;
        if (rec['replaced-by'] !== undefined) {
            o['replaced-by-order-id'] = rec['replaced-by'];
        }
    } else {
        o.status = 'Live';
        o['live-at'] = o['received-at'];
        o.cancellable = true;
        o.editable = true;
    }
    return o;
}

/* the fills the legs' filled quantities amount to, signed, by symbol */
function placedFills(no, now) {
    var out = [];
    placedRecords(no).forEach(function (rec) {
        var end = Math.min(now, rec['cancelled-at'] || Infinity);
        rec.fills.forEach(function (f) {
            if (f.at > end) {
                return;
            }
            rec.order.legs.forEach(function (l, i) {
                out.push({ symbol: l.symbol, type: l['instrument-type'],
                           action: l.action,
                           qty: (/^Buy/.test(l.action) ? 1 : -1)
                                * f.quantity * l.ratio,
                           price: f.legPrices[i], at: f.at });
            });
        });
    });
    return out;
}

/*
 * POST /accounts/{n}/orders: the dry run's checks (the schema, the
 * symbols, buying power), then the order's own: a price on its tick,
 * and no market order while the market is closed.  201 with the order.
 */
function placeOrder(r, a) {
    var acct = ownAccount(a.sub, a.n);
    var o = parseBody(r, false);
    var x = checkedOrder(o, acct, a.now);
    var rec = newRecord(o, x.p, x.open, a.now);
    saveNew(acct['account-number'], rec, 'placed');
    var answer = { order: orderAt(rec, a.now), warnings: x.p.warnings,
                   'buying-power-effect': x.p.effect,
                   'fee-calculation': x.p.calc };
    var delay = takeFault('order-delay');
    if (delay > 0) {
        /* placed, and the answer late: what a timeout looks like */
        setTimeout(function () { sendData(r, answer, null, 201); }, delay);
        return;
    }
    sendData(r, answer, null, 201);
}

/* an order's checks past the dry run's: a closed market, the tick */
function checkedOrder(o, acct, now) {
    var p = assess(o, acct, now);
    var open = marketOpen(now);
    if (o['order-type'] === 'Market' && !open) {
        throw fail(422, 'market_closed', 'The market is closed: market'
                   + ' orders can be placed only while it is open');
    }
    if (o.price !== undefined) {
        var px = Number(o.price);
        var option = p.legs.some(function (x) {
            return x.inst.type === 'Equity Option';
        });
        var tick = option ? optionTick(px) : 0.01;
        if (Math.abs(px / tick - Math.round(px / tick)) > 1e-6) {
            throw fail(422, 'invalid_price', 'Price ' + o.price + ' is not'
                       + ' in increments of ' + tick.toFixed(2));
        }
    }
    return { p: p, open: open };
}

/* the record of a new order, its fills planned; not yet saved */
function newRecord(o, p, open, now) {
    var order = p.order;
    var legs = p.legs;
    order['received-at'] = isoOff(now);
    order['updated-at'] = now;
    order['ext-client-order-id'] = typeof o['ext-client-order-id'] === 'string'
                                   ? o['ext-client-order-id'] : undefined;
    order.legs.forEach(function (l, i) {
        l.ratio = legs[i].qty / legs[0].qty;
        l.quantity = legs[i].qty;
    });
    order.size = legs[0].qty;
    return { order: order, fills: fillPlan(o, legs, open, now) };
}

/* saved under the first free id from the account's base for what */
function saveNew(no, rec, what) {
    var id = idBase(no, what);
    for (;;) {
        rec.order.id = id;
        if (rec.order['ext-client-order-id'] === undefined) {
            rec.order['ext-client-order-id'] = extClientId(id);
        }
        rec.order['global-request-id'] = globalRequestId(id);
        try {
            saveRecord(no, rec, true);
            return id;
        } catch (e) {
            if (e.code !== 'EEXIST') {
                throw e;
            }
            id++;
        }
    }
}

/*
 * Complex orders: POST /accounts/{n}/complex-orders with "type" OCO
 * (two orders, one cancels the other: the first to fill cancels its
 * sibling) or OTOCO (a "trigger-order", and two orders that wait,
 * Contingent, until it has filled, then work as an OCO).  Each order
 * is kept as any other, so get_orders shows it; the complex order is a
 * file of its own, complex/<account>/<id>.json, naming them.
 */
function complexParts(b) {
    if (b.type !== 'OCO' && b.type !== 'OTOCO') {
        throw invalid('type', 'must be OCO or OTOCO');
    }
    if (!Array.isArray(b.orders) || b.orders.length !== 2) {
        throw invalid('orders', 'must hold two orders');
    }
    if ((b.type === 'OTOCO') !== (b['trigger-order'] !== undefined)) {
        throw invalid('trigger-order', b.type === 'OTOCO'
                      ? 'is required for OTOCO' : 'is for OTOCO only');
    }
    return (b.type === 'OTOCO' ? [b['trigger-order']] : []).concat(b.orders);
}

function complexAssess(r, a) {
    var acct = ownAccount(a.sub, a.n);
    var b = parseBody(r, false);
    var parts = complexParts(b).map(function (o) {
        return { o: o, x: checkedOrder(o, acct, a.now) };
    });
    return { acct: acct, b: b, parts: parts };
}

function complexDryRun(r, a) {
    var c = complexAssess(r, a);
    var first = c.parts[0].x.p;
    sendData(r, {
        'complex-order': { type: c.b.type,
                           orders: c.parts.map(function (x) {
                               return x.x.p.order;
                           }) },
        warnings: first.warnings, 'buying-power-effect': first.effect,
        'fee-calculation': first.calc });
}

function complexDir(no, create) {
    var d = ordersDir(no, create).replace(/\/orders\/([^/]+)$/,
                                           '/complex/$1');
    if (create) {
        mkdir(stateDir + '/complex');
        mkdir(d);
    }
    return d;
}

function complexAt(no, c, now) {
    var recs = placedRecords(no);
    var at = function (id) {
        var rec = recs.find(function (x) { return x.order.id === id; });
        return rec ? orderAt(rec, now) : null;
    };
    var orders = c.orders.map(at);
    var out = { id: c.id, type: c.type, 'account-number': no,
                'ext-client-order-id': c['ext-client-order-id'],
                'received-at': c['received-at'], orders: orders };
    if (c.trigger !== undefined) {
        out['trigger-order'] = at(c.trigger);
    }
    return out;
}

function placeComplex(r, a) {
    var c = complexAssess(r, a);
    var no = c.acct['account-number'];
    var recs = c.parts.map(function (x) {
        return newRecord(x.o, x.x.p, x.x.open, a.now);
    });
    var trigger = c.b.type === 'OTOCO' ? recs.shift() : null;
    if (trigger !== null) {
        /* the two wait for the trigger to fill, all of it */
        var done = trigger.fills.reduce(function (n, f) {
            return n + f.quantity;
        }, 0) >= trigger.order.size
            ? trigger.fills[trigger.fills.length - 1].at : null;
        recs.forEach(function (rec) {
            rec.fills = [];
            rec['live-from'] = done;
        });
    } else if (recs[0].fills.length > 0 || recs[1].fills.length > 0) {
        /* one cancels the other: the first to fill */
        var k = recs[0].fills.length > 0 ? 0 : 1;
        recs[1 - k].fills = [];
        recs[1 - k]['cancelled-at'] = recs[k].fills[0].at;
    }
    var cx = { type: c.b.type, 'received-at': isoOff(a.now),
               'ext-client-order-id': typeof c.b['ext-client-order-id']
                                      === 'string'
                                      ? c.b['ext-client-order-id']
                                      : undefined };
    if (trigger !== null) {
        cx.trigger = saveNew(no, trigger, 'placed');
    }
    cx.orders = recs.map(function (rec) { return saveNew(no, rec, 'placed'); });
    var id = idBase(no, 'complex');
    for (;;) {
        cx.id = id;
        if (cx['ext-client-order-id'] === undefined) {
            cx['ext-client-order-id'] = extClientId(id);
        }
        try {
            fs.writeFileSync(complexDir(no, true) + '/' + id + '.json',
                             JSON.stringify(cx), { flag: 'wx' });
            break;
        } catch (e) {
            if (e.code !== 'EEXIST') {
                throw e;
            }
            id++;
        }
    }
    var first = c.parts[0].x.p;
    sendData(r, { 'complex-order': complexAt(no, cx, a.now),
                  warnings: first.warnings,
                  'buying-power-effect': first.effect,
                  'fee-calculation': first.calc }, null, 201);
}

function complexLive(r, a) {
    var acct = ownAccount(a.sub, a.n);
    var no = acct['account-number'];
    var names;
    try {
        names = fs.readdirSync(complexDir(no, false));
    } catch (e) {
        names = [];
    }
    sendItems(r, names.filter(function (n) { return /^\d+\.json$/.test(n); })
        .map(function (n) {
            return complexAt(no, JSON.parse(fs.readFileSync(
                       complexDir(no, false) + '/' + n)), a.now);
        }));
}

/*
 * When and at what price a new order fills: [] while it only works, or
 * one or two fills of the first leg's quantity (the legs keep their
 * ratio), each leg at its own mark and the order at its limit.
 */
function fillPlan(o, legs, open, now) {
    if (!open) {
        return [];
    }
    var net = 0;
    var prices = legs.map(function (x) {
        var q = quote(x.inst.type, x.inst.symbol, now);
        var buying = /^Buy/.test(x.leg.action);
        var px = Number(buying ? (q.ask || q.mark || q.last)
                               : (q.bid || q.mark || q.last));
        net += (buying ? 1 : -1) * px * x.qty / legs[0].qty;
        return px;
    });
    var type = o['order-type'];
    if (type !== 'Market') {
        if (type !== 'Limit' && type !== 'Marketable Limit') {
            /* stops wait for their trigger, which the mock never moves to */
            return [];
        }
        var limit = Number(o.price);
        var debit = o['price-effect'] === 'Debit';
        var marketable = debit ? limit + 1e-9 >= net : limit - 1e-9 <= -net;
        if (!marketable) {
            return [];
        }
        if (legs.length === 1) {
            prices = [limit];
        }
    }
    var size = legs[0].qty;
    var first = size > 1 ? Math.ceil(size / 2) : size;
    var plan = [{ at: now, quantity: first, legPrices: prices }];
    if (first < size) {
        plan.push({ at: now + PARTIAL_FILL_MS, quantity: size - first,
                    legPrices: prices });
    }
    return plan;
}

function findRecord(no, id) {
    var rec = placedRecords(no).find(function (x) {
        return String(x.order.id) === String(id);
    });
    if (!rec) {
        throw notFound('order ' + id);
    }
    return rec;
}

/* GET /accounts/{n}/orders/{id} */
function accountOrder(r, a) {
    var acct = ownAccount(a.sub, a.n);
    var no = acct['account-number'];
    var live = liveOrders(acct, a.now).find(function (x) {
        return String(x.id) === a.id;
    });
    sendData(r, live || orderAt(findRecord(no, a.id), a.now));
}

/* DELETE /accounts/{n}/orders/{id}: a working order is cancelled */
function cancelOrder(r, a) {
    var acct = ownAccount(a.sub, a.n);
    var no = acct['account-number'];
    var rec = findRecord(no, a.id);
    var now = orderAt(rec, a.now);
    if (!now.cancellable) {
        throw fail(422, 'order_not_cancellable', 'Order ' + a.id + ' is '
                   + now.status + ' and can no longer be cancelled');
    }
    rec['cancelled-at'] = a.now;
    saveRecord(no, rec, false);
    sendData(r, orderAt(rec, a.now));
}

/*
 * PUT /accounts/{n}/orders/{id}: cancel-replace.  Only the price, the
 * order type and the time in force change; the new order has what is
 * left of the old one and names it in replaces-order-id.
 */
function replacement(r, a) {
    var acct = ownAccount(a.sub, a.n);
    var no = acct['account-number'];
    var rec = findRecord(no, a.id);
    var now = orderAt(rec, a.now);
    if (!now.editable) {
        throw fail(422, 'order_not_editable', 'Order ' + a.id + ' is '
                   + now.status + ' and can no longer be replaced');
    }
    var b = parseBody(r, false);
    var o = {
        'order-type': b['order-type'] || rec.order['order-type'],
        'time-in-force': b['time-in-force'] || rec.order['time-in-force'],
        price: b.price,
        'price-effect': b['price-effect'] || rec.order['price-effect'],
        legs: rec.order.legs.map(function (l) {
            return { action: l.action, symbol: l.symbol,
                     'instrument-type': l['instrument-type'],
                     quantity: l['remaining-quantity'] };
        })
    };
    Object.keys(b).forEach(function (k) {
        if (['order-type', 'time-in-force', 'price', 'price-effect',
             'gtc-date', 'stop-trigger'].indexOf(k) < 0)
        {
            throw invalid(k, 'cannot be changed by a replace');
        }
    });
    if (b['gtc-date'] !== undefined) {
        o['gtc-date'] = b['gtc-date'];
    }
    if (b['stop-trigger'] !== undefined) {
        o['stop-trigger'] = b['stop-trigger'];
    }
    var remaining = now.legs[0]['remaining-quantity'];
    o.legs.forEach(function (l, i) {
        l.quantity = now.legs[i]['remaining-quantity'];
    });
    if (remaining <= 0) {
        throw fail(422, 'order_not_editable', 'Order ' + a.id
                   + ' has nothing left to replace');
    }
    var p = assess(o, acct, a.now);
    var open = marketOpen(a.now);
    if (o['order-type'] === 'Market' && !open) {
        throw fail(422, 'market_closed', 'The market is closed: market'
                   + ' orders can be placed only while it is open');
    }
    return { acct: acct, no: no, rec: rec, o: o, p: p, open: open };
}

/* POST /accounts/{n}/orders/{id}/dry-run: the replacement, not placed */
function replaceDryRun(r, a) {
    var x = replacement(r, a);
    sendData(r, { order: x.p.order, warnings: x.p.warnings,
                  'buying-power-effect': x.p.effect,
                  'fee-calculation': x.p.calc });
}

function replaceOrder(r, a) {
    var x = replacement(r, a);
    var rec = x.rec;
    var no = x.no;
    var p = x.p;
    var o = x.o;
    var open = x.open;

    var order = p.order;
    order['received-at'] = isoOff(a.now);
    order['updated-at'] = a.now;
    order['replaces-order-id'] = rec.order.id;
    order['ext-client-order-id'] = extClientId(rec.order.id + 1);
    order.legs.forEach(function (l, i) {
        l.ratio = p.legs[i].qty / p.legs[0].qty;
        l.quantity = p.legs[i].qty;
    });
    order.size = p.legs[0].qty;
    var next = { order: order, fills: fillPlan(o, p.legs, open, a.now) };
    var id = rec.order.id + 1;
    for (;;) {
        next.order.id = id;
        next.order['global-request-id'] = globalRequestId(id);
        try {
            saveRecord(no, next, true);
            break;
        } catch (e) {
            if (e.code !== 'EEXIST') {
                throw e;
            }
            id++;
        }
    }
    rec['cancelled-at'] = a.now;
    rec['replaced-by'] = id;
    saveRecord(no, rec, false);
    sendData(r, orderAt(next, a.now));
}

/*
 * A fault for the next request that takes it: POST /mock/fault
 * {"name":"order-delay","ms":N} makes the next order's answer come N ms
 * after the order is placed.  Kept as a file, taken with a rename, so
 * that one request of whichever worker gets it.
 */
function mockFault(r, a) {
    var b = parseBody(r, false);
    if (b.name !== 'order-delay' || !(b.ms > 0)) {
        throw invalid('name', 'must be order-delay, with ms');
    }
    mkdir(stateDir);
    fs.writeFileSync(stateDir + '/fault-' + b.name, String(b.ms));
    sendData(r, { name: b.name, ms: b.ms });
}

function takeFault(name) {
    var path = stateDir + '/fault-' + name;
    var taken = path + '.' + Math.random().toString(16).slice(2);
    try {
        fs.renameSync(path, taken);
    } catch (e) {
        return 0;
    }
    var ms = Number(fs.readFileSync(taken));
    fs.unlinkSync(taken);
    return ms;
}

/* GET /mock/orders: every order placed, as kept, for tests to count */
function mockOrders(r, a) {
    var out = [];
    var accounts;
    try {
        accounts = fs.readdirSync(stateDir + '/orders');
    } catch (e) {
        accounts = [];
    }
    accounts.forEach(function (no) {
        placedRecords(no).forEach(function (rec) {
            out.push(orderAt(rec, a.now));
        });
    });
    sendItems(r, out);
}

/* ------------------------------------------------------------------ */
/* Market sessions                                                     */
/* ------------------------------------------------------------------ */

var COLLECTIONS = ['Equity', 'CME', 'CFE', 'Smalls'];

/*
 * The session that trades on day dn, or null.  Equity: 8:15 start
 * (pre-market), 9:30 open, 16:00 close (13:00 on half days), extended
 * hours to 20:00 (17:00).  The futures collections open at 18:00 the
 * day before (back over a holiday to Sunday) and close at 17:00.
 */
function sessionOn(collection, dn) {
    if (!isTradingDay(dn)) {
        return null;
    }
    if (collection === 'Equity') {
        var half = isHalfDay(dn);
        return { date: dn, start: nyTime(dn, 8 * 60 + 15),
                 open: nyTime(dn, 9 * 60 + 30),
                 close: nyTime(dn, (half ? 13 : 16) * 60),
                 ext: nyTime(dn, (half ? 17 : 20) * 60) };
    }
    var openDay = dn - 1;
    while (!isTradingDay(openDay) && weekday(openDay) !== 0) {
        openDay--;
    }
    var open = nyTime(openDay, 18 * 60);
    return { date: openDay, start: open, open: open,
             close: nyTime(dn, (isHalfDay(dn) ? 12 * 60 + 15 : 17 * 60)),
             ext: null };
}

function sessionEnd(s) {
    return s.ext !== null ? s.ext : s.close;
}

function currentSession(collection, now) {
    var today = nyDay(now);
    for (var dn = today - 1; dn <= today + 4; dn++) {
        var s = sessionOn(collection, dn);
        if (s !== null && s.start <= now && now < sessionEnd(s)) {
            s.state = now < s.open ? 'Pre-market' : now < s.close ? 'Open'
                    : 'Extended';
            return s;
        }
    }
    return null;
}

function snapshot(collection, s) {
    return { 'instrument-collection': collection,
             'session-date': isoDay(s.date), 'start-at': isoOff(s.start),
             'open-at': isoOff(s.open), 'close-at': isoOff(s.close),
             'close-at-ext': s.ext !== null ? isoOff(s.ext) : null };
}

function marketSession(collection, now) {
    var today = nyDay(now);
    var cur = currentSession(collection, now);
    var next = null;
    var prev = null;
    var dn;
    for (dn = today; dn <= today + 10 && next === null; dn++) {
        var s = sessionOn(collection, dn);
        if (s !== null && s.start > now) {
            next = s;
        }
    }
    for (dn = today; dn >= today - 10 && prev === null; dn--) {
        var p = sessionOn(collection, dn);
        if (p !== null && sessionEnd(p) <= now) {
            prev = p;
        }
    }
    return {
        'instrument-collection': collection,
        state: cur ? cur.state : 'Closed',
        'start-at': cur ? isoOff(cur.start) : null,
        'open-at': cur ? isoOff(cur.open) : null,
        'close-at': cur ? isoOff(cur.close) : null,
        'close-at-ext': cur && cur.ext !== null ? isoOff(cur.ext) : null,
        'next-session': next ? snapshot(collection, next) : null,
        'previous-session': prev ? snapshot(collection, prev) : null
    };
}

/* ------------------------------------------------------------------ */
/* Handlers                                                            */
/* ------------------------------------------------------------------ */

function customerAccounts(r, a) {
    sendItems(r, accountsOf(a.sub));
}

function customerAccount(r, a) {
    sendData(r, ownAccount(a.sub, a.n));
}

function accountBalances(r, a) {
    if (a.currency !== undefined && a.currency !== 'USD') {
        throw notFound('balance in ' + a.currency);
    }
    sendData(r, balances(ownAccount(a.sub, a.n), a.now).item);
}

function accountPositions(r, a) {
    var acct = ownAccount(a.sub, a.n);
    var q = a.query;
    var symbol = param(q, 'symbol');
    var underlying = listParam(q, 'underlying-symbol');
    var type = param(q, 'instrument-type');
    var marks = param(q, 'include-marks') === 'true';
    var items = holdings(acct, a.now).filter(function (h) {
        return (symbol === undefined || h.inst.symbol === symbol)
            && (underlying.length === 0
                || underlying.indexOf(h.inst.underlying) >= 0)
            && (type === undefined || h.inst.type === type);
    }).map(function (h) {
        if (marks) {
            h.item.mark = dec(h.mark, 4);
            h.item['mark-price'] = dec(h.mark, 4);
        }
        return h.item;
    });
    sendItems(r, items);
}

function accountTransactions(r, a) {
    var acct = ownAccount(a.sub, a.n);
    var q = a.query;
    var types = listParam(q, 'type').concat(listParam(q, 'types'));
    var subTypes = listParam(q, 'sub-type');
    var start = dateParam(q, 'start-date');
    var end = dateParam(q, 'end-date');
    var symbol = param(q, 'symbol');
    var underlying = param(q, 'underlying-symbol');
    var itype = param(q, 'instrument-type');
    var action = param(q, 'action');
    var sort = param(q, 'sort') || 'Desc';
    if (sort !== 'Asc' && sort !== 'Desc') {
        throw invalid('sort', 'must be Asc or Desc');
    }
    var items = history(acct, a.now).transactions.filter(function (t) {
        var d = t['transaction-date'];
        return (types.length === 0 || types.indexOf(t['transaction-type']) >= 0)
            && (subTypes.length === 0
                || subTypes.indexOf(t['transaction-sub-type']) >= 0)
            && (start === undefined || d >= start)
            && (end === undefined || d <= end)
            && (symbol === undefined || t.symbol === symbol)
            && (underlying === undefined
                || t['underlying-symbol'] === underlying)
            && (itype === undefined || t['instrument-type'] === itype)
            && (action === undefined || t.action === action);
    });
    if (sort === 'Asc') {
        items.reverse();
    }
    var page = paginate(items, q, 250);
    sendItems(r, page.items, { pagination: page.pagination });
}

function accountLiveOrders(r, a) {
    sendItems(r, liveOrders(ownAccount(a.sub, a.n), a.now));
}

function accountOrders(r, a) {
    var acct = ownAccount(a.sub, a.n);
    var q = a.query;
    var statuses = listParam(q, 'status');
    var start = dateParam(q, 'start-date');
    var end = dateParam(q, 'end-date');
    var underlying = param(q, 'underlying-symbol');
    var live = liveOrders(acct, a.now);
    var older = placedRecords(acct['account-number']).map(function (rec) {
        return orderAt(rec, a.now);
    }).filter(function (o) {
        return !live.some(function (x) { return x.id === o.id; });
    });
    var items = live.concat(older)
        .concat(history(acct, a.now).orders.reverse())
        .filter(function (o) {
            var d = isoDay(nyDay(parseIso(o['received-at'])));
            return (statuses.length === 0 || statuses.indexOf(o.status) >= 0)
                && (start === undefined || d >= start)
                && (end === undefined || d <= end)
                && (underlying === undefined
                    || o['underlying-symbol'] === underlying);
        });
    items.sort(function (x, y) {
        return parseIso(y['received-at']) - parseIso(x['received-at']);
    });
    var page = paginate(items, q, 10);
    sendItems(r, page.items, { pagination: page.pagination });
}

function accountDryRun(r, a) {
    dryRun(r, ownAccount(a.sub, a.n), a.now);
}

/*
 * GET /market-data/by-type: symbols by type as comma lists, repeated keys
 * or key[]=; at most 100 in all (400); a symbol of the wrong syntax is 422.
 */
function marketData(r, a) {
    var wanted = [];
    TYPE_PARAMS.forEach(function (p) {
        listParam(a.query, p[0]).forEach(function (s) {
            wanted.push({ type: p[1], symbol: s });
        });
    });
    if (wanted.length > MAX_SYMBOLS) {
        throw fail(400, 'validation_error', 'At most ' + MAX_SYMBOLS
                   + ' symbols can be requested at once',
                   [{ domain: 'symbols', reason: 'exceeds the maximum of '
                                                 + MAX_SYMBOLS }]);
    }
    var seen = {};
    var items = [];
    wanted.forEach(function (w) {
        if (!validSymbol(w.type, w.symbol)) {
            throw fail(422, 'invalid_symbol', 'Invalid symbol: ' + w.symbol
                       + ' is not a valid ' + w.type + ' symbol');
        }
        var key = w.type + ' ' + w.symbol;
        if (!seen[key]) {
            seen[key] = true;
            items.push(quote(w.type, w.symbol, a.now));
        }
    });
    sendItems(r, items, { pagination: null });
}

function chainFor(sym, today) {
    var info = symbolInfo(sym);
    if (!info || !info.options) {
        return null;
    }
    var px = spot(sym);
    var step = strikeStep(px);
    var center = Math.round(px / step) * step;
    var strikes = [];
    for (var i = -25; i <= 25; i++) {
        if (center + i * step > 0) {
            strikes.push(center + i * step);
        }
    }
    var index = info['instrument-type'] === 'Index';
    /* SPX: monthlies settle AM under SPX, the weeklies PM under SPXW */
    var roots = index && sym === 'SPX'
        ? [{ root: 'SPX', settle: 'AM',
             pick: function (e) { return e.monthly; } },
           { root: 'SPXW', settle: 'PM',
             pick: function (e) { return !e.monthly; } }]
        : [{ root: sym, pick: function () { return true; }, settle: 'PM' }];
    var exps = expirations(today);
    return roots.map(function (rt) {
        return {
            'underlying-symbol': sym, 'root-symbol': rt.root,
            'option-chain-type': 'Standard', 'shares-per-contract': 100,
            'tick-sizes': [{ threshold: '3.0', value: '0.01' },
                           { value: '0.05' }],
            deliverables: [{
                id: hnum('deliverable:' + rt.root) % 1000000,
                amount: '100.0',
                'deliverable-type': index ? 'Cash' : 'Shares',
                description: index ? '100 times the value of ' + sym
                                   : '100 shares of ' + sym,
                'instrument-type': index ? 'Index' : 'Equity',
                percent: '100', 'root-symbol': rt.root, symbol: sym
            }],
            expirations: exps.filter(rt.pick).map(function (e) {
                return {
                    'expiration-type': e.monthly ? 'Regular' : 'Weekly',
                    'expiration-date': isoDay(e.day),
                    'days-to-expiration': e.day - today,
                    'settlement-type': rt.settle,
                    strikes: strikes.map(function (k) {
                        return {
                            'strike-price': dec(k, 3),
                            call: occSymbol(rt.root, e.day, 'C', k),
                            'call-streamer-symbol':
                                streamerSymbol(rt.root, e.day, 'C', k),
                            put: occSymbol(rt.root, e.day, 'P', k),
                            'put-streamer-symbol':
                                streamerSymbol(rt.root, e.day, 'P', k)
                        };
                    })
                };
            })
        };
    });
}

function optionChain(r, a) {
    var items = chainFor(a.symbol, nyDay(a.now));
    if (items === null) {
        throw notFound('option chain for ' + a.symbol);
    }
    sendItems(r, items);
}

function madeMetrics(sym) {
    var h = hnum('metrics:' + sym);
    var iv = impliedVol(sym);
    return {
        'implied-volatility-index': dec(iv, 9),
        'implied-volatility-index-15-day':
            dec(iv * (1 + (h % 40 - 20) / 1000), 9),
        'implied-volatility-index-5-day-change':
            dec((h % 200 - 100) / 100000, 9),
        'implied-volatility-index-rank': dec((h >>> 4) % 1000 / 1000, 9),
        'implied-volatility-index-rank-source': 'tos',
        'implied-volatility-percentile': dec((h >>> 8) % 1000 / 1000, 9),
        'liquidity-value': dec(1000 + (h >>> 2) % 100000, 6),
        'liquidity-rank': dec((h >>> 6) % 1000 / 1000, 9),
        'liquidity-rating': 1 + (h >>> 10) % 5,
        beta: dec(0.5 + (h >>> 12) % 150 / 100, 9),
        'listed-market': 'XNAS', lendability: 'Easy To Borrow',
        'borrow-rate': '0.0',
        'implied-volatility-30-day': dec(iv * 100, 2),
        'historical-volatility-30-day': dec(iv * 90, 2),
        'historical-volatility-60-day': dec(iv * 95, 2),
        'historical-volatility-90-day': dec(iv * 97, 2),
        'iv-hv-30-day-difference': dec(iv * 10, 2)
    };
}

/*
 * GET /market-metrics?symbols=A,B: the fixture's items or made ones;
 * a symbol that is not an equity or index symbol is left out.
 */
function marketMetrics(r, a) {
    var symbols = listParam(a.query, 'symbols');
    if (symbols.length === 0) {
        throw invalid('symbols', 'is missing');
    }
    var today = nyDay(a.now);
    var stamp = isoZ(a.now - 60000);
    var items = [];
    symbols.forEach(function (sym) {
        if (!SYNTAX.Equity.test(sym) || items.some(function (m) {
            return m.symbol === sym;
        })) {
            return;
        }
        var fx = fixture('metrics.json').metrics[sym];
        var m = fx ? clone(fx) : madeMetrics(sym);
        m.symbol = sym;
        m['updated-at'] = stamp;
        m['implied-volatility-updated-at'] = stamp;
        m['beta-updated-at'] = isoZ((today - 1) * DAY + 17 * HOUR);
        if (m['dividend-ex-date']) {
            m['dividend-updated-at'] = isoZ(today * DAY + 12 * HOUR);
        }
        if (m['liquidity-running-state']) {
            m['liquidity-running-state']['started-at'] = isoZ((today - 2) * DAY
                                                              + 10 * HOUR);
            m['liquidity-running-state']['updated-at'] = stamp;
        }
        if (m.earnings) {
            m.earnings['updated-at'] = isoZ((today - 30) * DAY + 2 * HOUR);
        }
        var chain = chainFor(sym, today);
        var iv = Number(m['implied-volatility-index']);
        m['option-expiration-implied-volatilities'] = chain === null ? []
            : chain[0].expirations.filter(function (e) {
                return e['expiration-type'] === 'Regular';
            }).map(function (e, i) {
                return { 'expiration-date': e['expiration-date'],
                         'option-chain-type': 'Standard',
                         'settlement-type': e['settlement-type'],
                         'implied-volatility': dec(iv * (1 + 0.03 * i), 9) };
            });
        items.push(m);
    });
    sendItems(r, items);
}

/* symbol prefix first, then the start of a word of the description */
function symbolSearch(r, a) {
    var q = a.q.toUpperCase();
    var all = fixture('symbols.json').symbols;
    var bySymbol = all.filter(function (s) {
        return q !== '' && s.symbol.indexOf(q) === 0;
    });
    var byWord = all.filter(function (s) {
        return q !== '' && bySymbol.indexOf(s) < 0
            && s.description.toUpperCase().split(/[^A-Z0-9&]+/)
                .some(function (w) { return w.indexOf(q) === 0; });
    });
    sendItems(r, bySymbol.concat(byWord));
}

function marketSessions(r, a) {
    var wanted = listParam(a.query, 'instrument-collections');
    if (wanted.length === 0) {
        wanted = COLLECTIONS;
    }
    wanted.forEach(function (c) {
        if (COLLECTIONS.indexOf(c) < 0) {
            throw invalid('instrument-collections',
                          'must be among ' + COLLECTIONS.join(', '));
        }
    });
    sendItems(r, wanted.map(function (c) {
        return marketSession(c, a.now);
    }));
}

/*
 * The customer's watchlists: the fixtures', with what was created,
 * changed and deleted through the mock on top, kept per customer in
 * $tastytrade_mock_state/watchlists/<sub>/<name, hex>.json (a deleted
 * list is a file that says so)
 */
function watchlistDir(sub, create) {
    var d = stateDir + '/watchlists/' + Buffer.from(sub).toString('hex');
    if (create) {
        if (!stateDir) {
            throw fail(503, 'service_unavailable', 'This mock keeps no'
                       + ' watchlists: set $tastytrade_mock_state');
        }
        mkdir(stateDir);
        mkdir(stateDir + '/watchlists');
        mkdir(d);
    }
    return d;
}

function watchlistsOf(sub) {
    var lists = clone(fixture('watchlists.json').watchlists);
    var d = watchlistDir(sub, false);
    var names = [];
    if (stateDir) {
        try {
            names = fs.readdirSync(d);
        } catch (e) {
            names = [];
        }
    }
    names.sort().forEach(function (n) {
        var w = JSON.parse(fs.readFileSync(d + '/' + n));
        lists = lists.filter(function (x) { return x.name !== w.name; });
        if (!w.deleted) {
            lists.push(w);
        }
    });
    return lists;
}

function saveWatchlist(sub, w) {
    fs.writeFileSync(watchlistDir(sub, true) + '/'
                     + Buffer.from(w.name).toString('hex') + '.json',
                     JSON.stringify(w));
}

function watchlists(r, a) {
    sendItems(r, watchlistsOf(a.sub));
}

function watchlist(r, a) {
    var w = watchlistsOf(a.sub).find(function (x) {
        return x.name === a.name;
    });
    if (!w) {
        throw notFound('watchlist ' + a.name);
    }
    sendData(r, w);
}

/* a watchlist's body: its name, group and entries, checked */
function watchlistBody(r, name) {
    var b = parseBody(r, false);
    if (typeof b.name !== 'string' || b.name === ''
        || (name !== undefined && b.name !== name))
    {
        throw invalid('name', 'is missing or not the watchlist\'s');
    }
    if (!Array.isArray(b['watchlist-entries'])) {
        throw invalid('watchlist-entries', 'is missing');
    }
    b['watchlist-entries'].forEach(function (e, i) {
        var type = e && e['instrument-type'];
        if (!e || typeof e.symbol !== 'string'
            || (type !== 'Index' && LEG_TYPES.indexOf(type) < 0))
        {
            throw invalid('watchlist-entries[' + i + ']',
                          'needs a symbol and an instrument-type');
        }
    });
    return { name: b.name, 'group-name': b['group-name'] || 'main',
             'order-index': 9999,
             'watchlist-entries': b['watchlist-entries'].map(function (e) {
                 return { symbol: e.symbol,
                          'instrument-type': e['instrument-type'] };
             }) };
}

/* POST /watchlists: 422 when the name is taken */
function createWatchlist(r, a) {
    var w = watchlistBody(r);
    if (watchlistsOf(a.sub).some(function (x) { return x.name === w.name; })) {
        throw fail(422, 'watchlist_already_exists', 'A watchlist named '
                   + w.name + ' already exists');
    }
    saveWatchlist(a.sub, w);
    sendData(r, w, null, 201);
}

/* PUT /watchlists/{name}: its entries replaced; 404 when there is none */
function updateWatchlist(r, a) {
    var w = watchlistBody(r, a.name);
    if (!watchlistsOf(a.sub).some(function (x) { return x.name === a.name; })) {
        throw notFound('watchlist ' + a.name);
    }
    saveWatchlist(a.sub, w);
    sendData(r, w);
}

function deleteWatchlist(r, a) {
    var w = watchlistsOf(a.sub).find(function (x) {
        return x.name === a.name;
    });
    if (!w) {
        throw notFound('watchlist ' + a.name);
    }
    saveWatchlist(a.sub, { name: a.name, deleted: true });
    sendData(r, w);
}

/*
 * POST /oauth/token, JSON or form.  refresh_token needs a refresh token
 * that verifies and is not revoked, and a client_secret (any); the
 * answer carries the same refresh token back.  authorization_code needs
 * a code minted for the same redirect_uri (and client_id, when the code
 * names one) that has not expired; the answer carries a new refresh token.
 */
function tokenEndpoint(r, a) {
    var b = parseBody(r, true);
    var grant = b.grant_type;
    if (grant === undefined || grant === '') {
        throw oauthFail(400, 'invalid_request', 'grant_type is required');
    }
    if (grant !== 'refresh_token' && grant !== 'authorization_code') {
        throw oauthFail(400, 'unsupported_grant_type',
                        'grant_type ' + grant + ' is not supported');
    }
    if (typeof b.client_secret !== 'string' || b.client_secret === '') {
        throw oauthFail(401, 'invalid_client', 'client_secret is required');
    }
    var sub;
    var refresh;
    var ttl = ACCESS_TTL;
    if (grant === 'refresh_token') {
        if (typeof b.refresh_token !== 'string' || b.refresh_token === '') {
            throw oauthFail(400, 'invalid_request',
                            'refresh_token is required');
        }
        var p = verify(b.refresh_token, 'rt');
        if (p === null) {
            throw oauthFail(400, 'invalid_grant', 'Invalid JWT');
        }
        if (p.revoked === true) {
            throw oauthFail(400, 'invalid_grant', 'Grant has been revoked');
        }
        /* the test hook: a grant minted with a ttl sets the lifetime */
        if (typeof p.ttl === 'number' && p.ttl >= 0) {
            ttl = Math.floor(p.ttl);
            var hint = Number(b.expires_in);
            if (b.expires_in !== undefined && b.expires_in !== ''
                && isFinite(hint) && hint >= 0)
            {
                ttl = Math.floor(hint);
            }
        }
        sub = p.sub;
        refresh = b.refresh_token;
    } else {
        if (typeof b.client_id !== 'string' || b.client_id === '') {
            throw oauthFail(401, 'invalid_client', 'client_id is required');
        }
        ['code', 'redirect_uri'].forEach(function (k) {
            if (typeof b[k] !== 'string' || b[k] === '') {
                throw oauthFail(400, 'invalid_request', k + ' is required');
            }
        });
        var c = verify(b.code, 'code');
        if (c === null) {
            throw oauthFail(400, 'invalid_grant', 'Invalid authorization code');
        }
        if (typeof c.exp !== 'number' || c.exp <= a.now / 1000) {
            throw oauthFail(400, 'invalid_grant', 'Authorization code expired');
        }
        if (c.redirect_uri !== b.redirect_uri) {
            throw oauthFail(400, 'invalid_grant',
                            'redirect_uri does not match the authorization');
        }
        if (c.client_id !== undefined && c.client_id !== b.client_id) {
            throw oauthFail(400, 'invalid_grant',
                            'client_id does not match the authorization');
        }
        sub = c.sub;
        refresh = mint('rt', { sub: sub });
    }
    r.headersOut['Cache-Control'] = 'no-store';
    send(r, 200, enc({
        access_token: mint('at', { sub: sub,
                                   exp: Math.floor(a.now / 1000) + ttl }),
        token_type: 'Bearer',
        expires_in: ttl,
        refresh_token: refresh
    }));
}

/* --- mock-only helpers, outside the API's paths ------------------- */

function mockSub(b) {
    if (typeof b.sub !== 'string' || b.sub === '' || b.sub.length > 200) {
        throw fail(400, 'invalid_request', 'sub must be a non-empty string');
    }
    return b.sub;
}

/* POST /mock/grant {"sub","ttl"?,"revoked"?}: a refresh token (a grant) */
function mockGrant(r) {
    var b = parseBody(r, false);
    var p = { sub: mockSub(b) };
    if (b.ttl !== undefined) {
        if (typeof b.ttl !== 'number' || b.ttl < 0 || b.ttl % 1 !== 0) {
            throw fail(400, 'invalid_request', 'ttl must be whole seconds');
        }
        p.ttl = b.ttl;
    }
    if (b.revoked === true) {
        p.revoked = true;
    }
    send(r, 200, enc({ 'refresh-token': mint('rt', p) }));
}

/* POST /mock/access-token {"sub","exp"?}: an access token, expired if asked */
function mockAccessToken(r, a) {
    var b = parseBody(r, false);
    var exp = b.exp === undefined ? Math.floor(a.now / 1000) + ACCESS_TTL
                                  : b.exp;
    if (typeof exp !== 'number' || exp % 1 !== 0) {
        throw fail(400, 'invalid_request', 'exp must be whole seconds');
    }
    send(r, 200, enc({ 'access-token': mint('at', { sub: mockSub(b),
                                                    exp: exp }) }));
}

/*
 * GET /mock/authorize: TastyTrade's consent page, agreed to at once.
 * Redirects to redirect_uri with a code (for the customer `sub`,
 * default mock-customer) and the state.
 */
function mockAuthorize(r, a) {
    var q = a.query;
    var redirect = param(q, 'redirect_uri');
    var client = param(q, 'client_id');
    if (!redirect || !/^https?:\/\//.test(redirect) || !client) {
        throw fail(400, 'invalid_request',
                   'client_id and an http(s) redirect_uri are required');
    }
    if (param(q, 'response_type') !== 'code') {
        throw fail(400, 'unsupported_response_type',
                   'response_type must be code');
    }
    var code = mint('code', { sub: param(q, 'sub') || 'mock-customer',
                              exp: Math.floor(a.now / 1000) + CODE_TTL,
                              redirect_uri: redirect, client_id: client });
    var state = param(q, 'state');
    var url = redirect + (redirect.indexOf('?') < 0 ? '?' : '&') + 'code='
              + encodeURIComponent(code)
              + (state !== undefined ? '&state=' + encodeURIComponent(state)
                                     : '');
    r.return(302, url);
}

/* ------------------------------------------------------------------ */
/* Routing                                                             */
/* ------------------------------------------------------------------ */

/*
 * [method, path pattern, handler, access]: ":name" matches one decoded
 * segment; access is "token" (User-Agent and Bearer token), "public"
 * (User-Agent only) or "mock" (neither: the helpers are not the API).
 */
var ROUTES = [
    ['POST', 'oauth/token', tokenEndpoint, 'public'],
    ['GET', 'customers/:customer/accounts', customerAccounts, 'token'],
    ['GET', 'customers/:customer/accounts/:n', customerAccount, 'token'],
    ['GET', 'accounts/:n/balances', accountBalances, 'token'],
    ['GET', 'accounts/:n/balances/:currency', accountBalances, 'token'],
    ['GET', 'accounts/:n/positions', accountPositions, 'token'],
    ['GET', 'accounts/:n/transactions', accountTransactions, 'token'],
    ['GET', 'accounts/:n/orders', accountOrders, 'token'],
    ['GET', 'accounts/:n/orders/live', accountLiveOrders, 'token'],
    ['POST', 'accounts/:n/orders/dry-run', accountDryRun, 'token'],
    ['POST', 'accounts/:n/orders', placeOrder, 'token'],
    ['GET', 'accounts/:n/orders/:id', accountOrder, 'token'],
    ['PUT', 'accounts/:n/orders/:id', replaceOrder, 'token'],
    ['POST', 'accounts/:n/orders/:id/dry-run', replaceDryRun, 'token'],
    ['DELETE', 'accounts/:n/orders/:id', cancelOrder, 'token'],
    ['GET', 'market-data/by-type', marketData, 'token'],
    ['GET', 'market-metrics', marketMetrics, 'token'],
    ['GET', 'option-chains/:symbol/nested', optionChain, 'token'],
    ['GET', 'symbols/search/:q', symbolSearch, 'token'],
    ['GET', 'market-time/sessions/current', marketSessions, 'token'],
    ['GET', 'watchlists', watchlists, 'token'],
    ['GET', 'watchlists/:name', watchlist, 'token'],
    ['POST', 'watchlists', createWatchlist, 'token'],
    ['PUT', 'watchlists/:name', updateWatchlist, 'token'],
    ['DELETE', 'watchlists/:name', deleteWatchlist, 'token'],
    ['POST', 'mock/grant', mockGrant, 'mock'],
    ['POST', 'mock/access-token', mockAccessToken, 'mock'],
    ['GET', 'mock/authorize', mockAuthorize, 'mock'],
    ['GET', 'mock/price', mockPrice, 'mock'],
    ['GET', 'api-quote-tokens', quoteToken, 'token'],
    ['POST', 'mock/quote-token', mockQuoteToken, 'mock'],
    ['GET', 'mock/stream-events', mockStreamEvents, 'mock'],
    ['GET', 'mock/candles', mockCandles, 'mock'],
    ['POST', 'accounts/:n/complex-orders/dry-run', complexDryRun, 'token'],
    ['POST', 'accounts/:n/complex-orders', placeComplex, 'token'],
    ['GET', 'accounts/:n/complex-orders/live', complexLive, 'token'],
    ['POST', 'mock/fault', mockFault, 'mock'],
    ['GET', 'mock/orders', mockOrders, 'mock']
];

function match(pattern, segs) {
    var parts = pattern.split('/');
    if (parts.length !== segs.length) {
        return null;
    }
    var args = {};
    for (var i = 0; i < parts.length; i++) {
        if (parts[i].charAt(0) === ':') {
            if (segs[i] === '') {
                return null;
            }
            args[parts[i].slice(1)] = segs[i];
        } else if (parts[i] !== segs[i]) {
            return null;
        }
    }
    return args;
}

/* "<product>/<version>", maybe followed by more: "ttai/0.1", "curl/8.1.2" */
var USER_AGENT =
    /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s.*)?$/;

/*
 * The customer of the request's Bearer access token.  Missing, unknown
 * (bad signature) and expired tokens are all 401 token_invalid; the
 * message says which.
 */
function authenticate(r, now) {
    var h = r.headersIn.Authorization;
    var m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
    if (!m) {
        throw fail(401, 'token_invalid', 'An access token is required: '
                   + 'Authorization: Bearer <access token>');
    }
    var p = verify(m[1], 'at');
    if (p === null || typeof p.exp !== 'number') {
        throw fail(401, 'token_invalid', 'The access token is invalid');
    }
    if (p.exp <= now / 1000) {
        throw fail(401, 'token_invalid', 'The access token has expired');
    }
    return p.sub;
}

function route(r, now) {
    var raw = r.variables.request_uri;
    var qmark = raw.indexOf('?');
    var path = qmark < 0 ? raw : raw.slice(0, qmark);
    /* decoded per segment, so that %2F in /ESZ5 stays inside its segment */
    var segs = path.replace(/^\//, '').split('/').map(decode);
    var method = r.method === 'HEAD' ? 'GET' : r.method;
    ctxPath = path;

    var found = null;
    var allowed = [];
    ROUTES.forEach(function (rt) {
        var args = match(rt[1], segs);
        if (args === null) {
            return;
        }
        allowed.push(rt[0]);
        if (rt[0] === method && found === null) {
            found = { route: rt, args: args };
        }
    });
    var access = found ? found.route[3]
               : segs[0] === 'mock' ? 'mock'
               : segs[0] === 'oauth' ? 'public' : 'token';

    if (access !== 'mock') {
        if (!USER_AGENT.test(r.headersIn['User-Agent'] || '')) {
            throw fail(401, 'unauthorized', 'A User-Agent header of the form'
                       + ' <product>/<version> is required');
        }
    }
    var sub = access === 'token' ? authenticate(r, now) : null;
    if (found === null) {
        if (allowed.length > 0) {
            throw new Fail(405, { error: { code: 'method_not_allowed',
                message: r.method + ' is not allowed here' } },
                { Allow: allowed.join(', ') });
        }
        throw fail(404, 'not_found', 'No such endpoint: ' + path);
    }
    var a = found.args;
    if (a.customer !== undefined && a.customer !== 'me') {
        throw fail(403, 'not_permitted', 'User not permitted access');
    }
    a.sub = sub;
    a.now = now;
    a.query = parseQuery(qmark < 0 ? '' : raw.slice(qmark + 1), true);
    found.route[2](r, a);
}

/* js_content for every mock location */
function api(r) {
    var now = Date.now();
    cache = {};
    try {
        fixturesDir = findFixtures(r);
        motionSeed = r.variables.tastytrade_mock_motion || '';
        stateDir = r.variables.tastytrade_mock_state || '';
        marketState = r.variables.tastytrade_mock_market || '';
        dxlinkUrl = r.variables.tastytrade_mock_dxlink_url || dxlinkUrl;
        quoteTokenTtl = Number(r.variables.tastytrade_mock_quote_token_ttl)
                        || QUOTE_TOKEN_TTL;
        route(r, now);
    } catch (e) {
        if (e instanceof Fail) {
            Object.keys(e.headers || {}).forEach(function (k) {
                r.headersOut[k] = e.headers[k];
            });
            send(r, e.status, enc(e.body));
            return;
        }
        r.error('tastytrade mock: ' + (e && e.stack ? e.stack : e));
        send(r, 500, enc({ error: { code: 'internal_error',
                                    message: 'The mock failed: ' + e } }));
    }
}

export default { api: api };
