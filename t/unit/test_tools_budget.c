
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ttai_mcp.h"
#include "ttai_tools.h"
#include "ttai_order.h"


/*
 * What tools/list costs a model: every client puts the whole list in its
 * model's context, in every conversation.  Each tool's entry, serialized
 * as tools/list sends it, must fit the budget its JSON declaration gives;
 * the bytes of each are printed, so that a change shows its cost.
 */


static json_t *
tools_list(ttai_mcp_server_t *srv, size_t *page)
{
    json_t            *r, *tools;
    ttai_mcp_call_t    call;
    ttai_mcp_reply_t   reply;

    static const char  list[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}";

    static const unsigned char      key[TTAI_ORDER_KEY_LEN];
    static const ttai_order_conf_t  trading = { { 0 }, 60, 0 };

    memset(&call, 0, sizeof(call));
    call.sub = "tt-user-1";
    call.stateless = 1;

    /* every tool: the trading ones and the agents' too */
    call.agents = 1;
    call.trading = &trading;
    call.trading_key = key;
    call.trade_granted = 1;

    assert_int_equal(ttai_mcp_handle(srv, &call, list, strlen(list),
                                     &reply), 0);
    assert_int_equal(reply.status, 200);

    *page = reply.len;

    r = json_loadb(reply.body, reply.len, 0, NULL);
    ttai_mcp_reply_free(&reply);
    assert_non_null(r);

    tools = json_incref(json_object_get(json_object_get(r, "result"),
                                        "tools"));
    json_decref(r);
    assert_true(json_is_array(tools));

    return tools;
}


static void
test_budgets(void **state)
{
    char                    *text;
    size_t                   i, n, len, total, budgets, page, over;
    json_t                  *tools, *t;
    const char              *name;
    ttai_mcp_server_t       *srv;
    const ttai_tool_decl_t  *d;

    srv = ttai_mcp_server_create("9.9.9", NULL);
    assert_non_null(srv);
    assert_int_equal(ttai_tools_register_all(srv), 0);

    tools = tools_list(srv, &page);

    print_message("tools/list: bytes of each tool's entry (its budget)\n");

    total = 0;
    budgets = 0;
    over = 0;
    n = 0;

    json_array_foreach(tools, i, t) {
        name = json_string_value(json_object_get(t, "name"));

        for (d = ttai_tool_decls; d->tool.name != NULL; d++) {
            if (strcmp(d->tool.name, name) == 0) {
                break;
            }
        }

        if (d->tool.name == NULL) {
            fail_msg("tool %s is listed but has no declaration", name);
        }

        text = json_dumps(t, JSON_COMPACT);
        assert_non_null(text);
        len = strlen(text);
        free(text);

        print_message("  %-22s %6zu  (%zu)%s\n", name, len, d->budget,
                      len > d->budget ? "  OVER BUDGET" : "");

        total += len;
        budgets += d->budget;
        n++;

        if (len > d->budget) {
            over++;
        }
    }

    print_message("  %-22s %6zu  (%zu)\n", "all tools", total, budgets);
    print_message("  %-22s %6zu\n", "the tools/list answer", page);

    json_decref(tools);
    ttai_mcp_server_free(srv);

    for (d = ttai_tool_decls; d->tool.name != NULL; d++) {
        n--;
    }

    assert_int_equal(n, 0);

    if (over > 0) {
        fail_msg("%zu tool%s over budget: shorten what the model reads, or "
                 "raise \"budget\" in shared/tools/schemas/ if the bytes "
                 "are worth it", over, over == 1 ? " is" : "s are");
    }
}


/* a budget is a limit that is used: not far above the entry's size */

static void
test_budgets_are_tight(void **state)
{
    char                    *text;
    size_t                   i, len;
    json_t                  *tools, *t;
    ttai_mcp_server_t       *srv;
    const ttai_tool_decl_t  *d;

    srv = ttai_mcp_server_create("9.9.9", NULL);
    assert_non_null(srv);
    assert_int_equal(ttai_tools_register_all(srv), 0);

    tools = tools_list(srv, &len);

    json_array_foreach(tools, i, t) {
        for (d = ttai_tool_decls; d->tool.name != NULL; d++) {
            if (strcmp(d->tool.name, json_string_value(json_object_get(t,
                                                            "name")))
                == 0)
            {
                break;
            }
        }

        assert_non_null(d->tool.name);

        text = json_dumps(t, JSON_COMPACT);
        assert_non_null(text);
        len = strlen(text);
        free(text);

        if (d->budget > len + len / 10 + 100) {
            fail_msg("tool %s takes %zu bytes, and its budget is %zu: lower "
                     "it so that growth is noticed", d->tool.name, len,
                     d->budget);
        }
    }

    json_decref(tools);
    ttai_mcp_server_free(srv);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_budgets),
        cmocka_unit_test(test_budgets_are_tight),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
