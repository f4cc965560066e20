
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_tt.h"
#include "ttai_worker.h"
#include "ttai_tool_order.h"
#include "ttai_tool_trade.h"


/*
 * create_watchlist, update_watchlist and delete_watchlist: the user's
 * watchlists changed at TastyTrade, a write like any other, so through
 * the one confirmation path (ttai_tool_trade.h): asked, or confirmed by
 * a token the first call gives, taken once, audited.  Their own steps:
 *
 *   current  the watchlist as it is (update and delete), for the
 *            question
 *   send     POST /watchlists, PUT or DELETE /watchlists/{name}
 *   lookup   after a lost answer, or a confirmation used before: the
 *            watchlist again, which says whether the change is there
 */

typedef enum {
    TTAI_TOOL_WL_CREATE = 0,
    TTAI_TOOL_WL_UPDATE,
    TTAI_TOOL_WL_DELETE
} ttai_tool_wl_e;


static int ttai_tool_wl_run(ttai_tool_wl_e op, ttai_tool_ctx_t *ctx,
    json_t *args, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_wl_resume(ttai_tool_wl_e op, ttai_tool_ctx_t *ctx,
    json_t *args, const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_wl_granted(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_wl_current(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_wl_ask(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *current, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_wl_send(ttai_tool_ctx_t *ctx, json_t *args,
    ttai_mcp_pending_t **pending);
static int ttai_tool_wl_sent(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_wl_lookup(ttai_tool_ctx_t *ctx,
    ttai_mcp_pending_t **pending);
static int ttai_tool_wl_found(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_wl_get(ttai_tool_ctx_t *ctx, const char *step,
    ttai_mcp_pending_t **pending);
static ttai_tool_wl_e ttai_tool_wl_op(ttai_tool_ctx_t *ctx);
static char *ttai_tool_wl_path(ttai_tool_ctx_t *ctx);
static json_t *ttai_tool_wl_body(json_t *canonical);
static int ttai_tool_wl_same(json_t *canonical, json_t *list);
static void ttai_tool_wl_entries(ttai_tt_buf_t *b, json_t *entries,
    const char *symbol_key, const char *type_key);
static json_t *ttai_tool_wl_done(ttai_tool_ctx_t *ctx, const char *how);

static int ttai_tool_wl_create_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_wl_update_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_wl_delete_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_wl_create_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_wl_update_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_wl_delete_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_wl_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);


static const char  *ttai_tool_wl_names[] = {
    "create_watchlist", "update_watchlist", "delete_watchlist"
};

static const ttai_tool_trade_step_t  ttai_tool_wl_steps[] = {
    { "current", ttai_tool_wl_current },
    { NULL, NULL }
};

static const ttai_tool_trade_t  ttai_tool_wl_trades[] = {
    { "create_watchlist", NULL, ttai_tool_wl_granted, ttai_tool_wl_send,
      ttai_tool_wl_sent, ttai_tool_wl_lookup, ttai_tool_wl_found,
      ttai_tool_wl_steps },
    { "update_watchlist", NULL, ttai_tool_wl_granted, ttai_tool_wl_send,
      ttai_tool_wl_sent, ttai_tool_wl_lookup, ttai_tool_wl_found,
      ttai_tool_wl_steps },
    { "delete_watchlist", NULL, ttai_tool_wl_granted, ttai_tool_wl_send,
      ttai_tool_wl_sent, ttai_tool_wl_lookup, ttai_tool_wl_found,
      ttai_tool_wl_steps }
};


const ttai_tool_impl_t  ttai_tool_create_watchlist = {
    "create_watchlist", ttai_tool_wl_create_run, ttai_tool_wl_create_resume,
    0, ttai_tool_wl_input
};

const ttai_tool_impl_t  ttai_tool_update_watchlist = {
    "update_watchlist", ttai_tool_wl_update_run, ttai_tool_wl_update_resume,
    0, ttai_tool_wl_input
};

const ttai_tool_impl_t  ttai_tool_delete_watchlist = {
    "delete_watchlist", ttai_tool_wl_delete_run, ttai_tool_wl_delete_resume,
    0, ttai_tool_wl_input
};


static int
ttai_tool_wl_create_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_wl_run(TTAI_TOOL_WL_CREATE, ctx, args, result, pending);
}


static int
ttai_tool_wl_update_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_wl_run(TTAI_TOOL_WL_UPDATE, ctx, args, result, pending);
}


static int
ttai_tool_wl_delete_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_wl_run(TTAI_TOOL_WL_DELETE, ctx, args, result, pending);
}


static int
ttai_tool_wl_create_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_wl_resume(TTAI_TOOL_WL_CREATE, ctx, args, resp, result,
                               pending);
}


static int
ttai_tool_wl_update_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_wl_resume(TTAI_TOOL_WL_UPDATE, ctx, args, resp, result,
                               pending);
}


static int
ttai_tool_wl_delete_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_wl_resume(TTAI_TOOL_WL_DELETE, ctx, args, resp, result,
                               pending);
}


