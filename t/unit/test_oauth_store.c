
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ttai_crypto.h"
#include "ttai_d1.h"
#include "ttai_migrate.h"
#include "ttai_oauth_store.h"


/*
 * The sign-in store against a real database: a file in a temporary
 * folder, the repository's own migrations applied (the tests run from
 * the repository root), every batch run by ttai_d1_batch() as the CLI
 * and the module's threads run them.
 */


#define NOW        1700000000LL
#define REDIRECT   "http://127.0.0.1:9/cb"
#define CHALLENGE  "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


typedef struct {
    char             dir[64];
    char             path[128];
    sqlite3         *db;
    unsigned char    key[TTAI_SECRET_KEY_LEN];
} fixture_t;


static int
setup(void **state)
{
    fixture_t        *f;
    ttai_d1_error_t   err;

    assert_true(sodium_init() >= 0);

    f = calloc(1, sizeof(fixture_t));
    assert_non_null(f);

    strcpy(f->dir, "/tmp/ttai-test-oauth-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));

    snprintf(f->path, sizeof(f->path), "%s/db.sqlite", f->dir);
    assert_int_equal(ttai_d1_open(&f->db, f->path, &err), 0);

    if (ttai_migrate_apply(f->db, "migrations", NULL, NULL, &err) < 2) {
        fail_msg("migrations: %s", err.msg);
    }

    randombytes_buf(f->key, sizeof(f->key));

    *state = f;

    return 0;
}


static int
teardown(void **state)
{
    fixture_t  *f = *state;
    char        cmd[160];

    ttai_d1_close(f->db);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);

    free(f);

    return 0;
}


/* runs a batch, which must succeed; takes it */
static json_t *
run(fixture_t *f, json_t *batch)
{
    json_t           *r;
    ttai_d1_error_t   err;

    assert_non_null(batch);

    r = ttai_d1_batch(f->db, batch, NULL, &err);
    json_decref(batch);

    if (r == NULL) {
        fail_msg("batch: %s", err.msg);
    }

    return r;
}


/* runs a batch, which must fail; takes it */
static void
run_fails(fixture_t *f, json_t *batch, const char *why)
{
    json_t           *r;
    ttai_d1_error_t   err;

    assert_non_null(batch);

    r = ttai_d1_batch(f->db, batch, NULL, &err);
    json_decref(batch);

    assert_null(r);

    if (strstr(err.msg, why) == NULL) {
        fail_msg("expected \"%s\", got \"%s\"", why, err.msg);
    }
}


static long long
scalar(fixture_t *f, const char *sql)
{
    long long      n;
    sqlite3_stmt  *stmt;

    assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    n = (long long) sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);

    return n;
}


