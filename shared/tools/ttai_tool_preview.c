
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_tt.h"
#include "ttai_tt_map.h"
#include "ttai_tool_order.h"


/*
 * preview_order: TastyTrade's dry run of an order, which checks it and
 * computes its effect on buying power and its fees without placing it.
 * ttai only ever posts to /orders/dry-run: it places no orders.  What
 * the schema cannot say (a Limit order needs a price, ...) is checked
 * here before anything is sent, so the model hears about it at once.
 */

#define TTAI_TOOL_PREVIEW_WARNINGS_MAX  10
#define TTAI_TOOL_PREVIEW_LEGS_MAX      4


static int ttai_tool_preview_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_preview_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_preview_fetch(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_preview_refuse(const char *tool, json_t **result,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static json_t *ttai_tool_preview_quantity(json_t *v);
static json_t *ttai_tool_preview_decimal(double d);
static json_t *ttai_tool_preview_rejected(json_t *error,
    const ttai_mcp_response_t *resp);
static json_t *ttai_tool_preview_shape(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *data);
static void ttai_tool_preview_amount(ttai_tt_buf_t *b, const char *label,
    json_t *obj, const char *key);


static const ttai_tt_field_t  ttai_tool_preview_bp_fields[] = {
    ttai_tt_field("change-in-buying-power", "change_in_buying_power",
                  TTAI_TT_SIGNED),
    ttai_tt_field("current-buying-power", "current_buying_power",
                  TTAI_TT_SIGNED),
    ttai_tt_field("new-buying-power", "new_buying_power", TTAI_TT_SIGNED),
    ttai_tt_field("isolated-order-margin-requirement",
                  "isolated_order_margin_requirement", TTAI_TT_SIGNED),
    ttai_tt_field("change-in-margin-requirement",
                  "change_in_margin_requirement", TTAI_TT_SIGNED),
    ttai_tt_field("is-spread", "is_spread", TTAI_TT_BOOLEAN),
    ttai_tt_null_field
};

static const ttai_tt_field_t  ttai_tool_preview_fee_fields[] = {
    ttai_tt_field("total-fees", "total_fees", TTAI_TT_SIGNED),
    ttai_tt_field("commission", "commission", TTAI_TT_SIGNED),
    ttai_tt_field("clearing-fees", "clearing_fees", TTAI_TT_SIGNED),
    ttai_tt_field("regulatory-fees", "regulatory_fees", TTAI_TT_SIGNED),
    ttai_tt_field("proprietary-index-option-fees",
                  "proprietary_index_option_fees", TTAI_TT_SIGNED),
    ttai_tt_null_field
};

static const ttai_tt_field_t  ttai_tool_preview_warning_fields[] = {
    ttai_tt_field("code", "code", TTAI_TT_STRING),
    ttai_tt_field("message", "message", TTAI_TT_STRING),
    ttai_tt_null_field
};

static const ttai_tt_field_t  ttai_tool_preview_leg_fields[] = {
    ttai_tt_field("symbol", "symbol", TTAI_TT_STRING),
    ttai_tt_field("instrument-type", "instrument_type", TTAI_TT_STRING),
    ttai_tt_field("action", "action", TTAI_TT_STRING),
    ttai_tt_field("quantity", "quantity", TTAI_TT_NUMBER),
    ttai_tt_null_field
};

/* the order as TastyTrade read it */
static const ttai_tt_field_t  ttai_tool_preview_order_fields[] = {
    ttai_tt_field("order-type", "order_type", TTAI_TT_STRING),
    ttai_tt_field("time-in-force", "time_in_force", TTAI_TT_STRING),
    ttai_tt_field("price", "price", TTAI_TT_SIGNED),
    ttai_tt_field("stop-trigger", "stop_trigger", TTAI_TT_NUMBER),
    ttai_tt_field("size", "size", TTAI_TT_NUMBER),
    ttai_tt_field("underlying-symbol", "underlying", TTAI_TT_STRING),
    ttai_tt_field("status", "status", TTAI_TT_STRING),
    ttai_tt_nested("legs", "legs", TTAI_TT_LIST,
                   ttai_tool_preview_leg_fields, TTAI_TOOL_PREVIEW_LEGS_MAX),
    ttai_tt_null_field
};

/* the dry run's data, after placed and account_number */
static const ttai_tt_field_t  ttai_tool_preview_fields[] = {
    ttai_tt_nested("buying-power-effect", "buying_power_effect",
                   TTAI_TT_GROUP, ttai_tool_preview_bp_fields, 0),
    ttai_tt_nested("fee-calculation", "fee_calculation", TTAI_TT_GROUP,
                   ttai_tool_preview_fee_fields, 0),
    ttai_tt_nested("warnings", "warnings", TTAI_TT_LIST,
                   ttai_tool_preview_warning_fields,
                   TTAI_TOOL_PREVIEW_WARNINGS_MAX),
    ttai_tt_nested("order", "order", TTAI_TT_GROUP,
                   ttai_tool_preview_order_fields, 0),
    ttai_tt_null_field
};


const ttai_tool_impl_t  ttai_tool_preview_order = {
    "preview_order",
    ttai_tool_preview_run,
    ttai_tool_preview_resume,
    0,
    NULL
};


static int
ttai_tool_preview_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    const char  *effect;

    /* a bad order costs no request, not even the accounts list */
    if (ttai_tool_order_check("preview_order", args, &effect, result) != 0) {
        return -1;
    }

    if (*result != NULL) {
        return 0;
    }

    if (json_object_set_new(ctx->state, "price_effect",
                            effect ? json_string(effect) : json_null())
        != 0)
    {
        return -1;
    }

    return ttai_tt_account_run(ctx, args, ttai_tool_preview_fetch, result,
                               pending);
}


static int
ttai_tool_preview_fetch(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, json_t **result, ttai_mcp_pending_t **pending)
{
    char        *text;
    json_t      *body;
    const char  *effect;

    effect = json_string_value(json_object_get(ctx->state, "price_effect"));

    body = ttai_tool_order_body(args, effect);
    if (body == NULL) {
        return -1;
    }

    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);

    if (text == NULL) {
        return -1;
    }

    *pending = ttai_tt_account_request(ctx, "POST", account,
                                       "/orders/dry-run", text, NULL, NULL,
                                       0);
    free(text);

    return *pending ? 0 : -1;
}


