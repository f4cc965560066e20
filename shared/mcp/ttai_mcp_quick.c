
/*
 * Copyright (C) ttai contributors
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_mcp_core.h"


/*
 * The requests a client sends most, answered without a JSON tree: a
 * single message in plain form, such as {"jsonrpc":"2.0","id":7,
 * "method":"tools/list"}.  Parsing it with jansson, classifying it and
 * serializing the answer cost more than the rest of the request.
 *
 * The reader takes a strict subset of JSON: an object with the members
 * jsonrpc ("2.0"), id, method and params, each at most once; an id that
 * is an integer in canonical form or a string of printable ASCII without
 * escapes, so that it is echoed as written, as ttai_json_dumps() would
 * write it again; a method of printable ASCII; params, when present, an
 * object.  Anything else, valid or not, goes the general way, which
 * decides what it is; so do the cases in which the general way would not
 * answer a result (an unknown session, a missing session id).
 *
 * Answered here: ping, the first page of tools/list, and the KV step of
 * a tools/call whose params were planned (ttai_mcp_plan.c); and in the
 * stateless revision, tools/list whose params are, byte for byte, those
 * of a request the general way checked and answered before.
 */

/* more digits than this may not fit the integers jansson reads */
#define TTAI_MCP_QUICK_DIGITS  15


typedef struct {
    const char                 *id;       /* as written, quotes too */
    size_t                      id_len;
    const char                 *method;   /* without its quotes */
    size_t                      method_len;
    const char                 *params;   /* NULL when absent */
    size_t                      params_len;
} ttai_mcp_quick_msg_t;


static int ttai_mcp_quick_read(const char *p, const char *end,
    ttai_mcp_quick_msg_t *msg);
static const char *ttai_mcp_quick_ws(const char *p, const char *end);
static const char *ttai_mcp_quick_string(const char *p, const char *end);
static const char *ttai_mcp_quick_integer(const char *p, const char *end);
static const char *ttai_mcp_quick_object(const char *p, const char *end);
static json_t *ttai_mcp_quick_id(ttai_mcp_quick_msg_t *msg);
static int ttai_mcp_quick_is(ttai_mcp_quick_msg_t *msg, const char *method);


/*
 * Returns 1 with the reply made, 0 when the request goes the general way
 * (the reply untouched), or -1 when out of memory.
 */

int
ttai_mcp_quick(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    const char *body, size_t len, ttai_mcp_reply_t *reply,
    const char **params, size_t *plen)
{
    int                    empty;
    unsigned               toolsets;
    ttai_mcp_plan_t       *plan;
    ttai_mcp_quick_msg_t   msg;

    *params = NULL;
    *plen = 0;

    if (call->session_unknown
        || (call->session_id == NULL && !call->stateless)
        || ttai_mcp_quick_read(body, body + len, &msg) != 0)
    {
        return 0;
    }

    toolsets = ttai_mcp_toolsets(call);

    if (ttai_mcp_quick_is(&msg, "tools/call") && msg.params != NULL) {
        plan = ttai_mcp_plan_find(srv, msg.params, msg.params_len);

        /* a tool outside the location's toolsets is the general way's */
        if (plan != NULL
            && ttai_mcp_tool_listed(&srv->tools[plan->tool], toolsets))
        {
            return ttai_mcp_plan_call(srv, plan, ttai_mcp_quick_id(&msg),
                                      reply);
        }

        /* the general way may make its plan */
        *params = msg.params;
        *plen = msg.params_len;

        return 0;
    }

    /* an empty params object is no params at all for both */
    empty = (msg.params == NULL
             || ttai_mcp_quick_ws(msg.params + 1,
                                  msg.params + msg.params_len)
                == msg.params + msg.params_len - 1);

    if (!empty) {
        return 0;
    }

    if (ttai_mcp_quick_is(&msg, "ping")) {
        return ttai_mcp_rpc_raw(reply, msg.id, msg.id_len, "{}", 2, 0)
               ? -1 : 1;
    }

    /* the first page, once it has been made the general way */
    if (ttai_mcp_quick_is(&msg, "tools/list")
        && srv->tools_pages[toolsets] != NULL)
    {
        return ttai_mcp_rpc_raw(reply, msg.id, msg.id_len,
                                srv->tools_pages[toolsets],
                                srv->tools_pages_len[toolsets], call->split)
               ? -1 : 1;
    }

    return 0;
}


