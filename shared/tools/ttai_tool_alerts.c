
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ttai_monitor.h"
#include "ttai_tools.h"


/*
 * The alert tools: the user's rules and what they fired, in the
 * database (TTAI_PENDING_D1), through the monitor's statements.  Every
 * statement is the calling user's: the JWT's sub is bound into each, so
 * one user can never read or delete another's rules.
 */


static int ttai_tool_create_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_create_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_list_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_list_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_delete_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_delete_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_tool_fired_run(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_tool_fired_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);

static json_t *ttai_tool_alerts_rows(const ttai_mcp_response_t *resp,
    size_t index, json_t **result, const char *tool);
static json_t *ttai_tool_alerts_rule(json_t *row);
static int ttai_tool_alerts_time(json_t *obj, const char *key);
static const char *ttai_tool_alerts_user(ttai_tool_ctx_t *ctx);


const ttai_tool_impl_t  ttai_tool_create_alert = {
    "create_alert", ttai_tool_create_run, ttai_tool_create_resume, 0, NULL
};

const ttai_tool_impl_t  ttai_tool_list_alerts = {
    "list_alerts", ttai_tool_list_run, ttai_tool_list_resume, 0, NULL
};

const ttai_tool_impl_t  ttai_tool_delete_alert = {
    "delete_alert", ttai_tool_delete_run, ttai_tool_delete_resume, 0, NULL
};

const ttai_tool_impl_t  ttai_tool_get_alerts = {
    "get_alerts", ttai_tool_fired_run, ttai_tool_fired_resume, 0, NULL
};


static int
ttai_tool_create_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         err[320], id[TTAI_MON_ID_LEN + 1];
    json_t      *params;
    time_t       now;
    const char  *kind, *webhook, *user;

    user = ttai_tool_alerts_user(ctx);
    kind = json_string_value(json_object_get(args, "kind"));
    webhook = json_string_value(json_object_get(args, "webhook"));

    params = ttai_monitor_params(kind, args, err, sizeof(err));

    if (params == NULL) {
        *result = ttai_tool_error_result("Tool create_alert: %s", err);
        return *result ? 0 : -1;
    }

    /* a URL the user chose is refused unless the operator allows its host */
    if (webhook != NULL
        && !ttai_monitor_webhook_allowed(webhook, ctx->call->webhooks,
                                         ctx->call->nwebhooks, err,
                                         sizeof(err)))
    {
        json_decref(params);
        *result = ttai_tool_error_result("Tool create_alert: %s.  Make the "
                                         "rule without a webhook; its "
                                         "alerts still show in get_alerts",
                                         err);
        return *result ? 0 : -1;
    }

    ttai_monitor_rule_id(id);
    now = ctx->call->now ? ctx->call->now : time(NULL);

    *pending = ttai_mcp_pending_d1(ttai_monitor_create(
                   user, id, kind, params,
                   json_string_value(json_object_get(args, "note")), webhook,
                   (long long) now * 1000));
    json_decref(params);

    return *pending ? 0 : -1;
}


static int
ttai_tool_create_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char    text[600], *dump;
    json_t  *rows, *rule;

    rows = ttai_tool_alerts_rows(resp, 2, result, "create_alert");
    if (rows == NULL) {
        return *result ? 0 : -1;
    }

    if (json_array_size(rows) == 0) {
        json_decref(rows);
        *result = ttai_tool_error_result("Tool create_alert: the user has "
                                         "%d alert rules, the most ttai "
                                         "keeps; delete one with "
                                         "delete_alert first",
                                         TTAI_MON_MAX_RULES);
        return *result ? 0 : -1;
    }

    rule = ttai_tool_alerts_rule(json_array_get(rows, 0));
    json_decref(rows);

    if (rule == NULL) {
        return -1;
    }

    dump = json_dumps(json_object_get(rule, "params"),
                      JSON_COMPACT | JSON_SORT_KEYS);

    snprintf(text, sizeof(text), "Alert rule %s made: %s %s.  ttai "
             "evaluates it in the background; get_alerts lists what it "
             "fires.", json_string_value(json_object_get(rule, "id")),
             json_string_value(json_object_get(rule, "kind")),
             dump ? dump : "");
    free(dump);

    *result = ttai_tool_text_result(text, rule);

    return *result ? 0 : -1;
}


