
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
 * get_accounts: the user's TastyTrade accounts, from the same cached
 * answer (accounts:<sub>) that the other tools read to find the account
 * when none is given.
 */

#define TTAI_TOOL_ACCOUNTS_MAX  50


static int ttai_tool_accounts_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_accounts_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static void ttai_tool_accounts_line(ttai_tt_buf_t *b, json_t *a);


/* an item of /customers/me/accounts: the account, and the user's role */
static const ttai_tt_field_t  ttai_tool_accounts_fields[] = {
    ttai_tt_field("account.account-number", "number", TTAI_TT_STRING),
    ttai_tt_field("account.nickname", "nickname", TTAI_TT_STRING),
    ttai_tt_field("account.account-type-name", "type", TTAI_TT_STRING),
    ttai_tt_field("account.margin-or-cash", "margin_or_cash",
                  TTAI_TT_STRING),
    ttai_tt_field("authority-level", "authority_level", TTAI_TT_STRING),
    ttai_tt_field("account.is-closed", "is_closed", TTAI_TT_FLAG),
    ttai_tt_field("account.opened-at", "opened_at", TTAI_TT_STRING),
    ttai_tt_null_field
};


const ttai_tool_impl_t  ttai_tool_get_accounts = {
    "get_accounts",
    ttai_tool_accounts_run,
    ttai_tool_accounts_resume,
    0,
    NULL
};


static int
ttai_tool_accounts_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    char  *key;

    key = ttai_tt_sprintf("accounts:%s",
                          ctx->call->sub ? ctx->call->sub : "");
    if (key == NULL) {
        return -1;
    }

    *pending = ttai_mcp_pending_http(TTAI_SERVICE_TASTYTRADE, "GET",
                                     "/customers/me/accounts", NULL, key,
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
ttai_tool_accounts_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    int             rc, truncated;
    size_t          i, n;
    json_t         *data, *items, *item, *list, *a, *out;
    ttai_tt_buf_t   b;

    data = ttai_tt_data("get_accounts", resp, result);
    if (data == NULL) {
        return *result ? 0 : -1;
    }

    if (resp->changed
        && ttai_tool_changed(ctx, TTAI_LISTEN_UPDATED, "ttai://accounts", 1)
           != 0)
    {
        json_decref(data);
        return -1;
    }

    items = json_object_get(data, "items");

    if (!json_is_array(items)) {
        json_decref(data);
        *result = ttai_tool_error_result("Tool get_accounts failed: "
                                         "TastyTrade sent an accounts list "
                                         "without items.  Try again.");
        return *result ? 0 : -1;
    }

    list = json_array();
    out = json_object();
    memset(&b, 0, sizeof(b));
    rc = (list && out) ? 0 : -1;

    n = 0;
    truncated = 0;

    json_array_foreach(items, i, item) {
        if (rc != 0) {
            break;
        }

        if (!json_is_string(json_object_get(json_object_get(item,
                                                            "account"),
                                            "account-number")))
        {
            continue;
        }

        if (n == TTAI_TOOL_ACCOUNTS_MAX) {
            truncated = 1;
            break;
        }

        a = ttai_tt_mapped(item, ttai_tool_accounts_fields);

        if (a == NULL || json_array_append_new(list, a) != 0) {
            rc = -1;
            break;
        }

        n++;
    }

    rc = ttai_tt_set(rc, out, "count", json_integer((json_int_t) n));
    rc = ttai_tt_set(rc, out, "truncated", json_boolean(truncated));
    rc = ttai_tt_set(rc, out, "accounts", json_incref(list));

    if (rc != 0) {
        json_decref(list);
        json_decref(out);
        json_decref(data);
        return -1;
    }

    if (n == 0) {
        ttai_tt_buf_printf(&b, "TastyTrade lists no accounts for this "
                           "user.");

    } else {
        ttai_tt_buf_printf(&b, "%zu TastyTrade account%s:\n", n,
                           n == 1 ? "" : "s");

        json_array_foreach(list, i, a) {
            ttai_tool_accounts_line(&b, a);
        }

        if (truncated) {
            ttai_tt_buf_printf(&b, "(only the first %d are shown)\n",
                               TTAI_TOOL_ACCOUNTS_MAX);
        }
    }

    json_decref(list);
    json_decref(data);

    *result = ttai_tt_buf_result(&b, out);

    return *result ? 0 : -1;
}


/* 5WT00001  Individual (Individual, Margin; owner; opened 2019-03-14) */

static void
ttai_tool_accounts_line(ttai_tt_buf_t *b, json_t *a)
{
    const char  *nickname, *type, *moc, *authority, *opened;

    nickname = json_string_value(json_object_get(a, "nickname"));
    type = json_string_value(json_object_get(a, "type"));
    moc = json_string_value(json_object_get(a, "margin_or_cash"));
    authority = json_string_value(json_object_get(a, "authority_level"));
    opened = json_string_value(json_object_get(a, "opened_at"));

    ttai_tt_buf_printf(b, "%s  %s (%s, %s; %s; opened %.10s)%s\n",
                       json_string_value(json_object_get(a, "number")),
                       nickname ? nickname : "-",
                       type ? type : "?", moc ? moc : "?",
                       authority ? authority : "?",
                       opened ? opened : "?",
                       json_is_true(json_object_get(a, "is_closed"))
                       ? "  CLOSED" : "");
}
