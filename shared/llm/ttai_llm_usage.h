
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_LLM_USAGE_H_INCLUDED_
#define _TTAI_LLM_USAGE_H_INCLUDED_


#include <jansson.h>


/*
 * The record of every call to a provider (migration 0013), and the
 * budgets read from it: D1 statements, NULL when out of memory.
 */

typedef struct {
    const char  *user;
    const char  *provider;
    const char  *model;
    long long    input_tokens;
    long long    output_tokens;
    long long    latency_ms;
    const char  *outcome;              /* "ok", or an error's class */
} ttai_llm_call_t;

/* a call, recorded */
json_t *ttai_llm_usage_record(const ttai_llm_call_t *c, long long now_ms);

/* one row: the user's "requests" and "tokens" since since_ms */
json_t *ttai_llm_usage_day(const char *user, long long since_ms);

/*
 * Totals by user, provider and model since since_ms (user NULL: every
 * user's): requests, input and output tokens, errors, mean latency
 */
json_t *ttai_llm_usage_totals(const char *user, long long since_ms);

/*
 * Whether a user may make one more call: 0, or -1 with err saying which
 * budget is spent and when it comes back (the next UTC day); 0 in a
 * limit is none
 */
int ttai_llm_budget_check(json_t *day_row, long long max_requests,
    long long max_tokens, char *err, size_t errlen);


#endif /* _TTAI_LLM_USAGE_H_INCLUDED_ */