static int
ttai_tool_list_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *pending = ttai_mcp_pending_d1(ttai_monitor_list(
                   ttai_tool_alerts_user(ctx)));

    return *pending ? 0 : -1;
}


static int
ttai_tool_list_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         line[400], *text, *dump;
    size_t       i, len;
    json_t      *rows, *row, *rules, *rule, *out;
    const char  *err;

    rows = ttai_tool_alerts_rows(resp, 0, result, "list_alerts");
    if (rows == NULL) {
        return *result ? 0 : -1;
    }

    rules = json_array();
    text = calloc(1, 64 + json_array_size(rows) * sizeof(line));

    if (rules == NULL || text == NULL) {
        json_decref(rules);
        json_decref(rows);
        free(text);
        return -1;
    }

    len = (size_t) sprintf(text, "%zu alert rule(s).\n",
                           json_array_size(rows));

    json_array_foreach(rows, i, row) {
        rule = ttai_tool_alerts_rule(row);

        if (rule == NULL || json_array_append_new(rules, rule) != 0) {
            goto failed;
        }

        dump = json_dumps(json_object_get(rule, "params"),
                          JSON_COMPACT | JSON_SORT_KEYS);
        err = json_string_value(json_object_get(rule, "last_error"));

        len += (size_t) snprintf(text + len, sizeof(line),
                                 "%s  %s %s  fired %lld  %s%s%s\n",
                                 json_string_value(json_object_get(rule,
                                                                   "id")),
                                 json_string_value(json_object_get(rule,
                                                                   "kind")),
                                 dump ? dump : "",
                                 (long long) json_integer_value(
                                     json_object_get(rule, "fired")),
                                 json_array_size(json_object_get(rule,
                                                                 "firing"))
                                 ? "holding now  " : "",
                                 err ? "error: " : "",
                                 err ? err : "");
        free(dump);
    }

    json_decref(rows);

    out = json_pack("{s:I, s:o}", "count", (json_int_t) json_array_size(rules),
                    "rules", rules);
    rules = NULL;

    *result = out ? ttai_tool_text_result(text, out) : NULL;
    free(text);

    return *result ? 0 : -1;

failed:

    json_decref(rules);
    json_decref(rows);
    free(text);

    return -1;
}


static int
ttai_tool_delete_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *pending = ttai_mcp_pending_d1(ttai_monitor_delete(
                   ttai_tool_alerts_user(ctx),
                   json_string_value(json_object_get(args, "id"))));

    return *pending ? 0 : -1;
}


static int
ttai_tool_delete_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char         text[200];
    json_t      *body, *out;
    json_int_t   changes, left;
    const char  *id;

    id = json_string_value(json_object_get(args, "id"));
    body = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);

    if (!json_is_array(body)) {
        json_decref(body);
        *result = ttai_tool_error_result("Tool delete_alert failed: the "
                                         "database answered what ttai could "
                                         "not read");
        return *result ? 0 : -1;
    }

    /* the rule's own row, not the states that went with it */
    changes = (json_int_t) json_array_size(json_object_get(
                  json_array_get(body, 0), "results"));
    left = json_integer_value(json_object_get(json_array_get(
               json_object_get(json_array_get(body, 1), "results"), 0),
               "rules"));
    json_decref(body);

    if (changes == 0) {
        *result = ttai_tool_error_result("Tool delete_alert: the user has no "
                                         "alert rule %.40s; list_alerts "
                                         "gives the ids", id);
        return *result ? 0 : -1;
    }

    snprintf(text, sizeof(text), "Alert rule %.40s deleted; %lld left.", id,
             (long long) left);

    out = json_pack("{s:s, s:b, s:I}", "id", id, "deleted", 1,
                    "rules_left", left);

    *result = out ? ttai_tool_text_result(text, out) : NULL;

    return *result ? 0 : -1;
}


static int
ttai_tool_fired_run(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_t  *limit, *before;

    limit = json_object_get(args, "limit");
    before = json_object_get(args, "before_id");

    *pending = ttai_mcp_pending_d1(ttai_monitor_fired(
                   ttai_tool_alerts_user(ctx),
                   before ? (long long) json_integer_value(before) : 0,
                   limit ? (long) json_integer_value(limit) : 50));

    return *pending ? 0 : -1;
}