static int
ttai_tool_wl_input(ttai_tool_ctx_t *ctx, json_t *args, json_t *responses,
    json_t **result, ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_input(&ttai_tool_wl_trades[ttai_tool_wl_op(ctx)],
                                 ctx, args, responses, result, pending);
}


/*
 * What the confirmation binds: the operation, the list's name, and for
 * a create or an update its group and its symbols, normalized, in order
 */

static int
ttai_tool_wl_run(ttai_tool_wl_e op, ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    char         symbol[TTAI_WORKER_SYMBOL_LEN + 1];
    size_t       i;
    json_t      *canonical, *list, *e, *entry;
    const char  *s, *type, *name;

    if (!ttai_tool_order_tradable(ctx)) {
        *result = ttai_tool_error_result("Tool %s: changes to the account "
                                         "are not allowed here.  Nothing "
                                         "was changed.",
                                         ttai_tool_wl_names[op]);
        return *result ? 0 : -1;
    }

    name = json_string_value(json_object_get(args, "name"));

    canonical = json_pack("{s:s, s:s}", "tool", ttai_tool_wl_names[op],
                          "name", name);
    if (canonical == NULL) {
        return -1;
    }

    if (op != TTAI_TOOL_WL_DELETE) {
        list = json_array();

        if (list == NULL
            || json_object_set_new(canonical, "symbols", list) != 0
            || json_object_set(canonical, "group",
                               json_object_get(args, "group_name")
                               ? json_object_get(args, "group_name")
                               : json_null()) != 0)
        {
            json_decref(canonical);
            return -1;
        }

        json_array_foreach(json_object_get(args, "symbols"), i, e) {
            s = json_string_value(json_object_get(e, "symbol"));
            type = json_string_value(json_object_get(e, "instrument_type"));

            if (s == NULL || ttai_worker_symbol(s, strlen(s), symbol) != 0)
            {
                json_decref(canonical);
                *result = ttai_tool_error_result("Invalid symbols for %s: "
                                                 "symbols[%zu] is not a "
                                                 "symbol.  Nothing was "
                                                 "changed.",
                                                 ttai_tool_wl_names[op], i);
                return *result ? 0 : -1;
            }

            entry = json_pack("{s:s, s:s}", "symbol", symbol, "type",
                              type ? type : "Equity");

            if (entry == NULL || json_array_append_new(list, entry) != 0) {
                json_decref(canonical);
                return -1;
            }
        }
    }

    return ttai_tool_trade_begin(&ttai_tool_wl_trades[op], ctx, canonical,
                                 pending);
}


static int
ttai_tool_wl_resume(ttai_tool_wl_e op, ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tool_trade_resume(&ttai_tool_wl_trades[op], ctx, args, resp,
                                  result, pending);
}


static int
ttai_tool_wl_granted(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    if (ttai_tool_wl_op(ctx) == TTAI_TOOL_WL_CREATE) {
        return ttai_tool_wl_ask(ctx, args, NULL, result, pending);
    }

    return ttai_tool_wl_get(ctx, "current", pending);
}


/* the list as it is: what the user is shown it becomes */

static int
ttai_tool_wl_current(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int      rc;
    char    *why;
    json_t  *data, *error;

    data = ttai_tt_data(ttai_tool_trade_state(ctx, "tool"), resp, &error);

    if (data == NULL) {
        if (error == NULL) {
            return -1;
        }

        why = ttai_tt_sprintf("the watchlist could not be read: %s",
                              ttai_tool_trade_text(error));
        json_decref(error);

        rc = why ? ttai_tool_trade_refuse(ctx, why, pending) : -1;
        free(why);

        return rc;
    }

    rc = ttai_tool_wl_ask(ctx, args, data, result, pending);
    json_decref(data);

    return rc;
}


static int
ttai_tool_wl_ask(ttai_tool_ctx_t *ctx, json_t *args, json_t *current,
    json_t **result, ttai_mcp_pending_t **pending)
{
    int              rc;
    json_t          *canonical;
    ttai_tool_wl_e   op;
    ttai_tt_buf_t    b;

    op = ttai_tool_wl_op(ctx);
    canonical = json_object_get(ctx->state, "canonical");

    memset(&b, 0, sizeof(b));

    ttai_tt_buf_printf(&b, "%s the watchlist ",
                       op == TTAI_TOOL_WL_CREATE ? "Create"
                       : op == TTAI_TOOL_WL_UPDATE ? "Change" : "Delete");
    ttai_tt_buf_data(&b, json_string_value(json_object_get(canonical,
                                                           "name")));

    if (current != NULL) {
        ttai_tt_buf_printf(&b, " (now:");
        ttai_tool_wl_entries(&b, json_object_get(current,
                                                 "watchlist-entries"),
                             "symbol", "instrument-type");
        ttai_tt_buf_printf(&b, ")");
    }

    if (op != TTAI_TOOL_WL_DELETE) {
        ttai_tt_buf_printf(&b, " to hold:");
        ttai_tool_wl_entries(&b, json_object_get(canonical, "symbols"),
                             "symbol", "type");
    }

    ttai_tt_buf_printf(&b, "?");

    if (b.failed) {
        free(b.data);
        return -1;
    }

    rc = ttai_tool_trade_confirm(&ttai_tool_wl_trades[op], ctx, args, b.data,
                                 NULL, result, pending);
    free(b.data);

    return rc;
}


