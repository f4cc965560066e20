
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
static json_t *ttai_tool_market_sessions_one(json_t *item);
static json_t *ttai_tool_market_sessions_other(json_t *s);
static json_t *ttai_tool_market_sessions_string(json_t *o,
    const char *key);
static void ttai_tool_market_sessions_text(ttai_market_text_t *t,
    json_t *s);


static const char  ttai_tool_market_sessions_input[] =
    "{\"type\":\"object\",\"additionalProperties\":false}";

#define TTAI_SESSIONS_TIME  "{\"type\":[\"string\",\"null\"]," \
                            "\"description\":\"ISO 8601, UTC\"}"

#define TTAI_SESSIONS_OTHER                                                   \
    "{\"type\":[\"object\",\"null\"],"                                        \
     "\"properties\":{"                                                       \
       "\"date\":{\"type\":[\"string\",\"null\"]},"                           \
       "\"start_at\":" TTAI_SESSIONS_TIME ","                                 \
       "\"open_at\":" TTAI_SESSIONS_TIME ","                                  \
       "\"close_at\":" TTAI_SESSIONS_TIME ","                                 \
       "\"close_at_ext\":" TTAI_SESSIONS_TIME "}}"

static const char  ttai_tool_market_sessions_output[] =
    "{\"type\":\"object\","
    "\"properties\":{"
      "\"sessions\":{\"type\":\"array\","
        "\"items\":{\"type\":\"object\","
          "\"properties\":{"
            "\"collection\":{\"type\":\"string\","
              "\"description\":\"Equity: US stocks and options; CME: CME "
                "futures\"},"
            "\"state\":{\"type\":[\"string\",\"null\"],"
              "\"description\":\"Open, Closed, Pre-market or Extended\"},"
            "\"start_at\":" TTAI_SESSIONS_TIME ","
            "\"open_at\":" TTAI_SESSIONS_TIME ","
            "\"close_at\":" TTAI_SESSIONS_TIME ","
            "\"close_at_ext\":" TTAI_SESSIONS_TIME ","
            "\"next_session\":" TTAI_SESSIONS_OTHER ","
            "\"previous_session\":" TTAI_SESSIONS_OTHER "},"
          "\"required\":[\"collection\",\"state\",\"next_session\","
                        "\"previous_session\"]}}},"
    "\"required\":[\"sessions\"]}";


const ttai_tool_t  ttai_tool_get_market_sessions = {
    "get_market_sessions",
    "Market sessions",
    "Says whether the US stock and options market (Equity) and the CME "
    "futures market are open now (Open, Closed, Pre-market or "
    "Extended), and when the current, next and previous sessions open "
    "and close, extended hours included.  Times are ISO 8601 in UTC "
    "(the regular equity session is 09:30-16:00 New York time).  Takes "
    "no arguments; the answer is at most a minute old.",
    ttai_tool_market_sessions_input,
    ttai_tool_market_sessions_output,
    TTAI_TOOL_READ_ONLY | TTAI_TOOL_IDEMPOTENT | TTAI_TOOL_OPEN_WORLD,
    ttai_tool_market_sessions_run,
    ttai_tool_market_sessions_resume
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

        s = ttai_tool_market_sessions_one(item);

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


static json_t *
ttai_tool_market_sessions_one(json_t *item)
{
    json_t  *next, *prev;

    next = json_object_get(item, "next-session");
    prev = json_object_get(item, "previous-session");

#define ttai_str(key)  ttai_tool_market_sessions_string(item, key)

    return json_pack("{s:O, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "collection",
                     json_object_get(item, "instrument-collection"),
                     "state", ttai_str("state"),
                     "start_at", ttai_str("start-at"),
                     "open_at", ttai_str("open-at"),
                     "close_at", ttai_str("close-at"),
                     "close_at_ext", ttai_str("close-at-ext"),
                     "next_session",
                     ttai_tool_market_sessions_other(next),
                     "previous_session",
                     ttai_tool_market_sessions_other(prev));

#undef ttai_str
}


/* a next or previous session, or json null */

static json_t *
ttai_tool_market_sessions_other(json_t *s)
{
    if (!json_is_object(s)) {
        return json_null();
    }

#define ttai_str(key)  ttai_tool_market_sessions_string(s, key)

    return json_pack("{s:o, s:o, s:o, s:o, s:o}",
                     "date", ttai_str("session-date"),
                     "start_at", ttai_str("start-at"),
                     "open_at", ttai_str("open-at"),
                     "close_at", ttai_str("close-at"),
                     "close_at_ext", ttai_str("close-at-ext"));

#undef ttai_str
}


static json_t *
ttai_tool_market_sessions_string(json_t *o, const char *key)
{
    json_t  *v;

    v = json_object_get(o, key);

    return json_is_string(v) ? json_incref(v) : json_null();
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
