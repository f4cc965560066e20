
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_market.h"
#include "ttai_tools.h"
#include "ttai_tt.h"
#include "ttai_tt_map.h"


/*
 * get_market_sessions: whether the US stock market (TastyTrade's
 * "Equity" collection) and CME futures are open, and when they open
 * and close, from GET /market-time/sessions/current.  The array
 * parameter is instrument-collections[], sent encoded as the Python
 * SDK sends it.  Each item: instrument-collection, state (Open, Closed,
 * Pre-market, Extended), start-at, open-at, close-at, close-at-ext
 * (null while closed), and next-session and previous-session with a
 * session-date.  Cached as sessions:current for the metrics lifetime.
 */

#define TTAI_SESSIONS_PATH                                                    \
    "/market-time/sessions/current"                                           \
    "?instrument-collections%5B%5D=Equity"                                    \
    "&instrument-collections%5B%5D=CME"


static int ttai_tool_market_sessions_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_market_sessions_resume(ttai_tool_ctx_t *ctx,
    json_t *args, const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static void ttai_tool_market_sessions_text(ttai_market_text_t *t,
    json_t *s);


/* the next or the previous session */
static const ttai_tt_field_t  ttai_tool_market_sessions_other_fields[] = {
    ttai_tt_field("session-date", "date", TTAI_TT_STRING),
    ttai_tt_field("start-at", "start_at", TTAI_TT_STRING),
    ttai_tt_field("open-at", "open_at", TTAI_TT_STRING),
    ttai_tt_field("close-at", "close_at", TTAI_TT_STRING),
    ttai_tt_field("close-at-ext", "close_at_ext", TTAI_TT_STRING),
    ttai_tt_null_field
};

static const ttai_tt_field_t  ttai_tool_market_sessions_fields[] = {
    ttai_tt_field("instrument-collection", "collection", TTAI_TT_STRING),
    ttai_tt_field("state", "state", TTAI_TT_STRING),
    ttai_tt_field("start-at", "start_at", TTAI_TT_STRING),
    ttai_tt_field("open-at", "open_at", TTAI_TT_STRING),
    ttai_tt_field("close-at", "close_at", TTAI_TT_STRING),
    ttai_tt_field("close-at-ext", "close_at_ext", TTAI_TT_STRING),
    ttai_tt_nested("next-session", "next_session", TTAI_TT_OBJECT,
                   ttai_tool_market_sessions_other_fields, 0),
    ttai_tt_nested("previous-session", "previous_session", TTAI_TT_OBJECT,
                   ttai_tool_market_sessions_other_fields, 0),
    ttai_tt_null_field
};


const ttai_tool_impl_t  ttai_tool_get_market_sessions = {
    "get_market_sessions",
    ttai_tool_market_sessions_run,
    ttai_tool_market_sessions_resume,
    0,
    NULL
};


static int
ttai_tool_market_sessions_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET",
                                     TTAI_SESSIONS_PATH, NULL,
                                     "sessions:current", ctx->ttl->metrics);

    return *pending ? 0 : -1;
}


static int
ttai_tool_market_sessions_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    size_t               i;
    json_t              *data, *out, *list, *item, *s;
    ttai_market_text_t   t;

    data = ttai_tt_data("get_market_sessions", resp, result);
    if (data == NULL) {
        return *result ? 0 : -1;
    }

    out = json_pack("{s:[]}", "sessions");
    if (out == NULL) {
        json_decref(data);
        return -1;
    }

    list = json_object_get(out, "sessions");
    memset(&t, 0, sizeof(t));

    json_array_foreach(json_object_get(data, "items"), i, item) {
        if (!json_is_string(json_object_get(item, "instrument-collection"))) {
            continue;
        }

        s = ttai_tt_mapped(item, ttai_tool_market_sessions_fields);

        if (s == NULL || json_array_append_new(list, s) != 0) {
            free(t.data);
            json_decref(out);
            json_decref(data);
            return -1;
        }

        ttai_tool_market_sessions_text(&t, s);
    }

    json_decref(data);

    if (json_array_size(list) == 0) {
        ttai_market_printf(&t, "TastyTrade sent no market sessions.  Try "
                           "again shortly.\n");

    } else {
        ttai_market_printf(&t, "Times are UTC.\n");
    }

    *result = ttai_market_result(&t, out);

    return *result ? 0 : -1;
}


/* "Equity: Open now, 14:30 to 21:00 ...; next ...; previous ..." */

static void
ttai_tool_market_sessions_text(ttai_market_text_t *t, json_t *s)
{
    int          i;
    json_t      *o;
    const char  *state, *open, *close, *ext, *date;

    static const char  *which[] = { "next_session", "previous_session" };
    static const char  *name[] = { "Next", "Previous" };

    state = json_string_value(json_object_get(s, "state"));
    open = json_string_value(json_object_get(s, "open_at"));
    close = json_string_value(json_object_get(s, "close_at"));
    ext = json_string_value(json_object_get(s, "close_at_ext"));

    ttai_market_printf(t, "%s: %s.",
                       json_string_value(json_object_get(s, "collection")),
                       state ? state : "state unknown");

    if (open != NULL && close != NULL) {
        ttai_market_printf(t, "  This session: opens %s, closes %s", open,
                           close);

        if (ext != NULL) {
            ttai_market_printf(t, ", extended hours until %s", ext);
        }

        ttai_market_printf(t, ".");
    }

    for (i = 0; i < 2; i++) {
        o = json_object_get(s, which[i]);

        if (!json_is_object(o)) {
            continue;
        }

        date = json_string_value(json_object_get(o, "date"));
        open = json_string_value(json_object_get(o, "open_at"));
        close = json_string_value(json_object_get(o, "close_at"));
        ext = json_string_value(json_object_get(o, "close_at_ext"));

        ttai_market_printf(t, "  %s session %s: opens %s, closes %s", name[i],
                           date ? date : "?", open ? open : "?",
                           close ? close : "?");

        if (ext != NULL) {
            ttai_market_printf(t, ", extended hours until %s", ext);
        }

        ttai_market_printf(t, ".");
    }

    ttai_market_printf(t, "\n");
}
