
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_ttai_module.h"
#include "ttai_env.h"


/* an env file of secrets has no reason to be large */
#define NGX_HTTP_TTAI_ENV_FILE_MAX  65536


static ngx_int_t ngx_http_ttai_read_env_file(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf, ttai_env_t *env);
static ngx_int_t ngx_http_ttai_read_nginx_env(ngx_conf_t *cf,
    ttai_env_t *env);
static ngx_int_t ngx_http_ttai_check_secrets(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf, ttai_env_t *env);
static ngx_int_t ngx_http_ttai_keep_secrets(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf, ttai_env_t *env);
static void ngx_http_ttai_wipe_secrets(void *data);


char *
ngx_http_ttai_env_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_main_conf_t *tmcf = conf;

    ngx_str_t  *value;

    if (tmcf->env_file.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    tmcf->env_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &tmcf->env_file, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    tmcf->enabled = 1;

    return NGX_CONF_OK;
}


/*
 * Values come from the env file, then from nginx's "env" directive, which
 * wins.  "env" must therefore stand before the http block.  Every problem
 * is reported, one line each, naming the key and where it was set, and
 * never the value.
 */

char *
ngx_http_ttai_secrets_init(ngx_conf_t *cf, ngx_http_ttai_main_conf_t *tmcf)
{
    ngx_int_t   rc;
    ttai_env_t  env;

    ttai_env_init(&env);

    rc = NGX_OK;

    if (tmcf->env_file.len) {
        rc = ngx_http_ttai_read_env_file(cf, tmcf, &env);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_ttai_read_nginx_env(cf, &env);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_ttai_check_secrets(cf, tmcf, &env);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_ttai_keep_secrets(cf, tmcf, &env);
    }

    ttai_env_free(&env);

    return (rc == NGX_OK) ? NGX_CONF_OK : NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_ttai_read_env_file(ngx_conf_t *cf, ngx_http_ttai_main_conf_t *tmcf,
    ttai_env_t *env)
{
    u_char            *buf;
    off_t              size;
    ssize_t            n;
    ngx_fd_t           fd;
    ngx_int_t          rc;
    ngx_file_info_t    fi;
    ttai_env_error_t   err;

    fd = ngx_open_file(tmcf->env_file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN,
                       0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, ngx_errno,
                      "ttai: cannot open env file \"%V\"", &tmcf->env_file);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;
    buf = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, ngx_errno,
                      ngx_fd_info_n " \"%V\" failed", &tmcf->env_file);
        goto done;
    }

    size = ngx_file_size(&fi);

    if (size > NGX_HTTP_TTAI_ENV_FILE_MAX) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "ttai: env file \"%V\" is larger than %d bytes",
                      &tmcf->env_file, NGX_HTTP_TTAI_ENV_FILE_MAX);
        goto done;
    }

    buf = ngx_alloc(size + 1, cf->log);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, buf, size);

    if (n != size) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, ngx_errno,
                      "ttai: cannot read env file \"%V\"", &tmcf->env_file);
        goto done;
    }

    if (ttai_env_parse(env, (char *) buf, size, &err) != 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "ttai: %V:%ui: %s",
                      &tmcf->env_file, (ngx_uint_t) err.line, err.msg);
        goto done;
    }

    rc = NGX_OK;

done:

    if (buf != NULL) {
        sodium_memzero(buf, size);
        ngx_free(buf);
    }

    ngx_close_file(fd);

    return rc;
}


