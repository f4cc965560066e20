
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_OAUTH_H_INCLUDED_
#define _TTAI_OAUTH_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>


/*
 * The pieces of ttai's OAuth 2.1 authorization server that do no I/O:
 * parsing and checking what clients send, PKCE, the secrets ttai hands
 * out (random, and stored only as hashes), and the documents it answers
 * with.  ttai_oauth_store.h holds its statements, ttai_oauth_grant.h
 * its decisions at the token endpoint; the nginx shell
 * (ngx_http_ttai_oauth*.c) does the rest.
 */

#define TTAI_OAUTH_ERRLEN         256

/* a secret ttai hands out: 32 random bytes, base64url without padding */
#define TTAI_OAUTH_TOKEN_LEN      43

/* the hex SHA-256 of a secret, as stored */
#define TTAI_OAUTH_HASH_LEN       64

#define TTAI_OAUTH_MAX_REDIRECTS  8
#define TTAI_OAUTH_MAX_URI        2000

/*
 * The scopes of /mcp: its tools, and the trading tools on top (README,
 * "Trading safely"), which the user grants at sign-in in a box of its
 * own, unticked, only when the client asked for it
 */
#define TTAI_OAUTH_SCOPE          "mcp:tools"
#define TTAI_OAUTH_SCOPE_TRADE    "mcp:trade"
#define TTAI_OAUTH_SCOPES_TRADE   "mcp:tools mcp:trade"

/*
 * A client's scope parameter: 0 with *trade set (1: it asks for
 * mcp:trade), or -1 when it names a scope there is not
 */
int ttai_oauth_scope_parse(const char *scope, int *trade);

/* 1 when a granted scope, as stored, includes trading */
int ttai_oauth_scope_trades(const char *scope);

/* lifetimes, in seconds */
#define TTAI_OAUTH_REQUEST_TTL    600       /* consent and TastyTrade */
#define TTAI_OAUTH_CODE_TTL       60
#define TTAI_OAUTH_ACCESS_TTL     3600
#define TTAI_OAUTH_REFRESH_TTL    (30 * 86400)

/*
 * how long a revocation is kept in the database: far longer than any
 * access token it could concern lives, the clock skew allowed included
 */
#define TTAI_OAUTH_REVOKED_KEEP   86400

/* the id of a sign-in in its access tokens: 16 bytes in base64url */
#define TTAI_OAUTH_FAMILY_ID_LEN  22


/* a registration that passed the checks, as it is stored */
typedef struct {
    char         *name;           /* client_name, or "" */
    json_t       *redirect_uris;  /* array of strings, each checked */
    char         *auth_method;    /* "none", "client_secret_post" or
                                     "client_secret_basic" */
    json_t       *grant_types;    /* ["authorization_code",
                                      "refresh_token"] by default */
    const char   *application_type;  /* "web", "native", or NULL when
                                        the client did not say */
} ttai_oauth_client_t;


/*
 * application/x-www-form-urlencoded, into an object of strings; NULL
 * with *err set for a malformed body or a repeated key (RFC 6749 3.1
 * refuses them).
 */
json_t *ttai_oauth_form(const char *body, size_t len, char *err,
    size_t errlen);

/*
 * RFC 7591 client metadata: redirect_uris required (1..8, each passing
 * ttai_oauth_redirect_ok), token_endpoint_auth_method one of the three
 * (default client_secret_basic, as RFC 7591 says), grant_types within
 * authorization_code and refresh_token, response_types within code,
 * client_name printable and at most 200 bytes.  0, or -1 with err in
 * the words of an invalid_client_metadata or invalid_redirect_uri
 * answer (*which says which: "invalid_redirect_uri" or
 * "invalid_client_metadata").  Free with ttai_oauth_client_free().
 */
int ttai_oauth_register_check(json_t *req, ttai_oauth_client_t *client,
    const char **which, char *err, size_t errlen);
void ttai_oauth_client_free(ttai_oauth_client_t *client);

/*
 * A redirect URI a client may register: absolute, no fragment, no
 * userinfo, at most TTAI_OAUTH_MAX_URI bytes; https, or http only to a
 * loopback host (localhost, 127.0.0.0/8, [::1]).  1 or 0.
 */