/* 1 when text is a key, hash or family in the tables of migration 0002 */
static int
stored(fixture_t *f, const char *text)
{
    long long      n;
    sqlite3_stmt  *stmt;

    assert_int_equal(sqlite3_prepare_v2(f->db,
        "SELECT (SELECT count(*) FROM oauth_clients "
        "        WHERE client_id = ?1 OR secret_hash = ?1) "
        "     + (SELECT count(*) FROM oauth_requests "
        "        WHERE id_hash = ?1 OR csrf_hash = ?1 OR state_hash = ?1) "
        "     + (SELECT count(*) FROM oauth_codes WHERE code_hash = ?1) "
        "     + (SELECT count(*) FROM oauth_refresh_tokens "
        "        WHERE token_hash = ?1 OR family = ?1)",
        -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_bind_text(stmt, 1, text, -1, SQLITE_STATIC),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    n = (long long) sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);

    return n > 0;
}


static int
stored_hash(fixture_t *f, const char *secret)
{
    char  hash[TTAI_OAUTH_HASH_LEN + 1];

    ttai_oauth_hash(secret, strlen(secret), hash);

    return stored(f, hash);
}


static void
register_client(fixture_t *f, const char *id, const char *secret)
{
    ttai_oauth_client_t  reg;

    reg.name = (char *) "Test Client";
    reg.auth_method = (char *) (secret ? "client_secret_basic" : "none");
    reg.redirect_uris = json_pack("[s]", REDIRECT);
    reg.grant_types = json_pack("[s, s]", "authorization_code",
                                "refresh_token");
    assert_non_null(reg.redirect_uris);
    assert_non_null(reg.grant_types);

    json_decref(run(f, ttai_oauth_store_register(id, secret, &reg)));

    json_decref(reg.redirect_uris);
    json_decref(reg.grant_types);
}


static void
tokens_of(fixture_t *f, ttai_oauth_tt_tokens_t *t, const char *user)
{
    memset(t, 0, sizeof(ttai_oauth_tt_tokens_t));

    t->user = user;
    t->key = f->key;
    t->access = "at.access-token";
    t->access_len = strlen(t->access);
    t->refresh = "rt.refresh-token";
    t->refresh_len = strlen(t->refresh);
    t->expires_at = NOW + 900;
    t->scope = "read";
}


static ttai_oauth_pending_t
pending(const char *client_id)
{
    ttai_oauth_pending_t  p;

    memset(&p, 0, sizeof(p));

    p.client_id = client_id;
    p.redirect_uri = REDIRECT;
    p.code_challenge = CHALLENGE;
    p.client_state = "client-state";
    p.scope = TTAI_OAUTH_SCOPE;
    p.resource = "http://localhost/mcp";

    return p;
}


/* a user signed in through client_id at now, with code handed out */
static void
sign_in_at(fixture_t *f, const char *client_id, const char *user,
    const char *code, long long now)
{
    ttai_oauth_pending_t    p;
    ttai_oauth_tt_tokens_t  t;

    p = pending(client_id);
    tokens_of(f, &t, user);

    json_decref(run(f, ttai_oauth_store_sign_in(&t, &p, code, now)));
}


static void
sign_in(fixture_t *f, const char *client_id, const char *user,
    const char *code)
{
    sign_in_at(f, client_id, user, code, NOW);
}


/* a code redeemed: the refresh token of a new family */
static void
redeem(fixture_t *f, const char *code, const char *refresh)
{
    json_t  *r;

    r = run(f, ttai_oauth_store_code_redeem(code, refresh, NOW));
    assert_true(ttai_oauth_store_issued(r));
    json_decref(r);
}


/* the rows a revoking batch added: how many, with the first in *rev */
static size_t
revocations(json_t *r, ttai_oauth_revocation_t *rev)
{
    size_t                    n;
    ttai_oauth_revocation_t   tmp;

    for (n = 0; ttai_oauth_store_revocation_at(r, n, n ? &tmp : rev); n++) {
        /* void */
    }

    return n;
}


/* -- clients ---------------------------------------------------------- */


static void
test_register(void **state)
{
    fixture_t                *f = *state;
    json_t                   *r;
    ttai_oauth_client_row_t   c;

    register_client(f, "pub", NULL);
    register_client(f, "conf", "the-client-secret");

    r = run(f, ttai_oauth_store_client("pub"));
    assert_int_equal(ttai_oauth_store_client_read(r, &c), 1);
    assert_string_equal(c.client_id, "pub");
    assert_null(c.secret_hash);
    assert_string_equal(c.name, "Test Client");
    assert_string_equal(c.redirect_uris, "[\"" REDIRECT "\"]");
    assert_string_equal(c.auth_method, "none");
    assert_string_equal(c.grant_types,
                        "[\"authorization_code\",\"refresh_token\"]");
    json_decref(r);

    /* the secret is kept as its hash, which proves it */
    r = run(f, ttai_oauth_store_client("conf"));
    assert_int_equal(ttai_oauth_store_client_read(r, &c), 1);
    assert_non_null(c.secret_hash);
    assert_true(ttai_oauth_hash_equal("the-client-secret", 17,
                                      c.secret_hash));
    assert_string_equal(c.auth_method, "client_secret_basic");
    json_decref(r);

    assert_false(stored(f, "the-client-secret"));
    assert_true(stored_hash(f, "the-client-secret"));

    r = run(f, ttai_oauth_store_client("nobody"));
    assert_int_equal(ttai_oauth_store_client_read(r, &c), 0);
    assert_null(c.client_id);
    json_decref(r);

    /* an id is registered once */
    {
        ttai_oauth_client_t  reg;

        reg.name = (char *) "Again";
        reg.auth_method = (char *) "none";
        reg.redirect_uris = json_pack("[s]", REDIRECT);
        reg.grant_types = json_pack("[s]", "authorization_code");

        run_fails(f, ttai_oauth_store_register("pub", NULL, &reg),
                  "UNIQUE");

        json_decref(reg.redirect_uris);
        json_decref(reg.grant_types);
    }

    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_clients"), 2);
}


/* -- a sign-in, from consent to callback ------------------------------- */


static void
test_request_single_use(void **state)
{
    fixture_t             *f = *state;
    json_t                *r;
    ttai_oauth_pending_t   p, got;

    register_client(f, "pub", NULL);
    p = pending("pub");

    json_decref(run(f, ttai_oauth_store_request_save("req-1", "csrf-1", &p,
                                                     NOW)));
    assert_false(stored(f, "req-1"));
    assert_false(stored(f, "csrf-1"));
    assert_true(stored_hash(f, "req-1"));

    /* the request and csrf values must both match */
    r = run(f, ttai_oauth_store_request_answer("req-1", "csrf-2", "state-1",
                                               1, NOW));
    assert_int_equal(ttai_oauth_store_request_answered(r, &got), 0);
    json_decref(r);

    r = run(f, ttai_oauth_store_request_answer("req-1", "csrf-1", "state-1",
                                               1, NOW));
    assert_int_equal(ttai_oauth_store_request_answered(r, &got), 1);
    assert_string_equal(got.client_id, "pub");
    assert_string_equal(got.redirect_uri, REDIRECT);
    assert_string_equal(got.client_state, "client-state");
    json_decref(r);

    assert_false(stored(f, "state-1"));
    assert_true(stored_hash(f, "state-1"));

    /* answered once: the same form again finds nothing */
    r = run(f, ttai_oauth_store_request_answer("req-1", "csrf-1", "state-2",
                                               1, NOW));
    assert_int_equal(ttai_oauth_store_request_answered(r, &got), 0);
    json_decref(r);

    /* the state is taken once */
    r = run(f, ttai_oauth_store_request_take("state-2", NOW));
    assert_int_equal(ttai_oauth_store_request_taken(r, &got), 0);
    json_decref(r);

    r = run(f, ttai_oauth_store_request_take("state-1", NOW));
    assert_int_equal(ttai_oauth_store_request_taken(r, &got), 1);
    assert_string_equal(got.client_id, "pub");
    assert_string_equal(got.redirect_uri, REDIRECT);
    assert_string_equal(got.code_challenge, CHALLENGE);
    assert_string_equal(got.client_state, "client-state");
    assert_string_equal(got.scope, TTAI_OAUTH_SCOPE);
    assert_string_equal(got.resource, "http://localhost/mcp");
    json_decref(r);

    r = run(f, ttai_oauth_store_request_take("state-1", NOW));
    assert_int_equal(ttai_oauth_store_request_taken(r, &got), 0);
    json_decref(r);

    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_requests"), 0);
}


/* trading is the user's to grant: an unticked box narrows, never widens */

static void
test_request_trade_scope(void **state)
{
    fixture_t             *f = *state;
    json_t                *r;
    ttai_oauth_pending_t   p, got;

    register_client(f, "pub", NULL);
    p = pending("pub");
    p.scope = TTAI_OAUTH_SCOPES_TRADE;

    json_decref(run(f, ttai_oauth_store_request_save("req-1", "csrf-1", &p,
                                                     NOW)));
    json_decref(run(f, ttai_oauth_store_request_save("req-2", "csrf-2", &p,
                                                     NOW)));

    json_decref(run(f, ttai_oauth_store_request_answer("req-1", "csrf-1",
                                                       "state-1", 0, NOW)));
    r = run(f, ttai_oauth_store_request_take("state-1", NOW));
    assert_int_equal(ttai_oauth_store_request_taken(r, &got), 1);
    assert_string_equal(got.scope, TTAI_OAUTH_SCOPE);
    assert_false(ttai_oauth_scope_trades(got.scope));
    json_decref(r);

    json_decref(run(f, ttai_oauth_store_request_answer("req-2", "csrf-2",
                                                       "state-2", 1, NOW)));
    r = run(f, ttai_oauth_store_request_take("state-2", NOW));
    assert_int_equal(ttai_oauth_store_request_taken(r, &got), 1);
    assert_true(ttai_oauth_scope_trades(got.scope));
    json_decref(r);

    /* asked for tools only, a ticked box adds nothing */
    p.scope = TTAI_OAUTH_SCOPE;
    json_decref(run(f, ttai_oauth_store_request_save("req-3", "csrf-3", &p,
                                                     NOW)));
    json_decref(run(f, ttai_oauth_store_request_answer("req-3", "csrf-3",
                                                       "state-3", 1, NOW)));
    r = run(f, ttai_oauth_store_request_take("state-3", NOW));
    assert_int_equal(ttai_oauth_store_request_taken(r, &got), 1);
    assert_string_equal(got.scope, TTAI_OAUTH_SCOPE);
    json_decref(r);
}


static void
test_request_expires_and_deny(void **state)
{
    fixture_t             *f = *state;
    json_t                *r;
    ttai_oauth_pending_t   p, got;

    register_client(f, "pub", NULL);
    p = pending("pub");
    p.client_state = NULL;
    p.resource = NULL;

    json_decref(run(f, ttai_oauth_store_request_save("req-1", "csrf-1", &p,
                                                     NOW)));

    /* past its lifetime it cannot be answered */
    r = run(f, ttai_oauth_store_request_answer("req-1", "csrf-1", "state-1",
                                               1,
                                               NOW + TTAI_OAUTH_REQUEST_TTL));
    assert_int_equal(ttai_oauth_store_request_answered(r, &got), 0);
    json_decref(r);

    /* a denial takes it too, and deletes it */
    r = run(f, ttai_oauth_store_request_answer("req-1", "csrf-1", NULL,
                                               1, NOW + 1));
    assert_int_equal(ttai_oauth_store_request_answered(r, &got), 1);
    assert_null(got.client_state);
    json_decref(r);

    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_requests"), 0);

    /* an approved one expires too, before TastyTrade comes back */
    json_decref(run(f, ttai_oauth_store_request_save("req-2", "csrf-2", &p,
                                                     NOW)));
    r = run(f, ttai_oauth_store_request_answer("req-2", "csrf-2", "state-2",
                                               1, NOW));
    assert_int_equal(ttai_oauth_store_request_answered(r, &got), 1);
    json_decref(r);

    r = run(f, ttai_oauth_store_request_take("state-2",
                                             NOW + TTAI_OAUTH_REQUEST_TTL));
    assert_int_equal(ttai_oauth_store_request_taken(r, &got), 0);
    json_decref(r);

    /* a request for a client that does not exist is refused */
    p = pending("nobody");
    run_fails(f, ttai_oauth_store_request_save("req-3", "csrf-3", &p, NOW),
              "FOREIGN KEY");
}


/* -- users and their TastyTrade tokens ---------------------------------- */


static void
test_sign_in_stores_sealed(void **state)
{
    fixture_t               *f = *state;
    size_t                   len;
    json_t                  *r;
    const void              *blob;
    sqlite3_stmt            *stmt;
    unsigned char            plain[64];
    ttai_oauth_grant_row_t   g;

    register_client(f, "pub", NULL);
    sign_in(f, "pub", "5WT00001", "code-1");

    assert_int_equal(scalar(f, "SELECT count(*) FROM users "
                               "WHERE id = '5WT00001' AND email IS NULL "
                               "AND created_at = 1700000000"), 1);
    assert_int_equal(scalar(f, "SELECT expires_at FROM user_oauth_tokens "
                               "WHERE user_id = '5WT00001' "
                               "AND provider = 'tastytrade' "
                               "AND scope = 'read'"), NOW + 900);

    /* sealed for this user and column: it opens there, and nowhere else */
    assert_int_equal(sqlite3_prepare_v2(f->db,
                         "SELECT refresh_token FROM user_oauth_tokens", -1,
                         &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    blob = sqlite3_column_blob(stmt, 0);
    len = sqlite3_column_bytes(stmt, 0);
    assert_int_equal(len, strlen("rt.refresh-token") + TTAI_CRYPTO_OVERHEAD);
    assert_null(memmem(blob, len, "rt.", 3));

    assert_int_equal(ttai_token_open(f->key, "5WT00001", "refresh_token",
                                     blob, len, plain, &len), 0);
    assert_int_equal(len, strlen("rt.refresh-token"));
    assert_memory_equal(plain, "rt.refresh-token", len);

    len = sqlite3_column_bytes(stmt, 0);
    assert_int_not_equal(ttai_token_open(f->key, "5WT00001",
                                         "access_token", blob, len, plain,
                                         &len), 0);
    sqlite3_finalize(stmt);

    /* the code, for its client, as its hash */
    assert_false(stored(f, "code-1"));

    r = run(f, ttai_oauth_store_grant("pub", 0, "code-1"));
    assert_int_equal(ttai_oauth_store_grant_read(r, &g), 1);
    assert_string_equal(g.client_id, "pub");
    assert_string_equal(g.user_id, "5WT00001");
    assert_string_equal(g.redirect_uri, REDIRECT);
    assert_string_equal(g.code_challenge, CHALLENGE);
    assert_string_equal(g.scope, TTAI_OAUTH_SCOPE);
    assert_string_equal(g.resource, "http://localhost/mcp");
    assert_int_equal(g.expires_at, NOW + TTAI_OAUTH_CODE_TTL);
    assert_int_equal(g.used, 0);
    json_decref(r);

    /* signing in again keeps one user, with new tokens */
    sign_in(f, "pub", "5WT00001", "code-2");
    assert_int_equal(scalar(f, "SELECT count(*) FROM users"), 1);
    assert_int_equal(scalar(f, "SELECT count(*) FROM user_oauth_tokens"), 1);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_codes"), 2);
}


static void
test_connect(void **state)
{
    fixture_t               *f = *state;
    ttai_oauth_tt_tokens_t   t;

    tokens_of(f, &t, "tt-account-123");
    t.email = "test@example.com";
    t.access = NULL;
    t.expires_at = 0;

    json_decref(run(f, ttai_oauth_store_connect(&t, NOW)));

    assert_int_equal(scalar(f, "SELECT count(*) FROM users "
                               "WHERE email = 'test@example.com'"), 1);
    assert_int_equal(scalar(f, "SELECT count(*) FROM user_oauth_tokens "
                               "WHERE access_token IS NULL "
                               "AND refresh_token IS NOT NULL "
                               "AND expires_at = 0"), 1);

    /* again without an email: it is kept; with a scope: it is replaced */
    t.email = NULL;
    t.scope = "read trade";
    t.access = "at.second";
    t.access_len = strlen(t.access);
    t.expires_at = NOW + 900;

    json_decref(run(f, ttai_oauth_store_connect(&t, NOW + 5)));

    assert_int_equal(scalar(f, "SELECT count(*) FROM users "
                               "WHERE email = 'test@example.com' "
                               "AND updated_at = 1700000005 "
                               "AND created_at = 1700000000"), 1);
    assert_int_equal(scalar(f, "SELECT count(*) FROM user_oauth_tokens "
                               "WHERE access_token IS NOT NULL "
                               "AND scope = 'read trade' "
                               "AND expires_at = 1700000900"), 1);
}


/* the fetch engine's read, and its save after a refresh */

static void
open_sealed(fixture_t *f, const char *b64, const char *field,
    const char *want)
{
    size_t          n, len;
    unsigned char   blob[256], plain[256];

    assert_non_null(b64);
    assert_int_equal(sodium_base642bin(blob, sizeof(blob), b64,
                                       strlen(b64), NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL), 0);
    assert_int_equal(ttai_token_open(f->key, "tt-account-123", field, blob,
                                     n, plain, &len), 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(plain, want, len);
}


static void
test_tt_tokens(void **state)
{
    fixture_t               *f = *state;
    json_t                  *r;
    ttai_oauth_tt_tokens_t   t;
    ttai_oauth_tt_sealed_t   sealed;

    /* nobody connected: nothing to read, and a save makes no row */
    r = run(f, ttai_oauth_store_tt_tokens("tt-account-123"));
    assert_int_equal(ttai_oauth_store_tt_read(r, &sealed), 0);
    assert_null(sealed.access);
    json_decref(r);

    tokens_of(f, &t, "tt-account-123");
    json_decref(run(f, ttai_oauth_store_tt_refreshed(&t, NOW)));
    assert_int_equal(scalar(f, "SELECT count(*) FROM user_oauth_tokens"),
                     0);

    /* connected: the stored tokens come back sealed, and open */
    t.access = "at.first";
    t.access_len = strlen(t.access);
    t.expires_at = NOW + 900;
    json_decref(run(f, ttai_oauth_store_connect(&t, NOW)));

    r = run(f, ttai_oauth_store_tt_tokens("tt-account-123"));
    assert_int_equal(ttai_oauth_store_tt_read(r, &sealed), 1);
    assert_int_equal(sealed.expires_at, NOW + 900);
    assert_null(strstr(sealed.access, "at.first"));
    open_sealed(f, sealed.access, "access_token", "at.first");
    open_sealed(f, sealed.refresh, "refresh_token", "rt.refresh-token");
    json_decref(r);

    /* a refresh replaces both, sealed, and the time */
    t.access = "at.second";
    t.access_len = strlen(t.access);
    t.refresh = "rt.rotated";
    t.refresh_len = strlen(t.refresh);
    t.expires_at = NOW + 1800;
    json_decref(run(f, ttai_oauth_store_tt_refreshed(&t, NOW + 60)));

    assert_int_equal(scalar(f, "SELECT updated_at FROM user_oauth_tokens"),
                     NOW + 60);

    r = run(f, ttai_oauth_store_tt_tokens("tt-account-123"));
    assert_int_equal(ttai_oauth_store_tt_read(r, &sealed), 1);
    assert_int_equal(sealed.expires_at, NOW + 1800);
    open_sealed(f, sealed.access, "access_token", "at.second");
    open_sealed(f, sealed.refresh, "refresh_token", "rt.rotated");
    json_decref(r);

    /* another user's read finds nothing of this one */
    r = run(f, ttai_oauth_store_tt_tokens("tt-account-999"));
    assert_int_equal(ttai_oauth_store_tt_read(r, &sealed), 0);
    json_decref(r);
}


/* -- codes and refresh tokens --------------------------------------------- */


static void
test_code_single_use(void **state)
{
    fixture_t               *f = *state;
    json_t                  *r;
    ttai_oauth_grant_row_t   g;

    register_client(f, "pub", NULL);
    sign_in(f, "pub", "5WT00001", "code-1");

    redeem(f, "code-1", "refresh-1");

    /* the code is used, and the refresh token starts its own family */
    r = run(f, ttai_oauth_store_grant("pub", 0, "code-1"));
    assert_int_equal(ttai_oauth_store_grant_read(r, &g), 1);
    assert_int_equal(g.used, 1);
    json_decref(r);

    r = run(f, ttai_oauth_store_grant("pub", 1, "refresh-1"));
    assert_int_equal(ttai_oauth_store_grant_read(r, &g), 1);
    assert_string_equal(g.client_id, "pub");
    assert_string_equal(g.user_id, "5WT00001");
    assert_string_equal(g.scope, TTAI_OAUTH_SCOPE);
    assert_string_equal(g.resource, "http://localhost/mcp");
    assert_int_equal(g.expires_at, NOW + TTAI_OAUTH_REFRESH_TTL);
    assert_int_equal(g.used, 0);
    assert_int_equal(g.revoked, 0);
    assert_true(stored(f, g.family));
    json_decref(r);

    assert_false(stored(f, "refresh-1"));
    assert_true(stored_hash(f, "refresh-1"));

    /* a second redemption, raced or replayed, issues nothing */
    r = run(f, ttai_oauth_store_code_redeem("code-1", "refresh-2", NOW));
    assert_false(ttai_oauth_store_issued(r));
    json_decref(r);

    assert_false(stored_hash(f, "refresh-2"));
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_refresh_tokens"),
                     1);

    /* an unknown code issues nothing either */
    r = run(f, ttai_oauth_store_code_redeem("code-x", "refresh-3", NOW));
    assert_false(ttai_oauth_store_issued(r));
    json_decref(r);
}


static void
test_grant_lookup(void **state)
{
    fixture_t                *f = *state;
    json_t                   *r;
    ttai_oauth_grant_row_t    g;
    ttai_oauth_client_row_t   c;

    register_client(f, "pub", NULL);
    register_client(f, "other", NULL);
    sign_in(f, "pub", "5WT00001", "code-1");

    /* the client and the grant, each found or not on its own */
    r = run(f, ttai_oauth_store_grant("other", 0, "code-1"));
    assert_int_equal(ttai_oauth_store_client_read(r, &c), 1);
    assert_string_equal(c.client_id, "other");
    assert_int_equal(ttai_oauth_store_grant_read(r, &g), 1);
    assert_string_equal(g.client_id, "pub");
    json_decref(r);

    r = run(f, ttai_oauth_store_grant("nobody", 0, "code-2"));
    assert_int_equal(ttai_oauth_store_client_read(r, &c), 0);
    assert_int_equal(ttai_oauth_store_grant_read(r, &g), 0);
    json_decref(r);

    /* a code is not a refresh token */
    r = run(f, ttai_oauth_store_grant("pub", 1, "code-1"));
    assert_int_equal(ttai_oauth_store_grant_read(r, &g), 0);
    json_decref(r);
}


static void
test_rotation_and_reuse(void **state)
{
    fixture_t                *f = *state;
    json_t                   *r;
    ttai_oauth_grant_row_t    g;
    ttai_oauth_client_row_t   c;

    register_client(f, "pub", NULL);
    sign_in(f, "pub", "5WT00001", "code-1");
    redeem(f, "code-1", "refresh-1");

    r = run(f, ttai_oauth_store_refresh_rotate("refresh-1", "refresh-2",
                                               NOW + 10));
    assert_true(ttai_oauth_store_issued(r));
    json_decref(r);

    /* the new token is of the same family; the old one is used */
    assert_int_equal(scalar(f, "SELECT count(DISTINCT family) "
                               "FROM oauth_refresh_tokens"), 1);
    assert_int_equal(scalar(f, "SELECT sum(used) "
                               "FROM oauth_refresh_tokens"), 1);
    assert_int_equal(scalar(f, "SELECT max(expires_at) "
                               "FROM oauth_refresh_tokens"),
                     NOW + 10 + TTAI_OAUTH_REFRESH_TTL);

    /* the old one cannot rotate again */
    r = run(f, ttai_oauth_store_refresh_rotate("refresh-1", "refresh-3",
                                               NOW + 20));
    assert_false(ttai_oauth_store_issued(r));
    json_decref(r);

    /* it came back, used: its whole family is revoked */
    r = run(f, ttai_oauth_store_grant("pub", 1, "refresh-1"));
    assert_int_equal(ttai_oauth_store_client_read(r, &c), 1);
    assert_int_equal(ttai_oauth_store_grant_read(r, &g), 1);
    assert_int_equal(g.used, 1);
    assert_int_equal(g.revoked, 0);

    json_decref(run(f, ttai_oauth_store_family_revoke(g.family, NOW + 30)));
    json_decref(r);

    /* the newer token is revoked with it, and can no longer rotate */
    r = run(f, ttai_oauth_store_grant("pub", 1, "refresh-2"));
    assert_int_equal(ttai_oauth_store_grant_read(r, &g), 1);
    assert_int_equal(g.used, 0);
    assert_int_equal(g.revoked, 1);
    json_decref(r);

    r = run(f, ttai_oauth_store_refresh_rotate("refresh-2", "refresh-4",
                                               NOW + 40));
    assert_false(ttai_oauth_store_issued(r));
    json_decref(r);

    /* its access tokens: the family is recorded as revoked, once */
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_revocations "
                               "WHERE family = (SELECT family FROM "
                               "oauth_refresh_tokens LIMIT 1) "
                               "AND user_id IS NULL "
                               "AND revoked_at = 1700000030"), 1);
}


/* the revocation of a family, and what it gives back */
static void
test_family_revoke_recorded(void **state)
{
    fixture_t                *f = *state;
    char                      family[TTAI_OAUTH_HASH_LEN + 1];
    json_t                   *r;
    ttai_oauth_revocation_t   rev;

    register_client(f, "pub", NULL);
    sign_in(f, "pub", "5WT00001", "code-1");
    redeem(f, "code-1", "refresh-1");
    json_decref(run(f, ttai_oauth_store_refresh_rotate("refresh-1",
                                                       "refresh-2",
                                                       NOW + 10)));

    /* the family a redemption starts is named by its refresh token */
    ttai_oauth_store_family_of("refresh-1", family);
    assert_int_equal(scalar(f, "SELECT count(DISTINCT family) "
                               "FROM oauth_refresh_tokens"), 1);
    assert_true(stored(f, family));

    r = run(f, ttai_oauth_store_family_revoke(family, NOW + 20));
    assert_int_equal(revocations(r, &rev), 1);
    assert_true(rev.id > 0);
    assert_string_equal(rev.family, family);
    assert_null(rev.user_id);
    assert_int_equal(rev.revoked_at, NOW + 20);
    json_decref(r);

    /* revoked already: no second row, however often it comes back */
    r = run(f, ttai_oauth_store_family_revoke(family, NOW + 30));
    assert_int_equal(revocations(r, &rev), 0);
    assert_null(rev.family);
    json_decref(r);

    r = run(f, ttai_oauth_store_token_revoke("refresh-2", NOW + 40));
    assert_int_equal(revocations(r, &rev), 0);
    json_decref(r);

    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_revocations"), 1);
    assert_int_equal(scalar(f, "SELECT revoked_at FROM oauth_revocations"),
                     NOW + 20);

    /* a family that does not exist is not recorded */
    r = run(f, ttai_oauth_store_family_revoke("no-family", NOW));
    assert_int_equal(revocations(r, &rev), 0);
    json_decref(r);
}


/* RFC 6749 4.1.2: the code knows the family it started */
static void
test_code_reuse_revokes_its_family(void **state)
{
    fixture_t                *f = *state;
    json_t                   *r, *found;
    ttai_oauth_grant_row_t    g;
    ttai_oauth_revocation_t   rev;

    register_client(f, "pub", NULL);
    sign_in(f, "pub", "5WT00001", "code-1");
    sign_in(f, "pub", "5WT00001", "code-2");

    /* not redeemed: no family */
    r = run(f, ttai_oauth_store_grant("pub", 0, "code-1"));
    assert_int_equal(ttai_oauth_store_grant_read(r, &g), 1);
    assert_null(g.family);
    json_decref(r);

    redeem(f, "code-1", "refresh-1");
    redeem(f, "code-2", "refresh-2");
    json_decref(run(f, ttai_oauth_store_refresh_rotate("refresh-1",
                                                       "refresh-1b",
                                                       NOW + 10)));

    found = run(f, ttai_oauth_store_grant("pub", 0, "code-1"));
    assert_int_equal(ttai_oauth_store_grant_read(found, &g), 1);
    assert_int_equal(g.used, 1);
    assert_non_null(g.family);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_refresh_tokens r "
                               "JOIN oauth_codes c ON c.family = r.family"),
                     3);

    /* a raced second redemption leaves the family it did not start */
    r = run(f, ttai_oauth_store_code_redeem("code-1", "refresh-x", NOW));
    assert_false(ttai_oauth_store_issued(r));
    json_decref(r);
    assert_int_equal(scalar(f, "SELECT count(DISTINCT family) "
                               "FROM oauth_codes"), 2);

    /* code-1 again: its family goes, rotated token and all */
    r = run(f, ttai_oauth_store_code_revoke("code-1", NOW + 15));
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_refresh_tokens "
                               "WHERE revoked = 1"), 2);

    /* and its access tokens with it: the family is recorded */
    assert_int_equal(revocations(r, &rev), 1);
    assert_string_equal(rev.family, g.family);
    assert_null(rev.user_id);
    assert_int_equal(rev.revoked_at, NOW + 15);
    json_decref(r);

    r = run(f, ttai_oauth_store_code_revoke("code-1", NOW + 16));
    assert_int_equal(revocations(r, &rev), 0);
    json_decref(r);

    r = run(f, ttai_oauth_store_refresh_rotate("refresh-1b", "refresh-1c",
                                               NOW + 20));
    assert_false(ttai_oauth_store_issued(r));
    json_decref(r);

    /* code-2's sign-in is left alone */
    r = run(f, ttai_oauth_store_grant("pub", 1, "refresh-2"));
    assert_int_equal(ttai_oauth_store_grant_read(r, &g), 1);
    assert_int_equal(g.revoked, 0);
    json_decref(r);

    /* a code that started nothing, or none at all, revokes nothing */
    sign_in(f, "pub", "5WT00001", "code-3");
    r = run(f, ttai_oauth_store_code_revoke("code-3", NOW + 20));
    assert_int_equal(revocations(r, &rev), 0);
    json_decref(r);
    r = run(f, ttai_oauth_store_code_revoke("code-x", NOW + 20));
    assert_int_equal(revocations(r, &rev), 0);
    json_decref(r);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_refresh_tokens "
                               "WHERE revoked = 1"), 2);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_revocations"), 1);

    json_decref(found);
}


