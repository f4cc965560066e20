
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_background.h"
#include "ngx_http_ttai_fetch.h"
#include "ttai_agent.h"


/*
 * A tool of ttai's, called for a workflow's step as its user would call
 * it (an agent gathering data, or its model asking): the MCP core runs
 * the tool on a request of ttai's own, and what the tool waits for is
 * fetched as for a client's call (the KV cache, the rate limit, the
 * user's TastyTrade token, the database).  Only the agents' read-only
 * tools, and save_note for a brief, are called: the call carries no
 * trading settings, so a trading tool does not even exist for it.
 *
 * Each step of the drive starts from a posted event or a timer, never
 * from inside a subrequest's handler, so that the subrequests it makes
 * run from the top of the event loop.
 */

typedef struct {
    ngx_http_ttai_background_t   *bg;
    ngx_http_ttai_main_conf_t    *tmcf;
    ttai_mcp_call_t               call;
    ttai_mcp_reply_t              reply;
    ttai_mcp_response_t           resp;
    ngx_event_t                   drive;
    ngx_http_ttai_step_done_pt    done;
    void                         *data;
    char                         *user;
    unsigned                      waiting:1;
    unsigned                      resumed:1;
} ngx_http_ttai_wf_tool_t;


static void ngx_http_ttai_wf_tool_drive(ngx_event_t *ev);
static ngx_int_t ngx_http_ttai_wf_tool_fetched(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static void ngx_http_ttai_wf_tool_finish(ngx_http_ttai_wf_tool_t *t,
    const char *error);


ngx_int_t
ngx_http_ttai_wf_tool(ngx_http_ttai_main_conf_t *tmcf, const char *user,
    const char *request, ngx_http_ttai_step_done_pt done, void *data)
{
    char                        *body;
    json_t                      *req, *msg;
    const char                  *name;
    ngx_http_request_t          *r;
    ngx_http_ttai_wf_tool_t     *t;
    ngx_http_ttai_background_t  *bg;

    req = json_loads(request, 0, NULL);
    name = json_string_value(json_object_get(req, "name"));

    if (name == NULL
        || (!ttai_agent_tool_allowed(name) && ngx_strcmp(name, "save_note")))
    {
        json_decref(req);
        done(data, json_pack("{s:s, s:b}", "text", "ttai does not call "
                             "that tool for a workflow", "is_error", 1),
             NULL);
        return NGX_OK;
    }

    msg = json_pack("{s:s, s:i, s:s, s:{s:s, s:O}}", "jsonrpc", "2.0",
                    "id", 1, "method", "tools/call", "params", "name", name,
                    "arguments", json_object_get(req, "arguments"));
    body = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    json_decref(req);

    bg = (body != NULL) ? ngx_http_ttai_background_create(
                              (ngx_cycle_t *) ngx_cycle, tmcf)
                        : NULL;
    if (bg == NULL) {
        free(body);
        return NGX_ERROR;
    }

    r = bg->request;

    t = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_wf_tool_t));
    if (t == NULL
        || ngx_http_ttai_background_user(bg, tmcf, user) != NGX_OK)
    {
        goto failed;
    }

    t->user = ngx_pnalloc(r->pool, ngx_strlen(user) + 1);
    if (t->user == NULL) {
        goto failed;
    }

    ngx_cpystrn((u_char *) t->user, (u_char *) user, ngx_strlen(user) + 1);

    t->bg = bg;
    t->tmcf = tmcf;
    t->done = done;
    t->data = data;
    bg->data = t;

    /* a one-shot call, as a plain curl makes: no session, no trading */
    t->call.sub = t->user;
    t->call.stateless = 1;
    t->call.agents = 1;

    if (ttai_mcp_handle(tmcf->mcp, &t->call, body, ngx_strlen(body),
                        &t->reply) != 0)
    {
        goto failed;
    }

    free(body);

    t->drive.handler = ngx_http_ttai_wf_tool_drive;
    t->drive.data = t;
    t->drive.log = r->connection->log;

    ngx_post_event(&t->drive, &ngx_posted_events);

    return NGX_OK;