static int
ttai_tool_preview_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int      rc;
    json_t  *data;

    rc = ttai_tt_account_step(ctx, args, resp, ttai_tool_preview_fetch,
                              result, pending);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }

    data = ttai_tt_data("preview_order", resp, result);
    if (data == NULL) {
        if (*result == NULL) {
            return -1;
        }

        if (resp->status == 422) {
            *result = ttai_tool_preview_rejected(*result, resp);
        }

        return *result ? 0 : -1;
    }

    *result = ttai_tool_preview_shape(ctx, args, data);
    json_decref(data);

    return *result ? 0 : -1;
}


/*
 * A rejection over the buying power comes with the dry run's figures:
 * the model is told how far off the order is.  Takes the error result.
 */

static json_t *
ttai_tool_preview_rejected(json_t *error, const ttai_mcp_response_t *resp)
{
    json_t         *body, *bpe, *change, *current, *r;
    const char     *text;
    ttai_tt_buf_t   b;

    body = json_loadb(resp->body, resp->len, 0, NULL);
    bpe = json_object_get(json_object_get(body, "data"),
                          "buying-power-effect");

    change = ttai_tt_signed(bpe, "change-in-buying-power");
    current = ttai_tt_signed(bpe, "current-buying-power");
    json_decref(body);

    text = json_string_value(json_object_get(json_array_get(
               json_object_get(error, "content"), 0), "text"));

    if (!json_is_real(change) || !json_is_real(current) || text == NULL) {
        json_decref(change);
        json_decref(current);
        return error;
    }

    memset(&b, 0, sizeof(b));
    ttai_tt_buf_printf(&b, "%s  The dry run put the change in buying power "
                       "at ", text);
    ttai_tt_buf_number(&b, change);
    ttai_tt_buf_printf(&b, " USD, with ");
    ttai_tt_buf_number(&b, current);
    ttai_tt_buf_printf(&b, " USD available.");

    json_decref(change);
    json_decref(current);

    r = b.failed ? NULL : ttai_tool_error_result("%s", b.data);
    free(b.data);

    if (r == NULL) {
        return error;
    }

    json_decref(error);

    return r;
}


/*
 * What TastyTrade would refuse with a less helpful message, or what the
 * order needs that the schema cannot require.  Returns 0 with *result
 * NULL when the order is complete (*effect: the price effect, given or
 * inferred), 0 with an error result, or -1 when out of memory.
 */