/* a wrong PKCE verifier: the code can no longer be redeemed */
static void
test_code_use(void **state)
{
    fixture_t  *f = *state;
    json_t     *r;

    register_client(f, "pub", NULL);
    sign_in(f, "pub", "5WT00001", "code-1");

    json_decref(run(f, ttai_oauth_store_code_use("code-1")));
    assert_int_equal(scalar(f, "SELECT used FROM oauth_codes"), 1);
    assert_int_equal(scalar(f, "SELECT family IS NULL FROM oauth_codes"), 1);

    r = run(f, ttai_oauth_store_code_redeem("code-1", "refresh-1", NOW));
    assert_false(ttai_oauth_store_issued(r));
    json_decref(r);

    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_refresh_tokens"),
                     0);
}


/* sign-ins and rotations delete what expired, and keep what may return */
static void
test_purge(void **state)
{
    fixture_t               *f = *state;
    json_t                  *r;
    long long                later;
    ttai_oauth_pending_t     p;
    ttai_oauth_tt_tokens_t   t;

    register_client(f, "pub", NULL);
    p = pending("pub");
    tokens_of(f, &t, "5WT00001");

    json_decref(run(f, ttai_oauth_store_request_save("req-1", "csrf-1", &p,
                                                     NOW)));
    sign_in(f, "pub", "5WT00001", "code-1");    /* never redeemed */
    sign_in(f, "pub", "5WT00001", "code-2");
    redeem(f, "code-2", "refresh-2");
    sign_in(f, "pub", "5WT00001", "code-3");
    redeem(f, "code-3", "refresh-3");

    /* nothing expired yet: nothing went */
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_requests"), 1);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_codes"), 3);

    /* a day later, a consent page opens and refresh-3 rotates */
    json_decref(run(f, ttai_oauth_store_request_save("req-2", "csrf-2", &p,
                                                     NOW + 86400)));
    r = run(f, ttai_oauth_store_refresh_rotate("refresh-3", "refresh-3b",
                                               NOW + 86400));
    assert_true(ttai_oauth_store_issued(r));
    json_decref(r);

    /* the expired consent and code went; the redeemed codes stay */
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_requests"), 1);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_requests "
                               "WHERE expires_at = 1700087000"), 1);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_codes "
                               "WHERE family IS NOT NULL"), 2);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_codes"), 2);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_refresh_tokens"),
                     3);

    /*
     * A sign-in once the first refresh tokens expired: only refresh-3b,
     * rotated a day later, is alive, and the codes are too old to matter
     */
    later = NOW + TTAI_OAUTH_CODE_TTL + TTAI_OAUTH_REFRESH_TTL;
    json_decref(run(f, ttai_oauth_store_sign_in(&t, &p, "code-4", later)));

    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_requests"), 0);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_codes"), 1);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_codes "
                               "WHERE family IS NULL"), 1);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_refresh_tokens"),
                     1);
    assert_true(stored_hash(f, "refresh-3b"));

    /* a redeemed code a second before its time is kept */
    sign_in(f, "pub", "5WT00001", "code-5");
    redeem(f, "code-5", "refresh-5");
    json_decref(run(f, ttai_oauth_store_sign_in(&t, &p, "code-6",
                                                later - 1)));
    assert_true(stored_hash(f, "code-5"));
}


