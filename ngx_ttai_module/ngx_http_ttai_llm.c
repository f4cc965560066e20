
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_background.h"
#include "ngx_http_ttai_d1.h"
#include "ngx_http_ttai_fetch.h"
#include "ttai_llm.h"
#include "ttai_llm_usage.h"
#include "ttai_sigv4.h"


/*
 * LLM providers, as subrequests to the internal locations of
 * conf/llm/location.conf (/_ttai/llm/<provider>, verified TLS and
 * timeouts there) or conf/llm/mock.conf (the mock, offline).  The core
 * (ttai_llm.h) chooses the model and maps the request and the answer;
 * here the key is put where its provider wants it (Anthropic's
 * x-api-key, OpenAI's bearer, Gemini's x-goog-api-key, Bedrock's SigV4
 * signature) through $ttai_upstream_* variables, never in a log line, a
 * URI or a step's output.  A call is never retried here: the agent
 * retries a turn as a step of its own, with backoff, so that each try
 * is on the record.
 *
 * A model's turn for a workflow runs on a request of ttai's own: the
 * user's budget for the day is read first (one statement on the thread
 * pool), and the call's record goes to the workflow's batch with the
 * step.  A tool's embeddings run on the client's request, like a fetch.
 */

#define NGX_HTTP_TTAI_LLM_MAX_BODY  (2 * 1024 * 1024)
#define NGX_HTTP_TTAI_LLM_REQUESTS  200
#define NGX_HTTP_TTAI_LLM_TOKENS    1000000


typedef struct {
    ngx_http_request_t           *request;
    ngx_http_ttai_background_t   *bg;          /* a turn's */
    ngx_http_ttai_main_conf_t    *tmcf;
    ngx_http_ttai_capture_t      *cap;
    ngx_http_ttai_fetch_t        *fetch;       /* waits in the parent */
    ttai_llm_model_t              model;
    char                          spec[TTAI_LLM_MODEL_MAX + 16];
    char                          user[128];
    json_t                       *req;         /* a turn's; texts */
    ngx_msec_t                    start;
    ngx_http_ttai_step_done_pt    done;
    void                         *data;
    unsigned                      embed:1;
    unsigned                      called:1;
} ngx_http_ttai_llm_t;


