
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "ttai_json.h"
#include "ttai_mcp_core.h"


/*
 * The edge of the stateless revision, 2026-07-28.  A request says which
 * era it belongs to in its body: params._meta naming a protocol version
 * makes it a stateless request, answered on its own, with no initialize
 * before it and no session after it; anything else is the 2025 era's, as
 * it always was.  What differs between the two is decided here, before
 * and after the methods, which are written once for both:
 *
 *   before: the per-request _meta, and the headers that must repeat the
 *           body (MCP-Protocol-Version, Mcp-Method, Mcp-Name);
 *   after:  resultType, the server's identity in the result's _meta, the
 *           caching hints of lists and reads, and the codes and HTTP
 *           statuses the revision gives errors.
 *
 * The order of the checks is the one the spec's transport and the SDK's
 * classifier use, so that a client gets the error it looks for first.
 */


#define TTAI_MCP_META_VERSION  "io.modelcontextprotocol/protocolVersion"
#define TTAI_MCP_META_CAPS     "io.modelcontextprotocol/clientCapabilities"
#define TTAI_MCP_META_INFO     "io.modelcontextprotocol/clientInfo"
#define TTAI_MCP_META_LEVEL    "io.modelcontextprotocol/logLevel"
#define TTAI_MCP_META_SERVER   "io.modelcontextprotocol/serverInfo"

/* what a header value holds when it could not be sent as it is */
#define TTAI_MCP_B64_HEAD      "=?base64?"
#define TTAI_MCP_B64_TAIL      "?="

/* the longest Mcp-Name compared: a tool name, a prompt name or a URI */
#define TTAI_MCP_NAME_MAX      4096


/*
 * How long a client may reuse a result, and with whom.  Tools, prompts
 * and templates are the same for every user of a location: "public".
 * Resources are the user's own account data: "private", and short.
 */
typedef struct {
    const char          *method;
    long                 ttl_ms;
    const char          *scope;
} ttai_mcp_cache_hint_t;


static int ttai_mcp_header_matches(const char *header, const char *value,
    size_t len);
static int ttai_mcp_header_clean(const char *header);
static int ttai_mcp_level_known(json_t *level);
static void ttai_mcp_traceparent(json_t *meta, ttai_mcp_reply_t *reply);
static int ttai_mcp_hex(const char *p, size_t n);


static const ttai_mcp_cache_hint_t  ttai_mcp_cache_hints[] = {
    { "server/discover", 600000, "public" },
    { "tools/list", 300000, "public" },
    { "prompts/list", 300000, "public" },
    { "resources/templates/list", 300000, "public" },
    { "resources/list", 60000, "private" },
    { "resources/read", 0, "private" },
    { NULL, 0, NULL }
};


/* 1 when params._meta names a protocol version: the stateless claim */

int
ttai_mcp_stateless_claim(json_t *msg)
{
    json_t  *meta;

    meta = json_object_get(json_object_get(msg, "params"), "_meta");

    return json_object_get(meta, TTAI_MCP_META_VERSION) != NULL;
}


/*
 * Decides the era of a body and checks a stateless request's envelope.
 * Returns 1 for a stateless request that goes on to its method, 0 for
 * one of the 2025 era or when the reply holds a refusal (reply->status
 * is set then), or -1 when out of memory.
 */