/*
 * A stateless client sends the same _meta with each request, and its
 * checks (ttai_mcp_stateless.c) are all on the body and on headers whose
 * values the same body fixes: a params text the general way took for
 * tools/list is taken again as it is.  Returns 1 with the reply made, 0
 * for the general way (with *params the text to learn from, for a
 * tools/list), or -1 when out of memory.
 */

int
ttai_mcp_quick_stateless(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    const char *body, size_t len, ttai_mcp_reply_t *reply,
    const char **params, size_t *plen)
{
    size_t                 i;
    unsigned               toolsets;
    ttai_mcp_quick_msg_t   msg;

    *params = NULL;
    *plen = 0;

    if (call->method_header == NULL
        || strcmp(call->method_header, "tools/list") != 0
        || ttai_mcp_quick_read(body, body + len, &msg) != 0
        || !ttai_mcp_quick_is(&msg, "tools/list")
        || msg.id == NULL || msg.params == NULL)
    {
        return 0;
    }

    toolsets = ttai_mcp_toolsets(call);

    for (i = 0; i < TTAI_MCP_LIST_PARAMS; i++) {
        if (srv->list_params[i] == NULL
            || srv->list_params_len[i] != msg.params_len
            || memcmp(srv->list_params[i], msg.params, msg.params_len) != 0
            || srv->tools_pages_2026[toolsets] == NULL)
        {
            continue;
        }

        reply->stateless = 1;

        return ttai_mcp_rpc_raw(reply, msg.id, msg.id_len,
                                srv->tools_pages_2026[toolsets],
                                srv->tools_pages_2026_len[toolsets],
                                call->split)
               ? -1 : 1;
    }

    *params = msg.params;
    *plen = msg.params_len;

    return 0;
}


/*
 * The general way answered a stateless tools/list with the kept first
 * page, and nothing of the request asks for more (no traceparent to
 * log): its params text is remembered, the oldest of them forgotten
 */

void
ttai_mcp_quick_learn(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    const ttai_mcp_reply_t *reply, const char *params, size_t plen)
{
    size_t   i;
    char    *copy;

    if (params == NULL || plen > TTAI_MCP_LIST_PARAMS_MAX
        || reply->status != 200 || !reply->stateless
        || reply->traceparent[0] != '\0' || reply->tail == NULL
        || reply->tail != srv->tools_pages_2026[ttai_mcp_toolsets(call)])
    {
        return;
    }

    for (i = 0; i < TTAI_MCP_LIST_PARAMS; i++) {
        if (srv->list_params_len[i] == plen
            && memcmp(srv->list_params[i], params, plen) == 0)
        {
            return;
        }
    }

    copy = malloc(plen);
    if (copy == NULL) {
        /* only a later request goes the general way again */
        return;
    }

    memcpy(copy, params, plen);

    i = srv->list_params_next++ % TTAI_MCP_LIST_PARAMS;
    free(srv->list_params[i]);
    srv->list_params[i] = copy;
    srv->list_params_len[i] = plen;
}


void
ttai_mcp_quick_forget(ttai_mcp_server_t *srv)
{
    size_t  i;

    for (i = 0; i < TTAI_MCP_LIST_PARAMS; i++) {
        free(srv->list_params[i]);
        srv->list_params[i] = NULL;
        srv->list_params_len[i] = 0;
    }
}


/* 0 with msg filled, or -1: not in the subset */

