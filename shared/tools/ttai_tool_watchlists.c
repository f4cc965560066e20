
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_tt.h"
#include "ttai_tt_map.h"


/*
 * get_watchlists: the user's own watchlists (not TastyTrade's public
 * ones), cached per user for the account lifetime.
 */

#define TTAI_TOOL_WATCHLISTS_MAX  50
#define TTAI_TOOL_WATCHLIST_MAX   200     /* symbols in one watchlist */


static int ttai_tool_watchlists_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_watchlists_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static json_t *ttai_tool_watchlists_one(json_t *wl, int *truncated);
static void ttai_tool_watchlists_line(ttai_tt_buf_t *b, json_t *w);


/* a watchlist, before its symbols */
static const ttai_tt_field_t  ttai_tool_watchlists_fields[] = {
    ttai_tt_field("name", "name", TTAI_TT_STRING),
    ttai_tt_field("group-name", "group_name", TTAI_TT_STRING),
    ttai_tt_null_field
};

static const ttai_tt_field_t  ttai_tool_watchlists_entry_fields[] = {
    ttai_tt_field("symbol", "symbol", TTAI_TT_STRING),
    ttai_tt_field("instrument-type", "instrument_type", TTAI_TT_STRING),
    ttai_tt_null_field
};


const ttai_tool_impl_t  ttai_tool_get_watchlists = {
    "get_watchlists",
    ttai_tool_watchlists_run,
    ttai_tool_watchlists_resume,
    0,
    NULL
};


static int
ttai_tool_watchlists_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    char  *key;

    key = ttai_tt_sprintf("watchlists:%s",
                          ctx->call->sub ? ctx->call->sub : "");
    if (key == NULL) {
        return -1;
    }

    *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET",
                                     "/watchlists", NULL, key,
                                     ctx->ttl->account);
    free(key);

    if (*pending == NULL) {
        return -1;
    }

    /* its resource changes when a fetch finds it changed */
    (*pending)->watch = 1;

    return 0;
}


static int
ttai_tool_watchlists_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int             rc, truncated;
    size_t          i, n;
    json_t         *data, *items, *wl, *list, *w, *out;
    ttai_tt_buf_t   b;

    data = ttai_tt_data("get_watchlists", resp, result);
    if (data == NULL) {
        return *result ? 0 : -1;
    }

    if (resp->changed
        && ttai_tool_changed(ctx, TTAI_LISTEN_UPDATED, "ttai://watchlists",
                             1)
           != 0)
    {
        json_decref(data);
        return -1;
    }

    items = json_object_get(data, "items");

    if (!json_is_array(items)) {
        json_decref(data);
        *result = ttai_tool_error_result("Tool get_watchlists failed: "
                                         "TastyTrade sent a watchlists "
                                         "list without items.  Try "
                                         "again.");
        return *result ? 0 : -1;
    }

    list = json_array();
    out = json_object();
    rc = (list && out) ? 0 : -1;
    n = 0;
    truncated = 0;

    json_array_foreach(items, i, wl) {
        if (rc != 0) {
            break;
        }

        if (!json_is_string(json_object_get(wl, "name"))) {
            continue;
        }

        if (n == TTAI_TOOL_WATCHLISTS_MAX) {
            truncated = 1;
            break;
        }

        w = ttai_tool_watchlists_one(wl, &truncated);

        if (w == NULL || json_array_append_new(list, w) != 0) {
            rc = -1;
            break;
        }

        n++;
    }

    json_decref(data);

    rc = ttai_tt_set(rc, out, "count", json_integer((json_int_t) n));
    rc = ttai_tt_set(rc, out, "truncated", json_boolean(truncated));
    rc = ttai_tt_set(rc, out, "watchlists", json_incref(list));

    if (rc != 0) {
        json_decref(list);
        json_decref(out);
        return -1;
    }

    memset(&b, 0, sizeof(b));

    if (n == 0) {
        ttai_tt_buf_printf(&b, "The user has no watchlists.");

    } else {
        ttai_tt_buf_printf(&b, "%zu watchlist%s:\n", n, n == 1 ? "" : "s");

        json_array_foreach(list, i, w) {
            ttai_tool_watchlists_line(&b, w);
        }

        if (truncated) {
            ttai_tt_buf_printf(&b, "(cut short: at most %d watchlists of "
                               "%d symbols are shown)\n",
                               TTAI_TOOL_WATCHLISTS_MAX,
                               TTAI_TOOL_WATCHLIST_MAX);
        }
    }

    json_decref(list);

    *result = ttai_tt_buf_result(&b, out);

    return *result ? 0 : -1;
}


static json_t *
ttai_tool_watchlists_one(json_t *wl, int *truncated)
{
    int      rc;
    size_t   i, n;
    json_t  *w, *symbols, *entry, *e;

    w = ttai_tt_mapped(wl, ttai_tool_watchlists_fields);
    symbols = json_array();

    if (w == NULL || symbols == NULL) {
        json_decref(w);
        json_decref(symbols);
        return NULL;
    }

    rc = 0;

    n = 0;

    json_array_foreach(json_object_get(wl, "watchlist-entries"), i, entry) {
        if (rc != 0) {
            break;
        }

        if (!json_is_string(json_object_get(entry, "symbol"))) {
            continue;
        }

        if (n == TTAI_TOOL_WATCHLIST_MAX) {
            *truncated = 1;
            break;
        }

        e = ttai_tt_mapped(entry, ttai_tool_watchlists_entry_fields);

        if (e == NULL || json_array_append_new(symbols, e) != 0) {
            rc = -1;
            break;
        }

        n++;
    }

    rc = ttai_tt_set(rc, w, "symbols", symbols);

    if (rc != 0) {
        json_decref(w);
        return NULL;
    }

    return w;
}


/* main (group x): AAPL, SPY, /ESU3 (Future) */

static void
ttai_tool_watchlists_line(ttai_tt_buf_t *b, json_t *w)
{
    size_t       i;
    json_t      *e;
    const char  *group, *type;

    group = json_string_value(json_object_get(w, "group_name"));

    /* the names are the user's own text: quoted, as data */
    ttai_tt_buf_data(b, json_string_value(json_object_get(w, "name")));

    if (group != NULL) {
        ttai_tt_buf_printf(b, " (group ");
        ttai_tt_buf_data(b, group);
        ttai_tt_buf_printf(b, ")");
    }

    ttai_tt_buf_printf(b, ":");

    json_array_foreach(json_object_get(w, "symbols"), i, e) {
        type = json_string_value(json_object_get(e, "instrument_type"));

        ttai_tt_buf_printf(b, "%s %s", i ? "," : "",
                           json_string_value(json_object_get(e, "symbol")));

        /* equities are the rule: name only the others */
        if (type != NULL && strcmp(type, "Equity") != 0) {
            ttai_tt_buf_printf(b, " (%s)", type);
        }
    }

    if (json_array_size(json_object_get(w, "symbols")) == 0) {
        ttai_tt_buf_printf(b, " (empty)");
    }

    ttai_tt_buf_printf(b, "\n");
}
