
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ttai_tools.h"


/*
 * The prompts a TastyTrade user picks from a client's menu.  Each is a
 * request to the assistant that names the tools to call and what to
 * weigh; the data comes from the tools, at the time the prompt is used.
 * Symbols complete from a list of liquid optionable underlyings, and
 * the text the user typed is never an instruction: it is quoted as data.
 */

#define TTAI_PROMPT_MAX  2048


static int ttai_prompt_risk(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result);
static int ttai_prompt_covered_call(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result);
static int ttai_prompt_cash_put(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result);
static int ttai_prompt_earnings(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result);
static json_t *ttai_prompt_symbols(const char *arg, const char *value,
    json_t *args);
static json_t *ttai_prompt_text(const char *description, const char *text);
static const char *ttai_prompt_arg(json_t *args, const char *name,
    const char *dflt);
static int ttai_prompt_symbol_ok(const char *s);
static const char *ttai_prompt_symbol(json_t *args, json_t **result);


static const ttai_prompt_arg_t  ttai_prompt_risk_args[] = {
    { "account_number", "The account to review; omit for the only one.",
      0 },
    { NULL, NULL, 0 }
};

static const ttai_prompt_arg_t  ttai_prompt_symbol_args[] = {
    { "symbol", "The underlying, e.g. AAPL.", 1 },
    { NULL, NULL, 0 }
};


static const ttai_prompt_t  ttai_prompts[] = {

    { "portfolio_risk_review", "Portfolio risk review",
      "Review an account's positions for concentration, directional and "
      "volatility risk, and buying power.",
      ttai_prompt_risk_args, ttai_prompt_risk, NULL, "account", NULL },

    { "covered_call_screen", "Covered call screen",
      "Find covered calls to write against a stock position.",
      ttai_prompt_symbol_args, ttai_prompt_covered_call,
      ttai_prompt_symbols, "market", NULL },

    { "cash_secured_put_screen", "Cash-secured put screen",
      "Find cash-secured puts to sell on an underlying.",
      ttai_prompt_symbol_args, ttai_prompt_cash_put, ttai_prompt_symbols,
      "market", NULL },

    { "earnings_check", "Earnings check",
      "Check an underlying's next earnings and what options price in.",
      ttai_prompt_symbol_args, ttai_prompt_earnings, ttai_prompt_symbols,
      "market", NULL },

    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }
};


/* liquid optionable underlyings, for completion */
static const char  *ttai_prompt_underlyings[] = {
    "AAPL", "AMD", "AMZN", "BAC", "DIA", "GLD", "GOOGL", "IWM", "JPM",
    "META", "MSFT", "NFLX", "NVDA", "QQQ", "SLV", "SPX", "SPY", "TLT",
    "TSLA", "XLE", "XLF", NULL
};