static ngx_int_t
ngx_http_ttai_read_nginx_env(ngx_conf_t *cf, ttai_env_t *env)
{
    u_char           *val, name[TTAI_ENV_MAX_KEY + 1];
    size_t            len;
    ngx_str_t        *var;
    ngx_uint_t        i;
    ngx_core_conf_t  *ccf;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                           ngx_core_module);

    var = ccf->env.elts;

    for (i = 0; i < ccf->env.nelts; i++) {
        len = var[i].len;

        if (len > TTAI_ENV_MAX_KEY) {
            continue;
        }

        ngx_memcpy(name, var[i].data, len);
        name[len] = '\0';

        if (ttai_secret_find((char *) name) == NULL) {
            continue;
        }

        /*
         * "env NAME=value;" is stored with the length of NAME alone; the
         * value follows the '=' in the same NUL-terminated string
         */

        if (var[i].data[len] == '=') {
            val = var[i].data + len + 1;

        } else {
            val = (u_char *) getenv((char *) name);
            if (val == NULL) {
                continue;
            }
        }

        len = ngx_strlen(val);

        /* line 0 marks a value that came from nginx's "env" */
        if (ttai_env_set(env, (char *) name, (char *) val, len, 0) != 0) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "ttai: out of memory reading \"env\"");
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_check_secrets(ngx_conf_t *cf, ngx_http_ttai_main_conf_t *tmcf,
    ttai_env_t *env)
{
    ngx_int_t                  rc;
    const char                *why;
    const ttai_env_entry_t    *e;
    const ttai_secret_spec_t  *s;

    rc = NGX_OK;

    for (s = ttai_secret_specs; s->name != NULL; s++) {
        e = ttai_env_get(env, s->name);

        why = ttai_secret_check(s, e ? e->value : NULL, e ? e->value_len : 0);
        if (why == NULL) {
            continue;
        }

        rc = NGX_ERROR;

        if (e == NULL && tmcf->env_file.len) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "ttai: %s %s: set it in \"%V\" or pass it "
                          "with the \"env\" directive",
                          s->name, why, &tmcf->env_file);

        } else if (e == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "ttai: %s %s: name an env file with "
                          "\"ttai_env_file\" or pass it with the \"env\" "
                          "directive", s->name, why);

        } else if (e->line == 0) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "ttai: %s from the \"env\" directive %s",
                          s->name, why);

        } else {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "ttai: %s in \"%V\" line %ui %s",
                          s->name, &tmcf->env_file, (ngx_uint_t) e->line,
                          why);
        }
    }

    return rc;
}


static ngx_int_t
ngx_http_ttai_keep_secrets(ngx_conf_t *cf, ngx_http_ttai_main_conf_t *tmcf,
    ttai_env_t *env)
{
    ngx_keyval_t              *kv;
    ngx_pool_cleanup_t        *cln;
    const ttai_env_entry_t    *e;
    const ttai_secret_spec_t  *s;

    tmcf->vars = ngx_array_create(cf->pool, 16, sizeof(ngx_keyval_t));
    if (tmcf->vars == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_ttai_wipe_secrets;
    cln->data = tmcf;

    for (s = ttai_secret_specs; s->name != NULL; s++) {
        e = ttai_env_get(env, s->name);
        if (e == NULL || e->value_len == 0) {
            continue;
        }

        kv = ngx_array_push(tmcf->vars);
        if (kv == NULL) {
            return NGX_ERROR;
        }

        kv->key.data = (u_char *) s->name;
        kv->key.len = ngx_strlen(s->name);

        kv->value.len = e->value_len;
        kv->value.data = ngx_pnalloc(cf->pool, e->value_len + 1);
        if (kv->value.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(kv->value.data, e->value, e->value_len + 1);
    }

    tmcf->jwt_secret = *ngx_http_ttai_var(tmcf, "JWT_SECRET");

    e = ttai_env_get(env, "TOKEN_ENCRYPTION_KEY");

    /* checked above; cannot fail here */
    return ttai_secret_hex32(e->value, e->value_len, tmcf->token_key) == 0
           ? NGX_OK : NGX_ERROR;
}


ngx_str_t *
ngx_http_ttai_var(ngx_http_ttai_main_conf_t *tmcf, char *key)
{
    size_t         len;
    ngx_uint_t     i;
    ngx_keyval_t  *kv;

    static ngx_str_t  empty = ngx_null_string;

    if (tmcf->vars == NULL) {
        return &empty;
    }

    len = ngx_strlen(key);
    kv = tmcf->vars->elts;

    for (i = 0; i < tmcf->vars->nelts; i++) {
        if (kv[i].key.len == len && ngx_strncmp(kv[i].key.data, key, len) == 0)
        {
            return &kv[i].value;
        }
    }

    return &empty;
}


static void
ngx_http_ttai_wipe_secrets(void *data)
{
    ngx_http_ttai_main_conf_t *tmcf = data;

    ngx_uint_t     i;
    ngx_keyval_t  *kv;

    kv = tmcf->vars->elts;

    for (i = 0; i < tmcf->vars->nelts; i++) {
        sodium_memzero(kv[i].value.data, kv[i].value.len);
    }

    sodium_memzero(tmcf->token_key, sizeof(tmcf->token_key));
}
