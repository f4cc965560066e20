
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_ttai_session.h"
#include "ngx_http_ttai_monitor.h"
#include "ngx_http_ttai_admin.h"
#include "ngx_http_ttai_kv.h"


/*
 * A session is one entry of the sessions zone, keyed by its id, with the
 * idle timeout as its TTL.  Its value is lines of text, so that a request
 * reads it without a JSON parser:
 *
 *     sub \n version \n log level \n created \n touched \n capabilities
 *     JSON \n clientInfo JSON
 *
 * Both JSON texts are compact, one line each.  A session kept before the
 * capabilities were has no such line: its client declared none ttai uses.
 */


static ngx_int_t ngx_http_ttai_session_parse(ngx_str_t *value,
    ngx_http_ttai_session_t *s);
static ngx_int_t ngx_http_ttai_session_line(u_char **p, u_char *last,
    ngx_str_t *line);
static ngx_int_t ngx_http_ttai_debug_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_session_owner(ngx_http_ttai_kv_entry_t *entry,
    ngx_str_t *owner);
static ngx_int_t ngx_http_ttai_debug_user(ngx_http_request_t *r);


ngx_int_t
ngx_http_ttai_session_get(ngx_http_request_t *r, ngx_str_t *id,
    ngx_http_ttai_session_t *s)
{
    ngx_uint_t                  i;
    ngx_http_ttai_kv_entry_t    entry;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    if (tmcf->sessions == NULL || id->len != NGX_HTTP_TTAI_SESSION_ID_LEN) {
        return NGX_DECLINED;
    }

    /* only ids this server could have made are looked up */
    for (i = 0; i < id->len; i++) {
        if (!((id->data[i] >= '0' && id->data[i] <= '9')
              || (id->data[i] >= 'a' && id->data[i] <= 'f')))
        {
            return NGX_DECLINED;
        }
    }

    if (ngx_http_ttai_kv_get(tmcf->sessions, id, r->pool, &entry) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_ttai_session_parse(&entry.value, s) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "ttai: session \"%V\" is unreadable, dropped", id);
        (void) ngx_http_ttai_kv_delete(tmcf->sessions, id, NULL,
                                       r->connection->log);
        return NGX_DECLINED;
    }

    s->id = *id;
    s->expires = (time_t) (entry.expires / 1000);

    return NGX_OK;
}


ngx_int_t
ngx_http_ttai_session_create(ngx_http_request_t *r,
    ngx_http_ttai_session_t *s, ngx_http_ttai_kv_wait_t *w)
{
    u_char  bytes[NGX_HTTP_TTAI_SESSION_ID_LEN / 2];

    s->id.data = ngx_pnalloc(r->pool, NGX_HTTP_TTAI_SESSION_ID_LEN + 1);
    if (s->id.data == NULL) {
        return NGX_ERROR;
    }

    randombytes_buf(bytes, sizeof(bytes));
    sodium_bin2hex((char *) s->id.data, NGX_HTTP_TTAI_SESSION_ID_LEN + 1,
                   bytes, sizeof(bytes));
    s->id.len = NGX_HTTP_TTAI_SESSION_ID_LEN;

    s->created = ngx_time();

    return ngx_http_ttai_session_save(r, s, w);
}


ngx_int_t
ngx_http_ttai_session_save(ngx_http_request_t *r, ngx_http_ttai_session_t *s,
    ngx_http_ttai_kv_wait_t *w)
{
    u_char                     *p;
    size_t                      len;
    ngx_int_t                   rc;
    ngx_http_ttai_kv_entry_t    entry;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    if (tmcf->sessions == NULL) {
        return NGX_ERROR;
    }

    s->touched = ngx_time();

    len = s->sub.len + s->version.len + s->log_level.len + s->caps.len
          + s->client.len + 2 * NGX_TIME_T_LEN + 6;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    entry.key = s->id;
    entry.value.data = p;
    entry.value.len = ngx_sprintf(p, "%V\n%V\n%V\n%T\n%T\n%V\n%V",
                                  &s->sub, &s->version, &s->log_level,
                                  s->created, s->touched, &s->caps,
                                  &s->client)
                      - p;
    ngx_str_null(&entry.metadata);
    entry.expires = (uint64_t) (s->touched + tmcf->session_timeout) * 1000;

    /* the zone says why in its log lines, a few per interval at most */
    rc = ngx_http_ttai_kv_set(tmcf->sessions, &entry, w, r->connection->log);

    if (rc == NGX_ABORT) {
        return NGX_ABORT;
    }

    if (rc != NGX_OK && rc != NGX_AGAIN) {
        return NGX_BUSY;
    }

    s->expires = s->touched + tmcf->session_timeout;

    return rc;
}