static void
test_revoke_one_family(void **state)
{
    fixture_t                *f = *state;
    char                      family[TTAI_OAUTH_HASH_LEN + 1];
    json_t                   *r;
    ttai_oauth_revocation_t   rev;

    register_client(f, "pub", NULL);
    sign_in(f, "pub", "5WT00001", "code-1");
    sign_in(f, "pub", "5WT00001", "code-2");
    redeem(f, "code-1", "refresh-1");
    redeem(f, "code-2", "refresh-2");

    /* an unknown token: nothing, and no error (RFC 7009) */
    r = run(f, ttai_oauth_store_token_revoke("nothing", NOW));
    assert_int_equal(scalar(f, "SELECT sum(revoked) "
                               "FROM oauth_refresh_tokens"), 0);
    assert_int_equal(revocations(r, &rev), 0);
    json_decref(r);

    r = run(f, ttai_oauth_store_token_revoke("refresh-1", NOW + 5));
    assert_int_equal(scalar(f, "SELECT sum(revoked) "
                               "FROM oauth_refresh_tokens"), 1);

    /* the sign-in's access tokens: its family is recorded */
    ttai_oauth_store_family_of("refresh-1", family);
    assert_int_equal(revocations(r, &rev), 1);
    assert_string_equal(rev.family, family);
    assert_int_equal(rev.revoked_at, NOW + 5);
    json_decref(r);

    /* the other sign-in of the same user is left alone */
    json_decref(run(f, ttai_oauth_store_refresh_rotate("refresh-2",
                                                       "refresh-3", NOW)));
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_refresh_tokens "
                               "WHERE revoked = 0"), 2);
}


