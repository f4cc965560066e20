
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ttai_monitor.h"
#include "ttai_tools.h"


/*
 * get_position_history: the positions table the monitor fills while a
 * rule of the user reads positions, the calling user's rows only
 */


static int ttai_tool_history_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_history_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);


const ttai_tool_impl_t  ttai_tool_get_position_history = {
    "get_position_history", ttai_tool_history_run, ttai_tool_history_resume,
    0, NULL
};


static int
ttai_tool_history_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         up[64];
    size_t       i;
    json_t      *days, *limit;
    time_t       now;
    const char  *symbol;

    days = json_object_get(args, "days");
    limit = json_object_get(args, "limit");
    symbol = json_string_value(json_object_get(args, "symbol"));

    /* stored as TastyTrade writes symbols */
    if (symbol != NULL) {
        for (i = 0; symbol[i] && i < sizeof(up) - 1; i++) {
            up[i] = (symbol[i] >= 'a' && symbol[i] <= 'z')
                    ? (char) (symbol[i] - 'a' + 'A') : symbol[i];
        }

        up[i] = '\0';
        symbol = up;
    }

    now = ctx->call->now ? ctx->call->now : time(NULL);

    *pending = ttai_mcp_pending_d1(ttai_monitor_history(
                   ctx->call->sub ? ctx->call->sub : "",
                   json_string_value(json_object_get(args,
                                                     "account_number")),
                   symbol,
                   ((long long) now - (days ? json_integer_value(days) : 7)
                                      * 86400) * 1000,
                   limit ? (long) json_integer_value(limit) : 200));

    return *pending ? 0 : -1;
}


static int
ttai_tool_history_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char     at[32], *text;
    size_t   i, len, size;
    json_t  *body, *rows, *row, *out;

    body = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
    rows = json_object_get(json_array_get(body, 0), "results");

    if (!json_is_array(rows)) {
        json_decref(body);
        *result = ttai_tool_error_result("Tool get_position_history failed: "
                                         "the database answered what ttai "
                                         "could not read");
        return *result ? 0 : -1;
    }

    size = 160 + json_array_size(rows) * 160;
    text = malloc(size);
    if (text == NULL) {
        json_decref(body);
        return -1;
    }

    len = (size_t) snprintf(text, size, "%zu snapshot(s)%s\n",
                            json_array_size(rows),
                            json_array_size(rows) ? ", newest first:"
                            : ": the monitor records positions only while "
                              "a position_pnl or expiration_near rule reads "
                              "them");

    json_array_foreach(rows, i, row) {
        ttai_monitor_iso(json_integer_value(json_object_get(row,
                                                            "snapshot_at")),
                         at);

        if (json_object_set_new(row, "snapshot_at", json_string(at)) != 0) {
            free(text);
            json_decref(body);
            return -1;
        }

        len += (size_t) snprintf(text + len, size - len,
                                 "%s  %s  %s  qty %g  at %g  P/L %+.2f%%\n",
                                 at,
                                 json_string_value(json_object_get(
                                     row, "account_number")),
                                 json_string_value(json_object_get(
                                     row, "symbol")),
                                 json_number_value(json_object_get(
                                     row, "quantity")),
                                 json_number_value(json_object_get(
                                     row, "price")),
                                 json_number_value(json_object_get(
                                     row, "pnl_percent")));
    }

    out = json_pack("{s:I, s:O}", "count",
                    (json_int_t) json_array_size(rows), "snapshots", rows);
    json_decref(body);

    *result = out ? ttai_tool_text_result(text, out) : NULL;
    free(text);

    return *result ? 0 : -1;
}