static int
ttai_tool_wl_send(ttai_tool_ctx_t *ctx, json_t *args,
    ttai_mcp_pending_t **pending)
{
    char            *path, *text;
    json_t          *body;
    ttai_tool_wl_e   op;

    op = ttai_tool_wl_op(ctx);

    path = (op == TTAI_TOOL_WL_CREATE) ? strdup("/watchlists")
                                       : ttai_tool_wl_path(ctx);

    body = (op == TTAI_TOOL_WL_DELETE)
           ? NULL
           : ttai_tool_wl_body(json_object_get(ctx->state, "canonical"));
    text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);

    if (path == NULL || (op != TTAI_TOOL_WL_DELETE && text == NULL)
        || ttai_tool_trade_step(ctx, "send") != 0)
    {
        free(path);
        free(text);
        return -1;
    }

    *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE,
                                     op == TTAI_TOOL_WL_CREATE ? "POST"
                                     : op == TTAI_TOOL_WL_UPDATE ? "PUT"
                                     : "DELETE",
                                     path, text, NULL, 0);
    free(path);
    free(text);

    /* what it sent may have arrived: its failure is the tool's to see */
    if (*pending != NULL) {
        (*pending)->failures = 1;
    }

    return *pending ? 0 : -1;
}


static int
ttai_tool_wl_sent(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_t  *answer;

    if (resp->status < 200 || resp->status > 299) {
        answer = ttai_tt_error_result(ttai_tool_trade_state(ctx, "tool"),
                                      resp->status, resp->body, resp->len);
        if (answer == NULL) {
            return -1;
        }

        return ttai_tool_trade_finish(ctx, "rejected",
                                      ttai_tool_trade_text(answer), resp,
                                      NULL, answer, pending);
    }

    answer = ttai_tool_wl_done(ctx, "done");
    if (answer == NULL) {
        return -1;
    }

    return ttai_tool_trade_finish(ctx, "sent", NULL, resp, NULL, answer,
                                  pending);
}


static int
ttai_tool_wl_lookup(ttai_tool_ctx_t *ctx, ttai_mcp_pending_t **pending)
{
    return ttai_tool_wl_get(ctx, "lookup", pending);
}


/* the list again: whether the change is there says what happened */

static int
ttai_tool_wl_found(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int              there;
    json_t          *data, *error, *answer;
    const char      *lost;
    ttai_tool_wl_e   op;

    op = ttai_tool_wl_op(ctx);
    lost = ttai_tool_trade_state(ctx, "lost");

    data = ttai_tt_data(NULL, resp, &error);
    json_decref(error);

    if (resp->status == 0) {
        json_decref(data);
        return ttai_tool_trade_finish(ctx, "unknown",
                                      "the change may or may not have been "
                                      "made, and the watchlist could not "
                                      "be read: check get_watchlists; ttai "
                                      "will not send it again",
                                      NULL, NULL, NULL, pending);
    }

    there = (op == TTAI_TOOL_WL_DELETE)
            ? (resp->status == 404)
            : (data != NULL
               && ttai_tool_wl_same(json_object_get(ctx->state,
                                                    "canonical"), data));
    json_decref(data);

    if (!there) {
        return ttai_tool_trade_finish(ctx, lost ? "unknown" : "refused",
                                      lost ? "the change was sent, but its "
                                             "answer was lost and it is not "
                                             "to be seen: check "
                                             "get_watchlists; ttai will not "
                                             "send it again"
                                           : "this confirmation was used "
                                             "already; each changes the "
                                             "watchlist once",
                                      NULL, NULL, NULL, pending);
    }

    answer = ttai_tool_wl_done(ctx,
                               lost ? "done (the answer was lost; ttai found "
                                      "the change made and did not send it "
                                      "again)"
                                    : "done already with this confirmation; "
                                      "nothing more was sent");
    if (answer == NULL) {
        return -1;
    }

    return ttai_tool_trade_finish(ctx, lost ? "sent" : "reused", lost, NULL,
                                  NULL, answer, pending);
}