static void
test_user_revoke(void **state)
{
    fixture_t                *f = *state;
    json_t                   *r;
    long long                 n;
    ttai_oauth_revocation_t   rev;

    register_client(f, "pub", NULL);
    sign_in(f, "pub", "5WT00001", "code-1");
    sign_in(f, "pub", "5WT00001", "code-2");
    sign_in(f, "pub", "5WT00002", "code-3");
    redeem(f, "code-1", "refresh-1");
    redeem(f, "code-2", "refresh-2");
    redeem(f, "code-3", "refresh-3");

    r = run(f, ttai_oauth_store_user_revoke("5WT00001", NOW + 10));
    assert_int_equal(ttai_oauth_store_user_revoked(r, &n), 1);
    assert_int_equal(n, 2);

    /* every access token of the user issued until now */
    assert_int_equal(revocations(r, &rev), 1);
    assert_null(rev.family);
    assert_string_equal(rev.user_id, "5WT00001");
    assert_int_equal(rev.revoked_at, NOW + 10);
    json_decref(r);

    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_refresh_tokens "
                               "WHERE user_id = '5WT00001' "
                               "AND revoked = 1"), 2);
    assert_int_equal(scalar(f, "SELECT count(*) FROM user_oauth_tokens "
                               "WHERE user_id = '5WT00001'"), 0);

    /* the other user keeps everything */
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_refresh_tokens "
                               "WHERE user_id = '5WT00002' "
                               "AND revoked = 0"), 1);
    assert_int_equal(scalar(f, "SELECT count(*) FROM user_oauth_tokens "
                               "WHERE user_id = '5WT00002'"), 1);

    /*
     * The user stays, to sign in again; a second revoke finds no refresh
     * token, but covers the access tokens issued since the first
     */
    r = run(f, ttai_oauth_store_user_revoke("5WT00001", NOW + 20));
    assert_int_equal(ttai_oauth_store_user_revoked(r, &n), 1);
    assert_int_equal(n, 0);
    assert_int_equal(revocations(r, &rev), 1);
    assert_int_equal(rev.revoked_at, NOW + 20);
    json_decref(r);

    r = run(f, ttai_oauth_store_user_revoke("nobody", NOW + 20));
    assert_int_equal(ttai_oauth_store_user_revoked(r, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(revocations(r, &rev), 0);
    json_decref(r);

    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_revocations "
                               "WHERE user_id = '5WT00001'"), 2);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_revocations"), 2);
}