failed:

    free(body);
    ngx_http_ttai_background_done(bg);

    return NGX_ERROR;
}


/* gives the core what the tool waits for, until it has its answer */

static void
ngx_http_ttai_wf_tool_drive(ngx_event_t *ev)
{
    ngx_http_ttai_wf_tool_t *t = ev->data;

    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = t->bg->request;

    if (t->waiting || t->resumed) {
        /* a wait that passed, or a fetch that ended: the tool goes on */
        if (t->waiting) {
            ngx_memzero(&t->resp, sizeof(ttai_mcp_response_t));
        }

        t->waiting = 0;
        t->resumed = 0;

        if (ttai_mcp_resume(t->tmcf->mcp, &t->call, &t->reply, &t->resp)
            != 0)
        {
            ngx_http_ttai_wf_tool_finish(t, "out of memory");
            return;
        }
    }

    for ( ;; ) {
        ngx_http_ttai_fetch_store(r, &t->reply.stores, &t->reply.nstores);

        /* progress and log messages have no client to go to */
        ttai_mcp_reply_events_free(&t->reply);

        if (t->reply.pending == NULL) {
            ngx_http_ttai_wf_tool_finish(t, NULL);
            return;
        }

        if (t->reply.pending->kind == TTAI_PENDING_WAIT) {
            t->waiting = 1;
            ngx_add_timer(&t->drive, (ngx_msec_t) t->reply.pending->ms);
            return;
        }

        if (t->reply.pending->kind == TTAI_PENDING_ASK) {
            ngx_http_ttai_wf_tool_finish(t, "the tool asked the user a "
                                         "question, which a workflow "
                                         "cannot answer");
            return;
        }

        rc = ngx_http_ttai_fetch_step(r, t->reply.pending, t->user, &t->resp,
                                      ngx_http_ttai_wf_tool_fetched, t);

        if (rc == NGX_AGAIN) {
            ngx_http_run_posted_requests(r->connection);
            return;
        }

        if (rc != NGX_OK
            || ttai_mcp_resume(t->tmcf->mcp, &t->call, &t->reply, &t->resp)
               != 0)
        {
            ngx_http_ttai_wf_tool_finish(t, "out of memory");
            return;
        }
    }
}


static ngx_int_t
ngx_http_ttai_wf_tool_fetched(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f)
{
    ngx_http_ttai_wf_tool_t *t = f->data;

    ngx_http_ttai_fetch_step_response(f, &t->resp);

    t->resumed = 1;
    ngx_post_event(&t->drive, &ngx_posted_events);

    return NGX_DONE;
}


/* the tool's CallToolResult as the step's output, or why there is none */

static void
ngx_http_ttai_wf_tool_finish(ngx_http_ttai_wf_tool_t *t, const char *error)
{
    json_t                      *msg, *out, *err;
    ngx_http_ttai_background_t  *bg;

    out = NULL;
    msg = NULL;

    if (error == NULL && t->reply.body != NULL) {
        msg = json_loadb(t->reply.body, t->reply.len, 0, NULL);

        if (json_object_get(msg, "result") != NULL) {
            out = ttai_agent_tool_output(json_object_get(msg, "result"));

        } else {
            err = json_object_get(msg, "error");
            out = json_pack("{s:s?, s:b}", "text",
                            json_string_value(json_object_get(err,
                                                              "message")),
                            "is_error", 1);
        }

    } else {
        out = json_pack("{s:s, s:b}", "text",
                        error ? error : "the tool did not answer",
                        "is_error", 1);
    }

    json_decref(msg);
    ttai_mcp_reply_free(&t->reply);

    if (t->drive.timer_set) {
        ngx_del_timer(&t->drive);
    }

    bg = t->bg;

    t->done(t->data, out, NULL);
    json_decref(out);

    ngx_http_ttai_background_done(bg);
}
