
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ttai_tools.h"
#include "ttai_version.h"


/*
 * get_session_info: who is signed in, and what this MCP session is.  It
 * needs no upstream data, so it answers at once; it is also the tool to
 * call to check that a client is connected and authenticated.
 */


static int ttai_tool_session_info_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static json_t *ttai_tool_session_info_client(const char *text);
static void ttai_tool_session_info_text(char *buf, size_t size,
    json_t *structured);


const ttai_tool_impl_t  ttai_tool_get_session_info = {
    "get_session_info",
    ttai_tool_session_info_run,
    NULL,
    0,
    NULL
};


static int
ttai_tool_session_info_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    char                    created[32], text[2560];
    json_t                 *structured;
    struct tm               tm;
    const ttai_mcp_call_t  *call;

    call = ctx->call;
    created[0] = '\0';

    if (call->session_created != 0
        && gmtime_r(&call->session_created, &tm) != NULL)
    {
        strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }

    structured = json_pack("{s:{s:s, s:s?}, s:{s:s?, s:s?, s:s?, s:o},"
                           " s:{s:s, s:s}}",
                           "user",
                           "sub", call->sub ? call->sub : "",
                           "email", call->email,
                           "session",
                           "id", call->session_id,
                           "protocolVersion", call->session_version,
                           "createdAt", created[0] ? created : NULL,
                           "client",
                           ttai_tool_session_info_client(call->session_client),
                           "server",
                           "name", TTAI_NAME,
                           "version", ctx->server_version
                                      ? ctx->server_version : TTAI_VERSION);
    if (structured == NULL) {
        return -1;
    }

    /* room for the longest claims and clientInfo the core accepts */
    ttai_tool_session_info_text(text, sizeof(text), structured);

    *result = ttai_tool_text_result(text, structured);

    return *result ? 0 : -1;
}


/* the stored clientInfo, or null when there is none or it is not JSON */

static json_t *
ttai_tool_session_info_client(const char *text)
{
    json_t  *client;

    if (text == NULL) {
        return json_null();
    }

    client = json_loads(text, 0, NULL);

    if (!json_is_object(client)) {
        json_decref(client);
        return json_null();
    }

    return client;
}


/* one line each for the user, the session and the server */

static void
ttai_tool_session_info_text(char *buf, size_t size, json_t *structured)
{
    int          n;
    json_t      *user, *session, *client, *server;
    const char  *email, *id, *version, *created, *name, *cversion;

    user = json_object_get(structured, "user");
    session = json_object_get(structured, "session");
    server = json_object_get(structured, "server");
    client = json_object_get(session, "client");

    email = json_string_value(json_object_get(user, "email"));
    id = json_string_value(json_object_get(session, "id"));
    version = json_string_value(json_object_get(session, "protocolVersion"));
    created = json_string_value(json_object_get(session, "createdAt"));
    name = json_string_value(json_object_get(client, "name"));
    cversion = json_string_value(json_object_get(client, "version"));

    n = snprintf(buf, size, "Signed in as %s%s%s%s.\n",
                 json_string_value(json_object_get(user, "sub")),
                 email ? " (" : "", email ? email : "", email ? ")" : "");

    if (n < 0 || (size_t) n >= size) {
        return;
    }

    snprintf(buf + n, size - n,
             "Session %s, protocol %s, started %s, client %s%s%s.\n"
             "Server %s %s.",
             id ? id : "(none)",
             version ? version : "(unknown)",
             created ? created : "(unknown)",
             name ? name : "(unnamed)", cversion ? " " : "",
             cversion ? cversion : "",
             json_string_value(json_object_get(server, "name")),
             json_string_value(json_object_get(server, "version")));
}
