/*
 * The mock LLM provider (issue 16's "mock/<name>" models): Anthropic's
 * Messages API (POST /v1/messages), OpenAI's Chat Completions (POST
 * /v1/chat/completions) and its embeddings (POST /v1/embeddings), on the
 * mock server, so that every agent runs on a machine with no key and no
 * network.  Deterministic: the same request gets the same answer.
 *
 * - A request with tools whose last user turn asks for data that one of
 *   them gives (its name's words, or "portfolio", "delta", "quote" ...)
 *   gets a tool call; a turn that carries a tool's result gets a text
 *   that cites it; any other gets a text made from a hash of the prompt.
 * - A prompt with the word REFUSE is refused (Anthropic's stop_reason
 *   "refusal", OpenAI's message.refusal).
 * - Missing credentials are 401 in each API's error shape.
 * - POST /mock/llm-fault {"status": 529, "count": N} makes the next N
 *   calls fail with that status, in the caller's API's error shape and
 *   with Retry-After: 2
 *   (kept as a file in $tastytrade_mock_state, taken with a rename as
 *   the order engine's faults are); {"count": 0} drops those waiting.
 * - Embeddings: a bag of hashed words, normalized, of "dimensions"
 *   (default 256): texts that share words are near.
 */

var crypto = require('crypto');
var fs = require('fs');

var stateDir = '';

/* what an injected fault's Retry-After says, in seconds, as both APIs do */
var RETRY_AFTER = '2';

function hash(s) {
    return crypto.createHash('sha256').update(s).digest('hex');
}

function reply(r, status, body) {
    r.headersOut['Content-Type'] = 'application/json';
    r.return(status, JSON.stringify(body));
}

function body(r) {
    try {
        return JSON.parse(r.requestText || '{}');
    } catch (e) {
        return null;
    }
}

/* the text of a message's content, a string or blocks */
function textOf(content) {
    if (typeof content === 'string') {
        return content;
    }
    return (content || []).map(function (c) {
        return c.type === 'text' ? c.text
             : c.type === 'tool_result' ? ('[result] ' + (typeof c.content
                   === 'string' ? c.content : JSON.stringify(c.content)))
             : '';
    }).join('\n');
}

var HINTS = {
    get_positions: ['position', 'portfolio', 'holding'],
    get_position_greeks: ['greek', 'delta', 'theta', 'exposure'],
    get_balances: ['balance', 'buying power', 'cash'],
    get_quotes: ['quote', 'price'],
    get_market_metrics: ['iv rank', 'volatility', 'metric', 'earnings'],
    get_option_chain: ['chain', 'strike'],
    get_orders: ['order']
};

/* the tool the prompt asks for, among those offered, or null */
function toolFor(prompt, tools) {
    var p = prompt.toLowerCase();
    var names = tools.map(function (t) { return t.name || (t.function || {}).name; });
    for (var i = 0; i < names.length; i++) {
        var words = (HINTS[names[i]] || []).concat(
            [names[i].replace(/_/g, ' ').replace(/^get /, '')]);
        if (words.some(function (w) { return p.indexOf(w) >= 0; })) {
            return names[i];
        }
    }
    return null;
}

var SENTENCES = [
    'The portfolio leans long; most of its delta is in a few names.',
    'Theta works for the account; the short options carry the risk.',
    'Buying power use is moderate, with room for one more position.',
    'Expirations cluster this month; rolling early would spread them.'
];

/*
 * What the mock answers a conversation: {kind: 'text'|'tool'|'refusal',
 * text, tool, id, input}
 */
