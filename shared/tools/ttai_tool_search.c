
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
static json_t *ttai_tool_search_item(json_t *item);
static json_t *ttai_tool_search_bool(json_t *item, const char *key);


static const char  ttai_tool_search_input[] =
    "{\"type\":\"object\","
    "\"properties\":{"
      "\"query\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64,"
        "\"description\":\"the start of a ticker (AAP) or of a company or "
          "fund name (Apple)\"}},"
    "\"required\":[\"query\"],"
    "\"additionalProperties\":false}";

static const char  ttai_tool_search_output[] =
    "{\"type\":\"object\","
    "\"properties\":{"
      "\"query\":{\"type\":\"string\"},"
      "\"results\":{\"type\":\"array\",\"maxItems\":20,"
        "\"items\":{\"type\":\"object\","
          "\"properties\":{"
            "\"symbol\":{\"type\":\"string\"},"
            "\"description\":{\"type\":[\"string\",\"null\"]},"
            "\"instrument_type\":{\"type\":[\"string\",\"null\"]},"
            "\"listed_market\":{\"type\":[\"string\",\"null\"]},"
            "\"options\":{\"type\":[\"boolean\",\"null\"],"
              "\"description\":\"options are listed on it\"},"
            "\"etf\":{\"type\":[\"boolean\",\"null\"]}},"
          "\"required\":[\"symbol\"]}},"
      "\"total\":{\"type\":\"integer\","
        "\"description\":\"matches TastyTrade found; at most 20 are "
          "listed\"}},"
    "\"required\":[\"query\",\"results\",\"total\"]}";


const ttai_tool_t  ttai_tool_search_symbols = {
    "search_symbols",
    "Search symbols",
    "Finds tradable symbols whose ticker or name starts with the query "
    "(\"AAP\", \"Apple\", \"S&P 500\"): up to 20 matches, each with its "
    "symbol, description, instrument type, listing market, whether "
    "options are listed on it, and whether it is an ETF.  Use it to find "
    "the right symbol before get_quotes, get_market_metrics or "
    "get_option_chain.  No match is an empty list, not an error.",
    ttai_tool_search_input,
    ttai_tool_search_output,
    TTAI_TOOL_READ_ONLY | TTAI_TOOL_IDEMPOTENT | TTAI_TOOL_OPEN_WORLD,
    ttai_tool_search_run,
    ttai_tool_search_resume
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

        r = ttai_tool_search_item(item);

        if (r == NULL || json_array_append_new(list, r) != 0) {
            free(t.data);
            json_decref(out);
            json_decref(data);
            return -1;
        }

        d = json_string_value(json_object_get(r, "description"));
        type = json_string_value(json_object_get(r, "instrument_type"));
        market = json_string_value(json_object_get(r, "listed_market"));

        ttai_market_printf(&t, "%s  %s  (%s%s%s%s%s)\n",
                           json_string_value(json_object_get(r, "symbol")),
                           d ? d : "", type ? type : "?",
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


static json_t *
ttai_tool_search_item(json_t *item)
{
    json_t  *v, *d, *type, *market;

    v = json_object_get(item, "description");
    d = json_is_string(v) ? json_incref(v) : json_null();

    v = json_object_get(item, "instrument-type");
    type = json_is_string(v) ? json_incref(v) : json_null();

    v = json_object_get(item, "listed-market");
    market = json_is_string(v) ? json_incref(v) : json_null();

    return json_pack("{s:O, s:o, s:o, s:o, s:o, s:o}",
                     "symbol", json_object_get(item, "symbol"),
                     "description", d,
                     "instrument_type", type,
                     "listed_market", market,
                     "options", ttai_tool_search_bool(item, "options"),
                     "etf", ttai_tool_search_bool(item, "etf"));
}


static json_t *
ttai_tool_search_bool(json_t *item, const char *key)
{
    json_t  *v;

    v = json_object_get(item, key);

    return json_is_boolean(v) ? json_incref(v) : json_null();
}