/* what nginx reads into its set, at its start and then every second */
static void
test_revocations_read(void **state)
{
    fixture_t                *f = *state;
    json_t                   *r;
    size_t                    n;
    long long                 first;
    ttai_oauth_revocation_t   rev;

    r = run(f, ttai_oauth_store_revocations(0, 0, 100));
    assert_int_equal(ttai_oauth_store_revocations_last(r), 0);
    assert_int_equal(ttai_oauth_store_revocation_at(r, 0, &rev), 0);
    json_decref(r);

    register_client(f, "pub", NULL);
    sign_in(f, "pub", "5WT00001", "code-1");
    sign_in(f, "pub", "5WT00002", "code-2");
    redeem(f, "code-1", "refresh-1");
    redeem(f, "code-2", "refresh-2");

    json_decref(run(f, ttai_oauth_store_user_revoke("5WT00002", NOW)));
    json_decref(run(f, ttai_oauth_store_token_revoke("refresh-1",
                                                     NOW + 100)));
    json_decref(run(f, ttai_oauth_store_user_revoke("5WT00001",
                                                    NOW + 200)));

    /* in the order of their ids, from the one after "after" */
    r = run(f, ttai_oauth_store_revocations(0, 0, 100));
    assert_int_equal(ttai_oauth_store_revocation_at(r, 0, &rev), 1);
    first = rev.id;
    assert_string_equal(rev.user_id, "5WT00002");
    assert_int_equal(ttai_oauth_store_revocation_at(r, 1, &rev), 1);
    assert_non_null(rev.family);
    assert_int_equal(rev.revoked_at, NOW + 100);
    assert_int_equal(ttai_oauth_store_revocation_at(r, 2, &rev), 1);
    assert_string_equal(rev.user_id, "5WT00001");
    assert_int_equal(ttai_oauth_store_revocation_at(r, 3, &rev), 0);
    assert_int_equal(ttai_oauth_store_revocations_last(r), first + 2);
    json_decref(r);

    /* a page at a time */
    r = run(f, ttai_oauth_store_revocations(first, 0, 1));
    assert_int_equal(ttai_oauth_store_revocation_at(r, 0, &rev), 1);
    assert_int_equal(rev.id, first + 1);
    assert_int_equal(ttai_oauth_store_revocation_at(r, 1, &rev), 0);
    json_decref(r);

    /* only those later than "since"; the last id is the table's */
    r = run(f, ttai_oauth_store_revocations(0, NOW + 100, 100));
    for (n = 0; ttai_oauth_store_revocation_at(r, n, &rev); n++) {
        assert_int_equal(rev.revoked_at, NOW + 200);
    }
    assert_int_equal(n, 1);
    assert_int_equal(ttai_oauth_store_revocations_last(r), first + 2);
    json_decref(r);

    /*
     * A day on, a sign-in deletes them; the ids go on from where they
     * were, so that a reader after the last id it saw misses nothing
     */
    sign_in_at(f, "pub", "5WT00001", "code-3",
               NOW + 200 + TTAI_OAUTH_REVOKED_KEEP);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_revocations"), 0);

    r = run(f, ttai_oauth_store_revocations(0, 0, 100));
    assert_int_equal(ttai_oauth_store_revocations_last(r), 0);
    json_decref(r);

    json_decref(run(f, ttai_oauth_store_user_revoke("5WT00001",
                                                    NOW + 90000)));
    r = run(f, ttai_oauth_store_revocations(first + 2, 0, 100));
    assert_int_equal(ttai_oauth_store_revocation_at(r, 0, &rev), 1);
    assert_true(rev.id > first + 2);
    json_decref(r);

    /* a rotation purges them too, and keeps what is younger than a day */
    json_decref(run(f, ttai_oauth_store_refresh_rotate("refresh-2",
                                                       "refresh-2b",
                                                       NOW + 90000)));
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_revocations"), 1);
}


