
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_d1.h"
#include "ngx_http_ttai_kv.h"
#include "ngx_http_ttai_monitor.h"
#include "ngx_http_ttai_dxlink.h"
#include "ngx_http_ttai_session.h"
#include "ngx_http_ttai_throttle.h"
#include "ngx_http_ttai_auth.h"
#include "ngx_http_ttai_revoked.h"
#include "ttai_state.h"


static ngx_int_t ngx_http_ttai_add_variables(ngx_conf_t *cf);
static void *ngx_http_ttai_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_ttai_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_ttai_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_ttai_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_ttai_state_dir(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_ttai_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_ttai_init_process(ngx_cycle_t *cycle);
static void ngx_http_ttai_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_ttai_request_ms_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


/* a keep-alive the mock and DXLink both take; a cap the core enforces */
static ngx_conf_num_bounds_t  ngx_http_ttai_dxlink_keepalive_bounds = {
    ngx_conf_check_num_bounds, 2, 3600
};

static ngx_conf_num_bounds_t  ngx_http_ttai_dxlink_max_bounds = {
    ngx_conf_check_num_bounds, 1, 1000
};


static ngx_conf_enum_t  ngx_http_ttai_environments[] = {
    { ngx_string("production"), NGX_HTTP_TTAI_PRODUCTION },
    { ngx_string("development"), NGX_HTTP_TTAI_DEVELOPMENT },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_ttai_commands[] = {

    { ngx_string("ttai_env_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ttai_env_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_environment"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, environment),
      &ngx_http_ttai_environments },

    { ngx_string("ttai_state_dir"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ttai_state_dir,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_kv_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_ttai_kv_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, kv),
      NULL },

    { ngx_string("ttai_mcp_sessions"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_ttai_kv_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, sessions),
      NULL },

    { ngx_string("ttai_mcp_listen_per_user"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, listen_per_user),
      NULL },

    { ngx_string("ttai_mcp_request_state_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, request_state_ttl),
      NULL },

    { ngx_string("ttai_mcp_session_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, session_timeout),
      NULL },

    { ngx_string("ttai_mcp_sessions_per_user"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ttai_session_per_user,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, sessions_per_user),
      NULL },

    { ngx_string("ttai_db"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ttai_d1_path,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_migrations"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ttai_d1_migrations,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_queue"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_ttai_queue,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_workflows"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, workflows),
      NULL },

    { ngx_string("ttai_agents"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, agents),
      NULL },

    { ngx_string("ttai_llm_budget"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_ttai_llm_budget,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_monitor"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, monitor),
      NULL },

    { ngx_string("ttai_monitor_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, monitor_interval),
      NULL },

    { ngx_string("ttai_monitor_history"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, monitor_history),
      NULL },

    { ngx_string("ttai_dxlink"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, dxlink),
      NULL },

    { ngx_string("ttai_dxlink_user"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, dxlink_user),
      NULL },

    { ngx_string("ttai_dxlink_keepalive"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, dxlink_keepalive),
      &ngx_http_ttai_dxlink_keepalive_bounds },

    { ngx_string("ttai_dxlink_idle"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, dxlink_idle),
      NULL },

    { ngx_string("ttai_dxlink_max_symbols"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, dxlink_max_symbols),
      &ngx_http_ttai_dxlink_max_bounds },

    { ngx_string("ttai_dxlink_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, dxlink_trusted),
      NULL },

    { ngx_string("ttai_alert_webhooks"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_ttai_alert_webhooks,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ttai_d1_thread_pool,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_admin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_ttai_admin,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_debug"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_ttai_debug,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, jwt_issuer),
      NULL },

    { ngx_string("ttai_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, jwt_audience),
      NULL },

    { ngx_string("ttai_jwt_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ttai_main_conf_t, jwt_leeway),
      NULL },

    { ngx_string("ttai_mcp_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ttai_loc_conf_t, auth),
      NULL },

    { ngx_string("ttai_mcp_resource"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ttai_loc_conf_t, resource),
      NULL },

    { ngx_string("ttai_mcp_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ttai_loc_conf_t, max_body),
      NULL },

    { ngx_string("ttai_mcp_allowed_origins"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_conf_set_str_array_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ttai_loc_conf_t, origins),
      NULL },

    { ngx_string("ttai_mcp_toolsets"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_ttai_mcp_toolsets,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_mcp_fixtures"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_ttai_mcp_fixtures,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_trading"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ttai_loc_conf_t, trading),
      NULL },

    { ngx_string("ttai_trading_confirm_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ttai_loc_conf_t, trading_ttl),
      NULL },

    { ngx_string("ttai_trading_limits"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_ttai_trading_limits,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_mcp_metadata"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_ttai_metadata,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_ttai_health,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_mcp"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_ttai_mcp,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    /* sign-in: ttai as the OAuth authorization server of /mcp */
    { ngx_string("ttai_oauth"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_ttai_oauth,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ttai_oauth_revoked_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE23,
      ngx_http_ttai_revoked_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    /* the worker service's handlers (GET /quotes/<symbol>) */
    { ngx_string("ttai_worker"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_ttai_worker,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_ttai_module_ctx = {
    ngx_http_ttai_add_variables,           /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_ttai_create_main_conf,        /* create main configuration */
    ngx_http_ttai_init_main_conf,          /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_ttai_create_loc_conf,         /* create location configuration */
    ngx_http_ttai_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_ttai_module = {
    NGX_MODULE_V1,
    &ngx_http_ttai_module_ctx,             /* module context */
    ngx_http_ttai_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_ttai_init_module,             /* init module */
    ngx_http_ttai_init_process,            /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_ttai_exit_process,            /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_ttai_vars[] = {

    { ngx_string("ttai_request_ms"), NULL,
      ngx_http_ttai_request_ms_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ttai_traceparent"), NULL,
      ngx_http_ttai_mcp_traceparent_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/*
 * The time the server first loaded its configuration.  It is written once
 * and kept across reloads on purpose: a reload does not restart the
 * server, so it must not reset the uptime that /health reports.
 */
static time_t  ngx_http_ttai_start_time;


static ngx_int_t
ngx_http_ttai_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_ttai_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static void *
ngx_http_ttai_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_ttai_main_conf_t));
    if (tmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     tmcf->env_file = { 0, NULL };
     *     tmcf->vars = NULL;
     *     tmcf->jwt_secret = { 0, NULL };
     *     tmcf->state_dir = { 0, NULL };
     */

    tmcf->environment = NGX_CONF_UNSET_UINT;
    tmcf->enabled = NGX_CONF_UNSET;
    tmcf->session_timeout = NGX_CONF_UNSET;
    tmcf->request_state_ttl = NGX_CONF_UNSET;
    tmcf->listen_per_user = NGX_CONF_UNSET_UINT;
    tmcf->workflows = NGX_CONF_UNSET;
    tmcf->agents = NGX_CONF_UNSET;
    tmcf->llm_requests = NGX_CONF_UNSET_UINT;
    tmcf->llm_tokens = NGX_CONF_UNSET_UINT;
    tmcf->monitor = NGX_CONF_UNSET;
    tmcf->dxlink = NGX_CONF_UNSET;
    tmcf->dxlink_keepalive = NGX_CONF_UNSET;
    tmcf->dxlink_idle = NGX_CONF_UNSET;
    tmcf->dxlink_max_symbols = NGX_CONF_UNSET_UINT;
    tmcf->monitor_interval = NGX_CONF_UNSET_MSEC;
    tmcf->monitor_history = NGX_CONF_UNSET;
    tmcf->sessions_per_user = NGX_CONF_UNSET_UINT;
    tmcf->jwt_leeway = NGX_CONF_UNSET;

    return tmcf;
}


static char *
ngx_http_ttai_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_ttai_main_conf_t *tmcf = conf;

    /* production unless said otherwise: debug endpoints stay closed */
    ngx_conf_init_uint_value(tmcf->environment, NGX_HTTP_TTAI_PRODUCTION);
    ngx_conf_init_value(tmcf->enabled, 0);
    ngx_conf_init_value(tmcf->session_timeout, 30 * 60);
    ngx_conf_init_value(tmcf->request_state_ttl, 10 * 60);
    ngx_conf_init_uint_value(tmcf->listen_per_user, 8);
    ngx_conf_init_value(tmcf->workflows, 0);
    ngx_conf_init_value(tmcf->monitor, 0);
    ngx_conf_init_value(tmcf->dxlink, 0);
    ngx_conf_init_value(tmcf->dxlink_keepalive, 60);
    ngx_conf_init_value(tmcf->dxlink_idle, 600);
    ngx_conf_init_uint_value(tmcf->dxlink_max_symbols, 1000);

    if (tmcf->dxlink_trusted.data == NULL) {
        ngx_str_set(&tmcf->dxlink_trusted,
                    "/etc/ssl/certs/ca-certificates.crt");
    }
    ngx_conf_init_msec_value(tmcf->monitor_interval, 60000);
    ngx_conf_init_value(tmcf->monitor_history, 7 * 86400);
    ngx_conf_init_uint_value(tmcf->sessions_per_user,
                             NGX_HTTP_TTAI_SESSIONS_PER_USER);
    ngx_conf_init_value(tmcf->jwt_leeway, 60);

    if (!tmcf->enabled && tmcf->env_file.len == 0) {
        return NGX_CONF_OK;
    }

    if (tmcf->admin && tmcf->environment != NGX_HTTP_TTAI_DEVELOPMENT) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "ttai: \"ttai_admin\" and \"ttai_debug\" are for "
                      "development only: they need "
                      "\"ttai_environment development\"");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_ttai_secrets_init(cf, tmcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    /* before the database is opened: its -wal and -shm take its mode */
    if (tmcf->state_dir.len
        && ngx_http_ttai_private(cf, &tmcf->state_dir) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_ttai_d1_init_conf(cf, tmcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_ttai_kv_init_conf(cf, tmcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_http_ttai_session_init_conf(cf, tmcf);

    if (ngx_http_ttai_revoked_init_conf(cf, tmcf) != NGX_CONF_OK
        || ngx_http_ttai_monitor_init_conf(cf, tmcf) != NGX_CONF_OK
        || ngx_http_ttai_dxlink_init_conf(cf, tmcf) != NGX_CONF_OK
        || ngx_http_ttai_queue_init_conf(cf, tmcf) != NGX_CONF_OK
        || ngx_http_ttai_llm_init_conf(cf, tmcf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_ttai_mcp_init_conf(cf, tmcf);
}


static void *
ngx_http_ttai_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_ttai_loc_conf_t  *tlcf;

    tlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_ttai_loc_conf_t));
    if (tlcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     tlcf->service = { 0, NULL };
     *     tlcf->resource = { 0, NULL };
     */

    tlcf->auth = NGX_CONF_UNSET;
    tlcf->max_body = NGX_CONF_UNSET_SIZE;
    tlcf->origins = NGX_CONF_UNSET_PTR;
    tlcf->toolsets = NGX_CONF_UNSET_UINT;
    tlcf->fixtures = NGX_CONF_UNSET;
    tlcf->trading = NGX_CONF_UNSET;
    tlcf->trading_ttl = NGX_CONF_UNSET;
    tlcf->trading_limits = NGX_CONF_UNSET_PTR;

    return tlcf;
}


static char *
ngx_http_ttai_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_ttai_loc_conf_t *prev = parent;
    ngx_http_ttai_loc_conf_t *conf = child;

    ngx_http_ttai_main_conf_t  *tmcf;

    ngx_conf_merge_str_value(conf->service, prev->service, "mcp");
    ngx_conf_merge_value(conf->auth, prev->auth, 1);
    ngx_conf_merge_str_value(conf->resource, prev->resource, "");
    ngx_conf_merge_size_value(conf->max_body, prev->max_body, 1024 * 1024);
    ngx_conf_merge_ptr_value(conf->origins, prev->origins, NULL);
    ngx_conf_merge_uint_value(conf->toolsets, prev->toolsets, 0);
    ngx_conf_merge_value(conf->fixtures, prev->fixtures, 0);

    /* the main configuration is complete before any merge */
    tmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_ttai_module);

    if (!conf->auth && tmcf->environment != NGX_HTTP_TTAI_DEVELOPMENT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"ttai_mcp_auth off\" is for development only: "
                           "it needs \"ttai_environment development\"");
        return NGX_CONF_ERROR;
    }

    if (conf->fixtures && tmcf->environment != NGX_HTTP_TTAI_DEVELOPMENT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"ttai_mcp_fixtures\" is for development only: "
                           "it needs \"ttai_environment development\"");
        return NGX_CONF_ERROR;
    }

    return ngx_http_ttai_trading_merge(cf, prev, conf);
}


/*
 * The state folder and one folder per store are registered as nginx
 * paths, so nginx creates them and, when the master runs as root, hands
 * them to the worker user, as it does for its own temp paths.
 */

static char *
ngx_http_ttai_state_dir(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_main_conf_t *tmcf = conf;

    u_char       *p;
    ngx_str_t    *value;
    ngx_uint_t    i;
    ngx_path_t   *path;

    static char  *stores[] = { "", "/d1", "/kv", "/r2", "/do" };

    if (tmcf->state_dir.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "needs a path";
    }

    tmcf->state_dir = value[1];

    while (tmcf->state_dir.len > 1
           && tmcf->state_dir.data[tmcf->state_dir.len - 1] == '/')
    {
        tmcf->state_dir.len--;
    }

    if (ngx_conf_full_name(cf->cycle, &tmcf->state_dir, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < sizeof(stores) / sizeof(stores[0]); i++) {
        path = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
        if (path == NULL) {
            return NGX_CONF_ERROR;
        }

        path->name.len = tmcf->state_dir.len + ngx_strlen(stores[i]);
        path->name.data = ngx_pnalloc(cf->pool, path->name.len + 1);
        if (path->name.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_cpymem(path->name.data, tmcf->state_dir.data,
                       tmcf->state_dir.len);
        p = ngx_cpymem(p, stores[i], ngx_strlen(stores[i]));
        *p = '\0';

        path->conf_file = cf->conf_file->file.name.data;
        path->line = cf->conf_file->line;

        if (ngx_add_path(cf, &path) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * The state is the server's user's alone (ttai_state.h): what an older
 * version or a hand left open to other users is made private when nginx
 * loads its configuration, and said once.  A file that cannot be is a
 * warning, not a reason to stop serving.
 */

ngx_int_t
ngx_http_ttai_private(ngx_conf_t *cf, ngx_str_t *path)
{
    char                 *name;
    ttai_state_report_t   rep;

    name = ngx_http_ttai_cstr(cf->temp_pool, path);
    if (name == NULL) {
        return NGX_ERROR;
    }

    ttai_state_private(name, &rep);

    if (rep.tightened) {
        ngx_log_error(NGX_LOG_NOTICE, cf->log, 0,
                      "ttai: %uz file(s) and folder(s) of \"%s\" could be "
                      "read by other users (\"%s\" the first); they are "
                      "now the server user's only: files 0600, folders "
                      "0700", rep.tightened, name, rep.example);
    }

    if (rep.failed) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "ttai: %uz file(s) and folder(s) of \"%s\" could not "
                      "be made private to the server's user: %s",
                      rep.failed, name, rep.error);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_init_module(ngx_cycle_t *cycle)
{
    ngx_http_ttai_main_conf_t  *tmcf;

    if (sodium_init() < 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "ttai: libsodium could not be initialised");
        return NGX_ERROR;
    }

    if (ngx_http_ttai_start_time == 0) {
        ngx_http_ttai_start_time = ngx_time();
    }

    tmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_ttai_module);

    if (ngx_http_ttai_listen_init_module(cycle,
                                         tmcf != NULL && tmcf->mcp_used)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_ttai_d1_init_module(cycle, tmcf);
}


/*
 * The one place a location gets its content handler: a second ttai
 * handler in the same location is a duplicate, and any of them means the
 * secrets are needed.
 */

ngx_http_ttai_main_conf_t *
ngx_http_ttai_set_handler(ngx_conf_t *cf, ngx_http_handler_pt handler)
{
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_ttai_main_conf_t  *tmcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return NULL;
    }

    clcf->handler = handler;

    tmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_ttai_module);
    tmcf->enabled = 1;

    return tmcf;
}


static ngx_int_t
ngx_http_ttai_init_process(ngx_cycle_t *cycle)
{
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_ttai_module);

    if (tmcf == NULL || !tmcf->enabled) {
        return NGX_OK;
    }

    if (ngx_http_ttai_d1_init_process(cycle, tmcf) != NGX_OK
        || ngx_http_ttai_revoked_init_process(cycle, tmcf) != NGX_OK
        || ngx_http_ttai_listen_init_process(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_ttai_ask_init_process(cycle);

    if (ngx_http_ttai_queue_init_process(cycle, tmcf) != NGX_OK
        || ngx_http_ttai_workflow_init_process(cycle, tmcf) != NGX_OK
        || ngx_http_ttai_monitor_init_process(cycle, tmcf) != NGX_OK
        || ngx_http_ttai_dxlink_init_process(cycle, tmcf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_ttai_kv_init_process(cycle, tmcf);
}


static void
ngx_http_ttai_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_ttai_module);

    if (tmcf == NULL || !tmcf->enabled) {
        return;
    }

    ngx_http_ttai_listen_exit_process(cycle);
    ngx_http_ttai_dxlink_exit_process(cycle);
    ngx_http_ttai_kv_exit_process(cycle, tmcf);
    ngx_http_ttai_d1_exit_process(cycle, tmcf);

    ngx_http_ttai_throttle_flush(cycle->log);
}


time_t
ngx_http_ttai_started(void)
{
    return ngx_http_ttai_start_time;
}


static ngx_int_t
ngx_http_ttai_request_ms_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char          *p;
    ngx_msec_int_t   ms;
    ngx_time_t      *tp;

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    tp = ngx_timeofday();

    ms = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                           + (tp->msec - r->start_msec));
    ms = ngx_max(ms, 0);

    v->len = ngx_sprintf(p, "%M", ms) - p;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}


ngx_int_t
ngx_http_ttai_header(ngx_http_request_t *r, char *name, char *value,
    size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = (u_char *) value;
    h->value.len = len;

    return NGX_OK;
}


ngx_int_t
ngx_http_ttai_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *json, size_t len)
{
    return ngx_http_ttai_send_json_tail(r, status, json, len, NULL, 0);
}


ngx_int_t
ngx_http_ttai_send_json_tail(ngx_http_request_t *r, ngx_uint_t status,
    u_char *json, size_t len, u_char *tail, size_t tail_len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b, *t;
    ngx_chain_t   out[2];

    r->headers_out.status = status;
    r->headers_out.content_length_n = len + tail_len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (r->method == NGX_HTTP_HEAD || len + tail_len == 0) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = json;
    b->last = json + len;
    b->memory = 1;

    out[0].buf = b;
    out[0].next = NULL;

    if (tail_len) {
        t = ngx_calloc_buf(r->pool);
        if (t == NULL) {
            return NGX_ERROR;
        }

        t->pos = tail;
        t->last = tail + tail_len;
        t->memory = 1;

        out[0].next = &out[1];
        out[1].buf = t;
        out[1].next = NULL;

        b = t;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    return ngx_http_output_filter(r, out);
}


char *
ngx_http_ttai_cstr(ngx_pool_t *pool, ngx_str_t *s)
{
    u_char  *p;

    if (ngx_strlchr(s->data, s->data + s->len, '\0') != NULL) {
        return NULL;
    }

    p = ngx_pnalloc(pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s->data, s->len);
    p[s->len] = '\0';

    return (char *) p;
}


u_char *
ngx_http_ttai_uint(u_char *p, uint64_t n)
{
    size_t     len;
    uint64_t   m;

    static u_char  pairs[] =
        "0001020304050607080910111213141516171819"
        "2021222324252627282930313233343536373839"
        "4041424344454647484950515253545556575859"
        "6061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";

    /* counters are mostly small: one digit needs no division */
    if (n < 10) {
        *p = (u_char) ('0' + n);
        return p + 1;
    }

    for (len = 1, m = n; m >= 10; len++) {
        m /= 10;
    }

    p += len;

    /* two digits a division, from the last */
    for ( /* void */ ; n >= 100; n /= 100) {
        p -= 2;
        p[0] = pairs[2 * (n % 100)];
        p[1] = pairs[2 * (n % 100) + 1];
    }

    if (n >= 10) {
        p -= 2;
        p[0] = pairs[2 * n];
        p[1] = pairs[2 * n + 1];

    } else {
        *--p = (u_char) ('0' + n);
    }

    return p + len;
}
