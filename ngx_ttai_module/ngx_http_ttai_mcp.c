
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include "ngx_http_ttai_module.h"
#include "ngx_http_ttai_auth.h"
#include "ngx_http_ttai_d1.h"
#include "ngx_http_ttai_session.h"
#include "ngx_http_ttai_kv.h"
#include "ngx_http_ttai_fetch.h"
#include "ttai_mcp.h"
#include "ttai_origin.h"
#include "ttai_tools.h"


/*
 * POST /mcp, the Streamable HTTP transport, answering JSON only: the HTTP
 * side is checked here (origin, host, auth, content type, size), the
 * body is read without blocking the worker, the session is looked up,
 * and the core answers; the session is then made, updated or touched.
 */


#define NGX_HTTP_TTAI_MCP_INSTRUCTIONS                                        \
    "ttai connects you to the user's TastyTrade account and the market. "    \
    "Call get_session_info to see who is signed in."

/* nginx names no constant for it */
#define NGX_HTTP_TTAI_NOT_ACCEPTABLE  406

/* a session's idle deadline moves at most this often, as a share of it */
#define NGX_HTTP_TTAI_MCP_TOUCH  10

/* requestState's key: a subkey of TOKEN_ENCRYPTION_KEY (8-byte context) */
#define NGX_HTTP_TTAI_MCP_STATE_KEY_ID   1
#define NGX_HTTP_TTAI_MCP_STATE_KEY_CTX  "ttaimrtr"

/* Mcp-Param-* headers looked at, at most: a tool marks a few arguments */
#define NGX_HTTP_TTAI_MCP_PARAMS  16

/* seconds, when the session zone has no room for a new session */
#define NGX_HTTP_TTAI_MCP_RETRY_FULL  "30"


typedef struct {
    ttai_jwt_claims_t          claims;
    ngx_str_t                  body;

    /* the request headers of MCP's transport, found in one pass */
    ngx_table_elt_t           *origin;
    ngx_table_elt_t           *version;      /* MCP-Protocol-Version */
    ngx_table_elt_t           *session_id;   /* Mcp-Session-Id */
    ngx_table_elt_t           *method;       /* Mcp-Method */
    ngx_table_elt_t           *name;         /* Mcp-Name */

    /* Mcp-Param-*: the arguments a tool marks x-mcp-header, repeated */
    ngx_table_elt_t           *params[NGX_HTTP_TTAI_MCP_PARAMS];
    ngx_uint_t                 nparams;

    /* kept while a tool waits for data */
    ttai_mcp_call_t            call;
    ttai_mcp_reply_t           reply;
    ngx_http_ttai_session_t    session;
    ngx_uint_t                 found;

    /* whether the user allowed trading, once looked up (trading.c) */
    ngx_uint_t                 trade_known;
    ngx_uint_t                 trade_granted;

    /* a session change that waits for the sessions zone's journal */
    ngx_http_ttai_kv_wait_t    wait;
    ngx_uint_t                 new_session;

    /*
     * The request's OpenTelemetry traceparent, which every error log line
     * of the request then names, through the log handler it replaced
     */
    u_char                     traceparent[TTAI_MCP_TRACEPARENT_LEN + 1];
    ngx_http_log_handler_pt    log_handler;

    /* a tool's wait step (TTAI_PENDING_WAIT) */
    ngx_event_t                wait_timer;
    ngx_uint_t                 wait_cleanup;
} ngx_http_ttai_mcp_ctx_t;


#if (NGX_THREADS)

typedef struct {
    ngx_fd_t                   fd;
    off_t                      offset;
    size_t                     size;
    u_char                    *buf;
    ngx_err_t                  err;
    ngx_http_request_t        *request;
} ngx_http_ttai_mcp_read_t;

#endif


static ngx_int_t ngx_http_ttai_mcp_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_mcp_cors(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx, ngx_uint_t *refused);
static ngx_uint_t ngx_http_ttai_mcp_origin_allowed(ngx_http_request_t *r,
    ngx_str_t *origin);
