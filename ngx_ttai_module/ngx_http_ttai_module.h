
/*
 * Copyright (C) ttai contributors
 */


#ifndef _NGX_HTTP_TTAI_MODULE_H_INCLUDED_
#define _NGX_HTTP_TTAI_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ttai_mcp.h"
#include "ttai_secrets.h"
#include "ttai_version.h"
#include "ttai_order.h"


#define NGX_HTTP_TTAI_PRODUCTION    0
#define NGX_HTTP_TTAI_DEVELOPMENT   1


typedef struct ngx_http_ttai_kv_s  ngx_http_ttai_kv_t;
typedef struct ngx_http_ttai_d1_s  ngx_http_ttai_d1_t;
typedef struct ngx_http_ttai_jwt_cache_s  ngx_http_ttai_jwt_cache_t;
typedef struct ngx_http_ttai_health_memo_s  ngx_http_ttai_health_memo_t;
typedef struct ngx_http_ttai_revoked_s  ngx_http_ttai_revoked_t;


typedef struct {
    /* ttai_env_file; the path is kept for messages */
    ngx_str_t                 env_file;

    /* every known key that is set, from the env file or nginx "env" */
    ngx_array_t              *vars;             /* of ngx_keyval_t */

    /* the HMAC key is the JWT_SECRET string as written, not hex-decoded */
    ngx_str_t                 jwt_secret;
    u_char                    token_key[TTAI_SECRET_KEY_LEN];

    ngx_uint_t                environment;
    ngx_str_t                 state_dir;

    /* per worker: the second in which /health last found it writable */
    time_t                    state_dir_ok;

    /* ttai_kv_zone: the KV cache in shared memory */
    ngx_http_ttai_kv_t       *kv;

    /* ttai_mcp_sessions: the MCP sessions, in the same kind of zone */
    ngx_http_ttai_kv_t       *sessions;
    time_t                    session_timeout;
    time_t                    request_state_ttl;  /* MRTR's requestState */
    ngx_uint_t                sessions_per_user;    /* 0: no limit */

    /* ttai_db, ttai_migrations, ttai_thread_pool: SQLite (D1) */
    ngx_http_ttai_d1_t       *db;

    /* set by any ttai directive: only then are the secrets required */
    ngx_flag_t                enabled;

    /* ttai_admin is used somewhere: allowed in development only */
    ngx_flag_t                admin;

    /* ttai_jwt_*: what a bearer token on /mcp must say */
    ngx_str_t                 jwt_issuer;
    ngx_str_t                 jwt_audience;
    time_t                    jwt_leeway;
    ngx_http_ttai_jwt_cache_t *jwt_cache;       /* per worker */

    /* ttai_oauth_revoked_zone: the revoked access tokens */
    ngx_http_ttai_revoked_t  *revoked;

    /* ttai_oauth is used: this server issues access tokens */
    ngx_flag_t                oauth;

    /* the MCP core, made once per cycle when ttai_mcp is used */
    ttai_mcp_server_t        *mcp;
    ngx_flag_t                mcp_used;
    ngx_flag_t                fixtures_used;    /* ttai_mcp_fixtures */
    ngx_uint_t                listen_per_user;  /* 0: no limit */

    /* ttai_queue: of ttai_queue_conf_t, or NULL */
    ngx_array_t              *queues;

    /* ttai_workflows on: this server runs the workflows' turns */
    ngx_flag_t                workflows;

    /*
     * ttai_agents on: the agents' tools are listed (they need the
     * workflows); ttai_llm_budget: a user's calls and tokens a UTC day
     * (0: no limit)
     */
    ngx_flag_t                agents;
    ngx_uint_t                llm_requests;
    ngx_uint_t                llm_tokens;

    /* ttai_monitor on: this server evaluates the users' alert rules */
    ngx_flag_t                monitor;
    ngx_msec_t                monitor_interval;
    time_t                    monitor_history;

    /* ttai_dxlink: the market-data stream (ngx_http_ttai_dxlink.c) */
    ngx_flag_t                dxlink;
    ngx_str_t                 dxlink_user;
    time_t                    dxlink_keepalive;
    time_t                    dxlink_idle;
    ngx_uint_t                dxlink_max_symbols;
    ngx_str_t                 dxlink_trusted;
#if (NGX_SSL)
    ngx_ssl_t                *dxlink_ssl;
#endif

    /* ttai_alert_webhooks: of ngx_http_ttai_webhook_t, and their URLs */
    ngx_array_t              *webhooks;
    char                    **webhook_urls;
    size_t                    nwebhooks;

    /* the key confirmations of orders are made under (trading.c) */
    u_char                    trading_key[TTAI_ORDER_KEY_LEN];

    /*
     * The configuration of the first location with ttai_mcp, where
     * background work makes its requests (its server holds the internal
     * locations the fetch engine goes through)
     */
    ngx_http_conf_ctx_t      *background_ctx;
} ngx_http_ttai_main_conf_t;