static int
ttai_tool_wl_get(ttai_tool_ctx_t *ctx, const char *step,
    ttai_mcp_pending_t **pending)
{
    int    rc;
    char  *path;

    path = ttai_tool_wl_path(ctx);
    if (path == NULL) {
        return -1;
    }

    rc = ttai_tool_trade_get(ctx, step, NULL, path, pending);
    free(path);

    return rc;
}


static ttai_tool_wl_e
ttai_tool_wl_op(ttai_tool_ctx_t *ctx)
{
    const char  *tool;

    tool = ttai_tool_trade_state(ctx, "tool");

    if (tool != NULL && strcmp(tool, "update_watchlist") == 0) {
        return TTAI_TOOL_WL_UPDATE;
    }

    if (tool != NULL && strcmp(tool, "delete_watchlist") == 0) {
        return TTAI_TOOL_WL_DELETE;
    }

    return TTAI_TOOL_WL_CREATE;
}


static char *
ttai_tool_wl_path(ttai_tool_ctx_t *ctx)
{
    char  *esc, *path;

    esc = ttai_tt_escape(json_string_value(json_object_get(
              json_object_get(ctx->state, "canonical"), "name")));
    path = esc ? ttai_tt_sprintf("/watchlists/%s", esc) : NULL;
    free(esc);

    return path;
}


/* the watchlist as TastyTrade reads it */

static json_t *
ttai_tool_wl_body(json_t *canonical)
{
    size_t   i;
    json_t  *body, *entries, *e, *entry;

    entries = json_array();
    body = json_pack("{s:O, s:o}", "name", json_object_get(canonical, "name"),
                     "watchlist-entries", entries);
    if (body == NULL) {
        return NULL;
    }

    if (json_is_string(json_object_get(canonical, "group"))
        && json_object_set(body, "group-name",
                           json_object_get(canonical, "group")) != 0)
    {
        json_decref(body);
        return NULL;
    }

    json_array_foreach(json_object_get(canonical, "symbols"), i, e) {
        entry = json_pack("{s:O, s:O}", "symbol", json_object_get(e, "symbol"),
                          "instrument-type", json_object_get(e, "type"));

        if (entry == NULL || json_array_append_new(entries, entry) != 0) {
            json_decref(body);
            return NULL;
        }
    }

    return body;
}


/* 1 when the list TastyTrade has holds the symbols asked for, in order */

static int
ttai_tool_wl_same(json_t *canonical, json_t *list)
{
    size_t   i;
    json_t  *want, *got, *e;

    want = json_object_get(canonical, "symbols");
    got = json_object_get(list, "watchlist-entries");

    if (json_array_size(want) != json_array_size(got)) {
        return 0;
    }

    json_array_foreach(want, i, e) {
        if (!json_equal(json_object_get(e, "symbol"),
                        json_object_get(json_array_get(got, i), "symbol")))
        {
            return 0;
        }
    }

    return 1;
}


static void
ttai_tool_wl_entries(ttai_tt_buf_t *b, json_t *entries,
    const char *symbol_key, const char *type_key)
{
    size_t       i;
    json_t      *e;
    const char  *type;

    json_array_foreach(entries, i, e) {
        type = json_string_value(json_object_get(e, type_key));

        ttai_tt_buf_printf(b, "%s %s", i ? "," : "",
                           json_string_value(json_object_get(e,
                                                             symbol_key)));

        if (type != NULL && strcmp(type, "Equity") != 0) {
            ttai_tt_buf_printf(b, " (%s)", type);
        }
    }

    if (json_array_size(entries) == 0) {
        ttai_tt_buf_printf(b, " nothing");
    }
}


static json_t *
ttai_tool_wl_done(ttai_tool_ctx_t *ctx, const char *how)
{
    json_t          *canonical, *out;
    ttai_tool_wl_e   op;
    ttai_tt_buf_t    b;

    op = ttai_tool_wl_op(ctx);
    canonical = json_object_get(ctx->state, "canonical");

    out = json_pack("{s:s, s:O, s:O*}", "change",
                    op == TTAI_TOOL_WL_CREATE ? "created"
                    : op == TTAI_TOOL_WL_UPDATE ? "updated" : "deleted",
                    "name", json_object_get(canonical, "name"),
                    "symbols", json_object_get(canonical, "symbols"));
    if (out == NULL) {
        return NULL;
    }

    memset(&b, 0, sizeof(b));
    ttai_tt_buf_printf(&b, "The watchlist ");
    ttai_tt_buf_data(&b, json_string_value(json_object_get(canonical,
                                                           "name")));
    ttai_tt_buf_printf(&b, " was %s: %s.",
                       op == TTAI_TOOL_WL_CREATE ? "created"
                       : op == TTAI_TOOL_WL_UPDATE ? "changed" : "deleted",
                       how);

    return ttai_tt_buf_result(&b, out);
}