int
ttai_mcp_stateless_check(const ttai_mcp_call_t *call, json_t *root,
    ttai_mcp_reply_t *reply)
{
    int          header_modern, request;
    size_t       i;
    json_t      *msg, *id, *params, *meta, *version, *caps, *target, *info;
    const char  *method, *why, *v;

    header_modern = (call->protocol_header != NULL
                     && strcmp(call->protocol_header,
                               TTAI_MCP_STATELESS_VERSION) == 0);

    if (json_is_array(root)) {
        json_array_foreach(root, i, msg) {
            if (ttai_mcp_stateless_claim(msg)) {
                return ttai_mcp_reply_error(reply, 400, NULL,
                           TTAI_MCP_INVALID_REQUEST, NULL,
                           "Invalid Request: %s requests cannot be "
                           "batched; send one message per POST",
                           TTAI_MCP_STATELESS_VERSION);
            }
        }

        return 0;
    }

    if (!json_is_object(root)) {
        /* the 2025 era's checks answer it */
        return 0;
    }

    id = ttai_mcp_rpc_id(root);
    method = json_string_value(json_object_get(root, "method"));

    if (!ttai_mcp_stateless_claim(root)) {
        if (!header_modern) {
            return 0;
        }

        if (method != NULL && strcmp(method, "initialize") == 0) {
            return ttai_mcp_reply_error(reply, 400, id,
                       TTAI_MCP_HEADER_MISMATCH, NULL,
                       "Header mismatch: MCP-Protocol-Version %s names "
                       "the stateless revision, which has no initialize; "
                       "send initialize without that header, or call "
                       "server/discover", TTAI_MCP_STATELESS_VERSION);
        }

        return ttai_mcp_reply_error(reply, 400, id,
                   TTAI_MCP_INVALID_PARAMS, NULL,
                   "Invalid params: a %s request is missing the required "
                   "per-request envelope key(s): params._meta[\"%s\"] and "
                   "params._meta[\"%s\"]", TTAI_MCP_STATELESS_VERSION,
                   TTAI_MCP_META_VERSION, TTAI_MCP_META_CAPS);
    }

    switch (ttai_mcp_rpc_classify(root, &why)) {

    case TTAI_MCP_MSG_REQUEST:
        request = 1;
        break;

    case TTAI_MCP_MSG_NOTIFICATION:
        request = 0;
        break;

    default:
        return ttai_mcp_reply_error(reply, 400, id,
                                    TTAI_MCP_INVALID_REQUEST, NULL,
                                    "Invalid Request: %s", why);
    }

    if (strcmp(method, "initialize") == 0) {
        return ttai_mcp_reply_error(reply, 404, id,
                   TTAI_MCP_METHOD_NOT_FOUND, NULL,
                   "Method not found: initialize is not part of %s; call "
                   "server/discover, or send initialize without _meta to "
                   "open a %s session", TTAI_MCP_STATELESS_VERSION,
                   TTAI_MCP_LATEST_VERSION);
    }

    params = json_object_get(root, "params");
    meta = json_object_get(params, "_meta");
    version = json_object_get(meta, TTAI_MCP_META_VERSION);
    caps = json_object_get(meta, TTAI_MCP_META_CAPS);
    info = json_object_get(meta, TTAI_MCP_META_INFO);

    if (!json_is_object(params) || !json_is_object(meta)
        || !json_is_string(version))
    {
        return ttai_mcp_reply_error(reply, 400, id,
                   TTAI_MCP_INVALID_PARAMS, NULL,
                   "Invalid params: params._meta must be an object whose "
                   "\"%s\" is a string", TTAI_MCP_META_VERSION);
    }

    if (!json_is_object(caps)) {
        return ttai_mcp_reply_error(reply, 400, id,
                   TTAI_MCP_INVALID_PARAMS, NULL,
                   "Invalid params: params._meta[\"%s\"] is required, an "
                   "object ({} when the client offers nothing)",
                   TTAI_MCP_META_CAPS);
    }

    if (info != NULL && !json_is_object(info)) {
        return ttai_mcp_reply_error(reply, 400, id,
                   TTAI_MCP_INVALID_PARAMS, NULL,
                   "Invalid params: params._meta[\"%s\"] must be an "
                   "object", TTAI_MCP_META_INFO);
    }

    v = json_string_value(version);

    if (call->protocol_header == NULL) {
        return ttai_mcp_reply_error(reply, 400, id,
                   TTAI_MCP_HEADER_MISMATCH, NULL,
                   "Header mismatch: the MCP-Protocol-Version header is "
                   "required, equal to the body's \"%.32s\"", v);
    }

    if (strcmp(call->protocol_header, v) != 0) {
        return ttai_mcp_reply_error(reply, 400, id,
                   TTAI_MCP_HEADER_MISMATCH, NULL,
                   "Header mismatch: MCP-Protocol-Version header value "
                   "'%.32s' does not match body value '%.32s'",
                   call->protocol_header, v);
    }

    if (call->method_header == NULL) {
        if (request) {
            return ttai_mcp_reply_error(reply, 400, id,
                       TTAI_MCP_HEADER_MISMATCH, NULL,
                       "Header mismatch: the Mcp-Method header is "
                       "required, equal to the body's method \"%.64s\"",
                       method);
        }

    } else if (strcmp(call->method_header, method) != 0) {
        return ttai_mcp_reply_error(reply, 400, id,
                   TTAI_MCP_HEADER_MISMATCH, NULL,
                   "Header mismatch: Mcp-Method header value '%.64s' does "
                   "not match body value '%.64s'", call->method_header,
                   method);
    }

    if (strcmp(v, TTAI_MCP_STATELESS_VERSION) != 0) {
        return ttai_mcp_reply_error(reply, 400, id,
                   TTAI_MCP_UNSUPPORTED_VERSION,
                   json_pack("{s:[s], s:O}", "supported",
                             TTAI_MCP_STATELESS_VERSION, "requested",
                             version),
                   "Unsupported protocol version: %.32s; this server "
                   "serves %s per request, and %s through initialize", v,
                   TTAI_MCP_STATELESS_VERSION, TTAI_MCP_LATEST_VERSION);
    }

    /* the target the Mcp-Name header repeats */
    target = NULL;

    if (strcmp(method, "tools/call") == 0
        || strcmp(method, "prompts/get") == 0)
    {
        target = json_object_get(params, "name");

    } else if (strcmp(method, "resources/read") == 0) {
        target = json_object_get(params, "uri");

    } else if (strcmp(method, "tasks/get") == 0
               || strcmp(method, "tasks/update") == 0
               || strcmp(method, "tasks/cancel") == 0)
    {
        target = json_object_get(params, "taskId");
    }

    /* a target that is no string is the method's invalid params */
    if (json_is_string(target)) {
        if (call->name_header == NULL) {
            return ttai_mcp_reply_error(reply, 400, id,
                       TTAI_MCP_HEADER_MISMATCH, NULL,
                       "Header mismatch: the Mcp-Name header is required "
                       "for %s", method);
        }

        if (!ttai_mcp_header_matches(call->name_header,
                                     json_string_value(target),
                                     json_string_length(target)))
        {
            return ttai_mcp_reply_error(reply, 400, id,
                       TTAI_MCP_HEADER_MISMATCH, NULL,
                       "Header mismatch: Mcp-Name header value '%.128s' "
                       "does not match body value '%.128s'",
                       call->name_header, json_string_value(target));
        }
    }

    if (json_object_get(meta, TTAI_MCP_META_LEVEL) != NULL
        && !ttai_mcp_level_known(json_object_get(meta, TTAI_MCP_META_LEVEL)))
    {
        return ttai_mcp_reply_error(reply, 400, id,
                   TTAI_MCP_INVALID_PARAMS, NULL,
                   "Invalid params: params._meta[\"%s\"] must be one of "
                   "debug, info, notice, warning, error, critical, alert, "
                   "emergency", TTAI_MCP_META_LEVEL);
    }

    ttai_mcp_traceparent(meta, reply);

    return 1;
}


