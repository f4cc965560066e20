
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
#include "ngx_http_ttai_monitor.h"


/*
 * The webhooks of fired alerts, after each pass of the monitor: a claim
 * of the alerts whose POST is due (an alert is inserted as pending in
 * the transaction that fires it, so a crash between the two loses
 * nothing, and a POST may be sent twice but is never lost), then each
 * POST through the internal location /_ttai_webhook
 * (conf/monitor/webhook.conf), to the address the operator's entry of
 * ttai_alert_webhooks was found at when nginx loaded it, and the
 * outcomes in one transaction.  A 2xx is sent; anything else is tried
 * again later, five times in all.
 */

#define NGX_HTTP_TTAI_HOOK_LOCATION  "/_ttai_webhook"
#define NGX_HTTP_TTAI_HOOK_CLAIM     20


typedef struct {
    ngx_http_ttai_main_conf_t    *tmcf;
    void                        (*done)(void);
    ngx_http_ttai_d1_query_t     *query;
    ngx_uint_t                    leases;
    u_char                        lease[NGX_INT64_LEN * 2 + 4];
    json_t                       *rows;
    size_t                        row;
    json_t                       *outcomes;
    ngx_event_t                   next;
    ngx_http_ttai_background_t   *bg;
    ngx_http_ttai_capture_t      *cap;
    ngx_uint_t                    called;
    uint64_t                      sent;
    uint64_t                      failed;
} ngx_http_ttai_hook_worker_t;


static ngx_int_t ngx_http_ttai_hook_claimed(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static void ngx_http_ttai_hook_next(ngx_event_t *ev);
static ngx_int_t ngx_http_ttai_hook_send(ngx_http_ttai_hook_worker_t *h,
    json_t *row);
static ngx_int_t ngx_http_ttai_hook_sent(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);
static void ngx_http_ttai_hook_outcome(ngx_http_ttai_hook_worker_t *h,
    json_t *row, ngx_uint_t sent, const char *why);
static ngx_int_t ngx_http_ttai_hook_written(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);
static void ngx_http_ttai_hook_finish(ngx_http_ttai_hook_worker_t *h);
static long long ngx_http_ttai_hook_now(void);


static ngx_http_ttai_hook_worker_t  ngx_http_ttai_hook_worker;
static ngx_connection_t             ngx_http_ttai_hook_dummy;


/*
 * ttai_alert_webhooks URL ...: the only places alerts are POSTed to.
 * Each host is looked up now, once, and its address kept: a rule's URL
 * must begin with one of these, and its POST goes to that address, so
 * neither a user nor a name server can point it elsewhere later.
 */

char *
ngx_http_ttai_alert_webhooks(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_main_conf_t *tmcf = conf;

    u_char                   *p, *last;
    ngx_str_t                *value;
    ngx_url_t                 u;
    ngx_uint_t                i;
    ngx_http_ttai_webhook_t  *wh;

    if (tmcf->webhooks != NULL) {
        return "is duplicate";
    }

    tmcf->webhooks = ngx_array_create(cf->pool, cf->args->nelts,
                                      sizeof(ngx_http_ttai_webhook_t));
    if (tmcf->webhooks == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        wh = ngx_array_push(tmcf->webhooks);
        if (wh == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(wh, sizeof(ngx_http_ttai_webhook_t));
        ngx_memzero(&u, sizeof(ngx_url_t));

        if (value[i].len > 7
            && ngx_strncmp(value[i].data, "http://", 7) == 0)
        {
            u.url.data = value[i].data + 7;
            u.url.len = value[i].len - 7;
            u.default_port = 80;

        } else if (value[i].len > 8
                   && ngx_strncmp(value[i].data, "https://", 8) == 0)
        {
            u.url.data = value[i].data + 8;
            u.url.len = value[i].len - 8;
            u.default_port = 443;
            wh->tls = 1;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "webhook \"%V\" is not "
                               "an http or https URL", &value[i]);
            return NGX_CONF_ERROR;
        }

        last = u.url.data + u.url.len;

        for (p = u.url.data; p < last && *p != '/'; p++) {
            if (*p == '@' || *p == '?' || *p == '#') {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "webhook \"%V\" "
                                   "must be scheme://host[:port][/path], "
                                   "without a user, query or fragment",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        wh->authority = p - value[i].data;
        u.uri_part = 1;

        if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "webhook \"%V\": %s",
                               &value[i], u.err ? u.err
                                                : "its host has no address");
            return NGX_CONF_ERROR;
        }

        wh->host = u.host;
        wh->peer = u.addrs[0].name;

        /* the prefix a rule's URL must begin with, NUL-terminated */
        wh->url.data = ngx_pnalloc(cf->pool, value[i].len + 1);
        if (wh->url.data == NULL) {
            return NGX_CONF_ERROR;
        }

        wh->url.len = value[i].len;
        ngx_memcpy(wh->url.data, value[i].data, value[i].len);
        wh->url.data[wh->url.len] = '\0';
    }

    return NGX_CONF_OK;
}


/* the URLs, for the tools that check a rule's webhook against them */

ngx_int_t
ngx_http_ttai_monitor_webhooks_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_uint_t                i;
    ngx_http_ttai_webhook_t  *wh;

    if (tmcf->webhooks == NULL) {
        return NGX_OK;
    }

    tmcf->webhook_urls = ngx_pcalloc(cf->pool, tmcf->webhooks->nelts
                                               * sizeof(char *));
    if (tmcf->webhook_urls == NULL) {
        return NGX_ERROR;
    }

    wh = tmcf->webhooks->elts;

    for (i = 0; i < tmcf->webhooks->nelts; i++) {
        tmcf->webhook_urls[i] = (char *) wh[i].url.data;
    }

    tmcf->nwebhooks = tmcf->webhooks->nelts;

    return NGX_OK;
}