typedef struct {
    ngx_str_t                 service;

    /* ttai_mcp_* */
    ngx_flag_t                auth;
    ngx_str_t                 resource;
    size_t                    max_body;
    ngx_array_t              *origins;          /* of ngx_str_t */

    /* ttai_mcp_toolsets: a mask of ttai_toolsets[] bits; 0: all */
    ngx_uint_t                toolsets;

    /* ttai_mcp_fixtures conformance: the test suites' fixtures here */
    ngx_flag_t                fixtures;

    /*
     * ttai_trading, _confirm_ttl and _limits; trading_conf is what the
     * core gets, NULL where this location does not trade
     */
    ngx_flag_t                trading;
    time_t                    trading_ttl;
    ttai_order_conf_t        *trading_limits;
    ttai_order_conf_t        *trading_conf;

    /* ttai_health: this worker's last answer, and what it showed */
    ngx_http_ttai_health_memo_t  *health;
} ngx_http_ttai_loc_conf_t;


/*
 * What a /health check found, as values that /health writes out
 * (ngx_http_ttai_health.c).  Besides its status, a check's object may
 * have one string member and counters.
 */

#define NGX_HTTP_TTAI_HEALTH_COUNTERS  8

typedef struct {
    ngx_str_t                 error;        /* JSON-safe, with NGX_ERROR */
    ngx_str_t                 string_name;  /* "": no string member */
    ngx_str_t                 string;       /* JSON-safe */
    ngx_str_t                *names;        /* of the counters */
    ngx_uint_t                ncounters;
    uint64_t                  counters[NGX_HTTP_TTAI_HEALTH_COUNTERS];
} ngx_http_ttai_health_t;


extern ngx_module_t  ngx_http_ttai_module;


/* NULL when the location has a content handler already */
ngx_http_ttai_main_conf_t *ngx_http_ttai_set_handler(ngx_conf_t *cf,
    ngx_http_handler_pt handler);

char *ngx_http_ttai_env_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_ttai_secrets_init(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf);
ngx_str_t *ngx_http_ttai_var(ngx_http_ttai_main_conf_t *tmcf, char *key);