int
ttai_tool_order_check(const char *tool, json_t *args, const char **effect,
    json_t **result)
{
    int          limit, stop, buys, sells;
    size_t       i;
    json_t      *leg, *price;
    const char  *type, *tif, *action;

    *result = NULL;
    *effect = json_string_value(json_object_get(args, "price_effect"));

    type = json_string_value(json_object_get(args, "order_type"));
    tif = json_string_value(json_object_get(args, "time_in_force"));
    price = json_object_get(args, "price");

    limit = (strstr(type, "Limit") != NULL);
    stop = (strncmp(type, "Stop", 4) == 0);

    if (limit && price == NULL) {
        return ttai_tool_preview_refuse(tool, result, "a %s order needs price, "
                   "the limit price per unit (positive, with price_effect "
                   "Debit or Credit).  Add it, or use order_type Market.",
                   type);
    }

    if (!limit && price != NULL) {
        return ttai_tool_preview_refuse(tool, result, "a %s order takes no "
                   "price.  Remove price, or use order_type Limit.", type);
    }

    if (stop != (json_object_get(args, "stop_price") != NULL)) {
        return ttai_tool_preview_refuse(tool, result, "stop_price, the price "
                   "that triggers the order, is for Stop and Stop Limit "
                   "orders only, and they need it.  Add or remove it, or "
                   "change order_type.");
    }

    if ((tif != NULL && strcmp(tif, "GTD") == 0)
        != (json_object_get(args, "gtc_date") != NULL))
    {
        return ttai_tool_preview_refuse(tool, result, "gtc_date (YYYY-MM-DD), "
                   "the order's last day, is for time_in_force GTD only, "
                   "and GTD needs it.  Add or remove it, or change "
                   "time_in_force.");
    }

    buys = 0;
    sells = 0;

    json_array_foreach(json_object_get(args, "legs"), i, leg) {
        if (json_number_value(json_object_get(leg, "quantity")) <= 0) {
            return ttai_tool_preview_refuse(tool, result, "legs[%zu].quantity "
                       "must be more than 0.", i);
        }

        action = json_string_value(json_object_get(leg, "action"));

        if (strncmp(action, "Buy", 3) == 0) {
            buys++;
        } else {
            sells++;
        }
    }

    if (price == NULL && *effect != NULL) {
        return ttai_tool_preview_refuse(tool, result, "price_effect goes "
                   "with a price, and a %s order has none.  Remove "
                   "price_effect.", type);
    }

    if (price != NULL && *effect == NULL) {
        if (buys > 0 && sells > 0) {
            return ttai_tool_preview_refuse(tool, result, "this order both "
                       "buys and sells, so it needs price_effect: Debit if "
                       "it pays the net price, Credit if it receives it.");
        }

        *effect = (sells == 0) ? "Debit" : "Credit";
    }

    return 0;
}


static int
ttai_tool_preview_refuse(const char *tool, json_t **result, const char *fmt,
    ...)
{
    char     text[1024];
    va_list  args;

    va_start(args, fmt);
    vsnprintf(text, sizeof(text), fmt, args);
    va_end(args);

    *result = ttai_tool_error_result("Invalid order for %s: %s  Correct it "
                                     "and call %s again.", tool, text, tool);

    return *result ? 0 : -1;
}


/* the order as TastyTrade reads it: dasherized, decimals as strings */

json_t *
ttai_tool_order_body(json_t *args, const char *effect)
{
    int          rc;
    size_t       i;
    json_t      *body, *legs, *leg, *l, *v;
    const char  *tif;

    body = json_object();
    legs = json_array();

    if (body == NULL || legs == NULL) {
        json_decref(body);
        json_decref(legs);
        return NULL;
    }

    tif = json_string_value(json_object_get(args, "time_in_force"));

    rc = ttai_tt_set(0, body, "time-in-force", json_string(tif ? tif
                                                               : "Day"));
    rc = ttai_tt_set(rc, body, "order-type",
                     json_incref(json_object_get(args, "order_type")));

    v = json_object_get(args, "gtc_date");
    if (v != NULL) {
        rc = ttai_tt_set(rc, body, "gtc-date", json_incref(v));
    }

    v = json_object_get(args, "price");
    if (v != NULL) {
        rc = ttai_tt_set(rc, body, "price",
                         ttai_tool_preview_decimal(json_number_value(v)));
        rc = ttai_tt_set(rc, body, "price-effect", json_string(effect));
    }

    v = json_object_get(args, "stop_price");
    if (v != NULL) {
        rc = ttai_tt_set(rc, body, "stop-trigger",
                         ttai_tool_preview_decimal(json_number_value(v)));
    }

    json_array_foreach(json_object_get(args, "legs"), i, leg) {
        v = json_object_get(leg, "quantity");

        l = json_pack("{s:O, s:O, s:o, s:O}",
                      "instrument-type",
                      json_object_get(leg, "instrument_type"),
                      "symbol", json_object_get(leg, "symbol"),
                      "quantity",
                      ttai_tool_preview_quantity(json_object_get(leg,
                                                                 "quantity")),
                      "action", json_object_get(leg, "action"));

        if (l == NULL || json_array_append_new(legs, l) != 0) {
            rc = -1;
            break;
        }
    }

    rc = ttai_tt_set(rc, body, "legs", legs);

    if (rc != 0) {
        json_decref(body);
        return NULL;
    }

    return body;
}