void
ngx_http_ttai_monitor_webhooks(ngx_http_ttai_main_conf_t *tmcf,
    void (*done)(void))
{
    ngx_http_ttai_hook_worker_t  *h;

    h = &ngx_http_ttai_hook_worker;

    if (tmcf->nwebhooks == 0 || ngx_exiting || ngx_quit || ngx_terminate) {
        done();
        return;
    }

    if (h->query == NULL) {
        h->query = ngx_http_ttai_d1_query_create(ngx_cycle->pool);
        if (h->query == NULL) {
            done();
            return;
        }

        ngx_http_ttai_hook_dummy.fd = (ngx_socket_t) -1;
        h->next.handler = ngx_http_ttai_hook_next;
        h->next.data = &ngx_http_ttai_hook_dummy;
        h->next.log = ngx_cycle->log;
    }

    h->tmcf = tmcf;
    h->done = done;

    ngx_sprintf(h->lease, "hook-%P-%ui%Z", ngx_pid, ++h->leases);

    json_decref(h->query->batch);
    h->query->batch = ttai_monitor_webhook_claim((char *) h->lease,
                                                 ngx_http_ttai_hook_now(),
                                                 NGX_HTTP_TTAI_HOOK_CLAIM);
    h->query->handler = ngx_http_ttai_hook_claimed;
    h->query->data = h;

    if (h->query->batch == NULL
        || ngx_http_ttai_d1_post_task(tmcf->db, h->query) != NGX_OK)
    {
        done();
    }
}


static ngx_int_t
ngx_http_ttai_hook_claimed(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    ngx_http_ttai_hook_worker_t  *h;

    h = &ngx_http_ttai_hook_worker;

    json_decref(h->rows);
    h->rows = (q->rc == NGX_OK)
              ? json_incref(json_object_get(json_array_get(q->result, 0),
                                            "results"))
              : NULL;

    if (!json_is_array(h->rows) || json_array_size(h->rows) == 0) {
        h->done();
        return NGX_OK;
    }

    h->row = 0;
    h->outcomes = json_array();

    if (h->outcomes == NULL) {
        h->done();
        return NGX_OK;
    }

    ngx_post_event(&h->next, &ngx_posted_events);

    return NGX_OK;
}


static void
ngx_http_ttai_hook_next(ngx_event_t *ev)
{
    json_t                       *row;
    ngx_http_ttai_hook_worker_t  *h;

    h = &ngx_http_ttai_hook_worker;

    if (h->row == json_array_size(h->rows)) {
        ngx_http_ttai_hook_finish(h);
        return;
    }

    row = json_array_get(h->rows, h->row++);

    if (ngx_http_ttai_hook_send(h, row) != NGX_OK) {
        ngx_post_event(&h->next, &ngx_posted_events);
    }
}


/* NGX_OK: the POST is on its way; else its outcome is recorded already */

