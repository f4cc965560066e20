
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ttai_d1.h"
#include "ttai_llm_usage.h"


/*
 * LLM calls and budgets: see ttai_llm_usage.h.  A budget is read before
 * a call and the call recorded after it, so two calls at once may both
 * pass a budget with one call left: a day's budget may be passed by the
 * calls in flight, never by more.
 */


json_t *
ttai_llm_usage_record(const ttai_llm_call_t *c, long long now_ms)
{
    return ttai_d1_stmt("INSERT INTO llm_usage (at, user_id, provider, "
                        "model, input_tokens, output_tokens, latency_ms, "
                        "outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        json_pack("[I, s, s, s, I, I, I, s]",
                                  (json_int_t) now_ms, c->user, c->provider,
                                  c->model, (json_int_t) c->input_tokens,
                                  (json_int_t) c->output_tokens,
                                  (json_int_t) c->latency_ms,
                                  c->outcome ? c->outcome : "ok"));
}


json_t *
ttai_llm_usage_day(const char *user, long long since_ms)
{
    return ttai_d1_stmt("SELECT count(*) AS requests, coalesce(sum("
                        "input_tokens + output_tokens), 0) AS tokens FROM "
                        "llm_usage WHERE user_id = ? AND at >= ?",
                        json_pack("[s, I]", user, (json_int_t) since_ms));
}


json_t *
ttai_llm_usage_totals(const char *user, long long since_ms)
{
    return ttai_d1_stmt("SELECT user_id, provider, model, count(*) AS "
                        "requests, sum(input_tokens) AS input_tokens, "
                        "sum(output_tokens) AS output_tokens, "
                        "sum(outcome != 'ok') AS errors, "
                        "CAST(avg(latency_ms) AS INTEGER) AS latency_ms "
                        "FROM llm_usage WHERE (?1 IS NULL OR user_id = ?1) "
                        "AND at >= ?2 GROUP BY user_id, provider, model "
                        "ORDER BY user_id, provider, model",
                        json_pack("[s?, I]", user, (json_int_t) since_ms));
}


int
ttai_llm_budget_check(json_t *day_row, long long max_requests,
    long long max_tokens, char *err, size_t errlen)
{
    long long  requests, tokens;

    requests = (long long) json_integer_value(json_object_get(day_row,
                                                              "requests"));
    tokens = (long long) json_integer_value(json_object_get(day_row,
                                                            "tokens"));

    if (max_requests > 0 && requests >= max_requests) {
        snprintf(err, errlen, "today's budget of %lld requests to the "
                 "model is spent (%lld made); it comes back at midnight "
                 "UTC", max_requests, requests);
        return -1;
    }

    if (max_tokens > 0 && tokens >= max_tokens) {
        snprintf(err, errlen, "today's budget of %lld tokens is spent "
                 "(%lld used); it comes back at midnight UTC", max_tokens,
                 tokens);
        return -1;
    }

    return 0;
}