static void
test_users_list(void **state)
{
    fixture_t               *f = *state;
    json_t                  *r;
    ttai_oauth_tt_tokens_t   t;
    ttai_oauth_user_row_t    u;

    register_client(f, "pub", NULL);
    sign_in(f, "pub", "5WT00002", "code-1");
    sign_in(f, "pub", "5WT00002", "code-2");
    sign_in(f, "pub", "5WT00002", "code-3");
    redeem(f, "code-1", "refresh-1");
    redeem(f, "code-2", "refresh-2");
    redeem(f, "code-3", "refresh-3");

    /* a rotated sign-in counts once; a revoked one not at all */
    json_decref(run(f, ttai_oauth_store_refresh_rotate("refresh-1",
                                                       "refresh-4", NOW)));
    json_decref(run(f, ttai_oauth_store_token_revoke("refresh-3", NOW)));

    tokens_of(f, &t, "5WT00001");
    t.email = "a@example.com";
    json_decref(run(f, ttai_oauth_store_connect(&t, NOW)));
    json_decref(run(f, ttai_oauth_store_user_revoke("5WT00001", NOW)));

    r = run(f, ttai_oauth_store_users(NOW));

    assert_int_equal(ttai_oauth_store_user_at(r, 0, &u), 1);
    assert_string_equal(u.id, "5WT00001");
    assert_string_equal(u.email, "a@example.com");
    assert_int_equal(u.created_at, NOW);
    assert_int_equal(u.connected, 0);
    assert_int_equal(u.sign_ins, 0);

    assert_int_equal(ttai_oauth_store_user_at(r, 1, &u), 1);
    assert_string_equal(u.id, "5WT00002");
    assert_string_equal(u.email, "");
    assert_int_equal(u.connected, 1);
    assert_int_equal(u.sign_ins, 2);

    assert_int_equal(ttai_oauth_store_user_at(r, 2, &u), 0);
    json_decref(r);

    /* once they expire, no sign-in is live */
    r = run(f, ttai_oauth_store_users(NOW + TTAI_OAUTH_REFRESH_TTL));
    assert_int_equal(ttai_oauth_store_user_at(r, 1, &u), 1);
    assert_int_equal(u.sign_ins, 0);
    json_decref(r);
}