static ngx_int_t ngx_http_ttai_llm_budgeted(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static ngx_int_t ngx_http_ttai_llm_send(ngx_http_ttai_llm_t *l,
    json_t *body, char *path, char *err, size_t errlen);
static ngx_int_t ngx_http_ttai_llm_sent(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);
static void ngx_http_ttai_llm_wake(ngx_http_request_t *r);
static void ngx_http_ttai_llm_turn_end(ngx_http_ttai_llm_t *l, int status,
    u_char *body, size_t len, const char *error);
static ngx_int_t ngx_http_ttai_llm_embedded(ngx_http_ttai_llm_t *l,
    int status, u_char *body, size_t len, const char *error);
static json_t *ngx_http_ttai_llm_record(ngx_http_ttai_llm_t *l,
    json_t *usage, const char *outcome);
static const char *ngx_http_ttai_llm_lookup(const char *name, void *data);
static long long ngx_http_ttai_llm_now(void);


char *
ngx_http_ttai_llm_budget(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_main_conf_t *tmcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value, v;
    ngx_uint_t   i, *slot;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (ngx_strncmp(value[i].data, "requests=", 9) == 0) {
            slot = &tmcf->llm_requests;
            v.data = value[i].data + 9;
            v.len = value[i].len - 9;

        } else if (ngx_strncmp(value[i].data, "tokens=", 7) == 0) {
            slot = &tmcf->llm_tokens;
            v.data = value[i].data + 7;
            v.len = value[i].len - 7;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "ttai_llm_budget takes "
                               "requests=N and tokens=N, not \"%V\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        n = ngx_atoi(v.data, v.len);
        if (n == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "ttai_llm_budget: "
                               "\"%V\" is not a number (0: no limit)",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        *slot = (ngx_uint_t) n;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_ttai_llm_init_conf(ngx_conf_t *cf, ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_conf_init_value(tmcf->agents, 0);
    ngx_conf_init_uint_value(tmcf->llm_requests, NGX_HTTP_TTAI_LLM_REQUESTS);
    ngx_conf_init_uint_value(tmcf->llm_tokens, NGX_HTTP_TTAI_LLM_TOKENS);

    if (tmcf->agents == 1 && (tmcf->workflows != 1 || tmcf->db == NULL)) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "ttai: \"ttai_agents on\" "
                      "needs \"ttai_workflows on\" and the database: the "
                      "analyses are workflows");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* a model's turn for a workflow's step */

ngx_int_t
ngx_http_ttai_llm_turn(ngx_http_ttai_main_conf_t *tmcf, const char *user,
    const char *request, ngx_http_ttai_step_done_pt done, void *data)
{
    char                         err[256];
    json_t                      *msg, *out;
    ngx_http_request_t          *r;
    ngx_http_ttai_llm_t         *l;
    ngx_http_ttai_d1_query_t    *q;
    ngx_http_ttai_background_t  *bg;

    bg = ngx_http_ttai_background_create((ngx_cycle_t *) ngx_cycle, tmcf);
    if (bg == NULL) {
        return NGX_ERROR;
    }

    r = bg->request;

    l = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_llm_t));
    if (l == NULL) {
        ngx_http_ttai_background_done(bg);
        return NGX_ERROR;
    }

    l->request = r;
    l->bg = bg;
    l->tmcf = tmcf;
    l->done = done;
    l->data = data;
    ngx_cpystrn((u_char *) l->user, (u_char *) user, sizeof(l->user));

    msg = json_loads(request, 0, NULL);

    if (ttai_llm_choose(json_string_value(json_object_get(msg, "model")),
                        ngx_http_ttai_llm_lookup("DEFAULT_LLM_MODEL", tmcf),
                        ngx_http_ttai_llm_lookup, tmcf, &l->model, err,
                        sizeof(err))
        != 0)
    {
        /* no model to call: the analysis stops and says what to set */
        out = json_pack("{s:s?, s:{s:s, s:s, s:b}}", "model",
                        json_string_value(json_object_get(msg, "model")),
                        "error", "class", "config", "message", err,
                        "retry", 0);
        json_decref(msg);
        done(data, out, NULL);
        json_decref(out);
        ngx_http_ttai_background_done(bg);
        return NGX_OK;
    }

    ngx_snprintf((u_char *) l->spec, sizeof(l->spec) - 1, "%s/%s%Z",
                 ttai_llm_provider_name(l->model.provider), l->model.name);

    l->req = json_incref(json_object_get(msg, "request"));
    json_decref(msg);

    q = ngx_http_ttai_d1_query_create(r->pool);
    if (q == NULL || l->req == NULL) {
        goto failed;
    }

    q->batch = ttai_d1_batch_of(1, ttai_llm_usage_day(user,
                                       ngx_http_ttai_llm_now()
                                       - ngx_http_ttai_llm_now()
                                         % 86400000));
    q->handler = ngx_http_ttai_llm_budgeted;
    q->data = l;

    if (q->batch == NULL || ngx_http_ttai_d1_post(r, q) != NGX_OK) {
        goto failed;
    }

    return NGX_OK;

failed:

    json_decref(l->req);
    ngx_http_ttai_background_done(bg);

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_ttai_llm_budgeted(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    ngx_http_ttai_llm_t *l = q->data;

    char     err[256], *path;
    json_t  *row, *body;

    row = json_array_get(json_object_get(json_array_get(q->result, 0),
                                         "results"), 0);

    if (q->rc != NGX_OK) {
        ngx_http_ttai_llm_turn_end(l, -1, NULL, 0, "the day's use could "
                                   "not be read from the database");
        return NGX_DONE;
    }

    if (ttai_llm_budget_check(row, (long long) l->tmcf->llm_requests,
                              (long long) l->tmcf->llm_tokens, err,
                              sizeof(err))
        != 0)
    {
        ngx_http_ttai_llm_turn_end(l, -2, NULL, 0, err);
        return NGX_DONE;
    }

    body = ttai_llm_request(&l->model, l->req, &path, err, sizeof(err));

    if (body == NULL
        || ngx_http_ttai_llm_send(l, body, path, err, sizeof(err))
           != NGX_OK)
    {
        ngx_http_ttai_llm_turn_end(l, -1, NULL, 0, err);
        return NGX_DONE;
    }

    /*
     * A hold until the answer, given back in turn_end; the subrequest
     * runs once this handler's request goes on
     */
    r->main->count++;

    return NGX_DONE;
}


/* a tool's embeddings: f->body is {"input": [texts]} */

ngx_int_t
ngx_http_ttai_llm_fetch(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f)
{
    char                        err[256], *path;
    json_t                     *msg, *body;
    ngx_http_ttai_llm_t        *l;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    l = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_llm_t));
    if (l == NULL) {
        return NGX_ERROR;
    }

    l->request = r;
    l->tmcf = tmcf;
    l->fetch = f;
    l->embed = 1;
    ngx_cpystrn((u_char *) l->user, f->user.data,
                ngx_min(sizeof(l->user), f->user.len + 1));

    if (ttai_llm_choose_embedding(ngx_http_ttai_llm_lookup(
                                      "DEFAULT_EMBEDDING_MODEL", tmcf),
                                  ngx_http_ttai_llm_lookup, tmcf, &l->model,
                                  err, sizeof(err))
        != 0)
    {
        return ngx_http_ttai_llm_embedded(l, -1, NULL, 0, err) == NGX_ERROR
               ? NGX_ERROR : NGX_OK;
    }

    ngx_snprintf((u_char *) l->spec, sizeof(l->spec) - 1, "%s/%s%Z",
                 ttai_llm_provider_name(l->model.provider), l->model.name);

    msg = json_loadb((char *) f->body.data, f->body.len, 0, NULL);
    l->req = json_incref(json_object_get(msg, "input"));
    json_decref(msg);

    body = ttai_llm_embed_request(&l->model, l->req, &path, err,
                                  sizeof(err));

    if (body == NULL
        || ngx_http_ttai_llm_send(l, body, path, err, sizeof(err))
           != NGX_OK)
    {
        json_decref(l->req);
        l->req = NULL;

        return ngx_http_ttai_llm_embedded(l, -1, NULL, 0, err) == NGX_ERROR
               ? NGX_ERROR : NGX_OK;
    }

    /* the caller's request waits for the subrequest */
    r->main->count++;

    return NGX_AGAIN;
}


/*
 * The subrequest to the provider's location: the body, and the key
 * where the provider wants it (body and path are taken)
 */

static ngx_int_t
ngx_http_ttai_llm_send(ngx_http_ttai_llm_t *l, json_t *body, char *path,
    char *err, size_t errlen)
{
    char                     *text, auth[TTAI_SIGV4_AUTH_MAX];
    char                      date[TTAI_SIGV4_DATE_LEN + 1], host[160];
    u_char                   *p;
    size_t                    len;
    ngx_str_t                 uri, b, *key, *secret, *region, *token;
    ngx_http_request_t       *r;
    ttai_sigv4_t              sig;
    ttai_sigv4_header_t       hdr;

    r = l->request;
    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);

    if (text == NULL) {
        free(path);
        ngx_cpystrn((u_char *) err, (u_char *) "out of memory", errlen);
        return NGX_ERROR;
    }

    b.len = ngx_strlen(text);
    b.data = ngx_pnalloc(r->pool, b.len);
    uri.data = ngx_pnalloc(r->pool, sizeof("/_ttai/llm/bedrock") - 1);

    if (b.data == NULL || uri.data == NULL) {
        free(text);
        free(path);
        ngx_cpystrn((u_char *) err, (u_char *) "out of memory", errlen);
        return NGX_ERROR;
    }

    ngx_memcpy(b.data, text, b.len);

    uri.len = ngx_sprintf(uri.data, "/_ttai/llm/%s",
                          ttai_llm_provider_name(l->model.provider))
              - uri.data;

    l->cap = ngx_http_ttai_capture(r, &uri, NULL, &b,
                                   NGX_HTTP_TTAI_LLM_MAX_BODY,
                                   ngx_http_ttai_llm_sent, l);
    if (l->cap == NULL) {
        free(text);
        free(path);
        ngx_cpystrn((u_char *) err, (u_char *) "out of memory", errlen);
        return NGX_ERROR;
    }

    len = ngx_strlen(path);
    l->cap->uri.data = ngx_pnalloc(r->pool, len);

    if (l->cap->uri.data == NULL) {
        free(text);
        free(path);
        ngx_cpystrn((u_char *) err, (u_char *) "out of memory", errlen);
        return NGX_ERROR;
    }

    ngx_memcpy(l->cap->uri.data, path, len);
    l->cap->uri.len = len;

    key = ngx_http_ttai_var(l->tmcf, (char *) (l->model.key_env
                                               ? l->model.key_env : ""));

    switch (l->model.provider) {

    case TTAI_LLM_OPENAI:
        p = ngx_pnalloc(r->pool, sizeof("Bearer ") - 1 + key->len);
        if (p == NULL) {
            break;
        }

        l->cap->authorization.data = p;
        l->cap->authorization.len = ngx_sprintf(p, "Bearer %V", key) - p;
        break;

    case TTAI_LLM_GEMINI:
        if (key->len == 0) {
            key = ngx_http_ttai_var(l->tmcf, "GOOGLE_API_KEY");
        }

        l->cap->authorization = *key;
        break;

    case TTAI_LLM_BEDROCK:
        secret = ngx_http_ttai_var(l->tmcf, "AWS_SECRET_ACCESS_KEY");
        token = ngx_http_ttai_var(l->tmcf, "AWS_SESSION_TOKEN");
        region = ngx_http_ttai_var(l->tmcf, "AWS_REGION");

        if (region->len == 0) {
            region = ngx_http_ttai_var(l->tmcf, "AWS_REGION_NAME");
        }

        ngx_snprintf((u_char *) host, sizeof(host) - 1,
                     "bedrock-runtime.%V.amazonaws.com%Z",
                     region->len ? region : &(ngx_str_t)
                                            ngx_string("us-east-1"));

        hdr.name = "content-type";
        hdr.value = "application/json";

        ngx_memzero(&sig, sizeof(ttai_sigv4_t));
        sig.method = "POST";
        sig.host = host;
        sig.path = path;
        sig.headers = &hdr;
        sig.nheaders = 1;
        sig.body = (u_char *) text;
        sig.len = b.len;
        sig.access_key = (char *) key->data;
        sig.secret_key = (char *) secret->data;
        sig.session_token = token->len ? (char *) token->data : NULL;
        sig.region = region->len ? (char *) region->data : "us-east-1";
        sig.service = "bedrock";
        sig.now = ngx_time();

        if (ttai_sigv4_sign(&sig, auth, date, NULL) != 0) {
            break;
        }

        l->cap->authorization.len = ngx_strlen(auth);
        l->cap->authorization.data = ngx_pnalloc(r->pool,
                                                 l->cap->authorization.len);
        l->cap->amz_date.len = ngx_strlen(date);
        l->cap->amz_date.data = ngx_pnalloc(r->pool, l->cap->amz_date.len);
        l->cap->host.len = ngx_strlen(host);
        l->cap->host.data = ngx_pnalloc(r->pool, l->cap->host.len);

        if (l->cap->authorization.data == NULL
            || l->cap->amz_date.data == NULL || l->cap->host.data == NULL)
        {
            break;
        }

        ngx_memcpy(l->cap->authorization.data, auth,
                   l->cap->authorization.len);
        ngx_memcpy(l->cap->amz_date.data, date, l->cap->amz_date.len);
        ngx_memcpy(l->cap->host.data, host, l->cap->host.len);
        l->cap->amz_token = *token;
        ngx_explicit_memzero(auth, sizeof(auth));
        break;

    case TTAI_LLM_MOCK:
        /* the mock checks that a key is sent, as the real APIs do */
        ngx_str_set(&l->cap->authorization, "mock-key");
        break;

    default:
        l->cap->authorization = *key;
    }

    free(text);
    free(path);

    /* an overloaded provider may say when to come back */
    l->cap->want_retry_after = 1;
    l->start = ngx_current_msec;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_llm_sent(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_ttai_llm_t *l = data;

    ngx_http_request_t       *pr;
    ngx_http_ttai_capture_t  *pctx;

    /* called again for nginx's own error page: the first call counts */
    if (l->called) {
        return rc;
    }

    l->called = 1;
    pr = sr->parent;

    /*
     * The parent goes on when nginx posts it: a fetch (the engine's own,
     * which knows where this one is) waits in its capture context
     */
    if (l->fetch == NULL) {
        l->fetch = ngx_pcalloc(pr->pool, sizeof(ngx_http_ttai_fetch_t));
        if (l->fetch == NULL) {
            return NGX_ERROR;
        }
    }

    l->fetch->sr = l;

    pctx = ngx_http_get_module_ctx(pr, ngx_http_ttai_tt_module);

    if (pctx == NULL) {
        pctx = ngx_pcalloc(pr->pool, sizeof(ngx_http_ttai_capture_t));
        if (pctx == NULL) {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(pr, pctx, ngx_http_ttai_tt_module);
    }

    pctx->waiting = l->fetch;
    pr->write_event_handler = ngx_http_ttai_llm_wake;

    return rc;
}


static void
ngx_http_ttai_llm_wake(ngx_http_request_t *r)
{
    int                       status;
    const char               *error;
    ngx_http_ttai_llm_t      *l;
    ngx_http_ttai_fetch_t    *f;
    ngx_http_ttai_capture_t  *pctx, *cap;

    pctx = ngx_http_get_module_ctx(r, ngx_http_ttai_tt_module);

    if (pctx == NULL || pctx->waiting == NULL) {
        return;
    }

    f = pctx->waiting;
    pctx->waiting = NULL;
    l = f->sr;
    f->sr = NULL;

    r->write_event_handler = ngx_http_request_empty_handler;

    cap = l->cap;
    error = NULL;
    status = (int) cap->status;

    if (!cap->answered) {
        status = 0;
        error = "the provider did not answer in time (or could not be "
                "reached)";

    } else if (cap->oversized) {
        status = 0;
        error = "the provider's answer is larger than ttai takes";
    }

    if (l->embed) {
        ngx_http_finalize_request(r, ngx_http_ttai_llm_embedded(l, status,
                                         cap->data, cap->len, error));
        return;
    }

    ngx_http_ttai_llm_turn_end(l, status, cap->data, cap->len, error);
}


/*
 * The turn's output for its step, and the call's record.  status -1: no
 * call was made (error says why); -2: the budget is spent.
 */

static void
ngx_http_ttai_llm_turn_end(ngx_http_ttai_llm_t *l, int status, u_char *body,
    size_t len, const char *error)
{
    json_t                      *resp, *err, *out, *also;
    ngx_int_t                    n;
    ngx_http_ttai_background_t  *bg;

    resp = NULL;
    err = NULL;
    also = NULL;

    if (status == -2) {
        err = json_pack("{s:s, s:s, s:b}", "class", "budget", "message",
                        error, "retry", 0);

    } else if (status < 0) {
        err = json_pack("{s:s, s:s, s:b}", "class", "ttai", "message",
                        error, "retry", 0);

    } else if (status == 0) {
        err = ttai_llm_error(0, NULL, error);

    } else {
        resp = ttai_llm_response(&l->model, l->req, status, (char *) body,
                                 len, &err);
    }

    if (err != NULL && json_is_true(json_object_get(err, "retry"))
        && l->cap != NULL && l->cap->retry_after.len)
    {
        /* delta-seconds, up to a minute; an HTTP-date is not followed */
        n = ngx_atoi(l->cap->retry_after.data, l->cap->retry_after.len);

        if (n > 0) {
            json_object_set_new(err, "retry_after_ms",
                                json_integer((json_int_t) ngx_min(n, 60)
                                             * 1000));
        }
    }

    if (status >= 0) {
        also = ngx_http_ttai_llm_record(l, json_object_get(resp, "usage"),
                                        resp ? "ok"
                                        : json_string_value(json_object_get(
                                              err, "class")));
    }

    /* one of the two, never a null in place of the other */
    out = json_pack("{s:s}", "model", l->spec);

    if (out != NULL) {
        json_object_set_new(out, resp ? "response" : "error",
                            resp ? resp : err);

    } else {
        json_decref(resp);
        json_decref(err);
    }

    if (resp == NULL && out != NULL) {
        ngx_log_error(NGX_LOG_WARN, l->request->connection->log, 0,
                      "ttai: %s for %s: %s", l->spec, l->user,
                      json_string_value(json_object_get(
                          json_object_get(out, "error"), "message")));
    }

    json_decref(l->req);
    l->req = NULL;

    bg = l->bg;

    l->done(l->data, out, also);
    json_decref(out);

    if (status >= 0) {
        /* the hold the subrequest's start took */
        ngx_http_finalize_request(bg->request, NGX_DONE);
    }

    ngx_http_ttai_background_done(bg);
}


/* the tool's fetch done: {"model","vectors"}, or {"model","error"} */

static ngx_int_t
ngx_http_ttai_llm_embedded(ngx_http_ttai_llm_t *l, int status, u_char *body,
    size_t len, const char *error)
{
    char                   *text;
    json_t                 *vectors, *err, *out;
    long long               tokens;
    ngx_http_request_t     *r;
    ngx_http_ttai_fetch_t  *f;

    r = l->request;
    f = l->fetch;
    vectors = NULL;
    err = NULL;
    tokens = 0;

    if (status < 0) {
        err = json_pack("{s:s, s:s, s:b}", "class", "config", "message",
                        error, "retry", 0);

    } else if (status == 0) {
        err = ttai_llm_error(0, NULL, error);

    } else {
        vectors = ttai_llm_embed_response(&l->model,
                                          json_array_size(l->req), status,
                                          (char *) body, len, &tokens, &err);
    }

    /* the tool records the call with its own statements */
    out = json_pack("{s:s, s:o?, s:o?, s:{s:s, s:I, s:I, s:s}}", "model",
                    l->spec, "vectors", vectors, "error", err, "call",
                    "provider", ttai_llm_provider_name(l->model.provider),
                    "input_tokens", (json_int_t) tokens,
                    "latency_ms", (json_int_t) (status < 0 ? 0
                                      : ngx_current_msec - l->start),
                    "outcome", vectors ? "ok"
                               : json_string_value(json_object_get(err,
                                                                   "class")));
    text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);
    json_decref(l->req);
    l->req = NULL;

    if (text == NULL) {
        return NGX_ERROR;
    }

    f->status = vectors ? 200 : 502;
    f->response.len = ngx_strlen(text);
    f->response.data = ngx_pnalloc(r->pool, f->response.len);

    if (f->response.data == NULL) {
        free(text);
        return NGX_ERROR;
    }

    ngx_memcpy(f->response.data, text, f->response.len);
    free(text);

    if (status < 0) {
        /* answered at once: the caller goes on */
        return NGX_OK;
    }

    return f->done(r, f);
}


static json_t *
ngx_http_ttai_llm_record(ngx_http_ttai_llm_t *l, json_t *usage,
    const char *outcome)
{
    ttai_llm_call_t  call;

    call.user = l->user;
    call.provider = ttai_llm_provider_name(l->model.provider);
    call.model = l->spec;
    call.input_tokens = json_integer_value(json_object_get(usage, "input"));
    call.output_tokens = json_integer_value(json_object_get(usage,
                                                            "output"));
    call.latency_ms = (long long) (ngx_current_msec - l->start);
    call.outcome = outcome ? outcome : "unknown";

    return ttai_d1_batch_of(1, ttai_llm_usage_record(&call,
                                                     ngx_http_ttai_llm_now()));
}


/* a variable of the env file or nginx's env, by name; NULL: not set */

static const char *
ngx_http_ttai_llm_lookup(const char *name, void *data)
{
    ngx_str_t  *v;

    v = ngx_http_ttai_var(data, (char *) name);

    /* the values are kept NUL-terminated */
    return v->len ? (const char *) v->data : NULL;
}


static long long
ngx_http_ttai_llm_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (long long) tp->sec * 1000 + tp->msec;
}
