
/*
 * Copyright (C) ttai contributors
 */


#include <jansson.h>

#include "ttai_tools.h"


/*
 * The user's account data as resources: each is read through the tool
 * that fetches it, with the template's parts as the tool's arguments,
 * so it has the tool's cache and limits.  "Private" to the user: the
 * stateless revision's cacheScope says so for every read.
 */

static const ttai_resource_t  ttai_resources[] = {

    { "ttai://accounts", "accounts", "Accounts",
      "The TastyTrade accounts of the signed-in user.",
      "application/json", "get_accounts", NULL, "account" },

    { "ttai://positions", "positions", "Positions",
      "The open positions of the user's account (when the user has one "
      "account; the template names one of several).",
      "application/json", "get_positions", NULL, "account" },

    { "ttai://balances", "balances", "Balances",
      "The balances of the user's account (when the user has one "
      "account).",
      "application/json", "get_balances", NULL, "account" },

    { "ttai://watchlists", "watchlists", "Watchlists",
      "The user's watchlists and their symbols.",
      "application/json", "get_watchlists", NULL, "account" },

    { "ttai://alerts", "alerts", "Alerts",
      "The alerts the user's rules fired, newest first (create_alert makes "
      "rules).  Subscribe to hear when one fires.",
      "application/json", "get_alerts", NULL, "account" },

    { "ttai://accounts/{account_number}/positions", "account-positions",
      "Positions of an account",
      "The open positions of one account, by its number.",
      "application/json", "get_positions", NULL, "account" },

    { "ttai://accounts/{account_number}/balances", "account-balances",
      "Balances of an account",
      "The balances of one account, by its number.",
      "application/json", "get_balances", NULL, "account" },

    { "ttai://journal", "journal", "Journal",
      "The user's newest journal notes and daily briefs (save_note, "
      "daily_brief), newest first.",
      "application/json", "search_notes", NULL, "agents" },
    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }
};


int
ttai_resources_register_all(ttai_mcp_server_t *srv)
{
    const ttai_resource_t  *r;

    for (r = ttai_resources; r->uri != NULL; r++) {
        if (ttai_mcp_register_resource(srv, r) != 0) {
            return -1;
        }
    }

    return 0;
}