/* -- the foreign keys ------------------------------------------------------ */


static void
test_foreign_keys(void **state)
{
    fixture_t               *f = *state;
    ttai_oauth_pending_t     p;
    ttai_oauth_tt_tokens_t   t;

    /* a sign-in through a client that is not registered writes nothing */
    p = pending("nobody");
    tokens_of(f, &t, "5WT00001");

    run_fails(f, ttai_oauth_store_sign_in(&t, &p, "code-1", NOW),
              "FOREIGN KEY constraint failed");

    assert_int_equal(scalar(f, "SELECT count(*) FROM users"), 0);
    assert_int_equal(scalar(f, "SELECT count(*) FROM user_oauth_tokens"), 0);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_codes"), 0);

    /* a revoke of a family names no row: nothing to violate */
    json_decref(run(f, ttai_oauth_store_family_revoke("no-family", NOW)));
}


static void
test_cascade(void **state)
{
    fixture_t             *f = *state;
    json_t                *r;
    ttai_oauth_pending_t   p;
    ttai_d1_error_t        err;

    register_client(f, "pub", NULL);
    register_client(f, "other", NULL);
    sign_in(f, "pub", "5WT00001", "code-1");
    sign_in(f, "other", "5WT00001", "code-2");
    sign_in(f, "other", "5WT00002", "code-3");
    redeem(f, "code-1", "refresh-1");
    redeem(f, "code-3", "refresh-3");

    p = pending("pub");
    json_decref(run(f, ttai_oauth_store_request_save("req-1", "csrf-1", &p,
                                                     NOW)));

    /* a user's removal takes their codes, tokens and TastyTrade tokens */
    r = ttai_d1_query(f->db, "DELETE FROM users WHERE id = '5WT00001'",
                      strlen("DELETE FROM users WHERE id = '5WT00001'"),
                      NULL, NULL, &err);
    assert_non_null(r);
    json_decref(r);

    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_codes "
                               "WHERE user_id = '5WT00001'"), 0);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_refresh_tokens "
                               "WHERE user_id = '5WT00001'"), 0);
    assert_int_equal(scalar(f, "SELECT count(*) FROM user_oauth_tokens "
                               "WHERE user_id = '5WT00001'"), 0);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_codes"), 1);

    /* a client's removal takes its pending sign-ins, codes and tokens */
    r = ttai_d1_query(f->db, "DELETE FROM oauth_clients WHERE "
                      "client_id = 'other'",
                      strlen("DELETE FROM oauth_clients WHERE "
                             "client_id = 'other'"), NULL, NULL, &err);
    assert_non_null(r);
    json_decref(r);

    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_codes"), 0);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_refresh_tokens"),
                     0);
    assert_int_equal(scalar(f, "SELECT count(*) FROM oauth_requests"), 1);

    /* the user stays: a client is not its users */
    assert_int_equal(scalar(f, "SELECT count(*) FROM users "
                               "WHERE id = '5WT00002'"), 1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_single_use, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_request_trade_scope, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_request_expires_and_deny,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_in_stores_sealed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tt_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_single_use, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_grant_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_and_reuse, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_family_revoke_recorded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_code_reuse_revokes_its_family,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_one_family, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_user_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revocations_read, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_users_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cascade, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