int
ttai_prompts_register_all(ttai_mcp_server_t *srv)
{
    const ttai_prompt_t  *p;

    for (p = ttai_prompts; p->name != NULL; p++) {
        if (ttai_mcp_register_prompt(srv, p) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
ttai_prompt_risk(ttai_tool_ctx_t *ctx, json_t *args, json_t **result)
{
    char         text[TTAI_PROMPT_MAX];
    const char  *account;

    account = ttai_prompt_arg(args, "account_number", NULL);

    if (account != NULL && !ttai_prompt_symbol_ok(account)) {
        *result = ttai_prompt_text(NULL, "The account number given is not "
                                   "one: ask the user for it, or call "
                                   "get_accounts to list them.");
        return *result ? 0 : -1;
    }

    snprintf(text, sizeof(text),
             "Review the risk of my TastyTrade account%s%s.\n\n"
             "1. Call get_positions and get_balances%s.\n"
             "2. Call get_market_metrics for the underlyings I hold, for "
             "their implied volatility rank and liquidity.\n"
             "3. Tell me, with the figures: my largest positions as a share "
             "of net liquidating value; how much of my buying power is "
             "used; which positions lose most if the market falls 10%%, "
             "and which if volatility rises; and which options expire in "
             "the next 14 days.\n"
             "4. Suggest at most three changes, each with its reason.  Do "
             "not place or preview orders unless I ask.",
             account ? " " : "", account ? account : "",
             account ? " for that account" : "");

    *result = ttai_prompt_text("A risk review of the account's positions",
                               text);

    return *result ? 0 : -1;
}


static int
ttai_prompt_covered_call(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result)
{
    char         text[TTAI_PROMPT_MAX];
    const char  *symbol;

    symbol = ttai_prompt_symbol(args, result);

    if (symbol == NULL) {
        return *result ? 0 : -1;
    }

    snprintf(text, sizeof(text),
             "Screen covered calls on %s.\n\n"
             "1. Call get_positions: how many shares of %s do I hold?  A "
             "covered call needs 100 shares per contract; say so if I "
             "hold fewer.\n"
             "2. Call get_quotes and get_market_metrics for %s.\n"
             "3. Call get_option_chain for %s, expirations 20 to 50 days "
             "out, strikes above the price.\n"
             "4. Show the three calls with the best premium for a delta "
             "between 0.15 and 0.35: strike, expiration, bid, delta, "
             "annualized yield on the stock's value, and the price at "
             "which my shares would be called away.  Do not place orders.",
             symbol, symbol, symbol, symbol);

    *result = ttai_prompt_text("Covered calls to write", text);

    return *result ? 0 : -1;
}


static int
ttai_prompt_cash_put(ttai_tool_ctx_t *ctx, json_t *args, json_t **result)
{
    char         text[TTAI_PROMPT_MAX];
    const char  *symbol;

    symbol = ttai_prompt_symbol(args, result);

    if (symbol == NULL) {
        return *result ? 0 : -1;
    }

    snprintf(text, sizeof(text),
             "Screen cash-secured puts on %s.\n\n"
             "1. Call get_balances: how much cash could secure puts?\n"
             "2. Call get_quotes and get_market_metrics for %s (implied "
             "volatility rank, earnings date).\n"
             "3. Call get_option_chain for %s, expirations 20 to 50 days "
             "out, strikes below the price.\n"
             "4. Show the three puts with the best premium for a delta "
             "between -0.30 and -0.15 that my cash can secure: strike, "
             "expiration, bid, delta, the cash each needs, the return on "
             "it, and my cost basis if assigned.  Warn if earnings fall "
             "before expiration.  Do not place orders.",
             symbol, symbol, symbol);

    *result = ttai_prompt_text("Cash-secured puts to sell", text);

    return *result ? 0 : -1;
}


static int
ttai_prompt_earnings(ttai_tool_ctx_t *ctx, json_t *args, json_t **result)
{
    char         text[TTAI_PROMPT_MAX];
    const char  *symbol;

    symbol = ttai_prompt_symbol(args, result);

    if (symbol == NULL) {
        return *result ? 0 : -1;
    }

    snprintf(text, sizeof(text),
             "Check the earnings of %s.\n\n"
             "1. Call get_market_metrics for %s: the next earnings date, "
             "implied volatility and its rank.\n"
             "2. Call get_option_chain for %s for the first expiration "
             "after earnings, and get_quotes for the stock.\n"
             "3. From the at-the-money straddle's price, tell me the move "
             "the options price in, in dollars and percent, and the range "
             "it implies.\n"
             "4. Call get_positions and tell me which of my positions in "
             "%s are exposed to the move.",
             symbol, symbol, symbol, symbol);

    *result = ttai_prompt_text("An earnings check", text);

    return *result ? 0 : -1;
}


static json_t *
ttai_prompt_symbols(const char *arg, const char *value, json_t *args)
{
    size_t       n;
    json_t      *values;
    const char **s;

    values = json_array();

    if (values == NULL || strcmp(arg, "symbol") != 0) {
        return values;
    }

    n = strlen(value);

    for (s = ttai_prompt_underlyings; *s != NULL; s++) {
        if (strncasecmp(*s, value, n) == 0
            && json_array_append_new(values, json_string(*s)) != 0)
        {
            json_decref(values);
            return NULL;
        }
    }

    return values;
}


static json_t *
ttai_prompt_text(const char *description, const char *text)
{
    return json_pack("{s:s*, s:[{s:s, s:{s:s, s:s}}]}",
                     "description", description, "messages",
                     "role", "user", "content", "type", "text",
                     "text", text);
}


static const char *
ttai_prompt_arg(json_t *args, const char *name, const char *dflt)
{
    const char  *v;

    v = json_string_value(json_object_get(args, name));

    return (v != NULL && *v != '\0') ? v : dflt;
}


/*
 * The symbol argument when it is a ticker; else NULL, with *result the
 * prompt that asks the user for one (NULL when out of memory)
 */

static const char *
ttai_prompt_symbol(json_t *args, json_t **result)
{
    const char  *symbol;

    symbol = ttai_prompt_arg(args, "symbol", "");

    if (ttai_prompt_symbol_ok(symbol)) {
        return symbol;
    }

    *result = ttai_prompt_text(NULL, "The symbol given is not a ticker: ask "
                               "the user for one, e.g. AAPL.");
    return NULL;
}


/*
 * A ticker or an account number: what the prompt puts in its text, so
 * that what a user typed cannot become words to the model
 */

static int
ttai_prompt_symbol_ok(const char *s)
{
    size_t  n;

    n = strlen(s);

    if (n == 0 || n > 32) {
        return 0;
    }

    for ( /* void */ ; *s; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')
              || (*s >= '0' && *s <= '9') || *s == '/' || *s == '.'
              || *s == '-'))
        {
            return 0;
        }
    }

    return 1;
}