char *ngx_http_ttai_health(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_ttai_admin(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_ttai_mcp(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_ttai_mcp_toolsets(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_ttai_mcp_fixtures(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_ttai_worker(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_ttai_oauth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_ttai_mcp_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf);

/* ngx_http_ttai_trading.c */
typedef ngx_int_t (*ngx_http_ttai_trading_done_pt)(ngx_http_request_t *r,
    void *data, ngx_uint_t granted);

char *ngx_http_ttai_trading_limits(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_ttai_trading_merge(ngx_conf_t *cf,
    ngx_http_ttai_loc_conf_t *prev, ngx_http_ttai_loc_conf_t *conf);
void ngx_http_ttai_trading_init_conf(ngx_http_ttai_main_conf_t *tmcf);
ngx_int_t ngx_http_ttai_trading_grant(ngx_http_request_t *r, const char *sub,
    ngx_uint_t *granted, ngx_http_ttai_trading_done_pt handler, void *data);
ngx_int_t ngx_http_ttai_mcp_traceparent_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
ngx_int_t ngx_http_ttai_mcp_sse_events(ngx_http_request_t *r, char **events,
    size_t n);
ngx_int_t ngx_http_ttai_listen_conf(ngx_conf_t *cf);
ngx_int_t ngx_http_ttai_listen_init_module(ngx_cycle_t *cycle,
    ngx_uint_t used);
ngx_int_t ngx_http_ttai_listen_init_process(ngx_cycle_t *cycle);
void ngx_http_ttai_listen_exit_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_ttai_listen_open(ngx_http_request_t *r,
    ttai_mcp_listen_t *listen, const char *sub, ngx_str_t *session,
    ngx_uint_t limit);
ngx_int_t ngx_http_ttai_listen_subscribe(ngx_str_t *session, const char *uri,
    ngx_uint_t on);
ngx_int_t ngx_http_ttai_mcp_sse_comment(ngx_http_request_t *r);
void ngx_http_ttai_listen_wake_all(void);
void ngx_http_ttai_listen_session_ended(ngx_http_request_t *r,
    ngx_str_t *session, const char *sub);
void ngx_http_ttai_listen_publish(ngx_http_request_t *r,
    ttai_mcp_change_t *ch, size_t n, const char *sub);
ngx_int_t ngx_http_ttai_mcp_sse_last(ngx_http_request_t *r, u_char *body,
    size_t len, u_char *tail, size_t tail_len);

/* ngx_http_ttai_queue.c: the queues' delivery */
char *ngx_http_ttai_queue(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_ttai_queue_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf);
ngx_int_t ngx_http_ttai_queue_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf);
ngx_uint_t ngx_http_ttai_background_lead(void);
ngx_int_t ngx_http_ttai_background_health(ngx_http_request_t *r,
    ngx_http_ttai_main_conf_t *tmcf, ngx_http_ttai_health_t *h);

/*
 * The background lease is used: by queues, workflows, the monitor or the
 * market-data stream; all but the stream need the database
 */
#define ngx_http_ttai_background_db(tmcf)                                    \
    ((tmcf)->queues != NULL || (tmcf)->workflows == 1 || (tmcf)->monitor == 1)
#define ngx_http_ttai_background_used(tmcf)                                  \
    (ngx_http_ttai_background_db(tmcf) || (tmcf)->dxlink == 1)

/* ngx_http_ttai_workflow.c: the workflows' turns */
ngx_int_t ngx_http_ttai_workflow_init_process(ngx_cycle_t *cycle,
    ngx_http_ttai_main_conf_t *tmcf);

/*
 * ngx_http_ttai_wf_tool.c: a read-only tool called as a user, for a
 * workflow's step; done gets the step's output (NULL: out of memory),
 * from a posted event
 */
typedef void (*ngx_http_ttai_step_done_pt)(void *data, json_t *output,
    json_t *also);

ngx_int_t ngx_http_ttai_wf_tool(ngx_http_ttai_main_conf_t *tmcf,
    const char *user, const char *request, ngx_http_ttai_step_done_pt done,
    void *data);

/* ngx_http_ttai_wf_put.c: an object put in R2, for a workflow's step */
ngx_int_t ngx_http_ttai_wf_put(ngx_http_ttai_main_conf_t *tmcf,
    const char *request, ngx_http_ttai_step_done_pt done, void *data);

/*
 * ngx_http_ttai_llm.c: providers.  A model's turn for a workflow's step:
 * the output ({"model","response"} or {"model","error"}) and also, the
 * statement that records the call, go to done
 */
char *ngx_http_ttai_llm_budget(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_ttai_llm_init_conf(ngx_conf_t *cf,
    ngx_http_ttai_main_conf_t *tmcf);
ngx_int_t ngx_http_ttai_llm_turn(ngx_http_ttai_main_conf_t *tmcf,
    const char *user, const char *request, ngx_http_ttai_step_done_pt done,
    void *data);

/* ngx_http_ttai_mcp_ask.c: questions to a 2025 session's client */
typedef struct ngx_http_ttai_ask_s  ngx_http_ttai_ask_t;
typedef void (*ngx_http_ttai_ask_done_pt)(ngx_http_request_t *r,
    ttai_mcp_response_t *resp);

typedef void (*ngx_http_ttai_shm_fresh_pt)(void *table);

ngx_shm_zone_t *ngx_http_ttai_shm_table(ngx_conf_t *cf, char *name,
    size_t size, size_t table, ngx_http_ttai_shm_fresh_pt fresh);
ngx_int_t ngx_http_ttai_ask_conf(ngx_conf_t *cf);
void ngx_http_ttai_ask_init_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_ttai_ask_register(ngx_http_request_t *r,
    ttai_mcp_pending_t *p, ngx_str_t *session,
    ngx_http_ttai_ask_done_pt done, ngx_http_ttai_ask_t **ask);
ngx_int_t ngx_http_ttai_ask_wait(ngx_http_ttai_ask_t *a);
ngx_int_t ngx_http_ttai_ask_answer(ngx_str_t *session,
    ttai_mcp_answer_t *answer);
void ngx_http_ttai_ask_poll(void);
void ngx_http_ttai_ask_session_ended(ngx_str_t *session);

time_t ngx_http_ttai_started(void);
/* adds a response header; name and value must live as long as r */
ngx_int_t ngx_http_ttai_header(ngx_http_request_t *r, char *name,
    char *value, size_t len);
#define ngx_http_ttai_header_lit(r, name, lit)                               \
    ngx_http_ttai_header(r, name, lit, sizeof(lit) - 1)

ngx_int_t ngx_http_ttai_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *json, size_t len);

/* the body in two parts, neither copied: both must live as long as r */
ngx_int_t ngx_http_ttai_send_json_tail(ngx_http_request_t *r,
    ngx_uint_t status, u_char *json, size_t len, u_char *tail,
    size_t tail_len);

/* a NUL-terminated copy in pool; NULL when out of memory or s has a NUL */
char *ngx_http_ttai_cstr(ngx_pool_t *pool, ngx_str_t *s);

/* path, and all under it, made the server's user's only */
ngx_int_t ngx_http_ttai_private(ngx_conf_t *cf, ngx_str_t *path);

/*
 * For answers made on every request (/health): a literal copied, and a
 * number in decimal, at p; each returns the end.  ngx_sprintf() reads
 * its format a character at a time, which costs more than the copying.
 */
#define ngx_http_ttai_cpylit(p, lit)  ngx_cpymem(p, lit, sizeof(lit) - 1)
u_char *ngx_http_ttai_uint(u_char *p, uint64_t n);


#endif /* _NGX_HTTP_TTAI_MODULE_H_INCLUDED_ */
