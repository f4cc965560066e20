
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ttai_tt.h"
#include "ttai_tt_map.h"


/*
 * get_transactions: an account's history (trades, money movements,
 * deliveries), newest first, one page of 50 at a time.  Not cached: each
 * call names its own window and page, and history is read rarely.
 */

#define TTAI_TOOL_TX_PER_PAGE  50
#define TTAI_TOOL_TX_DAYS      30


static int ttai_tool_tx_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_tx_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_tx_fetch(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending);
static json_t *ttai_tool_tx_one(json_t *tx);
static json_t *ttai_tool_tx_fees(json_t *tx);
static json_t *ttai_tool_tx_paging(json_t *body, json_t *args, size_t n);
static void ttai_tool_tx_paging_text(ttai_tt_buf_t *b, json_t *out,
    size_t n);
static void ttai_tool_tx_line(ttai_tt_buf_t *b, json_t *t);
static long ttai_tool_tx_arg(json_t *args, const char *name, long dflt);


/* a transaction; then its fees, summed */
static const ttai_tt_field_t  ttai_tool_tx_fields[] = {
    ttai_tt_field("id", "id", TTAI_TT_ID),
    ttai_tt_field("executed-at", "executed_at", TTAI_TT_STRING),
    ttai_tt_field("transaction-date", "transaction_date", TTAI_TT_STRING),
    ttai_tt_field("transaction-type", "type", TTAI_TT_STRING),
    ttai_tt_field("transaction-sub-type", "sub_type", TTAI_TT_STRING),
    ttai_tt_field("action", "action", TTAI_TT_STRING),
    ttai_tt_field("symbol", "symbol", TTAI_TT_STRING),
    ttai_tt_field("underlying-symbol", "underlying", TTAI_TT_STRING),
    ttai_tt_field("instrument-type", "instrument_type", TTAI_TT_STRING),
    ttai_tt_field("description", "description", TTAI_TT_STRING),
    ttai_tt_field("quantity", "quantity", TTAI_TT_NUMBER),
    ttai_tt_field("price", "price", TTAI_TT_NUMBER),
    ttai_tt_field("value", "value", TTAI_TT_SIGNED),
    ttai_tt_field("net-value", "net_value", TTAI_TT_SIGNED),
    ttai_tt_null_field
};

/* what a transaction costs besides its value */
static const char  *ttai_tool_tx_fee_keys[] = {
    "commission", "clearing-fees", "regulatory-fees",
    "proprietary-index-option-fees", NULL
};


const ttai_tool_impl_t  ttai_tool_get_transactions = {
    "get_transactions",
    ttai_tool_tx_run,
    ttai_tool_tx_resume,
    0,
    NULL
};


static int
ttai_tool_tx_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_tt_account_run(ctx, args, ttai_tool_tx_fetch, result,
                               pending);
}


/*
 * start-date is a UTC date: at worst it reaches a few hours further back
 * than New York's, which only adds to the window
 */

static int
ttai_tool_tx_fetch(ttai_tool_ctx_t *ctx, json_t *args, const char *account,
    json_t **result, ttai_mcp_pending_t **pending)
{
    int          rc;
    char         date[16], *type, *rest;
    long         days, page;
    const char  *t;

    days = ttai_tool_tx_arg(args, "days", TTAI_TOOL_TX_DAYS);
    page = ttai_tool_tx_arg(args, "page", 0);
    t = json_string_value(json_object_get(args, "type"));

    ttai_tt_date_back(date, sizeof(date), time(NULL), (int) days);

    if (json_object_set_new(ctx->state, "start_date", json_string(date))
        != 0)
    {
        return -1;
    }

    type = NULL;

    if (t != NULL) {
        type = ttai_tt_escape(t);
        if (type == NULL) {
            return -1;
        }
    }

    rest = ttai_tt_sprintf("/transactions?start-date=%s&per-page=%d"
                           "&page-offset=%ld%s%s&sort=Desc", date,
                           TTAI_TOOL_TX_PER_PAGE, page,
                           type ? "&type=" : "", type ? type : "");
    free(type);

    if (rest == NULL) {
        return -1;
    }

    *pending = ttai_tt_account_request(ctx, "GET", account, rest, NULL,
                                       NULL, NULL, 0);
    free(rest);

    rc = *pending ? 0 : -1;

    return rc;
}


