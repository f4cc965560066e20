
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_tt.h"


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
static int ttai_tool_preview_check(json_t *args, const char **effect,
    json_t **result);
static int ttai_tool_preview_refuse(json_t **result, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static json_t *ttai_tool_preview_quantity(json_t *v);
static json_t *ttai_tool_preview_body(json_t *args, const char *effect);
static json_t *ttai_tool_preview_decimal(double d);
static json_t *ttai_tool_preview_rejected(json_t *error,
    const ttai_mcp_response_t *resp);
static json_t *ttai_tool_preview_shape(ttai_tool_ctx_t *ctx, json_t *data);
static json_t *ttai_tool_preview_bp(json_t *bpe);
static json_t *ttai_tool_preview_fees(json_t *fc);
static json_t *ttai_tool_preview_warnings(json_t *warnings);
static json_t *ttai_tool_preview_echo(json_t *order);
static void ttai_tool_preview_text(ttai_tt_buf_t *b, json_t *out);
static void ttai_tool_preview_amount(ttai_tt_buf_t *b, const char *label,
    json_t *obj, const char *key);


#define TTAI_TOOL_PREVIEW_NUMBER  "{\"type\":[\"number\",\"null\"]}"
#define TTAI_TOOL_PREVIEW_STRING  "{\"type\":[\"string\",\"null\"]}"

static const char  ttai_tool_preview_input[] =
    "{\"type\":\"object\","
    "\"properties\":{"
      "\"account_number\":{\"type\":\"string\",\"minLength\":1,"
        "\"maxLength\":32,\"description\":\"The TastyTrade account number "
        "(get_accounts lists them).  Omit it when the user has only one "
        "account.\"},"
      "\"order_type\":{\"type\":\"string\",\"enum\":[\"Limit\",\"Market\","
        "\"Stop\",\"Stop Limit\"],\"description\":\"Limit and Stop Limit "
        "need price; Stop and Stop Limit need stop_trigger.\"},"
      "\"time_in_force\":{\"type\":\"string\",\"enum\":[\"Day\",\"GTC\","
        "\"GTD\",\"IOC\"],\"default\":\"Day\",\"description\":\"Day (the "
        "default), GTC (good till cancelled), GTD (good till gtc_date), "
        "IOC (immediate or cancel).\"},"
      "\"price\":{\"type\":\"number\",\"minimum\":0,\"description\":\"The "
        "limit price, positive, in US dollars per unit: per share, or per "
        "share of an option contract (1.09 is $109 for one 100-share "
        "contract); for a spread, the net price.\"},"
      "\"price_effect\":{\"type\":\"string\",\"enum\":[\"Debit\","
        "\"Credit\"],\"description\":\"Debit when the order pays, Credit "
        "when it receives.  It may be omitted when every leg buys "
        "(Debit) or every leg sells (Credit).\"},"
      "\"stop_trigger\":{\"type\":\"number\",\"minimum\":0,"
        "\"description\":\"The stop price, for Stop and Stop Limit "
        "orders.\"},"
      "\"gtc_date\":{\"type\":\"string\",\"minLength\":10,"
        "\"maxLength\":10,\"description\":\"YYYY-MM-DD: the last day of a "
        "GTD order.\"},"
      "\"legs\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":4,"
        "\"description\":\"One leg for an equity, future or "
        "cryptocurrency order; up to 4 option legs for a spread.\","
        "\"items\":{\"type\":\"object\","
          "\"properties\":{"
            "\"symbol\":{\"type\":\"string\",\"minLength\":1,"
              "\"maxLength\":64,\"description\":\"AAPL; an OCC option "
              "symbol such as \\\"AAPL  230818C00197500\\\" (root padded "
              "to 6 with spaces); /ESU3 for a future.\"},"
            "\"instrument_type\":{\"type\":\"string\",\"enum\":[\"Equity\","
              "\"Equity Option\",\"Future\",\"Future Option\","
              "\"Cryptocurrency\"]},"
            "\"action\":{\"type\":\"string\",\"enum\":[\"Buy to Open\","
              "\"Buy to Close\",\"Sell to Open\",\"Sell to Close\","
              "\"Buy\",\"Sell\"],\"description\":\"Buy and Sell are for "
              "futures.\"},"
            "\"quantity\":{\"type\":\"number\",\"minimum\":0,"
              "\"description\":\"Shares or contracts, more than 0.\"}},"
          "\"required\":[\"symbol\",\"instrument_type\",\"action\","
                        "\"quantity\"],"
          "\"additionalProperties\":false}}},"
    "\"required\":[\"order_type\",\"legs\"],"
    "\"additionalProperties\":false}";

static const char  ttai_tool_preview_output[] =
    "{\"type\":\"object\","
    "\"properties\":{"
      "\"placed\":{\"type\":\"boolean\",\"description\":\"always false: "
        "a preview places nothing\"},"
      "\"account_number\":{\"type\":\"string\"},"
      "\"buying_power_effect\":{\"type\":\"object\","
        "\"properties\":{"
          "\"change_in_buying_power\":" TTAI_TOOL_PREVIEW_NUMBER ","
          "\"current_buying_power\":" TTAI_TOOL_PREVIEW_NUMBER ","
          "\"new_buying_power\":" TTAI_TOOL_PREVIEW_NUMBER ","
          "\"isolated_order_margin_requirement\":"
            TTAI_TOOL_PREVIEW_NUMBER ","
          "\"change_in_margin_requirement\":" TTAI_TOOL_PREVIEW_NUMBER ","
          "\"is_spread\":{\"type\":[\"boolean\",\"null\"]}},"
        "\"required\":[\"change_in_buying_power\",\"new_buying_power\","
                      "\"isolated_order_margin_requirement\","
                      "\"is_spread\"]},"
      "\"fee_calculation\":{\"type\":\"object\","
        "\"properties\":{"
          "\"total_fees\":" TTAI_TOOL_PREVIEW_NUMBER ","
          "\"commission\":" TTAI_TOOL_PREVIEW_NUMBER ","
          "\"clearing_fees\":" TTAI_TOOL_PREVIEW_NUMBER ","
          "\"regulatory_fees\":" TTAI_TOOL_PREVIEW_NUMBER ","
          "\"proprietary_index_option_fees\":" TTAI_TOOL_PREVIEW_NUMBER "},"
        "\"required\":[\"total_fees\",\"commission\",\"clearing_fees\","
                      "\"regulatory_fees\"]},"
      "\"warnings\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
        "\"properties\":{"
          "\"code\":" TTAI_TOOL_PREVIEW_STRING ","
          "\"message\":" TTAI_TOOL_PREVIEW_STRING "},"
        "\"required\":[\"code\",\"message\"]}},"
      "\"order\":{\"type\":\"object\","
        "\"properties\":{"
          "\"order_type\":" TTAI_TOOL_PREVIEW_STRING ","
          "\"time_in_force\":" TTAI_TOOL_PREVIEW_STRING ","
          "\"price\":" TTAI_TOOL_PREVIEW_NUMBER ","
          "\"stop_trigger\":" TTAI_TOOL_PREVIEW_NUMBER ","
          "\"size\":" TTAI_TOOL_PREVIEW_NUMBER ","
          "\"underlying\":" TTAI_TOOL_PREVIEW_STRING ","
          "\"status\":" TTAI_TOOL_PREVIEW_STRING ","
          "\"legs\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
            "\"properties\":{"
              "\"symbol\":" TTAI_TOOL_PREVIEW_STRING ","
              "\"instrument_type\":" TTAI_TOOL_PREVIEW_STRING ","
              "\"action\":" TTAI_TOOL_PREVIEW_STRING ","
              "\"quantity\":" TTAI_TOOL_PREVIEW_NUMBER "},"
            "\"required\":[\"symbol\",\"instrument_type\",\"action\","
                          "\"quantity\"]}}},"
        "\"required\":[\"order_type\",\"time_in_force\",\"price\","
                      "\"size\",\"underlying\",\"legs\"]}},"
    "\"required\":[\"placed\",\"account_number\",\"buying_power_effect\","
                  "\"fee_calculation\",\"warnings\",\"order\"]}";


const ttai_tool_t  ttai_tool_preview_order = {
    "preview_order",
    "Preview an order (dry run)",
    "Checks an order with TastyTrade's dry run and shows what it would "
    "do, WITHOUT placing it: nothing is sent to the market and ttai "
    "cannot place orders.  Returns the effect on buying power (the change "
    "and the new buying power, the margin this order alone needs, "
    "whether TastyTrade treats it as a spread), the fees (total, "
    "commission, clearing, regulatory), TastyTrade's warnings, and the "
    "order as TastyTrade read it.  Amounts are in US dollars, negative "
    "for a debit (buying power used, fees paid).  A rejected order (for "
    "example margin_check_failed: not enough buying power) comes back as "
    "an error listing TastyTrade's reasons.  account_number may be "
    "omitted when the user has one account.",
    ttai_tool_preview_input,
    ttai_tool_preview_output,
    TTAI_TOOL_READ_ONLY | TTAI_TOOL_IDEMPOTENT | TTAI_TOOL_OPEN_WORLD,
    ttai_tool_preview_run,
    ttai_tool_preview_resume
};


static int
ttai_tool_preview_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    const char  *effect;

    /* a bad order costs no request, not even the accounts list */
    if (ttai_tool_preview_check(args, &effect, result) != 0) {
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

    body = ttai_tool_preview_body(args, effect);
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

    *result = ttai_tool_preview_shape(ctx, data);
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

static int
ttai_tool_preview_check(json_t *args, const char **effect, json_t **result)
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
        return ttai_tool_preview_refuse(result, "a %s order needs price, "
                   "the limit price per unit (positive, with price_effect "
                   "Debit or Credit).  Add it, or use order_type Market.",
                   type);
    }

    if (!limit && price != NULL) {
        return ttai_tool_preview_refuse(result, "a %s order takes no "
                   "price.  Remove price, or use order_type Limit.", type);
    }

    if (stop != (json_object_get(args, "stop_trigger") != NULL)) {
        return ttai_tool_preview_refuse(result, "stop_trigger, the price "
                   "that triggers the order, is for Stop and Stop Limit "
                   "orders only, and they need it.  Add or remove it, or "
                   "change order_type.");
    }

    if ((tif != NULL && strcmp(tif, "GTD") == 0)
        != (json_object_get(args, "gtc_date") != NULL))
    {
        return ttai_tool_preview_refuse(result, "gtc_date (YYYY-MM-DD), "
                   "the order's last day, is for time_in_force GTD only, "
                   "and GTD needs it.  Add or remove it, or change "
                   "time_in_force.");
    }

    buys = 0;
    sells = 0;

    json_array_foreach(json_object_get(args, "legs"), i, leg) {
        if (json_number_value(json_object_get(leg, "quantity")) <= 0) {
            return ttai_tool_preview_refuse(result, "legs[%zu].quantity "
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
        return ttai_tool_preview_refuse(result, "price_effect goes with a "
                   "price, and a %s order has none.  Remove price_effect.",
                   type);
    }

    if (price != NULL && *effect == NULL) {
        if (buys > 0 && sells > 0) {
            return ttai_tool_preview_refuse(result, "this order both buys "
                       "and sells, so it needs price_effect: Debit if it "
                       "pays the net price, Credit if it receives it.");
        }

        *effect = (sells == 0) ? "Debit" : "Credit";
    }

    return 0;
}


static int
ttai_tool_preview_refuse(json_t **result, const char *fmt, ...)
{
    char     text[1024];
    va_list  args;

    va_start(args, fmt);
    vsnprintf(text, sizeof(text), fmt, args);
    va_end(args);

    *result = ttai_tool_error_result("Invalid order for preview_order: %s  "
                                     "Correct it and call preview_order "
                                     "again.", text);

    return *result ? 0 : -1;
}


/* the order as TastyTrade reads it: dasherized, decimals as strings */

static json_t *
ttai_tool_preview_body(json_t *args, const char *effect)
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

    v = json_object_get(args, "stop_trigger");
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


static json_t *
ttai_tool_preview_shape(ttai_tool_ctx_t *ctx, json_t *data)
{
    int             rc;
    json_t         *out;
    ttai_tt_buf_t   b;

    out = json_object();
    if (out == NULL) {
        return NULL;
    }

    rc = ttai_tt_set(0, out, "placed", json_false());
    rc = ttai_tt_set(rc, out, "account_number",
                     json_string(ttai_tt_account(ctx)));
    rc = ttai_tt_set(rc, out, "buying_power_effect",
                     ttai_tool_preview_bp(json_object_get(data,
                                                "buying-power-effect")));
    rc = ttai_tt_set(rc, out, "fee_calculation",
                     ttai_tool_preview_fees(json_object_get(data,
                                                "fee-calculation")));
    rc = ttai_tt_set(rc, out, "warnings",
                     ttai_tool_preview_warnings(json_object_get(data,
                                                            "warnings")));
    rc = ttai_tt_set(rc, out, "order",
                     ttai_tool_preview_echo(json_object_get(data,
                                                             "order")));

    if (rc != 0) {
        json_decref(out);
        return NULL;
    }

    memset(&b, 0, sizeof(b));
    ttai_tool_preview_text(&b, out);

    return ttai_tt_buf_result(&b, out);
}


static json_t *
ttai_tool_preview_bp(json_t *bpe)
{
    int      rc;
    json_t  *o, *spread;

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    spread = json_object_get(bpe, "is-spread");

    rc = ttai_tt_set(0, o, "change_in_buying_power",
                     ttai_tt_signed(bpe, "change-in-buying-power"));
    rc = ttai_tt_set(rc, o, "current_buying_power",
                     ttai_tt_signed(bpe, "current-buying-power"));
    rc = ttai_tt_set(rc, o, "new_buying_power",
                     ttai_tt_signed(bpe, "new-buying-power"));
    rc = ttai_tt_set(rc, o, "isolated_order_margin_requirement",
                     ttai_tt_signed(bpe,
                                    "isolated-order-margin-requirement"));
    rc = ttai_tt_set(rc, o, "change_in_margin_requirement",
                     ttai_tt_signed(bpe, "change-in-margin-requirement"));
    rc = ttai_tt_set(rc, o, "is_spread",
                     json_is_boolean(spread) ? json_incref(spread)
                                             : json_null());

    if (rc != 0) {
        json_decref(o);
        return NULL;
    }

    return o;
}


static json_t *
ttai_tool_preview_fees(json_t *fc)
{
    int      rc;
    json_t  *o;

    o = json_object();
    if (o == NULL) {
        return NULL;
    }

    rc = ttai_tt_set(0, o, "total_fees", ttai_tt_signed(fc, "total-fees"));
    rc = ttai_tt_set(rc, o, "commission", ttai_tt_signed(fc, "commission"));
    rc = ttai_tt_set(rc, o, "clearing_fees",
                     ttai_tt_signed(fc, "clearing-fees"));
    rc = ttai_tt_set(rc, o, "regulatory_fees",
                     ttai_tt_signed(fc, "regulatory-fees"));
    rc = ttai_tt_set(rc, o, "proprietary_index_option_fees",
                     ttai_tt_signed(fc, "proprietary-index-option-fees"));

    if (rc != 0) {
        json_decref(o);
        return NULL;
    }

    return o;
}


static json_t *
ttai_tool_preview_warnings(json_t *warnings)
{
    size_t   i;
    json_t  *list, *w, *o;

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    json_array_foreach(warnings, i, w) {
        if (i == TTAI_TOOL_PREVIEW_WARNINGS_MAX) {
            break;
        }

        o = json_pack("{s:o, s:o}", "code", ttai_tt_string(w, "code"),
                      "message", ttai_tt_string(w, "message"));

        if (o == NULL || json_array_append_new(list, o) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    return list;
}


static json_t *
ttai_tool_preview_echo(json_t *order)
{
    int      rc;
    size_t   i;
    json_t  *o, *legs, *leg, *l;

    o = json_object();
    legs = json_array();

    if (o == NULL || legs == NULL) {
        json_decref(o);
        json_decref(legs);
        return NULL;
    }

    rc = ttai_tt_set(0, o, "order_type", ttai_tt_string(order,
                                                        "order-type"));
    rc = ttai_tt_set(rc, o, "time_in_force",
                     ttai_tt_string(order, "time-in-force"));
    rc = ttai_tt_set(rc, o, "price", ttai_tt_signed(order, "price"));
    rc = ttai_tt_set(rc, o, "stop_trigger",
                     ttai_tt_number(json_object_get(order, "stop-trigger")));
    rc = ttai_tt_set(rc, o, "size",
                     ttai_tt_number(json_object_get(order, "size")));
    rc = ttai_tt_set(rc, o, "underlying",
                     ttai_tt_string(order, "underlying-symbol"));
    rc = ttai_tt_set(rc, o, "status", ttai_tt_string(order, "status"));

    json_array_foreach(json_object_get(order, "legs"), i, leg) {
        if (rc != 0 || i == TTAI_TOOL_PREVIEW_LEGS_MAX) {
            break;
        }

        l = json_pack("{s:o, s:o, s:o, s:o}",
                      "symbol", ttai_tt_string(leg, "symbol"),
                      "instrument_type",
                      ttai_tt_string(leg, "instrument-type"),
                      "action", ttai_tt_string(leg, "action"),
                      "quantity",
                      ttai_tt_number(json_object_get(leg, "quantity")));

        if (l == NULL || json_array_append_new(legs, l) != 0) {
            rc = -1;
        }
    }

    rc = ttai_tt_set(rc, o, "legs", legs);

    if (rc != 0) {
        json_decref(o);
        return NULL;
    }

    return o;
}


static void
ttai_tool_preview_text(ttai_tt_buf_t *b, json_t *out)
{
    size_t       i;
    json_t      *order, *bp, *fees, *leg, *w, *spread;
    const char  *s, *code, *msg;

    order = json_object_get(out, "order");
    bp = json_object_get(out, "buying_power_effect");
    fees = json_object_get(out, "fee_calculation");

    ttai_tt_buf_printf(b, "Preview only: nothing was placed.  Amounts in "
                       "USD, negative = debit.\n");

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

        ttai_tt_buf_printf(b, "Warning: %s%s%s\n", code ? code : "",
                           (code && msg) ? ": " : "", msg ? msg : "");
    }
}


static void
ttai_tool_preview_amount(ttai_tt_buf_t *b, const char *label, json_t *obj,
    const char *key)
{
    ttai_tt_buf_printf(b, "%s", label);
    ttai_tt_buf_number(b, json_object_get(obj, key));
}
