
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "ttai_mcp_core.h"


/*
 * The MCP methods, one function each, found by name.  A method answers
 * with a JSON-RPC result or error; only tools/call may leave a request
 * pending.  Returns -1 only when out of memory.
 */

#define TTAI_MCP_CURSOR_PREFIX  "ttai-tools:"


typedef int (*ttai_mcp_method_pt)(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);


/* the eras a method is served in */
#define TTAI_MCP_LEGACY     1
#define TTAI_MCP_STATELESS  2
#define TTAI_MCP_BOTH       (TTAI_MCP_LEGACY|TTAI_MCP_STATELESS)


typedef struct {
    const char          *name;
    ttai_mcp_method_pt   handler;
    unsigned             eras;
} ttai_mcp_method_t;


static int ttai_mcp_initialize(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);
static int ttai_mcp_ping(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending);
static int ttai_mcp_tools_list(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);
static char *ttai_mcp_tools_page(json_t *result, size_t *len);
static int ttai_mcp_set_level(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, json_t **response, ttai_mcp_pending_t **pending);
static int ttai_mcp_cursor_decode(json_t *cursor, size_t *offset);
static json_t *ttai_mcp_cursor_encode(size_t offset);


/*
 * 2026-07-28 removed initialize, ping, logging/setLevel and the
 * resources/(un)subscribe pair, and added server/discover
 */
static const ttai_mcp_method_t  ttai_mcp_methods[] = {
    { "initialize", ttai_mcp_initialize, TTAI_MCP_LEGACY },
    { "ping", ttai_mcp_ping, TTAI_MCP_LEGACY },
    { "server/discover", ttai_mcp_server_discover, TTAI_MCP_STATELESS },
    { "tools/list", ttai_mcp_tools_list, TTAI_MCP_BOTH },
    { "tools/call", ttai_mcp_tools_call, TTAI_MCP_BOTH },
    { "logging/setLevel", ttai_mcp_set_level, TTAI_MCP_LEGACY },
    { "resources/list", ttai_mcp_resources_list, TTAI_MCP_BOTH },
    { "resources/templates/list", ttai_mcp_templates_list, TTAI_MCP_BOTH },
    { "resources/read", ttai_mcp_resources_read, TTAI_MCP_BOTH },
    { "prompts/list", ttai_mcp_prompts_list, TTAI_MCP_BOTH },
    { "prompts/get", ttai_mcp_prompts_get, TTAI_MCP_BOTH },
    { "completion/complete", ttai_mcp_complete, TTAI_MCP_BOTH },
    { "subscriptions/listen", ttai_mcp_subscriptions_listen,
      TTAI_MCP_STATELESS },
    { "tasks/get", ttai_mcp_tasks_get, TTAI_MCP_STATELESS },
    { "tasks/update", ttai_mcp_tasks_update, TTAI_MCP_STATELESS },
    { "tasks/cancel", ttai_mcp_tasks_cancel, TTAI_MCP_STATELESS },
    { "resources/subscribe", ttai_mcp_resources_subscribe, TTAI_MCP_LEGACY },
    { "resources/unsubscribe", ttai_mcp_resources_subscribe,
      TTAI_MCP_LEGACY },
    { NULL, NULL, 0 }
};

/* RFC 5424's severities, as MCP names them */
const char  *ttai_mcp_log_levels[] = {
    "debug", "info", "notice", "warning", "error", "critical", "alert",
    "emergency", NULL
};


int
ttai_mcp_dispatch(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *msg, json_t **response,
    ttai_mcp_pending_t **pending)
{
    int                       rc;
    json_t                   *id, *params;
    const char               *why, *method;
    const ttai_mcp_method_t  *m;

    switch (ttai_mcp_rpc_classify(msg, &why)) {

    case TTAI_MCP_MSG_INVALID:
        /* only a batch gets here: a single one was answered with 400 */
        *response = ttai_mcp_rpc_error(ttai_mcp_rpc_id(msg),
                                       TTAI_MCP_INVALID_REQUEST, NULL,
                                       "Invalid Request: %s", why);
        return *response ? 0 : -1;

    case TTAI_MCP_MSG_REQUEST:
        break;

    case TTAI_MCP_MSG_RESPONSE:
        id = json_object_get(msg, "id");

        /* the answer to a question a call of the session waits on */
        if (!run->stateless && json_is_string(id)
            && strlen(json_string_value(id)) == TTAI_MCP_ASK_ID_LEN
            && strncmp(json_string_value(id), TTAI_MCP_ASK_PREFIX,
                       sizeof(TTAI_MCP_ASK_PREFIX) - 1) == 0)
        {
            if (run->answers == NULL) {
                run->answers = json_array();
            }

            if (run->answers == NULL
                || json_array_append(run->answers, msg) != 0)
            {
                return -1;
            }
        }

        return 0;

    default:
        /*
         * notifications/initialized, notifications/cancelled (nothing
         * runs long enough here to cancel), any other notification, and
         * responses: nothing to answer
         */
        return 0;
    }

    id = json_object_get(msg, "id");
    params = json_object_get(msg, "params");
    method = json_string_value(json_object_get(msg, "method"));

    if (params != NULL && !json_is_object(params)) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: params must be an "
                                       "object");
        return *response ? 0 : -1;
    }

    for (m = ttai_mcp_methods; m->name != NULL; m++) {
        if (strcmp(m->name, method) == 0
            && (m->eras & (run->stateless ? TTAI_MCP_STATELESS
                                          : TTAI_MCP_LEGACY)))
        {
            break;
        }
    }

    if (m->name == NULL) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_METHOD_NOT_FOUND, NULL,
                                       "Method not found: %.64s", method);
        return *response ? 0 : -1;
    }

    rc = m->handler(srv, call, run, id, params, response, pending);

    if (rc == 0 && *response == NULL && *pending == NULL) {
        /* a handler's json_pack() failed */
        return -1;
    }

    return rc;
}