static int
ttai_tool_tx_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int             rc;
    size_t          i, n;
    json_t         *body, *items, *tx, *list, *t, *out, *paging;
    const char     *type;
    ttai_tt_buf_t   b;

    rc = ttai_tt_account_step(ctx, args, resp, ttai_tool_tx_fetch, result,
                              pending);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }

    body = ttai_tt_envelope("get_transactions", resp, result);
    if (body == NULL) {
        return *result ? 0 : -1;
    }

    items = json_object_get(json_object_get(body, "data"), "items");

    if (!json_is_array(items)) {
        json_decref(body);
        *result = ttai_tool_error_result("Tool get_transactions failed: "
                                         "TastyTrade sent a transactions "
                                         "list without items.  Try "
                                         "again.");
        return *result ? 0 : -1;
    }

    list = json_array();
    out = json_object();
    rc = (list && out) ? 0 : -1;
    n = 0;

    json_array_foreach(items, i, tx) {
        /* a page is at most per-page long, but TastyTrade decides */
        if (rc != 0 || n == TTAI_TOOL_TX_PER_PAGE) {
            break;
        }

        t = ttai_tool_tx_one(tx);

        if (t == NULL || json_array_append_new(list, t) != 0) {
            rc = -1;
            break;
        }

        n++;
    }

    paging = ttai_tool_tx_paging(body, args, n);
    json_decref(body);

    type = json_string_value(json_object_get(args, "type"));

    rc = ttai_tt_set(rc, out, "account_number",
                     json_string(ttai_tt_account(ctx)));
    rc = ttai_tt_set(rc, out, "start_date",
                     json_incref(json_object_get(ctx->state,
                                                 "start_date")));
    rc = ttai_tt_set(rc, out, "type", type ? json_string(type)
                                           : json_null());

    if (rc == 0 && paging != NULL && json_object_update(out, paging) != 0) {
        rc = -1;
    }

    rc = ttai_tt_set(rc, out, "transactions", json_incref(list));

    if (rc != 0 || paging == NULL) {
        json_decref(paging);
        json_decref(list);
        json_decref(out);
        return -1;
    }

    json_decref(paging);

    memset(&b, 0, sizeof(b));

    ttai_tt_buf_printf(&b, "Transactions of account %s since %s%s%s, "
                       "newest first", ttai_tt_account(ctx),
                       json_string_value(json_object_get(out,
                                                         "start_date")),
                       type ? ", type " : "", type ? type : "");

    ttai_tool_tx_paging_text(&b, out, n);

    json_array_foreach(list, i, t) {
        ttai_tool_tx_line(&b, t);
    }

    if (json_is_integer(json_object_get(out, "next_page"))) {
        ttai_tt_buf_printf(&b, "There are older ones: call "
                           "get_transactions with page=%" JSON_INTEGER_FORMAT
                           " and the same days and type.\n",
                           json_integer_value(json_object_get(out,
                                                              "next_page")));
    }

    json_decref(list);

    *result = ttai_tt_buf_result(&b, out);

    return *result ? 0 : -1;
}


static json_t *
ttai_tool_tx_one(json_t *tx)
{
    json_t  *t;

    t = ttai_tt_mapped(tx, ttai_tool_tx_fields);

    if (t != NULL && ttai_tt_set(0, t, "fees", ttai_tool_tx_fees(tx)) != 0) {
        json_decref(t);
        return NULL;
    }

    return t;
}


/* the signed sum of the fees TastyTrade names; null when it names none */

static json_t *
ttai_tool_tx_fees(json_t *tx)
{
    int      any;
    double   sum;
    size_t   i;
    json_t  *f;

    any = 0;
    sum = 0;

    for (i = 0; ttai_tool_tx_fee_keys[i] != NULL; i++) {
        f = ttai_tt_signed(tx, ttai_tool_tx_fee_keys[i]);

        if (f == NULL) {
            return NULL;
        }

        if (json_is_real(f)) {
            any = 1;
            sum += json_real_value(f);
        }

        json_decref(f);
    }

    if (!any) {
        return json_null();
    }

    /* 0.1 + 1.0 + 0.02 in binary: round to what TastyTrade writes */
    sum = (double) (long long) (sum * 1e8 + (sum < 0 ? -0.5 : 0.5)) / 1e8;

    return json_real(sum == 0 ? 0 : sum);
}


/*
 * page, pages, total and next_page, from TastyTrade's pagination; without
 * one, a full page suggests there is another
 */