/* whole quantities as integers, as TastyTrade writes them */

static json_t *
ttai_tool_preview_quantity(json_t *v)
{
    double  d;

    d = json_number_value(v);

    if (json_is_integer(v)) {
        return json_incref(v);
    }

    /* no libm: a whole number survives the round trip through an int */
    if (d > -1e15 && d < 1e15 && (double) (json_int_t) d == d) {
        return json_integer((json_int_t) d);
    }

    return json_real(d);
}


/* 1.09 -> "1.09": TastyTrade's decimals are strings */

static json_t *
ttai_tool_preview_decimal(double d)
{
    char    buf[64];
    size_t  len;

    snprintf(buf, sizeof(buf), "%.6f", d);
    len = strlen(buf);

    while (len > 0 && buf[len - 1] == '0') {
        buf[--len] = '\0';
    }

    if (len > 0 && buf[len - 1] == '.') {
        buf[--len] = '\0';
    }

    return json_string(buf);
}


json_t *
ttai_tool_order_preview(const char *account, json_t *data)
{
    int      rc;
    json_t  *out;

    out = json_object();
    if (out == NULL) {
        return NULL;
    }

    rc = ttai_tt_set(0, out, "placed", json_false());
    rc = ttai_tt_set(rc, out, "account_number", json_string(account));

    if (rc != 0 || ttai_tt_map(out, data, ttai_tool_preview_fields) != 0) {
        json_decref(out);
        return NULL;
    }

    return out;
}


static json_t *
ttai_tool_preview_shape(ttai_tool_ctx_t *ctx, json_t *args, json_t *data)
{
    char            token[TTAI_ORDER_TOKEN_LEN];
    json_t         *out;
    time_t          now;
    ttai_tt_buf_t   b;

    out = ttai_tool_order_preview(ttai_tt_account(ctx), data);
    if (out == NULL) {
        return NULL;
    }

    memset(&b, 0, sizeof(b));
    ttai_tt_buf_printf(&b, "Preview only: nothing was placed.  Amounts in "
                       "USD, negative = debit.\n");
    ttai_tool_order_preview_text(&b, out);

    /*
     * Where this user may trade, the preview is also what a human
     * confirms: its token places exactly this order, once, soon
     */
    if (ttai_tool_order_tradable(ctx)) {
        now = ctx->call->now ? ctx->call->now : time(NULL);

        if (ttai_tool_order_token(ctx, args, ttai_tt_account(ctx), now,
                                  token)
            != 0)
        {
            free(b.data);
            json_decref(out);
            return NULL;
        }

        if (token[0] != '\0') {
            if (json_object_set_new(out, "confirmation_token",
                                    json_string(token)) != 0
                || json_object_set_new(out, "confirmation_expires_in",
                                       json_integer(
                                           ctx->call->trading->confirm_ttl))
                   != 0)
            {
                free(b.data);
                json_decref(out);
                return NULL;
            }

            ttai_tt_buf_printf(&b, "Show this preview to the user.  Only "
                               "if they say to place it: place_order with "
                               "these same arguments and confirmation_token "
                               "(valid %lds, once).\n",
                               ctx->call->trading->confirm_ttl);
        }
    }

    return ttai_tt_buf_result(&b, out);
}