function decide(messages, tools, system) {
    var last = messages[messages.length - 1] || {};
    var prompt = textOf(last.content);
    var all = (system || '') + messages.map(function (m) {
        return textOf(m.content);
    }).join('\n');
    var h = hash(all);
    if (/\bREFUSE\b/.test(all)) {
        return { kind: 'refusal', text: 'I can\'t help with that.' };
    }
    if (/\[result\]/.test(prompt) || last.role === 'tool') {
        var cited = prompt.replace(/^\[result\] /, '').slice(0, 160);
        return { kind: 'text', text: 'Based on the data: ' + cited + ' '
                 + SENTENCES[parseInt(h.slice(0, 2), 16) % SENTENCES.length] };
    }
    var tool = tools.length ? toolFor(prompt, tools) : null;
    if (tool) {
        return { kind: 'tool', tool: tool, id: 'toolu_mock_' + h.slice(0, 16),
                 input: {} };
    }
    return { kind: 'text', text: 'Mock analysis ' + h.slice(0, 8) + ': '
             + SENTENCES[parseInt(h.slice(2, 4), 16) % SENTENCES.length] };
}

function tokens(s) {
    return Math.max(1, Math.ceil(String(s).length / 4));
}

/* a fault for this call, if one is waiting: its status, or 0 */
function takeFault() {
    if (!stateDir) {
        return 0;
    }
    var path = stateDir + '/llm-fault.json';
    var taken = path + '.' + Math.random().toString(16).slice(2);
    try {
        fs.renameSync(path, taken);
    } catch (e) {
        return 0;
    }
    var f = JSON.parse(fs.readFileSync(taken));
    fs.unlinkSync(taken);
    if (f.count > 1) {
        f.count--;
        fs.writeFileSync(path + '.next', JSON.stringify(f));
        fs.renameSync(path + '.next', path);
    }
    return f.status;
}

function messages(r) {
    stateDir = r.variables.tastytrade_mock_state || '';
    if (!r.headersIn['x-api-key']) {
        return reply(r, 401, { type: 'error', error: {
            type: 'authentication_error', message: 'x-api-key header is required' } });
    }
    var status = takeFault();
    if (status) {
        r.headersOut['Retry-After'] = RETRY_AFTER;
        return reply(r, status, { type: 'error', error: {
            type: status === 529 ? 'overloaded_error'
                : status === 429 ? 'rate_limit_error' : 'api_error',
            message: status === 529 ? 'Overloaded' : 'The mock failed, as asked' } });
    }
    var b = body(r);
    if (!b || !Array.isArray(b.messages) || !b.model || !b.max_tokens) {
        return reply(r, 400, { type: 'error', error: {
            type: 'invalid_request_error',
            message: 'model, max_tokens and messages are required' } });
    }
    var d = decide(b.messages, b.tools || [], b.system);
    var content = d.kind === 'tool'
        ? [{ type: 'text', text: 'Let me look that up.' },
           { type: 'tool_use', id: d.id, name: d.tool, input: d.input }]
        : [{ type: 'text', text: d.text }];
    var prompt = JSON.stringify(b.messages) + (b.system || '');
    reply(r, 200, {
        id: 'msg_mock_' + hash(prompt).slice(0, 20), type: 'message',
        role: 'assistant', model: b.model, content: content,
        stop_reason: d.kind === 'tool' ? 'tool_use'
                   : d.kind === 'refusal' ? 'refusal' : 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: tokens(prompt),
                 output_tokens: tokens(JSON.stringify(content)) }
    });
}

