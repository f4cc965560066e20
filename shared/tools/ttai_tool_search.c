
/*
 * Copyright (C) ttai contributors
 */


#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_market.h"
#include "ttai_tools.h"
#include "ttai_tt.h"
#include "ttai_tt_map.h"


/*
 * search_symbols: GET /symbols/search/<query>, the prefix search behind
 * TastyTrade's own symbol box.  It answers 404 when nothing matches
 * (the Python SDK reads any non-2xx as no match), which is an empty
 * list here, not an error.  Answers are cached as search:<query> for
 * the metrics lifetime: listings change seldom.
 */

#define TTAI_SEARCH_MAX      20
#define TTAI_SEARCH_QUERY    256     /* 64 characters of UTF-8 */


static int ttai_tool_search_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_search_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);


static const ttai_tt_field_t  ttai_tool_search_fields[] = {
    ttai_tt_field("symbol", "symbol", TTAI_TT_STRING),
    ttai_tt_field("description", "description", TTAI_TT_STRING),
    ttai_tt_field("instrument-type", "instrument_type", TTAI_TT_STRING),
    ttai_tt_field("listed-market", "listed_market", TTAI_TT_STRING),
    ttai_tt_field("options", "options", TTAI_TT_BOOLEAN),
    ttai_tt_field("etf", "etf", TTAI_TT_BOOLEAN),
    ttai_tt_null_field
};


const ttai_tool_impl_t  ttai_tool_search_symbols = {
    "search_symbols",
    ttai_tool_search_run,
    ttai_tool_search_resume,
    0,
    NULL
};


static int
ttai_tool_search_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         query[TTAI_SEARCH_QUERY + 1];
    char         key[sizeof("search:") + TTAI_SEARCH_QUERY];
    char        *e, *path;
    size_t       len;
    const char  *q;

    q = json_string_value(json_object_get(args, "query"));
    len = json_string_length(json_object_get(args, "query"));

    while (len > 0 && isspace((unsigned char) *q)) {
        q++;
        len--;
    }

    while (len > 0 && isspace((unsigned char) q[len - 1])) {
        len--;
    }

    if (len == 0 || len > TTAI_SEARCH_QUERY || memchr(q, '\0', len)) {
        *result = ttai_tool_error_result("Tool search_symbols: the query is "
                                         "empty.  Give the start of a "
                                         "ticker or of a name, such as AAP "
                                         "or Apple.");
        return *result ? 0 : -1;
    }

    memcpy(query, q, len);
    query[len] = '\0';

    if (json_object_set_new(ctx->state, "query", json_string(query)) != 0) {
        return -1;
    }

    e = ttai_tt_escape(query);
    if (e == NULL) {
        return -1;
    }

    path = malloc(sizeof("/symbols/search/") + strlen(e));
    if (path == NULL) {
        free(e);
        return -1;
    }

    sprintf(path, "/symbols/search/%s", e);
    free(e);

    snprintf(key, sizeof(key), "search:%s", query);

    *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET", path,
                                     NULL, key, ctx->ttl->metrics);
    free(path);

    return *pending ? 0 : -1;
}


static int
ttai_tool_search_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    size_t               i, total;
    json_t              *data, *items, *out, *list, *item, *r;
    const char          *query, *d, *type, *market;
    ttai_market_text_t   t;

    query = json_string_value(json_object_get(ctx->state, "query"));
    data = NULL;

    if (resp->status != 404) {
        data = ttai_tt_data("search_symbols", resp, result);
        if (data == NULL) {
            return *result ? 0 : -1;
        }
    }

    items = json_object_get(data, "items");

    out = json_pack("{s:s, s:[], s:i}", "query", query, "results", "total",
                    0);
    if (out == NULL) {
        json_decref(data);
        return -1;
    }

    list = json_object_get(out, "results");
    total = 0;

    memset(&t, 0, sizeof(t));

    json_array_foreach(items, i, item) {
        if (!json_is_string(json_object_get(item, "symbol"))) {
            continue;
        }

        total++;

        if (json_array_size(list) == TTAI_SEARCH_MAX) {
            continue;
        }

        r = ttai_tt_mapped(item, ttai_tool_search_fields);

        if (r == NULL || json_array_append_new(list, r) != 0) {
            free(t.data);
            json_decref(out);
            json_decref(data);
            return -1;
        }

        d = json_string_value(json_object_get(r, "description"));
        type = json_string_value(json_object_get(r, "instrument_type"));
        market = json_string_value(json_object_get(r, "listed_market"));

        /* the description is TastyTrade's text: quoted, as data */
        ttai_market_printf(&t, "%s  ",
                           json_string_value(json_object_get(r, "symbol")));
        if (d != NULL && d[0] != '\0') {
            ttai_market_data(&t, d);
        }

        ttai_market_printf(&t, "  (%s%s%s%s%s)\n", type ? type : "?",
                           market ? ", " : "", market ? market : "",
                           json_is_true(json_object_get(r, "etf"))
                           ? ", ETF" : "",
                           json_is_true(json_object_get(r, "options"))
                           ? ", options" : "");
    }

    json_decref(data);

    if (json_object_set_new(out, "total", json_integer((json_int_t) total))
        != 0)
    {
        free(t.data);
        json_decref(out);
        return -1;
    }

    if (total == 0) {
        ttai_market_printf(&t, "No symbol starts with \"%s\".  Try fewer "
                           "letters of the ticker (\"AAP\"), the first "
                           "word of the name (\"Apple\"), or the root of "
                           "a future with its slash (\"/ES\").\n", query);

    } else if (total > TTAI_SEARCH_MAX) {
        ttai_market_printf(&t, "%zu matches; the first %d are listed.  A "
                           "longer query narrows them.\n", total,
                           TTAI_SEARCH_MAX);
    }

    *result = ttai_market_result(&t, out);

    return *result ? 0 : -1;
}