void
ttai_tool_order_preview_text(ttai_tt_buf_t *b, json_t *out)
{
    size_t       i;
    json_t      *order, *bp, *fees, *leg, *w, *spread;
    const char  *s, *code, *msg;

    order = json_object_get(out, "order");
    bp = json_object_get(out, "buying_power_effect");
    fees = json_object_get(out, "fee_calculation");

    /* a complex order's dry run has no one order to show */
    if (json_is_string(json_object_get(order, "order_type"))) {
        s = json_string_value(json_object_get(order, "order_type"));
        ttai_tt_buf_printf(b, "Order for account %s: %s",
                           json_string_value(json_object_get(out,
                                                             "account_number")),
                           s ? s : "?");

        s = json_string_value(json_object_get(order, "time_in_force"));
        ttai_tt_buf_printf(b, " %s", s ? s : "?");

        if (json_is_number(json_object_get(order, "price"))) {
            ttai_tt_buf_printf(b, " at ");
            ttai_tt_buf_number(b, json_object_get(order, "price"));
        }

        if (json_is_number(json_object_get(order, "stop_trigger"))) {
            ttai_tt_buf_printf(b, " stop ");
            ttai_tt_buf_number(b, json_object_get(order, "stop_trigger"));
        }

        json_array_foreach(json_object_get(order, "legs"), i, leg) {
            s = json_string_value(json_object_get(leg, "action"));
            ttai_tt_buf_printf(b, "%s %s ", i ? ";" : ":", s ? s : "?");
            ttai_tt_buf_number(b, json_object_get(leg, "quantity"));

            s = json_string_value(json_object_get(leg, "symbol"));
            ttai_tt_buf_printf(b, " %s", s ? s : "?");
        }

        ttai_tt_buf_printf(b, "\n");
    }

    ttai_tool_preview_amount(b, "Buying power: change ", bp,
                             "change_in_buying_power");
    ttai_tool_preview_amount(b, ", new ", bp, "new_buying_power");
    ttai_tool_preview_amount(b, "; this order's margin requirement ", bp,
                             "isolated_order_margin_requirement");

    spread = json_object_get(bp, "is_spread");
    ttai_tt_buf_printf(b, "%s\n", json_is_true(spread) ? "; a spread"
                                  : json_is_false(spread) ? "; not a spread"
                                  : "");

    ttai_tool_preview_amount(b, "Fees: total ", fees, "total_fees");
    ttai_tool_preview_amount(b, " (commission ", fees, "commission");
    ttai_tool_preview_amount(b, ", clearing ", fees, "clearing_fees");
    ttai_tool_preview_amount(b, ", regulatory ", fees, "regulatory_fees");
    ttai_tt_buf_printf(b, ")\n");

    json_array_foreach(json_object_get(out, "warnings"), i, w) {
        code = json_string_value(json_object_get(w, "code"));
        msg = json_string_value(json_object_get(w, "message"));

        /* TastyTrade's words: quoted, as data */
        ttai_tt_buf_printf(b, "Warning: %s%s", code ? code : "",
                           (code && msg) ? ": " : "");

        if (msg != NULL) {
            ttai_tt_buf_data(b, msg);
        }

        ttai_tt_buf_printf(b, "\n");
    }
}


static void
ttai_tool_preview_amount(ttai_tt_buf_t *b, const char *label, json_t *obj,
    const char *key)
{
    ttai_tt_buf_printf(b, "%s", label);
    ttai_tt_buf_number(b, json_object_get(obj, key));
}


/* a live order as TastyTrade sends it, in one line */

void
ttai_tool_order_describe(ttai_tt_buf_t *b, json_t *order)
{
    size_t       i;
    json_t      *leg, *v;
    const char  *s;

    ttai_tt_buf_printf(b, "order ");
    ttai_tt_buf_number(b, json_object_get(order, "id"));

    s = json_string_value(json_object_get(order, "order-type"));
    ttai_tt_buf_printf(b, ": %s", s ? s : "?");

    s = json_string_value(json_object_get(order, "time-in-force"));
    ttai_tt_buf_printf(b, " %s", s ? s : "?");

    s = json_string_value(json_object_get(order, "price"));
    if (s != NULL) {
        v = json_object_get(order, "price-effect");
        ttai_tt_buf_printf(b, " at %s %s", s,
                           json_is_string(v) ? json_string_value(v) : "");
    }

    s = json_string_value(json_object_get(order, "stop-trigger"));
    if (s != NULL) {
        ttai_tt_buf_printf(b, " stop %s", s);
    }

    json_array_foreach(json_object_get(order, "legs"), i, leg) {
        s = json_string_value(json_object_get(leg, "action"));
        ttai_tt_buf_printf(b, "%s %s ", i ? ";" : ",", s ? s : "?");
        ttai_tt_buf_number(b, json_object_get(leg, "quantity"));

        s = json_string_value(json_object_get(leg, "symbol"));
        ttai_tt_buf_printf(b, " %s (", s ? s : "?");
        ttai_tt_buf_number(b, json_object_get(leg, "remaining-quantity"));
        ttai_tt_buf_printf(b, " left)");
    }

    s = json_string_value(json_object_get(order, "status"));
    ttai_tt_buf_printf(b, ", status %s", s ? s : "?");
}
