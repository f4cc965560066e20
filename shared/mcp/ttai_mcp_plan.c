
/*
 * Copyright (C) ttai contributors
 */


#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_json.h"
#include "ttai_mcp_core.h"


/*
 * Plans of TTAI_TOOL_MEMO calls.  Such a tool asks for KV values that its
 * arguments alone decide, and answers from those values alone; the memo
 * of ttai_mcp_call.c remembers the answer.  A plan remembers the rest:
 * for the params of a tools/call, text for text, which tool it runs,
 * with which arguments, and which keys it reads.  A client that sends
 * the same call again (a quote asked for every few seconds) then gets
 * its KV step at once, without the JSON parser, the schema or the tool;
 * and when the memo has the answer to those values, the tool never runs.
 * When it does not, the tool runs after all, on the params kept with the
 * call (ttai_mcp_tools_resume()).
 *
 * Params are only planned when they are the very text jansson read them
 * from, so that text can stand for them.  Per server, that is per nginx
 * worker; plans never go stale, as tools do not change while the server
 * lives, and the least recently used one makes way for a new one.
 */


static void ttai_mcp_plan_free(ttai_mcp_plan_t *plan);


ttai_mcp_plan_t *
ttai_mcp_plan_find(ttai_mcp_server_t *srv, const char *params, size_t len)
{
    size_t            i;
    uint64_t          hash;
    ttai_mcp_plan_t  *plan;

    if (len > TTAI_MCP_PLAN_MAX) {
        return NULL;
    }

    hash = ttai_mcp_hash(params, len);

    for (i = 0; i < TTAI_MCP_PLANS; i++) {
        plan = &srv->plans[i];

        if (plan->params != NULL && plan->hash == hash && plan->plen == len
            && memcmp(plan->params, params, len) == 0)
        {
            plan->used = ++srv->plan_clock;
            return plan;
        }
    }

    return NULL;
}


/*
 * After the tool's first step, made the general way: its params, and
 * the KV step it asked for.  A plan that cannot be made is not made.
 */

void
ttai_mcp_plan_keep(ttai_mcp_server_t *srv, ttai_mcp_run_t *run,
    json_t *params, const ttai_mcp_pending_t *pending)
{
    int               same;
    char             *args;
    size_t            i, alen;
    json_t           *read;
    ttai_mcp_plan_t  *plan, *old;

    if (run->params_text == NULL || run->params_len > TTAI_MCP_PLAN_MAX
        || pending->kind != TTAI_PENDING_CACHE || pending->nkeys == 0
        || json_array_size(run->stores) != 0
        || ttai_mcp_plan_find(srv, run->params_text, run->params_len)
           != NULL)
    {
        return;
    }

    /* the text must read as these very params, on its own */
    read = json_loadb(run->params_text, run->params_len, 0, NULL);
    same = (read != NULL && json_equal(read, params));
    json_decref(read);

    if (!same) {
        return;
    }

    args = ttai_json_dumps(run->args, &alen);
    if (args == NULL) {
        return;
    }

    old = &srv->plans[0];

    for (i = 0; i < TTAI_MCP_PLANS; i++) {
        plan = &srv->plans[i];

        if (plan->params == NULL) {
            old = plan;
            break;
        }

        if (plan->used < old->used) {
            old = plan;
        }
    }

    ttai_mcp_plan_free(old);

    old->params = malloc(run->params_len);
    old->keys = calloc(pending->nkeys, sizeof(char *));

    if (old->params == NULL || old->keys == NULL) {
        free(args);
        ttai_mcp_plan_free(old);
        return;
    }

    old->nkeys = pending->nkeys;

    for (i = 0; i < pending->nkeys; i++) {
        old->keys[i] = strdup(pending->keys[i]);

        if (old->keys[i] == NULL) {
            free(args);
            ttai_mcp_plan_free(old);
            return;
        }
    }

    memcpy(old->params, run->params_text, run->params_len);
    old->plen = run->params_len;
    old->hash = ttai_mcp_hash(old->params, old->plen);
    old->args = args;
    old->alen = alen;
    old->tool = run->tool;
    old->used = ++srv->plan_clock;
}


/*
 * The call's KV step from its plan; takes the reference to id.  Returns
 * 1 with the reply pending, or -1 when out of memory.
 */

int
ttai_mcp_plan_call(ttai_mcp_server_t *srv, ttai_mcp_plan_t *plan,
    json_t *id, ttai_mcp_reply_t *reply)
{
    ttai_mcp_run_t      *run;
    ttai_mcp_pending_t  *pending;

    run = calloc(1, sizeof(ttai_mcp_run_t));
    if (run == NULL) {
        json_decref(id);
        return -1;
    }

    run->id = id;
    run->tool = plan->tool;
    run->responses = json_array();
    run->stores = json_array();

    /* both texts, for the memo's key and for the tool if it runs */
    run->plan_params = malloc(plan->plen + plan->alen + 1);

    if (run->id == NULL || run->responses == NULL || run->stores == NULL
        || run->plan_params == NULL)
    {
        ttai_mcp_run_free(run);
        return -1;
    }

    memcpy(run->plan_params, plan->params, plan->plen);
    memcpy(run->plan_params + plan->plen, plan->args, plan->alen + 1);
    run->plan_plen = plan->plen;
    run->plan_args = run->plan_params + plan->plen;
    run->plan_alen = plan->alen;

    pending = ttai_mcp_pending_cache((const char *const *) plan->keys,
                                     plan->nkeys);
    if (pending == NULL) {
        ttai_mcp_run_free(run);
        return -1;
    }

    pending->state = run;
    reply->pending = pending;

    return 1;
}


void
ttai_mcp_plans_free(ttai_mcp_server_t *srv)
{
    size_t  i;

    for (i = 0; i < TTAI_MCP_PLANS; i++) {
        ttai_mcp_plan_free(&srv->plans[i]);
    }
}


static void
ttai_mcp_plan_free(ttai_mcp_plan_t *plan)
{
    size_t  i;

    if (plan->keys != NULL) {
        for (i = 0; i < plan->nkeys; i++) {
            free(plan->keys[i]);
        }
    }

    free(plan->keys);
    free(plan->params);
    free(plan->args);

    plan->keys = NULL;
    plan->nkeys = 0;
    plan->params = NULL;
    plan->args = NULL;
}


/*
 * For the tables of remembered things, plans and the memo: eight bytes
 * a step, each mixed in by a multiplication.  Entries are compared in
 * full, so the hash only has to tell most of them apart quickly.
 */

uint64_t
ttai_mcp_hash(const char *text, size_t len)
{
    uint64_t  h, w;

    h = 14695981039346656037ULL ^ len;

    for ( /* void */ ; len >= 8; text += 8, len -= 8) {
        memcpy(&w, text, 8);
        h = (h ^ w) * 1099511628211ULL;
        h ^= h >> 29;
    }

    w = 0;
    memcpy(&w, text, len);
    h = (h ^ w) * 1099511628211ULL;

    return h ^ (h >> 32);
}
