
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_mcp_core.h"


/*
 * JSON-RPC 2.0 envelopes.  Every message is classified before anything
 * is done with it, and every answer is built here, so that the id is
 * echoed the same way everywhere.
 */

#define TTAI_MCP_MESSAGE_MAX  512


static size_t ttai_mcp_utf8_seq(const unsigned char *p);


ttai_mcp_msg_e
ttai_mcp_rpc_classify(json_t *msg, const char **why)
{
    json_t  *v, *id;

    if (!json_is_object(msg)) {
        *why = "a JSON-RPC message must be an object";
        return TTAI_MCP_MSG_INVALID;
    }

    v = json_object_get(msg, "jsonrpc");

    if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
        *why = "\"jsonrpc\" must be \"2.0\"";
        return TTAI_MCP_MSG_INVALID;
    }

    v = json_object_get(msg, "method");
    id = json_object_get(msg, "id");

    if (v == NULL) {
        if (json_object_get(msg, "result") != NULL
            || json_object_get(msg, "error") != NULL)
        {
            return TTAI_MCP_MSG_RESPONSE;
        }

        *why = "a JSON-RPC message needs a \"method\"";
        return TTAI_MCP_MSG_INVALID;
    }

    if (!json_is_string(v)) {
        *why = "\"method\" must be a string";
        return TTAI_MCP_MSG_INVALID;
    }

    if (id == NULL) {
        return TTAI_MCP_MSG_NOTIFICATION;
    }

    /*
     * MCP: "the ID MUST NOT be null"; and only integers, as the SDKs
     * accept, so that the id is echoed exactly as it was written
     */
    if (!json_is_string(id) && !json_is_integer(id)) {
        *why = "\"id\" must be a string or an integer";
        return TTAI_MCP_MSG_INVALID;
    }

    return TTAI_MCP_MSG_REQUEST;
}


/* the id to answer an invalid message with: its own when usable */

json_t *
ttai_mcp_rpc_id(json_t *msg)
{
    json_t  *id;

    id = json_object_get(msg, "id");

    if (json_is_string(id) || json_is_integer(id)) {
        return id;
    }

    return NULL;
}


/* takes the reference to result; NULL id is answered as null */

json_t *
ttai_mcp_rpc_result(json_t *id, json_t *result)
{
    if (result == NULL) {
        return NULL;
    }

    return json_pack("{s:s, s:O?, s:o}", "jsonrpc", "2.0", "id", id,
                     "result", result);
}


/*
 * A result already serialized, in its envelope, as ttai_json_dumps()
 * writes {"jsonrpc":"2.0","id":<id>,"result":<result>}; id is JSON text.
 * With tail, the result is followed by the "}" that closes the response,
 * and it is not copied: it becomes the reply's tail.  Returns 0, or -1
 * when out of memory.
 */

int
ttai_mcp_rpc_raw(ttai_mcp_reply_t *reply, const char *id, size_t id_len,
    const char *result, size_t len, int tail)
{
    char    *body, *p;
    size_t   n;

    static const char  head[] = "{\"jsonrpc\":\"2.0\",\"id\":";
    static const char  member[] = ",\"result\":";

    n = sizeof(head) - 1 + id_len + sizeof(member) - 1;

    body = malloc(n + (tail ? 0 : len + 1) + 1);
    if (body == NULL) {
        return -1;
    }

    p = body;
    memcpy(p, head, sizeof(head) - 1);
    p += sizeof(head) - 1;
    memcpy(p, id, id_len);
    p += id_len;
    memcpy(p, member, sizeof(member) - 1);
    p += sizeof(member) - 1;

    if (tail) {
        reply->tail = result;
        reply->tail_len = len + 1;

    } else {
        memcpy(p, result, len);
        p += len;
        *p++ = '}';
    }

    *p = '\0';

    reply->status = 200;
    reply->body = body;
    reply->len = p - body;

    return 0;
}


json_t *
ttai_mcp_rpc_error(json_t *id, int code, json_t *data, const char *fmt, ...)
{
    json_t   *e;
    va_list   args;

    va_start(args, fmt);
    e = ttai_mcp_rpc_verror(id, code, data, fmt, args);
    va_end(args);

    return e;
}


/* takes the reference to data (NULL: none) */

json_t *
ttai_mcp_rpc_verror(json_t *id, int code, json_t *data, const char *fmt,
    va_list args)
{
    char  message[TTAI_MCP_MESSAGE_MAX];

    vsnprintf(message, sizeof(message), fmt, args);

    /* a name cut short by %.64s may end inside a UTF-8 sequence */
    ttai_mcp_utf8_clean(message);

    return json_pack("{s:s, s:O?, s:{s:i, s:s, s:o*}}", "jsonrpc", "2.0",
                     "id", id, "error", "code", code, "message", message,
                     "data", data);
}


/*
 * Replaces every byte that does not belong to a valid UTF-8 sequence
 * with '?': jansson refuses invalid UTF-8, and a message cut short or
 * quoting an upstream body must still be sent.
 */

void
ttai_mcp_utf8_clean(char *s)
{
    size_t          n;
    unsigned char  *p;

    p = (unsigned char *) s;

    while (*p) {
        n = ttai_mcp_utf8_seq(p);

        if (n == 0) {
            *p++ = '?';
            continue;
        }

        p += n;
    }
}


/* the length of the valid sequence at p, or 0 */

static size_t
ttai_mcp_utf8_seq(const unsigned char *p)
{
    if (p[0] < 0x80) {
        return 1;
    }

    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        return (p[1] & 0xc0) == 0x80 ? 2 : 0;
    }

    if (p[0] >= 0xe0 && p[0] <= 0xef) {
        /* no overlong forms, no surrogates */
        if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f))
        {
            return 0;
        }

        return ((p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) ? 3 : 0;
    }

    if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        if ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
        {
            return 0;
        }

        return ((p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80
                && (p[3] & 0xc0) == 0x80) ? 4 : 0;
    }

    return 0;
}
