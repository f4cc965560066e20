
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_TOOL_ORDER_H_INCLUDED_
#define _TTAI_TOOL_ORDER_H_INCLUDED_


#include <time.h>

#include <jansson.h>

#include "ttai_order.h"
#include "ttai_tt.h"


/*
 * What preview_order and the tools that place orders share: the checks
 * of an order's arguments, the body TastyTrade reads, the dry run as a
 * tool shows it, and the confirmation token.
 */

/*
 * What TastyTrade would refuse with a less helpful message, or what the
 * order needs that the schema cannot require; tool names the caller in
 * the message.  Returns 0 with *result NULL when the order is complete
 * (*effect: the price effect, given or inferred), 0 with an error
 * result, or -1 when out of memory.
 */
int ttai_tool_order_check(const char *tool, json_t *args,
    const char **effect, json_t **result);

/* the order as TastyTrade reads it: dasherized, decimals as strings */
json_t *ttai_tool_order_body(json_t *args, const char *effect);

/* a dry run's data as preview_order shows it (its structuredContent) */
json_t *ttai_tool_order_preview(const char *account, json_t *data);
void ttai_tool_order_preview_text(ttai_tt_buf_t *b, json_t *preview);

/* a live order as TastyTrade sends it, in one line */
void ttai_tool_order_describe(ttai_tt_buf_t *b, json_t *order);

/*
 * The legs' market: GET /market-data/by-type for the canonical order's
 * legs, and the middle prices by symbol from its answer (an object,
 * empty when the market could not be read)
 */
char *ttai_tool_order_quotes_path(json_t *canonical);
json_t *ttai_tool_order_mids(const ttai_mcp_response_t *resp);

/* 1 when this call may trade: the operator's and the user's grant */
int ttai_tool_order_tradable(ttai_tool_ctx_t *ctx);

/*
 * The confirmation token of the order args make for account, into out
 * (TTAI_ORDER_TOKEN_LEN); out is "" when the arguments make no order.
 * -1 when out of memory.
 */
int ttai_tool_order_token(ttai_tool_ctx_t *ctx, json_t *args,
    const char *account, time_t now, char *out);


#endif /* _TTAI_TOOL_ORDER_H_INCLUDED_ */