function chat(r) {
    stateDir = r.variables.tastytrade_mock_state || '';
    if (!/^Bearer \S+/.test(r.headersIn.Authorization || '')) {
        return reply(r, 401, { error: { message: 'Incorrect API key provided',
                                        type: 'invalid_request_error',
                                        code: 'invalid_api_key' } });
    }
    var status = takeFault();
    if (status) {
        r.headersOut['Retry-After'] = RETRY_AFTER;
        return reply(r, status, { error: {
            message: status === 429 ? 'Rate limit reached' : 'The server had an error',
            type: status === 429 ? 'requests' : 'server_error',
            code: status === 429 ? 'rate_limit_exceeded' : null } });
    }
    var b = body(r);
    if (!b || !Array.isArray(b.messages) || !b.model) {
        return reply(r, 400, { error: { message: 'model and messages are required',
                                        type: 'invalid_request_error',
                                        code: null } });
    }
    var system = (b.messages.find(function (m) { return m.role === 'system'; })
                  || {}).content;
    var convo = b.messages.filter(function (m) { return m.role !== 'system'; });
    var d = decide(convo, b.tools || [], system);
    var msg = { role: 'assistant', content: null };
    if (d.kind === 'tool') {
        msg.tool_calls = [{ id: 'call_mock_' + d.id.slice(11), type: 'function',
                            function: { name: d.tool, arguments: '{}' } }];
    } else if (d.kind === 'refusal') {
        msg.refusal = d.text;
    } else {
        msg.content = d.text;
    }
    var prompt = JSON.stringify(b.messages);
    reply(r, 200, {
        id: 'chatcmpl-mock' + hash(prompt).slice(0, 20),
        object: 'chat.completion', model: b.model,
        choices: [{ index: 0, message: msg,
                    finish_reason: d.kind === 'tool' ? 'tool_calls' : 'stop' }],
        usage: { prompt_tokens: tokens(prompt),
                 completion_tokens: tokens(JSON.stringify(msg)),
                 total_tokens: tokens(prompt) + tokens(JSON.stringify(msg)) }
    });
}

/* a word's place and sign in the vector, from its hash */
function embed(text, dims) {
    var v = [];
    for (var i = 0; i < dims; i++) {
        v.push(0);
    }
    (String(text).toLowerCase().match(/[a-z0-9]+/g) || []).forEach(function (w) {
        var h = hash(w);
        var k = parseInt(h.slice(0, 8), 16) % dims;
        v[k] += parseInt(h.slice(8, 9), 16) % 2 ? 1 : -1;
    });
    var n = Math.sqrt(v.reduce(function (s, x) { return s + x * x; }, 0)) || 1;
    return v.map(function (x) { return Math.round(x / n * 1e6) / 1e6; });
}

function embeddings(r) {
    if (!/^Bearer \S+/.test(r.headersIn.Authorization || '')) {
        return reply(r, 401, { error: { message: 'Incorrect API key provided',
                                        type: 'invalid_request_error',
                                        code: 'invalid_api_key' } });
    }
    var b = body(r);
    var input = b && (Array.isArray(b.input) ? b.input : [b.input]);
    var dims = (b && b.dimensions) || 256;
    if (!b || !b.model || input.some(function (s) { return typeof s !== 'string'; })
        || dims < 1 || dims > 4096)
    {
        return reply(r, 400, { error: { message: 'model and input (strings) are'
                                                 + ' required; dimensions 1 to 4096',
                                        type: 'invalid_request_error',
                                        code: null } });
    }
    reply(r, 200, {
        object: 'list', model: b.model,
        data: input.map(function (s, i) {
            return { object: 'embedding', index: i, embedding: embed(s, dims) };
        }),
        usage: { prompt_tokens: tokens(input.join(' ')),
                 total_tokens: tokens(input.join(' ')) }
    });
}

function fault(r) {
    stateDir = r.variables.tastytrade_mock_state || '';
    var b = body(r);
    if (b && b.count === 0 && stateDir) {
        /* the faults still waiting are dropped */
        try {
            fs.unlinkSync(stateDir + '/llm-fault.json');
        } catch (e) {
            if (e.code !== 'ENOENT') {
                throw e;
            }
        }
        return reply(r, 200, { count: 0 });
    }
    if (!b || !(b.status >= 400) || !(b.count >= 1) || !stateDir) {
        return reply(r, 400, { error: 'status (>= 400) and count (>= 1) are'
                                      + ' required, and $tastytrade_mock_state' });
    }
    try {
        fs.mkdirSync(stateDir);
    } catch (e) {
        if (e.code !== 'EEXIST') {
            throw e;
        }
    }
    fs.writeFileSync(stateDir + '/llm-fault.json.new',
                     JSON.stringify({ status: b.status, count: b.count }));
    fs.renameSync(stateDir + '/llm-fault.json.new', stateDir + '/llm-fault.json');
    reply(r, 200, { status: b.status, count: b.count });
}

export default { messages: messages, chat: chat, embeddings: embeddings,
                 fault: fault };