static ngx_uint_t ngx_http_ttai_mcp_local_name(u_char *host, size_t len);
static ngx_uint_t ngx_http_ttai_mcp_host_allowed(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_mcp_preflight(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_mcp_delete(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_ttai_mcp_get(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx);
static ngx_uint_t ngx_http_ttai_mcp_check_post(ngx_http_request_t *r,
    ngx_int_t *rc);
static void ngx_http_ttai_mcp_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_mcp_dispatch(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_ttai_mcp_granted(ngx_http_request_t *r,
    void *data, ngx_uint_t granted);
static ngx_int_t ngx_http_ttai_mcp_drive(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_ttai_mcp_fetched(ngx_http_request_t *r,
    ngx_http_ttai_fetch_t *f);
static ngx_int_t ngx_http_ttai_mcp_params(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_ttai_mcp_answers(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx);
static ngx_int_t ngx_http_ttai_mcp_ask(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx, ngx_http_ttai_ask_t **ask);
static void ngx_http_ttai_mcp_asked(ngx_http_request_t *r,
    ttai_mcp_response_t *resp);
static ngx_int_t ngx_http_ttai_mcp_wait(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx, long ms);
static void ngx_http_ttai_mcp_waited(ngx_event_t *ev);
static void ngx_http_ttai_mcp_wait_cleanup(void *data);
static ngx_int_t ngx_http_ttai_mcp_listen(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx);
static void ngx_http_ttai_mcp_reply_cleanup(void *data);
static ngx_int_t ngx_http_ttai_mcp_session(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx, ttai_mcp_reply_t *reply,
    ngx_http_ttai_session_t *s, ngx_uint_t found);
static ngx_int_t ngx_http_ttai_mcp_saved(ngx_http_request_t *r,
    ngx_http_ttai_kv_wait_t *w);
static ngx_int_t ngx_http_ttai_mcp_answer(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx, ngx_int_t rc);
static ngx_int_t ngx_http_ttai_mcp_ended(ngx_http_request_t *r,
    ngx_http_ttai_kv_wait_t *w);
static ngx_int_t ngx_http_ttai_mcp_not_durable(ngx_http_request_t *r,
    ngx_err_t err);
static ngx_int_t ngx_http_ttai_mcp_send(ngx_http_request_t *r,
    ttai_mcp_reply_t *reply);
static ngx_int_t ngx_http_ttai_mcp_error(ngx_http_request_t *r,
    ngx_uint_t status, char *message);
static ngx_int_t ngx_http_ttai_mcp_full(ngx_http_request_t *r);
static ngx_int_t ngx_http_ttai_mcp_not_allowed(ngx_http_request_t *r);
static void ngx_http_ttai_mcp_headers(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx);
static void ngx_http_ttai_mcp_trace(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx);
static u_char *ngx_http_ttai_mcp_log_trace(ngx_http_request_t *r,
    ngx_http_request_t *sr, u_char *buf, size_t len);
#if (NGX_THREADS)
static ngx_int_t ngx_http_ttai_mcp_read_file(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx, ngx_buf_t *b, u_char *dst);
static void ngx_http_ttai_mcp_read_thread(void *data, ngx_log_t *log);
static void ngx_http_ttai_mcp_read_done(ngx_event_t *ev);
#endif
static void ngx_http_ttai_mcp_cleanup(void *data);


char *
ngx_http_ttai_mcp(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_ttai_set_handler(cf, ngx_http_ttai_mcp_handler);
    if (tmcf == NULL) {
        return "is duplicate";
    }

    tmcf->mcp_used = 1;

    /* background work makes its requests in the first MCP server */
    if (tmcf->background_ctx == NULL) {
        tmcf->background_ctx = cf->ctx;
    }

    return NGX_CONF_OK;
}


/*
 * ttai_mcp_toolsets account market ...: the tools this location lists
 * and calls, get_session_info always among them; "all" is every toolset
 */

char *
ngx_http_ttai_mcp_toolsets(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_loc_conf_t *tlcf = conf;

    u_char      names[128], *p, *last;
    unsigned    bit;
    ngx_str_t  *value;
    ngx_uint_t  i, n;

    if (tlcf->toolsets != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    tlcf->toolsets = 0;
    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 3 && ngx_strncmp(value[i].data, "all", 3) == 0) {
            bit = ttai_toolsets_all();

        } else {
            bit = ttai_toolset((char *) value[i].data, value[i].len);
        }

        if (bit == 0) {
            p = names;
            last = names + sizeof(names);

            for (n = 0; ttai_toolsets[n] != NULL; n++) {
                p = ngx_slprintf(p, last, "%s\"%s\"", n ? ", " : "",
                                 ttai_toolsets[n]);
            }

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown toolset \"%V\" in \"%V\": the "
                               "toolsets are %*s, or \"all\"",
                               &value[i], &cmd->name, (size_t) (p - names),
                               names);
            return NGX_CONF_ERROR;
        }

        tlcf->toolsets |= bit;
    }

    return NGX_CONF_OK;
}


/*
 * ttai_mcp_fixtures conformance: the MCP conformance suites' fixture
 * tools, prompts and resources are listed and served at this location
 * too (development only, checked at the merge)
 */

char *
ngx_http_ttai_mcp_fixtures(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ttai_loc_conf_t *tlcf = conf;

    ngx_str_t                  *value;
    ngx_http_ttai_main_conf_t  *tmcf;

    if (tlcf->fixtures != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len != sizeof(TTAI_TOOLSET_FIXTURES) - 1
        || ngx_strncmp(value[1].data, TTAI_TOOLSET_FIXTURES,
                       value[1].len) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown fixtures \"%V\" in \"%V\": the only "
                           "ones are \"" TTAI_TOOLSET_FIXTURES "\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    tlcf->fixtures = 1;

    tmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_ttai_module);
    tmcf->fixtures_used = 1;

    return NGX_CONF_OK;
}


/* at the end of the http block: the core and its tools, once per cycle */

char *
ngx_http_ttai_mcp_init_conf(ngx_conf_t *cf, ngx_http_ttai_main_conf_t *tmcf)
{
    u_char               state_key[crypto_kdf_KEYBYTES];
    ttai_cache_ttl_t     ttl;
    ngx_pool_cleanup_t  *cln;

    if (!tmcf->mcp_used) {
        return NGX_CONF_OK;
    }

    if (tmcf->sessions == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "ttai: \"ttai_mcp\" needs a session zone: add "
                      "\"ttai_mcp_sessions SESSIONS 8m;\" to the http block");
        return NGX_CONF_ERROR;
    }

    tmcf->mcp = ttai_mcp_server_create(TTAI_VERSION,
                                       NGX_HTTP_TTAI_MCP_INSTRUCTIONS);
    if (tmcf->mcp == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ttai_mcp_server_free(tmcf->mcp);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_ttai_mcp_cleanup;
    cln->data = tmcf->mcp;

    /*
     * requestState is sealed under a key of its own, derived from
     * TOKEN_ENCRYPTION_KEY: the servers that share that key (a reload, the
     * other workers, other instances) continue each other's calls
     */
    crypto_kdf_derive_from_key(state_key, sizeof(state_key),
                               NGX_HTTP_TTAI_MCP_STATE_KEY_ID,
                               NGX_HTTP_TTAI_MCP_STATE_KEY_CTX,
                               tmcf->token_key);
    ttai_mcp_server_state_key(tmcf->mcp, state_key,
                              (long) tmcf->request_state_ttl);

    sodium_memzero(state_key, sizeof(state_key));

    ngx_http_ttai_trading_init_conf(tmcf);

    if (ngx_http_ttai_listen_conf(cf) != NGX_OK
        || ngx_http_ttai_ask_conf(cf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ttl.quote = 5;
    ttl.metrics = 60;
    ttl.chain = 600;
    ttl.account = 5;

    ngx_http_ttai_tt_cache_ttl(cf, &ttl);
    ttai_mcp_server_cache_ttl(tmcf->mcp, &ttl);

    /*
     * the fixtures first: a suite reads the first resource listed, and
     * calls the first tool with no arguments
     */
    if ((tmcf->fixtures_used && ttai_fixtures_register_all(tmcf->mcp) != 0)
        || ttai_tools_register_all(tmcf->mcp) != 0
        || ttai_prompts_register_all(tmcf->mcp) != 0
        || ttai_resources_register_all(tmcf->mcp) != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "ttai: the MCP tools, prompts and resources could not "
                      "be registered: %s", ttai_mcp_server_error(tmcf->mcp));
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_ttai_mcp_cleanup(void *data)
{
    ttai_mcp_server_free(data);
}


static ngx_int_t
ngx_http_ttai_mcp_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_uint_t                refused;
    ngx_http_ttai_mcp_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_ttai_mcp_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ttai_mcp_headers(r, ctx);

    /* the CORS headers go on every answer, errors included */
    rc = ngx_http_ttai_mcp_cors(r, ctx, &refused);
    if (rc != NGX_OK) {
        return rc;
    }

    if (refused) {
        return ngx_http_ttai_mcp_error(r, NGX_HTTP_FORBIDDEN,
                                       "this Origin is not allowed");
    }

    if (r->method == NGX_HTTP_OPTIONS) {
        return ngx_http_ttai_mcp_preflight(r);
    }

    if (!ngx_http_ttai_mcp_host_allowed(r)) {
        return ngx_http_ttai_mcp_error(r, NGX_HTTP_FORBIDDEN,
                                       "this Host is not allowed on a "
                                       "local address");
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_POST|NGX_HTTP_DELETE))) {
        return ngx_http_ttai_mcp_not_allowed(r);
    }

    if (!ngx_http_ttai_auth(r, &ctx->claims, &rc)) {
        return rc;
    }

    if (r->method == NGX_HTTP_DELETE) {
        return ngx_http_ttai_mcp_delete(r, ctx);
    }

    if (r->method == NGX_HTTP_GET) {
        ngx_http_set_ctx(r, ctx, ngx_http_ttai_module);
        return ngx_http_ttai_mcp_get(r, ctx);
    }

    if (!ngx_http_ttai_mcp_check_post(r, &rc)) {
        return rc;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_ttai_module);

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_ttai_mcp_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_http_ttai_mcp_cors(ngx_http_request_t *r, ngx_http_ttai_mcp_ctx_t *ctx,
    ngx_uint_t *refused)
{
    ngx_table_elt_t  *origin;

    *refused = 0;

    if (ngx_http_ttai_header_lit(r, "Access-Control-Expose-Headers",
                                 "Mcp-Session-Id, MCP-Protocol-Version, "
                                 "WWW-Authenticate")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    origin = ctx->origin;

    if (origin == NULL) {
        return NGX_OK;
    }

    if (!ngx_http_ttai_mcp_origin_allowed(r, &origin->value)) {
        *refused = 1;
        return NGX_OK;
    }

    if (ngx_http_ttai_header(r, "Access-Control-Allow-Origin",
                             (char *) origin->value.data, origin->value.len)
        != NGX_OK
        || ngx_http_ttai_header_lit(r, "Vary", "Origin") != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


/*
 * An Origin is allowed when it is listed in "ttai_mcp_allowed_origins"
 * (or that lists "*"), when it is this server's own origin, or when it is
 * a page on the local machine (localhost, 127.0.0.1, [::1], any port).
 * Only what a browser sends is an origin (ttai_origin.h): a value with a
 * path, a user name, a port that is not a number or a name that goes on
 * past the local one is refused before any of these.
 */

static ngx_uint_t
ngx_http_ttai_mcp_origin_allowed(ngx_http_request_t *r, ngx_str_t *origin)
{
    ngx_str_t                 *o;
    ngx_uint_t                 i;
    ttai_origin_t              parsed, server;
    ngx_table_elt_t           *h;
    ngx_http_ttai_loc_conf_t  *tlcf;

    if (ttai_origin_parse(origin->data, origin->len, &parsed) != 0) {
        return 0;
    }

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_ttai_module);

    if (tlcf->origins != NULL) {
        o = tlcf->origins->elts;

        for (i = 0; i < tlcf->origins->nelts; i++) {
            if ((o[i].len == 1 && o[i].data[0] == '*')
                || (o[i].len == origin->len
                    && ngx_strncasecmp(o[i].data, origin->data, o[i].len)
                       == 0))
            {
                return 1;
            }
        }
    }

    /* the same host and port as this request's */
    h = r->headers_in.host;

    if (h != NULL
        && ttai_origin_parse_authority(h->value.data, h->value.len, &server)
           == 0
        && ttai_origin_same_host(&parsed, &server))
    {
        return 1;
    }

    return ttai_origin_local(&parsed);
}


static ngx_uint_t
ngx_http_ttai_mcp_local_name(u_char *host, size_t len)
{
    return (len == 9 && ngx_strncasecmp(host, (u_char *) "localhost", 9) == 0)
           || (len == 9 && ngx_strncmp(host, "127.0.0.1", 9) == 0)
           || (len == 5 && ngx_strncmp(host, "[::1]", 5) == 0);
}


/*
 * DNS rebinding: a server on a loopback address answers only requests
 * whose Host names the local machine or the server's own server_name (a
 * proxy in front on the same machine), so a page
 * that made some other name resolve to 127.0.0.1 cannot reach it.
 */

static ngx_uint_t
ngx_http_ttai_mcp_host_allowed(ngx_http_request_t *r)
{
    ngx_str_t                 *host;
    ngx_connection_t          *c;
    struct sockaddr_in        *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6       *sin6;
#endif
    ngx_http_core_srv_conf_t  *cscf;

    c = r->connection;

    if (ngx_connection_local_sockaddr(c, NULL, 0) != NGX_OK) {
        return 0;
    }

    switch (c->local_sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) c->local_sockaddr;
        if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
            return 1;
        }
        break;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) c->local_sockaddr;
        if (!IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
            return 1;
        }
        break;
#endif

    default:
        return 1;
    }

    host = &r->headers_in.server;

    if (ngx_http_ttai_mcp_local_name(host->data, host->len)
        || (host->len == 3 && ngx_strncmp(host->data, "::1", 3) == 0))
    {
        return 1;
    }

    /*
     * the primary name only: nginx frees the list of server_name entries
     * with its temporary pool once the configuration is loaded
     */
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);

    if (cscf->server_name.len == host->len
        && ngx_strncasecmp(cscf->server_name.data, host->data, host->len)
           == 0)
    {
        return 1;
    }

    return 0;
}


static ngx_int_t
ngx_http_ttai_mcp_preflight(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_ttai_header_lit(r, "Access-Control-Allow-Methods",
                                 "GET, POST, DELETE, OPTIONS") != NGX_OK
        || ngx_http_ttai_header_lit(r, "Access-Control-Allow-Headers",
                                    "Authorization, Content-Type, Accept, "
                                    "Mcp-Session-Id, MCP-Protocol-Version, "
                                    "Mcp-Method, Mcp-Name, "
                                    "Last-Event-ID") != NGX_OK
        || ngx_http_ttai_header_lit(r, "Access-Control-Max-Age", "86400")
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


/*
 * GET: a 2025 session's event stream, for the changes it may hear of:
 * list changes, and updates of the resources it subscribed
 */

static ngx_int_t
ngx_http_ttai_mcp_get(ngx_http_request_t *r, ngx_http_ttai_mcp_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_table_elt_t            *h, *accept;
    ttai_mcp_listen_t          *l;
    ngx_http_ttai_session_t     s;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    /* 2026-07-28 has no GET: its streams are subscriptions/listen */
    h = ctx->version;

    if (h != NULL
        && h->value.len == sizeof(TTAI_MCP_STATELESS_VERSION) - 1
        && ngx_strncmp(h->value.data, TTAI_MCP_STATELESS_VERSION,
                       h->value.len) == 0)
    {
        return ngx_http_ttai_mcp_not_allowed(r);
    }

    accept = r->headers_in.accept;

    if (accept == NULL
        || ngx_strlcasestrn(accept->value.data,
                            accept->value.data + accept->value.len,
                            (u_char *) "text/event-stream", 17 - 1)
           == NULL)
    {
        return ngx_http_ttai_mcp_error(r, NGX_HTTP_TTAI_NOT_ACCEPTABLE,
                                       "the event stream is "
                                       "text/event-stream: Accept must "
                                       "allow it");
    }

    h = ctx->session_id;

    if (h == NULL) {
        return ngx_http_ttai_mcp_error(r, NGX_HTTP_BAD_REQUEST,
                                       "Mcp-Session-Id header is required: "
                                       "the event stream is a session's");
    }

    if (ngx_http_ttai_session_get(r, &h->value, &s) != NGX_OK
        || s.sub.len != ngx_strlen(ctx->claims.sub)
        || ngx_strncmp(s.sub.data, ctx->claims.sub, s.sub.len) != 0)
    {
        return ngx_http_ttai_mcp_error(r, NGX_HTTP_NOT_FOUND,
                                       "Session not found");
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    l = ttai_mcp_listen_legacy();
    if (l == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_ttai_listen_open(r, l, ctx->claims.sub, &h->value,
                                   tmcf->listen_per_user);

    if (rc == NGX_DONE) {
        return NGX_DONE;
    }

    ttai_mcp_listen_free(l);

    if (rc == NGX_DECLINED) {
        return ngx_http_ttai_mcp_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                       "this user holds as many event "
                                       "streams as allowed; close one");
    }

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/* DELETE: the client ends its session */

static ngx_int_t
ngx_http_ttai_mcp_delete(ngx_http_request_t *r, ngx_http_ttai_mcp_ctx_t *ctx)
{
    ngx_int_t                 rc;
    ngx_table_elt_t          *h;
    ngx_http_ttai_session_t   s;

    static u_char  ended[] = "{}";

    h = ctx->session_id;

    if (h == NULL) {
        return ngx_http_ttai_mcp_error(r, NGX_HTTP_BAD_REQUEST,
                                       "Mcp-Session-Id header is required");
    }

    if (ngx_http_ttai_session_get(r, &h->value, &s) != NGX_OK
        || s.sub.len != ngx_strlen(ctx->claims.sub)
        || ngx_strncmp(s.sub.data, ctx->claims.sub, s.sub.len) != 0)
    {
        return ngx_http_ttai_mcp_error(r, NGX_HTTP_NOT_FOUND,
                                       "Session not found");
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    /* its streams end and its subscriptions go, whatever the journal says */
    ngx_http_ttai_listen_session_ended(r, &s.id, ctx->claims.sub);

    /* the session is gone for good once the answer says so */
    ctx->wait.request = r;
    ctx->wait.handler = ngx_http_ttai_mcp_ended;
    ctx->wait.data = ctx;

    rc = ngx_http_ttai_session_delete(r, &s.id, &ctx->wait);

    switch (rc) {

    case NGX_AGAIN:
        return NGX_DONE;

    case NGX_ABORT:
        return ngx_http_ttai_mcp_not_durable(r, ctx->wait.err);

    default:
        /* NGX_DECLINED: it expired meanwhile, which ends it as well */
        return ngx_http_ttai_send_json(r, NGX_HTTP_OK, ended,
                                       sizeof(ended) - 1);
    }
}


static ngx_int_t
ngx_http_ttai_mcp_ended(ngx_http_request_t *r, ngx_http_ttai_kv_wait_t *w)
{
    static u_char  ended[] = "{}";

    if (w->err) {
        return ngx_http_ttai_mcp_not_durable(r, w->err);
    }

    return ngx_http_ttai_send_json(r, NGX_HTTP_OK, ended, sizeof(ended) - 1);
}


/* 1 when the request may go on, or 0 with *rc set to the refusal sent */

static ngx_uint_t
ngx_http_ttai_mcp_check_post(ngx_http_request_t *r, ngx_int_t *rc)
{
    u_char                    *p, *last;
    ngx_str_t                  type;
    ngx_table_elt_t           *accept;
    ngx_http_ttai_loc_conf_t  *tlcf;

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_ttai_module);

    /* application/json, with parameters such as a charset */
    type.len = 0;

    if (r->headers_in.content_type != NULL) {
        type = r->headers_in.content_type->value;
        p = ngx_strlchr(type.data, type.data + type.len, ';');
        if (p != NULL) {
            type.len = p - type.data;
        }

        while (type.len && type.data[type.len - 1] == ' ') {
            type.len--;
        }
    }

    if (type.len != sizeof("application/json") - 1
        || ngx_strncasecmp(type.data, (u_char *) "application/json",
                           type.len) != 0)
    {
        *rc = ngx_http_ttai_mcp_error(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                      "Content-Type must be "
                                      "application/json");
        return 0;
    }

    /*
     * Lenient: only the answer's own type matters, so any Accept that
     * allows application/json will do, "*" wildcards included
     */
    accept = r->headers_in.accept;

    if (accept != NULL && accept->value.len) {
        p = accept->value.data;
        last = p + accept->value.len;

        if (ngx_strlcasestrn(p, last, (u_char *) "application/json", 16 - 1)
            == NULL
            && ngx_strlcasestrn(p, last, (u_char *) "application/*", 13 - 1)
               == NULL
            && ngx_strlcasestrn(p, last, (u_char *) "*/*", 3 - 1) == NULL)
        {
            *rc = ngx_http_ttai_mcp_error(r, NGX_HTTP_TTAI_NOT_ACCEPTABLE,
                                          "Accept must allow "
                                          "application/json");
            return 0;
        }
    }

    if (r->headers_in.content_length_n > (off_t) tlcf->max_body) {
        *rc = ngx_http_ttai_mcp_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                      "the request body is too large");
        return 0;
    }

    return 1;
}


/*
 * The body is read by nginx's event loop; what it had to buffer in a
 * temporary file is read back on the thread pool.
 */

static void
ngx_http_ttai_mcp_body(ngx_http_request_t *r)
{
    u_char                    *p;
    off_t                      len;
    ngx_int_t                  rc;
    ngx_buf_t                 *b;
    ngx_chain_t               *cl;
    ngx_http_ttai_mcp_ctx_t   *ctx;
    ngx_http_ttai_loc_conf_t  *tlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);
    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_ttai_module);

    len = 0;

    if (r->request_body != NULL) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            len += ngx_buf_size(cl->buf);
        }
    }

    if (len > (off_t) tlcf->max_body) {
        ngx_http_finalize_request(r,
            ngx_http_ttai_mcp_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                    "the request body is too large"));
        return;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->body.data = p;
    ctx->body.len = len;

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl;
         cl = cl->next)
    {
        b = cl->buf;

        if (b->in_file) {
#if (NGX_THREADS)
            rc = ngx_http_ttai_mcp_read_file(r, ctx, b, p);

            if (rc == NGX_AGAIN) {
                /* the thread pool finishes the request */
                return;
            }
#else
            rc = NGX_DECLINED;
#endif
            if (rc != NGX_OK
                && ngx_read_file(b->file, p, b->file_last - b->file_pos,
                                 b->file_pos)
                   != b->file_last - b->file_pos)
            {
                ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            p += b->file_last - b->file_pos;
            continue;
        }

        p = ngx_cpymem(p, b->pos, b->last - b->pos);
    }

    ngx_http_finalize_request(r, ngx_http_ttai_mcp_dispatch(r, ctx));
}


#if (NGX_THREADS)

/*
 * request_body_in_single_buf leaves one buffer, in memory or in a file:
 * a file part is read on the thread pool of "ttai_thread_pool".  Returns
 * NGX_AGAIN when posted, NGX_DECLINED when there is no pool to post to.
 */

static ngx_int_t
ngx_http_ttai_mcp_read_file(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx, ngx_buf_t *b, u_char *dst)
{
    ngx_thread_task_t          *task;
    ngx_http_ttai_mcp_read_t   *rd;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    if (tmcf->db == NULL || tmcf->db->thread_pool == NULL
        || b->file_pos != 0 || dst != ctx->body.data)
    {
        return NGX_DECLINED;
    }

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_ttai_mcp_read_t));
    if (task == NULL) {
        return NGX_ERROR;
    }

    rd = task->ctx;
    rd->fd = b->file->fd;
    rd->offset = b->file_pos;
    rd->size = b->file_last - b->file_pos;
    rd->buf = dst;
    rd->request = r;

    task->handler = ngx_http_ttai_mcp_read_thread;
    task->event.handler = ngx_http_ttai_mcp_read_done;
    task->event.data = task;

    if (ngx_thread_task_post(tmcf->db->thread_pool, task) != NGX_OK) {
        return NGX_DECLINED;
    }

    r->main->blocked++;
    r->aio = 1;

    return NGX_AGAIN;
}