ngx_int_t
ngx_http_ttai_session_delete(ngx_http_request_t *r, ngx_str_t *id,
    ngx_http_ttai_kv_wait_t *w)
{
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    if (tmcf->sessions == NULL) {
        return NGX_DECLINED;
    }

    return ngx_http_ttai_kv_delete(tmcf->sessions, id, w, r->connection->log);
}


static ngx_int_t
ngx_http_ttai_session_parse(ngx_str_t *value, ngx_http_ttai_session_t *s)
{
    u_char     *p, *last;
    ngx_str_t   created, touched;

    p = value->data;
    last = value->data + value->len;

    if (ngx_http_ttai_session_line(&p, last, &s->sub) != NGX_OK
        || ngx_http_ttai_session_line(&p, last, &s->version) != NGX_OK
        || ngx_http_ttai_session_line(&p, last, &s->log_level) != NGX_OK
        || ngx_http_ttai_session_line(&p, last, &created) != NGX_OK
        || ngx_http_ttai_session_line(&p, last, &touched) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_strlchr(p, last, '\n') != NULL
        && ngx_http_ttai_session_line(&p, last, &s->caps) != NGX_OK)
    {
        return NGX_ERROR;
    }

    s->client.data = p;
    s->client.len = last - p;

    s->created = ngx_atotm(created.data, created.len);
    s->touched = ngx_atotm(touched.data, touched.len);

    if (s->sub.len == 0 || s->created == NGX_ERROR
        || s->touched == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_session_line(u_char **p, u_char *last, ngx_str_t *line)
{
    u_char  *nl;

    nl = ngx_strlchr(*p, last, '\n');
    if (nl == NULL) {
        return NGX_ERROR;
    }

    line->data = *p;
    line->len = nl - *p;
    *p = nl + 1;

    return NGX_OK;
}


/*
 * A session belongs to its user: the first line of its value.  The
 * zone counts each user's sessions by it, also for the sessions a
 * snapshot brings back.
 */

static ngx_int_t
ngx_http_ttai_session_owner(ngx_http_ttai_kv_entry_t *entry, ngx_str_t *owner)
{
    u_char  *nl;

    nl = ngx_strlchr(entry->value.data, entry->value.data + entry->value.len,
                     '\n');

    if (nl == NULL || nl == entry->value.data) {
        return NGX_ERROR;
    }

    owner->data = entry->value.data;
    owner->len = nl - entry->value.data;

    return NGX_OK;
}


void
ngx_http_ttai_session_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf)
{
    if (tmcf->sessions != NULL) {
        ngx_http_ttai_kv_policy(tmcf->sessions, 1,
                                ngx_http_ttai_session_owner,
                                tmcf->sessions_per_user);
    }
}


char *
ngx_http_ttai_session_per_user(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_ttai_main_conf_t *tmcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (tmcf->sessions_per_user != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        tmcf->sessions_per_user = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);

    if (n < 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\": a number of sessions of at "
                           "least 1, or \"off\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    tmcf->sessions_per_user = n;

    return NGX_CONF_OK;
}


/*
 * GET /debug/do/SESSIONS/<id>: one session's state, the seed's debug
 * endpoint for durable objects.  Development only, loopback only, as the
 * admin API.
 */

char *
ngx_http_ttai_debug(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_ttai_set_handler(cf, ngx_http_ttai_debug_handler);
    if (tmcf == NULL) {
        return "is duplicate";
    }

    tmcf->admin = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_ttai_debug_handler(ngx_http_request_t *r)
{
    u_char                   *p, *body;
    size_t                    len;
    ngx_int_t                 rc;
    ngx_str_t                 id;
    ngx_http_ttai_session_t   s;

    static ngx_str_t  prefix = ngx_string("/debug/do/SESSIONS/");
    static ngx_str_t  monitor = ngx_string("/debug/do/PORTFOLIO_MONITOR");
    static ngx_str_t  null_json = ngx_string("null");

    if (!ngx_http_ttai_admin_allowed(r, &rc)) {
        return rc;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_ttai_admin_not_allowed(r, "GET, HEAD");
    }

    /* the other durable object: /debug/do/PORTFOLIO_MONITOR[/<user>] */
    if (r->uri.len >= monitor.len
        && ngx_strncmp(r->uri.data, monitor.data, monitor.len) == 0
        && (r->uri.len == monitor.len || r->uri.data[monitor.len] == '/'))
    {
        id.data = r->uri.data + monitor.len;
        id.len = r->uri.len - monitor.len;

        if (id.len) {
            id.data++;
            id.len--;
        }

        if (id.len > 255) {
            return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND,
                                             "not_found", "no such user");
        }

        return ngx_http_ttai_monitor_debug(r, &id);
    }

    if (r->uri.len == prefix.len - 1
        && ngx_strncmp(r->uri.data, prefix.data, prefix.len - 1) == 0)
    {
        return ngx_http_ttai_debug_user(r);
    }

    if (r->uri.len <= prefix.len
        || ngx_strncmp(r->uri.data, prefix.data, prefix.len) != 0)
    {
        return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         "use /debug/do/SESSIONS/<id>");
    }

    id.data = r->uri.data + prefix.len;
    id.len = r->uri.len - prefix.len;

    if (ngx_http_ttai_session_get(r, &id, &s) != NGX_OK) {
        return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         "no such session: unknown, ended "
                                         "or expired");
    }

    len = sizeof("{\"class\":\"SESSIONS\",\"id\":\"\",\"sub\":\"\","
                 "\"protocolVersion\":\"\",\"logLevel\":\"\","
                 "\"createdAt\":,\"lastSeenAt\":,\"expiresAt\":,"
                 "\"client\":}")
          + s.id.len + 6 * s.sub.len + s.version.len + s.log_level.len
          + 3 * NGX_TIME_T_LEN + s.client.len + 4;

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(body, "{\"class\":\"SESSIONS\",\"id\":\"%V\",\"sub\":\"",
                    &s.id);
    p = (u_char *) ngx_escape_json(p, s.sub.data, s.sub.len);
    p = ngx_sprintf(p, "\",\"protocolVersion\":\"%V\",\"logLevel\":\"%V\","
                    "\"createdAt\":%T,\"lastSeenAt\":%T,\"expiresAt\":%T,"
                    "\"client\":%V}",
                    &s.version, &s.log_level, s.created, s.touched,
                    s.expires, s.client.len ? &s.client : &null_json);

    return ngx_http_ttai_send_json(r, NGX_HTTP_OK, body, p - body);
}