/*
 * What a stateless answer carries besides the method's own result:
 * resultType, the server's identity, and the caching hints; and the
 * revision's codes and statuses for errors.  Takes *response and may
 * replace it.  Returns 0, or -1 when out of memory.
 */

int
ttai_mcp_stateless_result(ttai_mcp_server_t *srv, ttai_mcp_run_t *run,
    json_t **response, int *status)
{
    json_t        *resp, *result, *error, *code;
    json_error_t   jerr;

    *status = 200;
    resp = *response;

    if (run->raw_result != NULL) {
        /* a result kept as text (a remembered tool answer): resp is the id */
        result = json_loadb(run->raw_result, run->raw_len, 0, &jerr);
        run->raw_result = NULL;

        *response = ttai_mcp_rpc_result(resp, result);
        json_decref(resp);
        resp = *response;

        if (resp == NULL) {
            return -1;
        }
    }

    error = json_object_get(resp, "error");

    if (error != NULL) {
        code = json_object_get(error, "code");

        switch (json_integer_value(code)) {

        case TTAI_MCP_RESOURCE_NOT_FOUND:
            /* 2026-07-28 says a missing resource is invalid params */
            json_integer_set(code, TTAI_MCP_INVALID_PARAMS);
            break;

        case TTAI_MCP_METHOD_NOT_FOUND:
            /* the JSON-RPC body tells it from an old server's bare 404 */
            *status = 404;
            break;

        case TTAI_MCP_MISSING_CAPABILITY:
        case TTAI_MCP_HEADER_MISMATCH:
            *status = 400;
            break;

        default:
            break;
        }

        return 0;
    }

    result = json_object_get(resp, "result");

    if (!json_is_object(result)) {
        return -1;
    }

    return ttai_mcp_stateless_decorate(srv,
               json_string_value(json_object_get(json_array_get(
                   run->messages, 0), "method")), result);
}


