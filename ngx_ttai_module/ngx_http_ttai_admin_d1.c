
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ttai_admin.h"
#include "ngx_http_ttai_d1.h"


/*
 * The D1 part of the admin API:
 *
 *     POST /_ttai/d1/query   {"sql":"...","params":[...]}
 *
 * runs one statement on the thread pool and answers 200 with the result
 * ({"results":[...],"meta":{...}}), 400 with {"error":"sql_error",
 * "message":<SQLite's message>} when the statement or its parameters are
 * wrong, 503 when the database stays locked or the queue is full, 500
 * when the database itself fails.
 */


static void ngx_http_ttai_admin_d1_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_admin_d1_done(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q);


ngx_int_t
ngx_http_ttai_admin_d1(ngx_http_request_t *r, ngx_str_t *path)
{
    ngx_int_t  rc;

    if (path->len != 5 || ngx_strncmp(path->data, "query", 5) != 0) {
        return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         "the D1 admin API has one "
                                         "endpoint: POST /_ttai/d1/query");
    }

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_ttai_admin_not_allowed(r, "POST");
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_ttai_admin_d1_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_ttai_admin_d1_body(ngx_http_request_t *r)
{
    json_t                    *json, *sql, *params;
    ngx_int_t                  rc;
    ngx_str_t                  body;
    json_error_t               jerr;
    ngx_http_ttai_d1_query_t  *q;

    if (ngx_http_ttai_admin_body(r, &body) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    json = json_loadb((char *) body.data, body.len, 0, &jerr);

    sql = json_object_get(json, "sql");
    params = json_object_get(json, "params");

    if (!json_is_string(sql)
        || (params != NULL && !json_is_array(params) && !json_is_null(params)))
    {
        json_decref(json);
        ngx_http_finalize_request(r,
            ngx_http_ttai_admin_error(r, NGX_HTTP_BAD_REQUEST, "bad_request",
                                      "the body must be JSON: {\"sql\":"
                                      "\"...\",\"params\":[...]}"));
        return;
    }

    q = ngx_http_ttai_d1_query_create(r->pool);
    if (q == NULL) {
        json_decref(json);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    q->sql.len = json_string_length(sql);
    q->sql.data = ngx_pnalloc(r->pool, q->sql.len);
    if (q->sql.data == NULL) {
        json_decref(json);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(q->sql.data, json_string_value(sql), q->sql.len);

    q->params = json_is_array(params) ? json_incref(params) : NULL;
    q->flags = NGX_HTTP_TTAI_D1_TEXT;
    q->handler = ngx_http_ttai_admin_d1_done;

    json_decref(json);

    rc = ngx_http_ttai_d1_post(r, q);

    switch (rc) {

    case NGX_OK:
        /* the query holds the request now; let go of the body's hold */
        ngx_http_finalize_request(r, NGX_DONE);
        return;

    case NGX_BUSY:
        ngx_http_finalize_request(r, ngx_http_ttai_d1_send_busy(r));
        return;

    case NGX_DECLINED:
        ngx_http_finalize_request(r,
            ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND, "no_database",
                                      "no database is configured: set "
                                      "ttai_db or ttai_state_dir"));
        return;

    default:
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
}


static ngx_int_t
ngx_http_ttai_admin_d1_done(ngx_http_request_t *r,
    ngx_http_ttai_d1_query_t *q)
{
    if (q->rc == NGX_OK) {
        return ngx_http_ttai_send_json(r, NGX_HTTP_OK, q->text.data,
                                       q->text.len);
    }

    switch (q->error.kind) {

    case TTAI_D1_ESQL:
        return ngx_http_ttai_admin_error(r, NGX_HTTP_BAD_REQUEST,
                                         "sql_error", q->error.msg);

    case TTAI_D1_EBUSY:
        return ngx_http_ttai_d1_send_busy(r);

    default:
        return ngx_http_ttai_admin_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                         "db_error", q->error.msg);
    }
}