int ttai_oauth_redirect_ok(const char *uri);

/* 1 when uri is exactly one of the registered ones (a JSON array) */
int ttai_oauth_redirect_registered(json_t *uris, const char *uri);

/* ttai_oauth_cimd.c: Client ID Metadata Documents */

#define TTAI_CIMD_MAX_URL       512
#define TTAI_CIMD_MAX_DOCUMENT  5120     /* the draft's suggested limit */
#define TTAI_CIMD_DEFAULT_TTL   300      /* seconds, without Cache-Control */
#define TTAI_CIMD_MAX_TTL       86400

typedef struct {
    char         host[256];      /* a name, or an address without [] */
    char         path[TTAI_CIMD_MAX_URL];
    int          port;
    int          tls;            /* https */
    int          ipv4;           /* host is a dotted quad */
    int          ipv6;           /* host is an IPv6 address */
} ttai_cimd_url_t;

int ttai_cimd_is_url(const char *client_id);
int ttai_cimd_url_parse(const char *url, int dev, ttai_cimd_url_t *u,
    char *err, size_t errlen);
struct sockaddr;
int ttai_cimd_addr_public(const struct sockaddr *sa, int allow_loopback);
int ttai_cimd_document_check(const char *url, const char *body, size_t len,
    ttai_oauth_client_t *client, char *err, size_t errlen);
long ttai_cimd_cache_ttl(const char *cache_control);

/* a PKCE S256 code_challenge: 43 base64url characters.  1 or 0 */
int ttai_oauth_challenge_ok(const char *challenge);

/*
 * 1 when verifier (43..128 unreserved characters, RFC 7636) hashes to
 * challenge under S256, compared in constant time; else 0.
 */
int ttai_oauth_pkce_verify(const char *verifier, const char *challenge);

/* a fresh secret: TTAI_OAUTH_TOKEN_LEN characters and a NUL */
int ttai_oauth_token(char out[TTAI_OAUTH_TOKEN_LEN + 1]);

/* the stored form of a secret: hex SHA-256 and a NUL */
void ttai_oauth_hash(const char *secret, size_t len,
    char out[TTAI_OAUTH_HASH_LEN + 1]);

/* 1 when secret hashes to hash; constant time */
int ttai_oauth_hash_equal(const char *secret, size_t len, const char *hash);

/*
 * The id of a sign-in (a refresh-token family, named in the store by
 * the hash of its first refresh token) that its access tokens carry as
 * the claim "fam", and that revoking it puts in the set /mcp checks.
 * It is derived one way from the family's name: a token shows which
 * sign-in it belongs to, not a key of the store.  Not a secret.
 */
void ttai_oauth_family_id(const char *family,
    char out[TTAI_OAUTH_FAMILY_ID_LEN + 1]);

/*
 * uri with query parameters added (it may have a query already), each
 * name and value percent-encoded; the pairs end with a NULL name, a
 * NULL value is left out.  malloc'd, NULL when out of memory.
 */
char *ttai_oauth_url(const char *uri, ...);

/* percent-decoding and -encoding for query components; malloc'd */
char *ttai_oauth_unescape(const char *s, size_t len);
char *ttai_oauth_escape(const char *s);

/* {"error":"...","error_description":"..."}; malloc'd */
char *ttai_oauth_error_json(const char *error, const char *description);

/* RFC 8414 metadata for the issuer (an origin, no trailing slash) */
char *ttai_oauth_metadata(const char *issuer);

/*
 * The consent page: a small HTML document that names the client and the
 * redirect's host, says what it asks for (reading the TastyTrade
 * account through ttai's tools), and posts request and csrf back to
 * action with decision=approve or decision=deny.  Every value is HTML-
 * escaped.  malloc'd.
 */
char *ttai_oauth_consent_html(const char *client_name,
    const char *redirect_uri, const char *scope, const char *action,
    const char *request, const char *csrf);

/* a page for an error that cannot be sent back to the client */
char *ttai_oauth_error_html(const char *title, const char *message);

/* HTML-escaped copy of s; malloc'd */
char *ttai_oauth_html_escape(const char *s);


#endif /* _TTAI_OAUTH_H_INCLUDED_ */