/* GET /debug/do/SESSIONS?user=<sub>: how many sessions a user holds */

static ngx_int_t
ngx_http_ttai_debug_user(ngx_http_request_t *r)
{
    u_char                     *p, *dst, *body;
    size_t                      len;
    ngx_str_t                   arg, user;
    ngx_uint_t                  n;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    if (tmcf->sessions == NULL
        || ngx_http_arg(r, (u_char *) "user", 4, &arg) != NGX_OK
        || arg.len == 0)
    {
        return ngx_http_ttai_admin_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                         "use /debug/do/SESSIONS/<id> or "
                                         "/debug/do/SESSIONS?user=<sub>");
    }

    user.data = ngx_pnalloc(r->pool, arg.len);
    if (user.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = arg.data;
    dst = user.data;
    ngx_unescape_uri(&dst, &p, arg.len, 0);
    user.len = dst - user.data;

    n = ngx_http_ttai_kv_owner_count(tmcf->sessions, &user);

    len = sizeof("{\"class\":\"SESSIONS\",\"user\":\"\",\"sessions\":,"
                 "\"limit\":}")
          + 6 * user.len + 2 * NGX_INT_T_LEN;

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(body, "{\"class\":\"SESSIONS\",\"user\":\"",
                   sizeof("{\"class\":\"SESSIONS\",\"user\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, user.data, user.len);
    p = ngx_sprintf(p, "\",\"sessions\":%ui,\"limit\":%ui}", n,
                    tmcf->sessions_per_user);

    return ngx_http_ttai_send_json(r, NGX_HTTP_OK, body, p - body);
}