/*
 * resultType, the server's identity, and the caching hints of lists and
 * reads, on a result of method
 */

int
ttai_mcp_stateless_decorate(ttai_mcp_server_t *srv, const char *method,
    json_t *result)
{
    json_t                       *meta;
    const ttai_mcp_cache_hint_t  *h;

    if (json_object_get(result, "resultType") == NULL
        && json_object_set_new(result, "resultType",
                               json_string("complete")) != 0)
    {
        return -1;
    }

    meta = json_object_get(result, "_meta");

    if (meta == NULL) {
        meta = json_object();
        if (meta == NULL || json_object_set_new(result, "_meta", meta) != 0)
        {
            return -1;
        }
    }

    if (json_object_set_new(meta, TTAI_MCP_META_SERVER,
                            json_pack("{s:s, s:s, s:s}", "name", "ttai",
                                      "title", TTAI_MCP_TITLE,
                                      "version", srv->version))
        != 0)
    {
        return -1;
    }

    if (json_string_value(json_object_get(result, "resultType")) != NULL
        && strcmp(json_string_value(json_object_get(result, "resultType")),
                  "complete") != 0)
    {
        /* an answer that waits for input is never cached */
        return 0;
    }

    for (h = ttai_mcp_cache_hints; h->method != NULL; h++) {
        if (method != NULL && strcmp(h->method, method) == 0) {
            if (json_object_set_new(result, "ttlMs",
                                    json_integer(h->ttl_ms)) != 0
                || json_object_set_new(result, "cacheScope",
                                       json_string(h->scope)) != 0)
            {
                return -1;
            }

            break;
        }
    }

    return 0;
}


/* server/discover: what this server speaks and offers */

int
ttai_mcp_server_discover(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    json_t  *ext;

    /* tasks, where this server runs the workflows behind them */
    ext = call->tasks ? json_pack("{s:{}}", "io.modelcontextprotocol/tasks")
                      : json_object();

    *response = ttai_mcp_rpc_result(id,
                    json_pack("{s:[s], s:{s:{s:b}, s:{s:b, s:b},"
                              " s:{s:b}, s:{}, s:o*}, s:s}",
                              "supportedVersions",
                              TTAI_MCP_STATELESS_VERSION,
                              "capabilities",
                              "tools", "listChanged", 1,
                              "resources", "subscribe", 1, "listChanged", 1,
                              "prompts", "listChanged", 1,
                              "completions", "extensions", ext,
                              "instructions", srv->instructions));

    return 0;
}


/*
 * The arguments a tool marks x-mcp-header, each repeated by the client in
 * Mcp-Param-<name> (SEP-2243), so that a proxy can route on them: an
 * argument present and not null needs its header, equal to it (decoded
 * from base64 when so written; an integer by value, a boolean as true or
 * false); a header for an argument absent or null is not looked at.
 * Returns 0, with *response the -32020 refusal or NULL; -1 when out of
 * memory.
 */

int
ttai_mcp_stateless_params(const ttai_mcp_call_t *call, json_t *headers,
    json_t *args, json_t *id, json_t **response)
{
    char         text[32], *end;
    size_t       i, k;
    json_t      *h, *v;
    long long    n;
    const char  *prop, *name, *header;

    *response = NULL;

    json_array_foreach(headers, i, h) {
        prop = json_string_value(json_array_get(h, 0));
        name = json_string_value(json_array_get(h, 1));
        v = json_object_get(args, prop);

        if (v == NULL || json_is_null(v)) {
            continue;
        }

        header = NULL;

        for (k = 0; k < call->nparams; k++) {
            if (strcasecmp(call->param_names[k], name) == 0) {
                header = call->param_values[k];
                break;
            }
        }

        if (header == NULL) {
            *response = ttai_mcp_rpc_error(id, TTAI_MCP_HEADER_MISMATCH,
                            NULL, "Header mismatch: the Mcp-Param-%s header "
                            "is required, repeating the argument \"%s\"",
                            name, prop);
            return *response ? 0 : -1;
        }

        if (json_is_string(v)) {
            if (ttai_mcp_header_matches(header, json_string_value(v),
                                        json_string_length(v)))
            {
                continue;
            }

        } else if (json_is_integer(v)) {
            snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(v));

            if (ttai_mcp_header_matches(header, text, strlen(text))) {
                continue;
            }

            /* by value: "+7" and "07" are 7 */
            n = strtoll(header, &end, 10);

            if (end != header && *end == '\0'
                && n == (long long) json_integer_value(v))
            {
                continue;
            }

        } else if (json_is_boolean(v)) {
            if (ttai_mcp_header_matches(header,
                                        json_is_true(v) ? "true" : "false",
                                        json_is_true(v) ? 4 : 5))
            {
                continue;
            }
        }

        *response = ttai_mcp_rpc_error(id, TTAI_MCP_HEADER_MISMATCH, NULL,
                        "Header mismatch: Mcp-Param-%s header value "
                        "'%.128s' does not match the argument \"%s\"", name,
                        header, prop);

        return *response ? 0 : -1;
    }

    return 0;
}