static json_t *
ttai_tool_tx_paging(json_t *body, json_t *args, size_t n)
{
    json_t      *pg, *pages, *total, *offset;
    json_int_t   page, next;

    pg = json_object_get(body, "pagination");
    offset = json_object_get(pg, "page-offset");
    pages = json_object_get(pg, "total-pages");
    total = json_object_get(pg, "total-items");

    page = json_is_integer(offset)
           ? json_integer_value(offset)
           : (json_int_t) ttai_tool_tx_arg(args, "page", 0);

    if (json_is_integer(pages)) {
        next = (page + 1 < json_integer_value(pages)) ? page + 1 : -1;

    } else {
        pages = NULL;
        next = (n == TTAI_TOOL_TX_PER_PAGE) ? page + 1 : -1;
    }

    return json_pack("{s:I, s:O?, s:O?, s:o}",
                     "page", page,
                     "pages", pages,
                     "total", json_is_integer(total) ? total : NULL,
                     "next_page", next >= 0 ? json_integer(next)
                                            : json_null());
}


/*
 * ": 120 in all on 3 pages; this is page 1 (pages count from 0).", or,
 * past the end, that there is no such page
 */

static void
ttai_tool_tx_paging_text(ttai_tt_buf_t *b, json_t *out, size_t n)
{
    json_t      *total, *pages;
    json_int_t   page;

    total = json_object_get(out, "total");
    pages = json_object_get(out, "pages");
    page = json_integer_value(json_object_get(out, "page"));

    if (json_is_integer(total)) {
        ttai_tt_buf_printf(b, ": %" JSON_INTEGER_FORMAT " in all",
                           json_integer_value(total));
    }

    if (json_is_integer(pages)) {
        ttai_tt_buf_printf(b, "%s%" JSON_INTEGER_FORMAT " page%s",
                           json_is_integer(total) ? " on " : ": ",
                           json_integer_value(pages),
                           json_integer_value(pages) == 1 ? "" : "s");

        if (n == 0 && page > 0 && page >= json_integer_value(pages)) {
            ttai_tt_buf_printf(b, "; there is no page %" JSON_INTEGER_FORMAT
                               " (pages count from 0).\n", page);
            return;
        }
    }

    ttai_tt_buf_printf(b, "%sthis is page %" JSON_INTEGER_FORMAT
                       " (pages count from 0).\n",
                       (json_is_integer(total) || json_is_integer(pages))
                       ? "; " : ": ", page);

    if (n == 0) {
        ttai_tt_buf_printf(b, "No transactions on this page.\n");
    }
}


/* 2026-06-05  Trade/Buy to Open  SMCI  260605C00045000  1 @ 0.75  ... */

static void
ttai_tool_tx_line(ttai_tt_buf_t *b, json_t *t)
{
    json_t      *q;
    const char  *date, *type, *sub, *symbol, *desc;

    date = json_string_value(json_object_get(t, "executed_at"));
    if (date == NULL) {
        date = json_string_value(json_object_get(t, "transaction_date"));
    }

    type = json_string_value(json_object_get(t, "type"));
    sub = json_string_value(json_object_get(t, "sub_type"));
    symbol = json_string_value(json_object_get(t, "symbol"));
    desc = json_string_value(json_object_get(t, "description"));
    q = json_object_get(t, "quantity");

    ttai_tt_buf_printf(b, "%.10s  %s%s%s", date ? date : "?",
                       type ? type : "?", sub ? "/" : "", sub ? sub : "");

    if (symbol != NULL) {
        ttai_tt_buf_printf(b, "  %s", symbol);
    }

    if (json_is_number(q)) {
        ttai_tt_buf_printf(b, "  ");
        ttai_tt_buf_number(b, q);
        ttai_tt_buf_printf(b, " @ ");
        ttai_tt_buf_number(b, json_object_get(t, "price"));
    }

    ttai_tt_buf_printf(b, "  net ");
    ttai_tt_buf_number(b, json_object_get(t, "net_value"));

    if (json_is_number(json_object_get(t, "fees"))) {
        ttai_tt_buf_printf(b, " (fees ");
        ttai_tt_buf_number(b, json_object_get(t, "fees"));
        ttai_tt_buf_printf(b, ")");
    }

    if (desc != NULL) {
        ttai_tt_buf_printf(b, "  %.120s", desc);
    }

    ttai_tt_buf_printf(b, "\n");
}


static long
ttai_tool_tx_arg(json_t *args, const char *name, long dflt)
{
    json_t  *v;

    v = json_object_get(args, name);

    return json_is_integer(v) ? (long) json_integer_value(v) : dflt;
}