static int
ttai_tool_fired_resume(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char    *text;
    size_t   i, len, size;
    json_t  *rows, *row, *alerts, *a, *out;

    rows = ttai_tool_alerts_rows(resp, 0, result, "get_alerts");
    if (rows == NULL) {
        return *result ? 0 : -1;
    }

    alerts = json_array();
    size = 64 + json_array_size(rows) * 400;
    text = malloc(size);

    if (alerts == NULL || text == NULL) {
        goto failed;
    }

    len = (size_t) snprintf(text, size, "%zu alert(s) fired%s\n",
                            json_array_size(rows),
                            json_array_size(rows) ? ", newest first:" : ".");

    json_array_foreach(rows, i, row) {
        a = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}",
                      "id", json_object_get(row, "id"),
                      "rule_id", json_object_get(row, "rule_id"),
                      "kind", json_object_get(row, "kind"),
                      "subject", json_object_get(row, "subject"),
                      "value", json_object_get(row, "value"),
                      "message", json_object_get(row, "message"),
                      "fired_at", json_object_get(row, "fired_at"),
                      "webhook", json_object_get(row, "webhook_status"));

        if (a == NULL || ttai_tool_alerts_time(a, "fired_at") != 0
            || json_array_append_new(alerts, a) != 0)
        {
            json_decref(a);
            goto failed;
        }

        len += (size_t) snprintf(text + len, size - len, "#%lld  %s  %s\n",
                                 (long long) json_integer_value(
                                     json_object_get(a, "id")),
                                 json_string_value(json_object_get(
                                     a, "fired_at")),
                                 json_string_value(json_object_get(
                                     a, "message")));
    }

    json_decref(rows);
    rows = NULL;

    out = json_pack("{s:I, s:o}", "count",
                    (json_int_t) json_array_size(alerts), "alerts", alerts);
    alerts = NULL;

    *result = out ? ttai_tool_text_result(text, out) : NULL;
    free(text);

    return *result ? 0 : -1;

failed:

    json_decref(rows);
    json_decref(alerts);
    free(text);

    return -1;
}


/*
 * The rows of the batch's statement index, or NULL with *result set to
 * the error a model reads (NULL too when out of memory)
 */

static json_t *
ttai_tool_alerts_rows(const ttai_mcp_response_t *resp, size_t index,
    json_t **result, const char *tool)
{
    json_t  *body, *rows;

    *result = NULL;

    body = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
    rows = json_object_get(json_array_get(body, index), "results");

    if (!json_is_array(rows)) {
        json_decref(body);
        *result = ttai_tool_error_result("Tool %s failed: the database "
                                         "answered what ttai could not "
                                         "read", tool);
        return NULL;
    }

    json_incref(rows);
    json_decref(body);

    return rows;
}


/* a rule's row as the tools show it: params parsed, times in ISO 8601 */

static json_t *
ttai_tool_alerts_rule(json_t *row)
{
    json_t      *rule, *params, *firing;
    const char  *text;

    rule = json_deep_copy(row);
    if (rule == NULL) {
        return NULL;
    }

    text = json_string_value(json_object_get(row, "params"));
    params = json_loads(text ? text : "{}", 0, NULL);

    if (params == NULL
        || json_object_set_new(rule, "params", params) != 0
        || ttai_tool_alerts_time(rule, "created_at") != 0
        || ttai_tool_alerts_time(rule, "evaluated_at") != 0)
    {
        json_decref(rule);
        return NULL;
    }

    text = json_string_value(json_object_get(row, "firing"));

    if (text != NULL) {
        firing = json_loads(text, 0, NULL);

        if (!json_is_array(firing)
            || json_object_set_new(rule, "firing", firing) != 0)
        {
            json_decref(rule);
            return NULL;
        }
    }

    return rule;
}


/* epoch ms to ISO 8601, in place; absent or null stays as it is */

static int
ttai_tool_alerts_time(json_t *obj, const char *key)
{
    char     at[32];
    json_t  *v;

    v = json_object_get(obj, key);

    if (!json_is_integer(v)) {
        return 0;
    }

    ttai_monitor_iso((long long) json_integer_value(v), at);

    return json_object_set_new(obj, key, json_string(at));
}


static const char *
ttai_tool_alerts_user(ttai_tool_ctx_t *ctx)
{
    return ctx->call->sub ? ctx->call->sub : "";
}