/* MCP: echo the client's version when we speak it, else offer ours */

const char *
ttai_mcp_negotiate(const char *requested)
{
    if (requested != NULL
        && ttai_mcp_version_supported(requested, strlen(requested)))
    {
        return requested;
    }

    return TTAI_MCP_LATEST_VERSION;
}


static int
ttai_mcp_initialize(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    char        *client;
    json_t      *requested, *info, *caps;
    const char  *version;

    requested = json_object_get(params, "protocolVersion");

    if (!json_is_string(requested)) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: protocolVersion is "
                                       "required, e.g. \"%s\"",
                                       TTAI_MCP_LATEST_VERSION);
        return 0;
    }

    info = json_object_get(params, "clientInfo");
    client = NULL;

    if (info != NULL) {
        if (!json_is_object(info)) {
            *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                           "Invalid params: clientInfo must "
                                           "be an object");
            return 0;
        }

        client = json_dumps(info, JSON_COMPACT);
        if (client == NULL) {
            return -1;
        }

        /* the shell keeps it with the session, which has a limit */
        if (strlen(client) > TTAI_MCP_MAX_CLIENT_INFO) {
            free(client);
            *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                           "Invalid params: clientInfo is "
                                           "larger than %d bytes",
                                           TTAI_MCP_MAX_CLIENT_INFO);
            return 0;
        }
    }

    version = ttai_mcp_negotiate(json_string_value(requested));

    /* what the client can do that ttai asks of it, kept with the session */
    caps = ttai_mcp_input_caps(json_object_get(params, "capabilities"),
                               version);
    free(run->client_caps);
    run->client_caps = caps ? json_dumps(caps, JSON_COMPACT) : NULL;
    json_decref(caps);

    *response = ttai_mcp_rpc_result(id,
                    json_pack("{s:s, s:{s:{s:b}, s:{s:b, s:b}, s:{s:b},"
                              " s:{}, s:{}}, s:{s:s, s:s, s:s}, s:s}",
                              "protocolVersion", version,
                              "capabilities",
                              "tools", "listChanged", 1,
                              "resources", "subscribe", 1, "listChanged", 1,
                              "prompts", "listChanged", 1, "logging",
                              "completions",
                              "serverInfo",
                              "name", "ttai",
                              "title", TTAI_MCP_TITLE,
                              "version", srv->version,
                              "instructions", srv->instructions));

    if (*response == NULL) {
        free(client);
        return -1;
    }

    run->new_session = 1;
    snprintf(run->version, sizeof(run->version), "%s", version);
    free(run->client_info);
    run->client_info = client;

    return 0;
}


static int
ttai_mcp_ping(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    *response = ttai_mcp_rpc_result(id, json_object());

    return 0;
}


/*
 * The tools of the call's toolsets, a page at a time; the cursor counts
 * the tools of that selection only
 */