static ngx_int_t
ngx_http_ttai_hook_send(ngx_http_ttai_hook_worker_t *h, json_t *row)
{
    char                     *text;
    size_t                    len;
    ngx_str_t                 uri, body;
    ngx_uint_t                i;
    const char               *url;
    ngx_http_request_t       *r;
    ngx_http_ttai_webhook_t  *wh, *found;

    url = json_string_value(json_object_get(row, "webhook"));
    found = NULL;
    wh = h->tmcf->webhooks->elts;

    /* allowed when the rule was made, and still allowed now */
    for (i = 0; url != NULL && i < h->tmcf->webhooks->nelts; i++) {
        len = wh[i].url.len;

        if (ngx_strncmp(url, wh[i].url.data, len) == 0
            && (wh[i].url.data[len - 1] == '/' || url[len] == '\0'
                || url[len] == '/' || url[len] == '?'))
        {
            found = &wh[i];
            break;
        }
    }

    if (found == NULL) {
        ngx_http_ttai_hook_outcome(h, row, 0, "its host is no longer in "
                                   "ttai_alert_webhooks");
        return NGX_DECLINED;
    }

    h->bg = ngx_http_ttai_background_create((ngx_cycle_t *) ngx_cycle,
                                            h->tmcf);
    text = ttai_monitor_webhook_body(row);

    if (h->bg == NULL || text == NULL) {
        free(text);

        if (h->bg != NULL) {
            ngx_http_ttai_background_done(h->bg);
            h->bg = NULL;
        }

        ngx_http_ttai_hook_outcome(h, row, 0, "out of memory");
        return NGX_DECLINED;
    }

    r = h->bg->request;

    body.len = ngx_strlen(text);
    body.data = ngx_pnalloc(r->pool, body.len);

    if (body.data == NULL) {
        free(text);
        goto failed;
    }

    ngx_memcpy(body.data, text, body.len);
    free(text);

    ngx_str_set(&uri, NGX_HTTP_TTAI_HOOK_LOCATION);

    h->called = 0;
    h->cap = ngx_http_ttai_capture(r, &uri, NULL, &body, 4096,
                                   ngx_http_ttai_hook_sent, h);
    if (h->cap == NULL) {
        goto failed;
    }

    /* the path after the authority the operator allowed */
    h->cap->uri.data = (u_char *) url + found->authority;
    h->cap->uri.len = ngx_strlen(url) - found->authority;

    if (h->cap->uri.len == 0) {
        ngx_str_set(&h->cap->uri, "/");
    }

    h->cap->peer = found->peer;
    h->cap->host = found->host;

    if (found->tls) {
        ngx_str_set(&h->cap->scheme, "https");

    } else {
        ngx_str_set(&h->cap->scheme, "http");
    }

    ngx_http_run_posted_requests(r->connection);

    return NGX_OK;

failed:

    ngx_http_ttai_background_done(h->bg);
    h->bg = NULL;
    ngx_http_ttai_hook_outcome(h, row, 0, "out of memory");

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_ttai_hook_sent(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_ttai_hook_worker_t *h = data;

    ngx_uint_t  ok;
    json_t     *row;

    /* called again for nginx's own error page: the first call counts */
    if (h->called) {
        return rc;
    }

    h->called = 1;

    ok = h->cap->answered && h->cap->status >= 200 && h->cap->status < 300;
    row = json_array_get(h->rows, h->row - 1);

    ngx_http_ttai_hook_outcome(h, row, ok, ok ? NULL : "not answered 2xx");

    ngx_http_ttai_background_done(h->bg);
    h->bg = NULL;

    ngx_post_event(&h->next, &ngx_posted_events);

    return rc;
}


static void
ngx_http_ttai_hook_outcome(ngx_http_ttai_hook_worker_t *h, json_t *row,
    ngx_uint_t sent, const char *why)
{
    if (sent) {
        h->sent++;

    } else {
        h->failed++;
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "ttai: alert %lld's webhook was not delivered: %s",
                      (long long) json_integer_value(json_object_get(row,
                                                                     "id")),
                      why);
    }

    if (ttai_d1_push(h->outcomes,
                     ttai_monitor_webhook_done(row, (char *) h->lease,
                                               sent ? 1 : 0,
                                               ngx_http_ttai_hook_now()))
        != 0)
    {
        /* the lease passes, and the alert is claimed again */
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "ttai: a webhook's outcome could not be kept");
    }
}


static void
ngx_http_ttai_hook_finish(ngx_http_ttai_hook_worker_t *h)
{
    ngx_slab_pool_t              *shpool;
    ngx_http_ttai_monitor_shm_t  *sh;

    shpool = (ngx_slab_pool_t *) ngx_http_ttai_monitor_zone->shm.addr;
    sh = ngx_http_ttai_monitor_zone->data;

    ngx_shmtx_lock(&shpool->mutex);
    sh->webhooks_sent += h->sent;
    sh->webhooks_failed += h->failed;
    ngx_shmtx_unlock(&shpool->mutex);

    h->sent = 0;
    h->failed = 0;

    json_decref(h->query->batch);
    h->query->batch = h->outcomes;
    h->outcomes = NULL;
    h->query->handler = ngx_http_ttai_hook_written;
    h->query->data = h;

    if (json_array_size(h->query->batch) == 0
        || ngx_http_ttai_d1_post_task(h->tmcf->db, h->query) != NGX_OK)
    {
        h->done();
    }
}


static ngx_int_t
ngx_http_ttai_hook_written(ngx_http_request_t *r, ngx_http_ttai_d1_query_t *q)
{
    ngx_http_ttai_hook_worker_t  *h;

    h = &ngx_http_ttai_hook_worker;

    if (q->rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "ttai: the webhooks' outcomes were not written: %s",
                      q->error.msg);
    }

    h->done();

    return NGX_OK;
}


static long long
ngx_http_ttai_hook_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (long long) tp->sec * 1000 + tp->msec;
}
