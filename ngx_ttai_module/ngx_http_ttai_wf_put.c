
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_d1.h"
#include "ttai_r2.h"


/*
 * An object put in R2 for a workflow's step (a daily brief): the file is
 * written and synced on the database's thread pool, never on the event
 * loop, by the same code as "ttai r2 object put"; what it says becomes
 * the step.  A write that failed (a full disk) is the step's error, and
 * the workflow says so: nothing is reported saved that is not.
 */

typedef struct {
    ngx_pool_t                   *pool;
    char                         *root;
    json_t                       *request;
    ngx_http_ttai_step_done_pt    done;
    void                         *data;

    /* the thread's outcome */
    int                           rc;
    ttai_r2_meta_t                meta;
    char                          err[TTAI_R2_ERRLEN];
} ngx_http_ttai_wf_put_t;


static void ngx_http_ttai_wf_put_thread(void *data, ngx_log_t *log);
static void ngx_http_ttai_wf_put_done(ngx_event_t *ev);


ngx_int_t
ngx_http_ttai_wf_put(ngx_http_ttai_main_conf_t *tmcf, const char *request,
    ngx_http_ttai_step_done_pt done, void *data)
{
    u_char                  *p;
    ngx_pool_t              *pool;
    ngx_thread_task_t       *task;
    ngx_http_ttai_wf_put_t  *put;

    if (tmcf->db == NULL || tmcf->db->thread_pool == NULL
        || tmcf->state_dir.len == 0)
    {
        return NGX_ERROR;
    }

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    task = ngx_thread_task_alloc(pool, sizeof(ngx_http_ttai_wf_put_t));
    if (task == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    put = task->ctx;
    put->pool = pool;
    put->done = done;
    put->data = data;
    put->request = json_loads(request, 0, NULL);
    put->root = ngx_pnalloc(pool, tmcf->state_dir.len + sizeof("/r2"));

    if (put->request == NULL || put->root == NULL) {
        json_decref(put->request);
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    p = ngx_cpymem(put->root, tmcf->state_dir.data, tmcf->state_dir.len);
    ngx_memcpy(p, "/r2", sizeof("/r2"));

    task->handler = ngx_http_ttai_wf_put_thread;
    task->event.handler = ngx_http_ttai_wf_put_done;
    task->event.data = put;

    if (ngx_thread_task_post(tmcf->db->thread_pool, task) != NGX_OK) {
        json_decref(put->request);
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_ttai_wf_put_thread(void *data, ngx_log_t *log)
{
    ngx_http_ttai_wf_put_t *put = data;

    const char  *body;

    body = json_string_value(json_object_get(put->request, "body"));

    put->rc = ttai_r2_put(put->root,
                          json_string_value(json_object_get(put->request,
                                                            "bucket")),
                          json_string_value(json_object_get(put->request,
                                                            "key")),
                          body, body ? ngx_strlen(body) : 0,
                          json_string_value(json_object_get(put->request,
                                                            "content_type")),
                          &put->meta, put->err);
}


static void
ngx_http_ttai_wf_put_done(ngx_event_t *ev)
{
    ngx_http_ttai_wf_put_t *put = ev->data;

    json_t  *out;

    if (put->rc == TTAI_R2_OK) {
        out = json_pack("{s:O, s:s, s:I, s:s}", "bucket",
                        json_object_get(put->request, "bucket"), "key",
                        put->meta.key, "size", (json_int_t) put->meta.size,
                        "etag", put->meta.etag);

    } else {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "ttai: a workflow's R2 object was not saved: %s",
                      put->err);

        out = json_pack("{s:s}", "error", put->err);
    }

    put->done(put->data, out, NULL);

    json_decref(out);
    json_decref(put->request);
    ngx_destroy_pool(put->pool);
}