static void
ngx_http_ttai_mcp_read_thread(void *data, ngx_log_t *log)
{
    ngx_http_ttai_mcp_read_t *rd = data;

    size_t   done;
    ssize_t  n;

    rd->err = 0;

    for (done = 0; done < rd->size; done += n) {
        n = pread(rd->fd, rd->buf + done, rd->size - done,
                  rd->offset + done);

        if (n == -1 && ngx_errno == NGX_EINTR) {
            n = 0;
            continue;
        }

        if (n <= 0) {
            rd->err = (n == 0) ? EIO : ngx_errno;
            return;
        }
    }
}


static void
ngx_http_ttai_mcp_read_done(ngx_event_t *ev)
{
    ngx_connection_t          *c;
    ngx_thread_task_t         *task;
    ngx_http_request_t        *r;
    ngx_http_ttai_mcp_ctx_t   *ctx;
    ngx_http_ttai_mcp_read_t  *rd;

    task = ev->data;
    rd = task->ctx;
    r = rd->request;
    c = r->connection;

    r->main->blocked--;
    r->aio = 0;

    if (rd->err) {
        ngx_log_error(NGX_LOG_ERR, c->log, rd->err,
                      "ttai: reading the buffered request body failed");
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);

    } else {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "ttai: %uz bytes of request body read on the thread "
                       "pool", rd->size);

        ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);
        ngx_http_finalize_request(r, ngx_http_ttai_mcp_dispatch(r, ctx));
    }

    ngx_http_run_posted_requests(c);
}