/*
 * A header repeats a body value as it is, when it is printable ASCII
 * without surrounding blanks, or as =?base64?...?= of its UTF-8 bytes;
 * values compare byte for byte, case included.
 */

static int
ttai_mcp_header_matches(const char *header, const char *value, size_t len)
{
    size_t          hlen, n, head, tail;
    unsigned char  *buf;
    int             same;

    hlen = strlen(header);
    head = sizeof(TTAI_MCP_B64_HEAD) - 1;
    tail = sizeof(TTAI_MCP_B64_TAIL) - 1;

    if (hlen < head + tail
        || memcmp(header, TTAI_MCP_B64_HEAD, head) != 0
        || memcmp(header + hlen - tail, TTAI_MCP_B64_TAIL, tail) != 0)
    {
        return ttai_mcp_header_clean(header)
               && hlen == len && memcmp(header, value, len) == 0;
    }

    if (len > TTAI_MCP_NAME_MAX) {
        return 0;
    }

    buf = malloc(len + 1);
    if (buf == NULL) {
        return 0;
    }

    same = (sodium_base642bin(buf, len + 1, header + head,
                              hlen - head - tail, NULL, &n, NULL,
                              sodium_base64_VARIANT_ORIGINAL)
            == 0
            && n == len && memcmp(buf, value, len) == 0);

    free(buf);

    return same;
}


/* visible ASCII, spaces and tabs, and no blank at either end */

static int
ttai_mcp_header_clean(const char *header)
{
    const unsigned char  *p;

    p = (const unsigned char *) header;

    if (*p == ' ' || *p == '\t') {
        return 0;
    }

    for ( /* void */ ; *p; p++) {
        if ((*p < 0x20 && *p != '\t') || *p > 0x7e) {
            return 0;
        }

        if (p[1] == '\0' && (*p == ' ' || *p == '\t')) {
            return 0;
        }
    }

    return 1;
}


static int
ttai_mcp_level_known(json_t *level)
{
    const char  **l;

    if (!json_is_string(level)) {
        return 0;
    }

    for (l = ttai_mcp_log_levels; *l != NULL; l++) {
        if (strcmp(json_string_value(level), *l) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * W3C Trace Context, version 00: "00-<trace-id>-<parent-id>-<flags>",
 * lowercase hex, neither id all zeros.  An invalid one is ignored, as
 * the recommendation says, rather than refused.
 */

static void
ttai_mcp_traceparent(json_t *meta, ttai_mcp_reply_t *reply)
{
    size_t       i;
    const char  *t;

    reply->traceparent[0] = '\0';

    t = json_string_value(json_object_get(meta, "traceparent"));

    if (t == NULL || strlen(t) != TTAI_MCP_TRACEPARENT_LEN
        || memcmp(t, "00-", 3) != 0 || t[35] != '-' || t[52] != '-'
        || !ttai_mcp_hex(t + 3, 32) || !ttai_mcp_hex(t + 36, 16)
        || !ttai_mcp_hex(t + 53, 2))
    {
        return;
    }

    for (i = 3; i < 35 && t[i] == '0'; i++) { /* void */ }

    if (i == 35) {
        return;
    }

    for (i = 36; i < 52 && t[i] == '0'; i++) { /* void */ }

    if (i == 52) {
        return;
    }

    memcpy(reply->traceparent, t, TTAI_MCP_TRACEPARENT_LEN + 1);
}


static int
ttai_mcp_hex(const char *p, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}