static int
ttai_mcp_quick_read(const char *p, const char *end, ttai_mcp_quick_msg_t *msg)
{
    int          seen, bit;
    size_t       klen;
    const char  *key, *v;

    memset(msg, 0, sizeof(ttai_mcp_quick_msg_t));

    p = ttai_mcp_quick_ws(p, end);

    if (p == end || *p++ != '{') {
        return -1;
    }

    seen = 0;

    for ( ;; ) {
        p = ttai_mcp_quick_ws(p, end);
        key = p;
        p = ttai_mcp_quick_string(p, end);

        if (p == NULL) {
            return -1;
        }

        klen = p - key;
        p = ttai_mcp_quick_ws(p, end);

        if (p == end || *p++ != ':') {
            return -1;
        }

        p = ttai_mcp_quick_ws(p, end);
        v = p;

        if (klen == sizeof("\"jsonrpc\"") - 1
            && memcmp(key, "\"jsonrpc\"", klen) == 0)
        {
            bit = 1;

            if ((size_t) (end - p) < sizeof("\"2.0\"") - 1
                || memcmp(p, "\"2.0\"", sizeof("\"2.0\"") - 1) != 0)
            {
                return -1;
            }

            p += sizeof("\"2.0\"") - 1;

        } else if (klen == sizeof("\"id\"") - 1
                   && memcmp(key, "\"id\"", klen) == 0)
        {
            bit = 2;
            p = (p < end && *p == '"') ? ttai_mcp_quick_string(p, end)
                                       : ttai_mcp_quick_integer(p, end);
            if (p == NULL) {
                return -1;
            }

            msg->id = v;
            msg->id_len = p - v;

        } else if (klen == sizeof("\"method\"") - 1
                   && memcmp(key, "\"method\"", klen) == 0)
        {
            bit = 4;
            p = ttai_mcp_quick_string(p, end);

            if (p == NULL) {
                return -1;
            }

            msg->method = v + 1;
            msg->method_len = p - v - 2;

        } else if (klen == sizeof("\"params\"") - 1
                   && memcmp(key, "\"params\"", klen) == 0)
        {
            bit = 8;
            p = ttai_mcp_quick_object(p, end);

            if (p == NULL) {
                return -1;
            }

            msg->params = v;
            msg->params_len = p - v;

        } else {
            return -1;
        }

        if (seen & bit) {
            /* a member twice: which one counts is the parser's choice */
            return -1;
        }

        seen |= bit;

        p = ttai_mcp_quick_ws(p, end);

        if (p == end) {
            return -1;
        }

        if (*p == ',') {
            p++;
            continue;
        }

        if (*p++ != '}') {
            return -1;
        }

        break;
    }

    /* a request: jsonrpc, id and method, and nothing after the object */
    if ((seen & 7) != 7 || ttai_mcp_quick_ws(p, end) != end) {
        return -1;
    }

    return 0;
}


static const char *
ttai_mcp_quick_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    {
        p++;
    }

    return p;
}


/* a string of printable ASCII without escapes: its end, or NULL */

static const char *
ttai_mcp_quick_string(const char *p, const char *end)
{
    unsigned char  c;

    if (p == end || *p++ != '"') {
        return NULL;
    }

    while (p < end) {
        c = (unsigned char) *p++;

        if (c == '"') {
            return p;
        }

        if (c < 0x20 || c > 0x7e || c == '\\') {
            return NULL;
        }
    }

    return NULL;
}


/* 0, or -?[1-9][0-9]*, with few enough digits: its end, or NULL */

static const char *
ttai_mcp_quick_integer(const char *p, const char *end)
{
    int          neg;
    const char  *digits;

    neg = (p < end && *p == '-');
    p += neg;
    digits = p;

    while (p < end && *p >= '0' && *p <= '9') {
        p++;
    }

    /* no leading zero, and no "-0", which is read as 0 */
    if (p == digits || p - digits > TTAI_MCP_QUICK_DIGITS
        || (*digits == '0' && (neg || p - digits > 1)))
    {
        return NULL;
    }

    /* a fraction or an exponent makes it a real */
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) {
        return NULL;
    }

    return p;
}


/*
 * An object, by its brackets and strings: its end, or NULL.  The text is
 * not checked further: it is either compared with a plan's, which was
 * read as JSON, or parsed by jansson the general way.
 */

static const char *
ttai_mcp_quick_object(const char *p, const char *end)
{
    size_t  depth;

    if (p == end || *p != '{') {
        return NULL;
    }

    depth = 0;

    while (p < end) {
        switch (*p++) {

        case '{':
        case '[':
            depth++;
            break;

        case '}':
        case ']':
            if (--depth == 0) {
                return p;
            }

            break;

        case '"':
            while (p < end && *p != '"') {
                p += (*p == '\\') ? 2 : 1;
            }

            if (p >= end) {
                return NULL;
            }

            p++;
            break;

        default:
            break;
        }
    }

    return NULL;
}


/* the id as JSON, or NULL when out of memory */

static json_t *
ttai_mcp_quick_id(ttai_mcp_quick_msg_t *msg)
{
    char  digits[TTAI_MCP_QUICK_DIGITS + 2];

    if (msg->id[0] == '"') {
        return json_stringn(msg->id + 1, msg->id_len - 2);
    }

    memcpy(digits, msg->id, msg->id_len);
    digits[msg->id_len] = '\0';

    return json_integer(strtoll(digits, NULL, 10));
}


static int
ttai_mcp_quick_is(ttai_mcp_quick_msg_t *msg, const char *method)
{
    size_t  n;

    n = strlen(method);

    return msg->method_len == n && memcmp(msg->method, method, n) == 0;
}