#endif


static ngx_int_t
ngx_http_ttai_mcp_dispatch(ngx_http_request_t *r, ngx_http_ttai_mcp_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_uint_t                  found;
    ngx_table_elt_t            *h;
    ttai_mcp_call_t            *call;
    ngx_pool_cleanup_t         *cln;
    ngx_http_ttai_session_t    *s;
    ngx_http_ttai_loc_conf_t   *tlcf;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);
    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_ttai_module);

    /*
     * Where this location trades, whether the user allowed it decides
     * what is listed: a token of ttai's own sign-in also needs the scope
     * the user ticked there
     */
    if (tlcf->trading_conf != NULL && !ctx->trade_known) {
        ctx->trade_known = 1;

        if (ctx->claims.sub[0] != '\0'
            && (ctx->claims.fam[0] == '\0' || ctx->claims.trade))
        {
            rc = ngx_http_ttai_trading_grant(r, ctx->claims.sub,
                                             &ctx->trade_granted,
                                             ngx_http_ttai_mcp_granted, ctx);
            if (rc == NGX_AGAIN) {
                return NGX_DONE;
            }

            if (rc != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    call = &ctx->call;
    s = &ctx->session;

    ngx_memzero(call, sizeof(ttai_mcp_call_t));
    ngx_memzero(s, sizeof(ngx_http_ttai_session_t));

    call->sub = ctx->claims.sub;
    call->email = ctx->claims.email[0] ? ctx->claims.email : NULL;
    call->now = ngx_time();
    call->toolsets = tlcf->toolsets;
    call->fixtures = tlcf->fixtures;
    call->tasks = (tmcf->workflows == 1 && tmcf->db != NULL);
    call->agents = (call->tasks && tmcf->agents == 1);
    call->webhooks = (const char *const *) tmcf->webhook_urls;
    call->nwebhooks = tmcf->nwebhooks;
    call->split = 1;

    if (tlcf->trading_conf != NULL) {
        call->trading = tlcf->trading_conf;
        call->trading_key = tmcf->trading_key;
        call->trade_granted = (ctx->trade_granted != 0);
    }

    h = ctx->version;
    if (h != NULL) {
        call->protocol_header = ngx_http_ttai_cstr(r->pool, &h->value);
    }

    h = ctx->method;
    if (h != NULL) {
        call->method_header = ngx_http_ttai_cstr(r->pool, &h->value);
    }

    h = ctx->name;
    if (h != NULL) {
        call->name_header = ngx_http_ttai_cstr(r->pool, &h->value);
    }

    if (ctx->nparams && ngx_http_ttai_mcp_params(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    found = 0;
    h = ctx->session_id;

    if (h != NULL) {
        call->session_id = ngx_http_ttai_cstr(r->pool, &h->value);

        /* another user's session is as unknown as one that never was */
        if (ngx_http_ttai_session_get(r, &h->value, s) == NGX_OK
            && s->sub.len == ngx_strlen(ctx->claims.sub)
            && ngx_strncmp(s->sub.data, ctx->claims.sub, s->sub.len) == 0)
        {
            found = 1;
            call->session_version = ngx_http_ttai_cstr(r->pool,
                                                           &s->version);
            call->session_client = s->client.len
                                   ? ngx_http_ttai_cstr(r->pool,
                                                            &s->client)
                                   : NULL;
            call->session_log_level = ngx_http_ttai_cstr(r->pool,
                                                             &s->log_level);
            call->session_caps = s->caps.len
                                 ? ngx_http_ttai_cstr(r->pool, &s->caps)
                                 : NULL;
            call->session_created = s->created;

        } else {
            call->session_unknown = 1;
        }
    }

    ctx->found = found;

    call->stateless = (h == NULL && ctx->version == NULL);

    if ((h != NULL && call->session_id == NULL)
        || (h != NULL && found && (call->session_version == NULL
                                   || call->session_log_level == NULL))
        || (call->protocol_header == NULL && ctx->version != NULL)
        || (call->method_header == NULL && ctx->method != NULL)
        || (call->name_header == NULL && ctx->name != NULL))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the core's reply outlives this call while a tool waits */
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_ttai_mcp_reply_cleanup;
    cln->data = &ctx->reply;

    if (ttai_mcp_handle(tmcf->mcp, call, (char *) ctx->body.data,
                        ctx->body.len, &ctx->reply)
        != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_ttai_mcp_trace(r, ctx);

    if (ctx->reply.nanswers) {
        rc = ngx_http_ttai_mcp_answers(r, ctx);

        if (rc != NGX_OK) {
            ttai_mcp_reply_free(&ctx->reply);
            return rc;
        }
    }

    return ngx_http_ttai_mcp_drive(r, ctx);
}


static ngx_int_t
ngx_http_ttai_mcp_granted(ngx_http_request_t *r, void *data,
    ngx_uint_t granted)
{
    ngx_http_ttai_mcp_ctx_t *ctx = data;

    ctx->trade_granted = granted;

    return ngx_http_ttai_mcp_dispatch(r, ctx);
}


/* the Mcp-Param-* headers as C strings, for the core */

static ngx_int_t
ngx_http_ttai_mcp_params(ngx_http_request_t *r, ngx_http_ttai_mcp_ctx_t *ctx)
{
    ngx_str_t         name;
    ngx_uint_t        i;
    const char      **names, **values;
    ngx_table_elt_t  *h;

    names = ngx_palloc(r->pool, ctx->nparams * sizeof(char *));
    values = ngx_palloc(r->pool, ctx->nparams * sizeof(char *));

    if (names == NULL || values == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < ctx->nparams; i++) {
        h = ctx->params[i];

        name.data = h->key.data + sizeof("Mcp-Param-") - 1;
        name.len = h->key.len - (sizeof("Mcp-Param-") - 1);

        names[i] = ngx_http_ttai_cstr(r->pool, &name);
        values[i] = ngx_http_ttai_cstr(r->pool, &h->value);

        if (names[i] == NULL || values[i] == NULL) {
            return NGX_ERROR;
        }
    }

    ctx->call.param_names = names;
    ctx->call.param_values = values;
    ctx->call.nparams = ctx->nparams;

    return NGX_OK;
}


/*
 * The client's answers to questions ttai asked it, for the calls that
 * wait on them, in this worker or another.  An answer nobody waits for
 * is refused when the POST holds nothing else, so that a client learns
 * that its user's answer went nowhere.
 */

static ngx_int_t
ngx_http_ttai_mcp_answers(ngx_http_request_t *r,
    ngx_http_ttai_mcp_ctx_t *ctx)
{
    size_t      i;
    ngx_int_t   rc;

    for (i = 0; i < ctx->reply.nanswers; i++) {
        rc = ngx_http_ttai_ask_answer(&ctx->session_id->value,
                                      &ctx->reply.answers[i]);

        if (rc == NGX_OK || ctx->reply.status != 202) {
            continue;
        }

        if (rc == NGX_BUSY) {
            if (ngx_http_ttai_header_lit(r, "Retry-After", "1") != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_ttai_mcp_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "no room for the answer now; "
                                           "send it again");
        }

        return ngx_http_ttai_mcp_error(r, NGX_HTTP_BAD_REQUEST,
                   (rc == NGX_ABORT)
                   ? "the answer is larger than a question's answer can be"
                   : "no call of this session waits for that answer: it "
                     "was answered already, or the wait ended");
    }

    return NGX_OK;
}


/*
 * Gives the core what its tools wait for, step after step, until it has
 * its answer: KV reads at once, requests through the fetch engine.
 * Returns NGX_DONE while a request is in flight.
 */

static ngx_int_t
ngx_http_ttai_mcp_drive(ngx_http_request_t *r, ngx_http_ttai_mcp_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ttai_mcp_response_t         resp;
    ngx_http_ttai_ask_t        *ask;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    for ( ;; ) {
        ngx_http_ttai_fetch_store(r, &ctx->reply.stores, &ctx->reply.nstores);

        ask = NULL;

        if (ctx->reply.pending != NULL
            && ctx->reply.pending->kind == TTAI_PENDING_ASK)
        {
            /* in the table before the questions go: answers come fast */
            rc = ngx_http_ttai_mcp_ask(r, ctx, &ask);

            if (rc != NGX_OK) {
                return rc;
            }

            if (ask == NULL) {
                /* the call was told, and has gone on */
                continue;
            }
        }

        /* what the call has to say meanwhile goes out at once */
        if (ctx->reply.nevents) {
            if (ngx_http_ttai_mcp_sse_events(r, ctx->reply.events,
                                             ctx->reply.nevents)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            ttai_mcp_reply_events_free(&ctx->reply);
        }

        if (ctx->reply.pending == NULL) {
            break;
        }

        if (ctx->reply.pending->kind == TTAI_PENDING_WAIT) {
            return ngx_http_ttai_mcp_wait(r, ctx, ctx->reply.pending->ms);
        }

        if (ask != NULL) {
            return ngx_http_ttai_ask_wait(ask);
        }

        rc = ngx_http_ttai_fetch_step(r, ctx->reply.pending, ctx->claims.sub,
                                &resp, ngx_http_ttai_mcp_fetched, ctx);

        if (rc == NGX_AGAIN) {
            return NGX_DONE;
        }

        if (rc != NGX_OK
            || ttai_mcp_resume(tmcf->mcp, &ctx->call, &ctx->reply, &resp)
               != 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ctx->reply.nchanges) {
        ngx_http_ttai_listen_publish(r, ctx->reply.changes,
                                     ctx->reply.nchanges, ctx->claims.sub);
    }

    if (ctx->reply.listen != NULL) {
        return ngx_http_ttai_mcp_listen(r, ctx);
    }

    /* a 2025 session's subscription, for its GET stream */
    if (ctx->reply.subscribe_uri != NULL && ctx->session_id != NULL
        && ngx_http_ttai_listen_subscribe(&ctx->session_id->value,
                                          ctx->reply.subscribe_uri,
                                          ctx->reply.subscribe)
           != NGX_OK)
    {
        ttai_mcp_reply_free(&ctx->reply);
        return ngx_http_ttai_mcp_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "the subscription table is full; "
                                       "retry later");
    }

    /* a 2026-07-28 request has no session: none is made or touched */
    rc = ctx->reply.stateless
         ? NGX_OK
         : ngx_http_ttai_mcp_session(r, ctx, &ctx->reply, &ctx->session,
                                     ctx->found);

    if (rc == NGX_AGAIN) {
        /* answered once the session is on disk */
        return NGX_DONE;
    }

    return ngx_http_ttai_mcp_answer(r, ctx, rc);
}


static ngx_int_t
ngx_http_ttai_mcp_answer(ngx_http_request_t *r, ngx_http_ttai_mcp_ctx_t *ctx,
    ngx_int_t rc)
{
    if (rc == NGX_OK) {
        /* the reply is sent as it is: the pool's cleanup frees it */
        return ngx_http_ttai_mcp_send(r, &ctx->reply);
    }

    if (rc == NGX_BUSY) {
        rc = ngx_http_ttai_mcp_full(r);

    } else if (rc == NGX_ABORT) {
        rc = ngx_http_ttai_mcp_not_durable(r, ctx->wait.err);
    }

    ttai_mcp_reply_free(&ctx->reply);

    return rc;
}


/* the sessions zone's journal is done with this request's change */

static ngx_int_t
ngx_http_ttai_mcp_saved(ngx_http_request_t *r, ngx_http_ttai_kv_wait_t *w)
{
    ngx_http_ttai_mcp_ctx_t *ctx = w->data;

    ngx_http_ttai_session_t  *s;

    if (w->err) {
        return ngx_http_ttai_mcp_answer(r, ctx, NGX_ABORT);
    }

    s = &ctx->session;

    /* the id is given only for a session that lasts */
    if (ctx->new_session
        && ngx_http_ttai_header(r, "Mcp-Session-Id", (char *) s->id.data,
                                s->id.len)
           != NGX_OK)
    {
        return ngx_http_ttai_mcp_answer(r, ctx,
                                        NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    return ngx_http_ttai_mcp_answer(r, ctx, NGX_OK);
}


/*
 * A session change that may not last is not acknowledged: 503, as for a
 * full sessions zone, since it is the server that cannot keep it for now
 * and a client retries a 503 (507 is WebDAV's, about what the client asked
 * to store).
 */

static ngx_int_t
ngx_http_ttai_mcp_not_durable(ngx_http_request_t *r, ngx_err_t err)
{
    char    *why;
    u_char  *msg, *p;
    size_t   len;

    why = ngx_http_ttai_kv_strerror(r->pool, "journal", err);
    if (why == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("the session could not be made durable (): retry later")
          + ngx_strlen(why);

    msg = ngx_pnalloc(r->pool, len);
    if (msg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(msg, "the session could not be made durable (%s): "
                    "retry later", why);
    *p = '\0';

    if (ngx_http_ttai_header_lit(r, "Retry-After", "1") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_mcp_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   (char *) msg);
}


static ngx_int_t
ngx_http_ttai_mcp_fetched(ngx_http_request_t *r, ngx_http_ttai_fetch_t *f)
{
    ngx_http_ttai_mcp_ctx_t *ctx = f->data;

    ttai_mcp_response_t         resp;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    ngx_http_ttai_fetch_step_response(f, &resp);

    if (ttai_mcp_resume(tmcf->mcp, &ctx->call, &ctx->reply, &resp) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_mcp_drive(r, ctx);
}


/*
 * subscriptions/listen: the stream is held open; a user with as many as
 * allowed is told so in the JSON-RPC answer, as the SDKs do
 */

static ngx_int_t
ngx_http_ttai_mcp_listen(ngx_http_request_t *r, ngx_http_ttai_mcp_ctx_t *ctx)
{
    u_char                     *body, *p;
    ngx_int_t                   rc;
    ttai_mcp_listen_t          *l;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    l = ctx->reply.listen;
    ctx->reply.listen = NULL;

    rc = ngx_http_ttai_listen_open(r, l, ctx->claims.sub, NULL,
                                   tmcf->listen_per_user);

    if (rc == NGX_DONE) {
        return NGX_DONE;
    }

    if (rc == NGX_DECLINED) {
        body = ngx_pnalloc(r->pool, ngx_strlen(l->id) + 256);

        if (body != NULL) {
            p = ngx_sprintf(body, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":"
                            "{\"code\":%d,\"message\":\"Subscription limit "
                            "reached: this user holds %ui "
                            "subscriptions/listen streams; close one\"}}",
                            l->id, TTAI_MCP_INTERNAL_ERROR,
                            tmcf->listen_per_user);
            ttai_mcp_listen_free(l);

            return ngx_http_ttai_send_json(r, NGX_HTTP_OK, body, p - body);
        }
    }

    ttai_mcp_listen_free(l);

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/*
 * A call asks the user of a 2025 session: its questions are put in the
 * table of ngx_http_ttai_mcp_ask.c, for the answers to find, and *ask is
 * set; the caller sends them and waits.  Without a session to bind them
 * to, or with a full table, the call goes on at once, told why, and *ask
 * stays NULL.
 */

static ngx_int_t
ngx_http_ttai_mcp_ask(ngx_http_request_t *r, ngx_http_ttai_mcp_ctx_t *ctx,
    ngx_http_ttai_ask_t **ask)
{
    ngx_int_t                   rc;
    ttai_mcp_response_t         resp;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    rc = NGX_DECLINED;

    if (ctx->found && ctx->session_id != NULL) {
        rc = ngx_http_ttai_ask_register(r, ctx->reply.pending,
                                        &ctx->session_id->value,
                                        ngx_http_ttai_mcp_asked, ask);
        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (rc == NGX_OK) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "ttai: no room to ask a user: the table of questions "
                  "waiting for an answer is full");

    ngx_memzero(&resp, sizeof(ttai_mcp_response_t));
    resp.error = "the server has too many questions waiting for answers; "
                 "try again shortly";

    *ask = NULL;

    if (ttai_mcp_resume(tmcf->mcp, &ctx->call, &ctx->reply, &resp) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


/* the answers came, or the wait ended: the call goes on */

static void
ngx_http_ttai_mcp_asked(ngx_http_request_t *r, ttai_mcp_response_t *resp)
{
    ngx_int_t                   rc;
    ngx_connection_t           *c;
    ngx_http_ttai_mcp_ctx_t    *ctx;
    ngx_http_ttai_main_conf_t  *tmcf;

    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);
    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    if (ttai_mcp_resume(tmcf->mcp, &ctx->call, &ctx->reply, resp) != 0) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else {
        rc = ngx_http_ttai_mcp_drive(r, ctx);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/*
 * A tool's wait step: a timer, then the tool resumes with an empty
 * response.  The request is held meanwhile, and a client that closes its
 * end ends it (ngx_http_test_reading), which deletes the timer.
 */

static ngx_int_t
ngx_http_ttai_mcp_wait(ngx_http_request_t *r, ngx_http_ttai_mcp_ctx_t *ctx,
    long ms)
{
    ngx_http_cleanup_t  *cln;

    if (!ctx->wait_cleanup) {
        cln = ngx_http_cleanup_add(r, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_ttai_mcp_wait_cleanup;
        cln->data = ctx;
        ctx->wait_cleanup = 1;
    }

    ctx->wait_timer.handler = ngx_http_ttai_mcp_waited;
    ctx->wait_timer.data = r;
    ctx->wait_timer.log = r->connection->log;

    ngx_add_timer(&ctx->wait_timer, (ngx_msec_t) ms);

    r->read_event_handler = ngx_http_test_reading;
    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_ttai_mcp_waited(ngx_event_t *ev)
{
    ngx_int_t                   rc;
    ngx_connection_t           *c;
    ngx_http_request_t         *r;
    ttai_mcp_response_t         resp;
    ngx_http_ttai_mcp_ctx_t    *ctx;
    ngx_http_ttai_main_conf_t  *tmcf;

    r = ev->data;
    c = r->connection;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);
    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    ngx_memzero(&resp, sizeof(ttai_mcp_response_t));

    if (ttai_mcp_resume(tmcf->mcp, &ctx->call, &ctx->reply, &resp) != 0) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else {
        rc = ngx_http_ttai_mcp_drive(r, ctx);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_ttai_mcp_wait_cleanup(void *data)
{
    ngx_http_ttai_mcp_ctx_t *ctx = data;

    if (ctx->wait_timer.timer_set) {
        ngx_del_timer(&ctx->wait_timer);
    }
}


static void
ngx_http_ttai_mcp_reply_cleanup(void *data)
{
    ttai_mcp_reply_free(data);
}


/*
 * Makes, updates or touches the session after the core's answer; NGX_BUSY
 * when there is no room for a new one.  A new session and a new level
 * are answered once on disk (NGX_AGAIN: ngx_http_ttai_mcp_saved() then
 * answers), or refused with NGX_ABORT when they cannot be; a later idle
 * deadline is written without waiting.
 */

static ngx_int_t
ngx_http_ttai_mcp_session(ngx_http_request_t *r, ngx_http_ttai_mcp_ctx_t *ctx,
    ttai_mcp_reply_t *reply, ngx_http_ttai_session_t *s, ngx_uint_t found)
{
    ngx_int_t                   rc;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);

    ctx->wait.request = r;
    ctx->wait.handler = ngx_http_ttai_mcp_saved;
    ctx->wait.data = ctx;

    if (reply->new_session) {
        ngx_memzero(s, sizeof(ngx_http_ttai_session_t));

        s->sub.data = (u_char *) ctx->claims.sub;
        s->sub.len = ngx_strlen(ctx->claims.sub);
        s->version.data = (u_char *) reply->version;
        s->version.len = ngx_strlen(reply->version);
        ngx_str_null(&s->log_level);

        if (reply->client_info != NULL) {
            s->client.data = (u_char *) reply->client_info;
            s->client.len = ngx_strlen(reply->client_info);
        }

        if (reply->client_caps != NULL) {
            s->caps.data = (u_char *) reply->client_caps;
            s->caps.len = ngx_strlen(reply->client_caps);
        }

        rc = ngx_http_ttai_session_create(r, s, &ctx->wait);

        if (rc == NGX_AGAIN) {
            ctx->new_session = 1;
            return NGX_AGAIN;
        }

        if (rc == NGX_ABORT) {
            return NGX_ABORT;
        }

        if (rc != NGX_OK) {
            return (rc == NGX_BUSY) ? NGX_BUSY
                                    : NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_ttai_header(r, "Mcp-Session-Id", (char *) s->id.data,
                                 s->id.len)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_OK;
    }

    if (!found) {
        return NGX_OK;
    }

    if (reply->log_level[0] != '\0') {
        s->log_level.data = (u_char *) reply->log_level;
        s->log_level.len = ngx_strlen(reply->log_level);

        rc = ngx_http_ttai_session_save(r, s, &ctx->wait);

        /* a zone too full for it keeps the old level, as it always did */
        return (rc == NGX_AGAIN || rc == NGX_ABORT) ? rc : NGX_OK;
    }

    if (ngx_time() - s->touched
        < tmcf->session_timeout / NGX_HTTP_TTAI_MCP_TOUCH)
    {
        /* the idle deadline is fresh enough: no write to shared memory */
        return NGX_OK;
    }

    /* a session that cannot be touched expires on time: no worse */
    (void) ngx_http_ttai_session_save(r, s, NULL);

    return NGX_OK;
}


static ngx_int_t
ngx_http_ttai_mcp_send(ngx_http_request_t *r, ttai_mcp_reply_t *reply)
{
    if (r->header_sent) {
        /* a stream of notifications: the answer is its last event */
        return ngx_http_ttai_mcp_sse_last(r, (u_char *) reply->body,
                                          reply->len,
                                          (u_char *) reply->tail,
                                          reply->tail_len);
    }

    if (reply->body == NULL) {
        r->headers_out.status = reply->status;
        r->headers_out.content_length_n = 0;
        r->header_only = 1;

        return ngx_http_send_header(r);
    }

    return ngx_http_ttai_send_json_tail(r, reply->status,
                                        (u_char *) reply->body, reply->len,
                                        (u_char *) reply->tail,
                                        reply->tail_len);
}


/* an HTTP-level refusal, as an id-less JSON-RPC error */

static ngx_int_t
ngx_http_ttai_mcp_error(ngx_http_request_t *r, ngx_uint_t status,
    char *message)
{
    u_char  *p, *body;
    size_t   len;

    len = sizeof("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":"
                 ",\"message\":\"\"}}")
          + NGX_INT_T_LEN + ngx_strlen(message);

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(body, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
                    "{\"code\":%i,\"message\":\"%s\"}}",
                    (ngx_int_t) (status == NGX_HTTP_NOT_FOUND
                                 ? TTAI_MCP_SESSION_NOT_FOUND
                                 : TTAI_MCP_TRANSPORT_ERROR),
                    message);

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    return ngx_http_ttai_send_json(r, status, body, p - body);
}


/*
 * No room for a new session: the zone is full of other users' live
 * sessions, which are theirs to keep, and sessions end every idle
 * timeout, so a later retry can succeed.
 */

static ngx_int_t
ngx_http_ttai_mcp_full(ngx_http_request_t *r)
{
    u_char                     *msg, *p;
    ngx_str_t                  *name;
    ngx_http_ttai_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_ttai_module);
    name = ngx_http_ttai_kv_name(tmcf->sessions);

    msg = ngx_pnalloc(r->pool, sizeof("the MCP session zone \\\"\\\" is "
                                      "full of other users' live sessions; "
                                      "retry later")
                               + name->len);
    if (msg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a zone's name is letters, digits, "_", "-" and ".": JSON-safe */
    p = ngx_sprintf(msg, "the MCP session zone \\\"%V\\\" is full of other "
                    "users' live sessions; retry later", name);
    *p = '\0';

    if (ngx_http_ttai_header_lit(r, "Retry-After",
                                 NGX_HTTP_TTAI_MCP_RETRY_FULL)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_mcp_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                   (char *) msg);
}


static ngx_int_t
ngx_http_ttai_mcp_not_allowed(ngx_http_request_t *r)
{
    if (ngx_http_ttai_header_lit(r, "Allow", "GET, POST, DELETE, OPTIONS")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_ttai_mcp_error(r, NGX_HTTP_NOT_ALLOWED,
                                   "use POST for messages, GET for a "
                                   "session's event stream");
}


/* the first of each of the transport's headers, in one pass */

static void
ngx_http_ttai_mcp_headers(ngx_http_request_t *r, ngx_http_ttai_mcp_ctx_t *ctx)
{
    ngx_uint_t         i;
    ngx_list_part_t   *part;
    ngx_table_elt_t   *h, **found;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        switch (h[i].key.len) {

        case sizeof("Origin") - 1:
            found = ngx_strncasecmp(h[i].key.data, (u_char *) "Origin",
                                    sizeof("Origin") - 1) == 0
                    ? &ctx->origin : NULL;
            break;

        case sizeof("Mcp-Session-Id") - 1:
            found = ngx_strncasecmp(h[i].key.data,
                                    (u_char *) "Mcp-Session-Id",
                                    sizeof("Mcp-Session-Id") - 1) == 0
                    ? &ctx->session_id : NULL;
            break;

        case sizeof("Mcp-Method") - 1:
            found = ngx_strncasecmp(h[i].key.data, (u_char *) "Mcp-Method",
                                    sizeof("Mcp-Method") - 1) == 0
                    ? &ctx->method : NULL;
            break;

        case sizeof("Mcp-Name") - 1:
            found = ngx_strncasecmp(h[i].key.data, (u_char *) "Mcp-Name",
                                    sizeof("Mcp-Name") - 1) == 0
                    ? &ctx->name : NULL;
            break;

        case sizeof("MCP-Protocol-Version") - 1:
            found = ngx_strncasecmp(h[i].key.data,
                                    (u_char *) "MCP-Protocol-Version",
                                    sizeof("MCP-Protocol-Version") - 1) == 0
                    ? &ctx->version : NULL;
            break;

        default:
            found = NULL;

            if (h[i].key.len > sizeof("Mcp-Param-") - 1
                && ngx_strncasecmp(h[i].key.data, (u_char *) "Mcp-Param-",
                                   sizeof("Mcp-Param-") - 1) == 0
                && ctx->nparams < NGX_HTTP_TTAI_MCP_PARAMS)
            {
                ctx->params[ctx->nparams++] = &h[i];
            }
        }

        if (found != NULL && *found == NULL) {
            *found = &h[i];
        }
    }
}


/*
 * A request that carries a traceparent in its _meta names it in each of
 * its error log lines, its subrequests' included (they log through the
 * main request), and in $ttai_traceparent for the access log.
 */

static void
ngx_http_ttai_mcp_trace(ngx_http_request_t *r, ngx_http_ttai_mcp_ctx_t *ctx)
{
    if (ctx->reply.traceparent[0] == '\0'
        || r->log_handler == ngx_http_ttai_mcp_log_trace)
    {
        return;
    }

    ngx_memcpy(ctx->traceparent, ctx->reply.traceparent,
               sizeof(ctx->traceparent));

    ctx->log_handler = r->log_handler;
    r->log_handler = ngx_http_ttai_mcp_log_trace;
}


static u_char *
ngx_http_ttai_mcp_log_trace(ngx_http_request_t *r, ngx_http_request_t *sr,
    u_char *buf, size_t len)
{
    u_char                   *p;
    ngx_http_ttai_mcp_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ttai_module);

    p = ctx->log_handler(r, sr, buf, len);

    len -= p - buf;

    return ngx_snprintf(p, len, ", traceparent: \"%s\"", ctx->traceparent);
}


/* $ttai_traceparent: the traceparent an /mcp request named, or empty */

ngx_int_t
ngx_http_ttai_mcp_traceparent_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_ttai_mcp_ctx_t  *ctx;

    /* only this handler's context has a traceparent */
    if (r->main->log_handler != ngx_http_ttai_mcp_log_trace) {
        v->not_found = 1;
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_ttai_module);

    v->data = ctx->traceparent;
    v->len = ngx_strlen(ctx->traceparent);
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