static int
ttai_mcp_tools_list(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    char      **page;
    size_t      i, offset, end, n, *page_len;
    json_t     *tools, *result, *next, *cursor;
    unsigned    toolsets;

    toolsets = ttai_mcp_toolsets(call);

    if (run->stateless) {
        page = &srv->tools_pages_2026[toolsets];
        page_len = &srv->tools_pages_2026_len[toolsets];

    } else {
        page = &srv->tools_pages[toolsets];
        page_len = &srv->tools_pages_len[toolsets];
    }

    n = 0;

    for (i = 0; i < srv->ntools; i++) {
        n += ttai_mcp_tool_listed(&srv->tools[i], toolsets);
    }

    cursor = json_object_get(params, "cursor");

    /* 2026-07-28: an empty cursor is the first page too */
    if (run->stateless && json_is_string(cursor)
        && json_string_length(cursor) == 0)
    {
        cursor = NULL;
    }

    if (ttai_mcp_cursor_decode(cursor, &offset) != 0
        || (offset > 0 && offset >= n))
    {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: unknown cursor; "
                                       "list again without one");
        return 0;
    }

    /*
     * The first page alone in a POST: serialized once, then reused; in
     * the stateless revision with what its results carry, which is the
     * same for every request
     */
    if (offset == 0 && !run->batch && *page != NULL) {
        run->raw_result = *page;
        run->raw_len = *page_len;
        run->raw_kept = 1;
        run->raw_stateless = run->stateless;
        *response = json_incref(id);
        return 0;
    }

    end = offset + srv->page_size;
    if (end > n) {
        end = n;
    }

    tools = json_array();
    if (tools == NULL) {
        return -1;
    }

    n = 0;

    for (i = 0; i < srv->ntools && n < end; i++) {
        if (!ttai_mcp_tool_listed(&srv->tools[i], toolsets)) {
            continue;
        }

        if (n++ < offset) {
            continue;
        }

        if (json_array_append(tools, srv->tools[i].descriptor) != 0) {
            json_decref(tools);
            return -1;
        }
    }

    next = NULL;

    /* more tools of the selection after this page */
    for (; i < srv->ntools; i++) {
        if (ttai_mcp_tool_listed(&srv->tools[i], toolsets)) {
            next = ttai_mcp_cursor_encode(end);
            if (next == NULL) {
                json_decref(tools);
                return -1;
            }

            break;
        }
    }

    result = json_pack("{s:o, s:o*}", "tools", tools, "nextCursor", next);

    if (offset == 0 && !run->batch && result != NULL
        && (!run->stateless
            || ttai_mcp_stateless_decorate(srv, "tools/list", result) == 0))
    {
        *page = ttai_mcp_tools_page(result, page_len);

        if (*page != NULL) {
            json_decref(result);
            run->raw_result = *page;
            run->raw_len = *page_len;
            run->raw_kept = 1;
            run->raw_stateless = run->stateless;
            *response = json_incref(id);
            return 0;
        }
    }

    *response = ttai_mcp_rpc_result(id, result);

    return 0;
}


/* the page's text with the "}" of its response after it */

static char *
ttai_mcp_tools_page(json_t *result, size_t *len)
{
    char    *text, *page;
    size_t   n;

    text = json_dumps(result, JSON_COMPACT);
    if (text == NULL) {
        return NULL;
    }

    n = strlen(text);

    page = realloc(text, n + 2);
    if (page == NULL) {
        free(text);
        return NULL;
    }

    page[n] = '}';
    page[n + 1] = '\0';
    *len = n;

    return page;
}


static int
ttai_mcp_set_level(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    json_t       *level;
    const char  **l;

    level = json_object_get(params, "level");

    for (l = ttai_mcp_log_levels; *l != NULL; l++) {
        if (json_is_string(level)
            && strcmp(json_string_value(level), *l) == 0)
        {
            break;
        }
    }

    if (*l == NULL) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: level must be one "
                                       "of debug, info, notice, warning, "
                                       "error, critical, alert, emergency");
        return 0;
    }

    snprintf(run->log_level, sizeof(run->log_level), "%s", *l);

    *response = ttai_mcp_rpc_result(id, json_object());

    return 0;
}








/*
 * The cursor of a list that has one page: none, or, in the stateless
 * revision, the empty one that also means the first page
 */

int
ttai_mcp_list_cursor_ok(ttai_mcp_run_t *run, json_t *params)
{
    json_t  *cursor;

    cursor = json_object_get(params, "cursor");

    return cursor == NULL
           || (run->stateless && json_is_string(cursor)
               && json_string_length(cursor) == 0);
}


/*
 * A cursor is opaque to clients: base64url of "ttai-tools:<offset>".
 * Absent is the first page; anything we did not make is refused.
 */

static int
ttai_mcp_cursor_decode(json_t *cursor, size_t *offset)
{
    char           buf[64], *end;
    size_t         n, plen;
    unsigned long  v;

    *offset = 0;

    if (cursor == NULL) {
        return 0;
    }

    if (!json_is_string(cursor) || json_string_length(cursor) == 0
        || json_string_length(cursor) > 48)
    {
        return -1;
    }

    if (sodium_base642bin((unsigned char *) buf, sizeof(buf) - 1,
                          json_string_value(cursor),
                          json_string_length(cursor), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING)
        != 0)
    {
        return -1;
    }

    buf[n] = '\0';
    plen = sizeof(TTAI_MCP_CURSOR_PREFIX) - 1;

    if (n <= plen || memcmp(buf, TTAI_MCP_CURSOR_PREFIX, plen) != 0
        || buf[plen] < '1' || buf[plen] > '9')
    {
        return -1;
    }

    v = strtoul(buf + plen, &end, 10);

    if (*end != '\0' || v > 1000000) {
        return -1;
    }

    *offset = v;

    return 0;
}


static json_t *
ttai_mcp_cursor_encode(size_t offset)
{
    char  raw[48], text[80];
    int   n;

    n = snprintf(raw, sizeof(raw), TTAI_MCP_CURSOR_PREFIX "%zu", offset);

    sodium_bin2base64(text, sizeof(text), (unsigned char *) raw, n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);

    return json_string(text);
}
