
/*
 * Copyright (C) ttai contributors
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "ttai_crypto.h"
#include "ttai_d1.h"
#include "ttai_oauth_store.h"

typedef char  ttai_oauth_store_hash_t[TTAI_OAUTH_HASH_LEN + 1];

/* a column of a result row, and where its value goes in a struct */
typedef struct {
    const char          *name;
    size_t               offset;
    int                  kind;
} ttai_oauth_store_col_t;

#define TTAI_OAUTH_STORE_STR   0    /* const char *, NULL when null */
#define TTAI_OAUTH_STORE_INT   1    /* long long */
#define TTAI_OAUTH_STORE_FLAG  2    /* int, 1 when not 0 */

#define ttai_oauth_store_col(type, member, kind)                             \
    { #member, offsetof(type, member), TTAI_OAUTH_STORE_ ## kind }

#define TTAI_OAUTH_STORE_PURGE  4    /* statements */

/* what the revoking statements give back: their oauth_revocations rows */
#define TTAI_OAUTH_STORE_RETURNING                                           \
    " RETURNING id, family, user_id, revoked_at"

static json_t *ttai_oauth_store_purge(long long now, int i);
static json_t *ttai_oauth_store_tokens(const ttai_oauth_tt_tokens_t *t,
    long long now);
static json_t *ttai_oauth_store_user(const ttai_oauth_tt_tokens_t *t,
    long long now);
static json_t *ttai_oauth_store_sealed(const ttai_oauth_tt_tokens_t *t,
    const char *field, const char *token, size_t len);
static const char *ttai_oauth_store_hash(const char *secret,
    ttai_oauth_store_hash_t out);
static json_t *ttai_oauth_store_row(json_t *results, size_t i, size_t n);
static long long ttai_oauth_store_changes(json_t *results, size_t i);
static int ttai_oauth_store_read(json_t *row, void *out, size_t size,
    const ttai_oauth_store_col_t *cols);

static const ttai_oauth_store_col_t  ttai_oauth_store_client_cols[] = {
    ttai_oauth_store_col(ttai_oauth_client_row_t, client_id, STR),
    ttai_oauth_store_col(ttai_oauth_client_row_t, secret_hash, STR),
    ttai_oauth_store_col(ttai_oauth_client_row_t, name, STR),
    ttai_oauth_store_col(ttai_oauth_client_row_t, redirect_uris, STR),
    ttai_oauth_store_col(ttai_oauth_client_row_t, auth_method, STR),
    ttai_oauth_store_col(ttai_oauth_client_row_t, grant_types, STR),
    { NULL, 0, 0 }
};

static const ttai_oauth_store_col_t  ttai_oauth_store_grant_cols[] = {
    ttai_oauth_store_col(ttai_oauth_grant_row_t, client_id, STR),
    ttai_oauth_store_col(ttai_oauth_grant_row_t, user_id, STR),
    ttai_oauth_store_col(ttai_oauth_grant_row_t, scope, STR),
    ttai_oauth_store_col(ttai_oauth_grant_row_t, resource, STR),
    ttai_oauth_store_col(ttai_oauth_grant_row_t, redirect_uri, STR),
    ttai_oauth_store_col(ttai_oauth_grant_row_t, code_challenge, STR),
    ttai_oauth_store_col(ttai_oauth_grant_row_t, family, STR),
    ttai_oauth_store_col(ttai_oauth_grant_row_t, expires_at, INT),
    ttai_oauth_store_col(ttai_oauth_grant_row_t, used, FLAG),
    ttai_oauth_store_col(ttai_oauth_grant_row_t, revoked, FLAG),
    { NULL, 0, 0 }
};

/* what a statement did not select stays NULL */
static const ttai_oauth_store_col_t  ttai_oauth_store_pending_cols[] = {
    ttai_oauth_store_col(ttai_oauth_pending_t, client_id, STR),
    ttai_oauth_store_col(ttai_oauth_pending_t, redirect_uri, STR),
    ttai_oauth_store_col(ttai_oauth_pending_t, code_challenge, STR),
    ttai_oauth_store_col(ttai_oauth_pending_t, client_state, STR),
    ttai_oauth_store_col(ttai_oauth_pending_t, scope, STR),
    ttai_oauth_store_col(ttai_oauth_pending_t, resource, STR),
    { NULL, 0, 0 }
};

static const ttai_oauth_store_col_t  ttai_oauth_store_sealed_cols[] = {
    { "access_token", offsetof(ttai_oauth_tt_sealed_t, access),
      TTAI_OAUTH_STORE_STR },
    { "refresh_token", offsetof(ttai_oauth_tt_sealed_t, refresh),
      TTAI_OAUTH_STORE_STR },
    ttai_oauth_store_col(ttai_oauth_tt_sealed_t, expires_at, INT),
    { NULL, 0, 0 }
};

static const ttai_oauth_store_col_t  ttai_oauth_store_revocation_cols[] = {
    ttai_oauth_store_col(ttai_oauth_revocation_t, id, INT),
    ttai_oauth_store_col(ttai_oauth_revocation_t, family, STR),
    ttai_oauth_store_col(ttai_oauth_revocation_t, user_id, STR),
    ttai_oauth_store_col(ttai_oauth_revocation_t, revoked_at, INT),
    { NULL, 0, 0 }
};

static const ttai_oauth_store_col_t  ttai_oauth_store_user_cols[] = {
    ttai_oauth_store_col(ttai_oauth_user_row_t, id, STR),
    ttai_oauth_store_col(ttai_oauth_user_row_t, email, STR),
    ttai_oauth_store_col(ttai_oauth_user_row_t, created_at, INT),
    ttai_oauth_store_col(ttai_oauth_user_row_t, connected, FLAG),
    ttai_oauth_store_col(ttai_oauth_user_row_t, sign_ins, INT),
    { NULL, 0, 0 }
};

json_t *
ttai_oauth_store_register(const char *client_id, const char *secret,
    const ttai_oauth_client_t *reg)
{
    char                     *uris, *grants;
    json_t                   *params;
    ttai_oauth_store_hash_t   hash;

    uris = json_dumps(reg->redirect_uris, JSON_COMPACT);
    grants = json_dumps(reg->grant_types, JSON_COMPACT);

    params = (uris != NULL && grants != NULL)
             ? json_pack("[s, s?, s, s, s, s]", client_id,
                         secret ? ttai_oauth_store_hash(secret, hash) : NULL,
                         reg->name, uris, reg->auth_method, grants)
             : NULL;

    free(uris);
    free(grants);

    return ttai_d1_batch_of(1, ttai_d1_stmt(
               "INSERT INTO oauth_clients (client_id, secret_hash, name, "
               "redirect_uris, auth_method, grant_types) "
               "VALUES (?, ?, ?, ?, ?, ?)", params));
}

/*
 * A client whose id is its metadata document's URL: stored as the
 * document says now (a public client, no secret), or updated when it
 * was before, and read back as ttai_oauth_store_client() reads one
 */

json_t *
ttai_oauth_store_client_document(const char *client_id,
    const ttai_oauth_client_t *reg)
{
    char    *uris, *grants;
    json_t  *params;

    uris = json_dumps(reg->redirect_uris, JSON_COMPACT);
    grants = json_dumps(reg->grant_types, JSON_COMPACT);

    params = (uris != NULL && grants != NULL)
             ? json_pack("[s, s, s, s]", client_id, reg->name, uris, grants)
             : NULL;

    free(uris);
    free(grants);

    return ttai_d1_batch_of(1, ttai_d1_stmt(
               "INSERT INTO oauth_clients (client_id, secret_hash, name, "
               "redirect_uris, auth_method, grant_types) "
               "VALUES (?1, NULL, ?2, ?3, 'none', ?4) "
               "ON CONFLICT (client_id) DO UPDATE SET secret_hash = NULL, "
               "name = ?2, redirect_uris = ?3, auth_method = 'none', "
               "grant_types = ?4 "
               "RETURNING client_id, secret_hash, name, redirect_uris, "
               "auth_method, grant_types", params));
}

json_t *
ttai_oauth_store_client(const char *client_id)
{
    return ttai_d1_batch_of(1, ttai_d1_stmt(
               "SELECT client_id, secret_hash, name, redirect_uris, "
               "auth_method, grant_types "
               "FROM oauth_clients WHERE client_id = ?",
               json_pack("[s]", client_id)));
}

json_t *
ttai_oauth_store_request_save(const char *request, const char *csrf,
    const ttai_oauth_pending_t *p, long long now)
{
    ttai_oauth_store_hash_t  hid, hcsrf;

    return ttai_d1_batch_of(1, ttai_d1_stmt(
               "INSERT INTO oauth_requests (id_hash, csrf_hash, "
               "client_id, redirect_uri, code_challenge, client_state, "
               "scope, resource, expires_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               json_pack("[s, s, s, s, s, s?, s?, s?, I]",
                         ttai_oauth_store_hash(request, hid),
                         ttai_oauth_store_hash(csrf, hcsrf),
                         p->client_id, p->redirect_uri, p->code_challenge,
                         p->client_state, p->scope, p->resource,
                         (json_int_t) (now + TTAI_OAUTH_REQUEST_TTL))));
}

/*
 * The answer is taken by a statement that changes the row only while it
 * is unanswered: of two answers raced, one changes it, and the other is
 * told the sign-in expired
 */

json_t *
ttai_oauth_store_request_answer(const char *request, const char *csrf,
    const char *state, int trade, long long now)
{
    json_t                   *take;
    ttai_oauth_store_hash_t   hid, hcsrf, hstate;

    ttai_oauth_store_hash(request, hid);
    ttai_oauth_store_hash(csrf, hcsrf);

    if (state != NULL) {
        /* an unticked box narrows what the client asked for */
        take = ttai_d1_stmt(
                   "UPDATE oauth_requests SET state_hash = ?1, "
                   "scope = CASE WHEN ?5 THEN scope ELSE ?6 END "
                   "WHERE id_hash = ?2 AND csrf_hash = ?3 "
                   "AND state_hash IS NULL AND expires_at > ?4",
                   json_pack("[s, s, s, I, b, s]",
                             ttai_oauth_store_hash(state, hstate), hid,
                             hcsrf, (json_int_t) now, trade,
                             TTAI_OAUTH_SCOPE));

    } else {
        take = ttai_d1_stmt(
                   "DELETE FROM oauth_requests "
                   "WHERE id_hash = ? AND csrf_hash = ?",
                   json_pack("[s, s]", hid, hcsrf));
    }

    return ttai_d1_batch_of(2,
               ttai_d1_stmt(
                   "SELECT client_id, redirect_uri, client_state "
                   "FROM oauth_requests WHERE id_hash = ? AND csrf_hash = ? "
                   "AND state_hash IS NULL AND expires_at > ?",
                   json_pack("[s, s, I]", hid, hcsrf, (json_int_t) now)),
               take);
}

json_t *
ttai_oauth_store_request_take(const char *state, long long now)
{
    ttai_oauth_store_hash_t  hstate;

    ttai_oauth_store_hash(state, hstate);

    /* single use: found and deleted in one transaction */
    return ttai_d1_batch_of(2,
               ttai_d1_stmt(
                   "SELECT client_id, redirect_uri, code_challenge, "
                   "client_state, scope, resource FROM oauth_requests "
                   "WHERE state_hash = ? AND expires_at > ?",
                   json_pack("[s, I]", hstate, (json_int_t) now)),
               ttai_d1_stmt(
                   "DELETE FROM oauth_requests WHERE state_hash = ?",
                   json_pack("[s]", hstate)));
}

json_t *
ttai_oauth_store_connect(const ttai_oauth_tt_tokens_t *t, long long now)
{
    return ttai_d1_batch_of(2, ttai_oauth_store_user(t, now),
                                  ttai_oauth_store_tokens(t, now));
}

json_t *
ttai_oauth_store_sign_in(const ttai_oauth_tt_tokens_t *t,
    const ttai_oauth_pending_t *p, const char *code, long long now)
{
    ttai_oauth_store_hash_t  hcode;

    /*
     * The user ticked trading at this sign-in: that is the user's own
     * permission (migration 0010), as "ttai users trading enable" gives
     */
    return ttai_d1_batch_of(4 + TTAI_OAUTH_STORE_PURGE,
               ttai_oauth_store_user(t, now),
               ttai_d1_stmt("UPDATE users SET trading = 1 WHERE id = ? "
                            "AND ?",
                            json_pack("[s, b]", t->user,
                                      ttai_oauth_scope_trades(p->scope))),
               ttai_oauth_store_tokens(t, now),
               ttai_d1_stmt(
                   "INSERT INTO oauth_codes (code_hash, client_id, user_id, "
                   "redirect_uri, code_challenge, scope, resource, "
                   "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   json_pack("[s, s, s, s, s, s?, s?, I]",
                             ttai_oauth_store_hash(code, hcode),
                             p->client_id, t->user, p->redirect_uri,
                             p->code_challenge, p->scope, p->resource,
                             (json_int_t) (now + TTAI_OAUTH_CODE_TTL))),
               ttai_oauth_store_purge(now, 0), ttai_oauth_store_purge(now, 1),
               ttai_oauth_store_purge(now, 2), ttai_oauth_store_purge(now, 3));
}

json_t *
ttai_oauth_store_tt_tokens(const char *user)
{
    return ttai_d1_batch_of(1, ttai_d1_stmt(
               "SELECT access_token, refresh_token, expires_at "
               "FROM user_oauth_tokens "
               "WHERE user_id = ? AND provider = 'tastytrade'",
               json_pack("[s]", user)));
}

json_t *
ttai_oauth_store_tt_refreshed(const ttai_oauth_tt_tokens_t *t,
    long long now)
{
    json_t  *access, *refresh;

    access = ttai_oauth_store_sealed(t, "access_token", t->access,
                                     t->access_len);
    refresh = ttai_oauth_store_sealed(t, "refresh_token", t->refresh,
                                      t->refresh_len);

    if (access == NULL || refresh == NULL) {
        json_decref(access);
        json_decref(refresh);
        return NULL;
    }

    return ttai_d1_batch_of(1, ttai_d1_stmt(
               "UPDATE user_oauth_tokens SET access_token = ?1, "
               "refresh_token = ?2, expires_at = ?3, updated_at = ?4 "
               "WHERE user_id = ?5 AND provider = 'tastytrade'",
               json_pack("[o, o, I, I, s]", access, refresh,
                         (json_int_t) t->expires_at, (json_int_t) now,
                         t->user)));
}

/* a new user, or the time (and the email, when given) of a known one */

static json_t *
ttai_oauth_store_user(const ttai_oauth_tt_tokens_t *t, long long now)
{
    return ttai_d1_stmt(
               "INSERT INTO users (id, email, created_at, updated_at) "
               "VALUES (?1, ?2, ?3, ?3) "
               "ON CONFLICT (id) DO UPDATE SET "
               "email = COALESCE(?2, email), updated_at = ?3",
               json_pack("[s, s?, I]", t->user, t->email, (json_int_t) now));
}

static json_t *
ttai_oauth_store_tokens(const ttai_oauth_tt_tokens_t *t, long long now)
{
    json_t  *access, *refresh;

    access = ttai_oauth_store_sealed(t, "access_token", t->access,
                                     t->access_len);
    refresh = ttai_oauth_store_sealed(t, "refresh_token", t->refresh,
                                      t->refresh_len);

    if (access == NULL || refresh == NULL) {
        json_decref(access);
        json_decref(refresh);
        return NULL;
    }

    return ttai_d1_stmt(
               "INSERT INTO user_oauth_tokens (user_id, provider, "
               "access_token, refresh_token, expires_at, scope, updated_at) "
               "VALUES (?1, 'tastytrade', ?2, ?3, ?4, ?5, ?6) "
               "ON CONFLICT (user_id, provider) DO UPDATE SET "
               "access_token = ?2, refresh_token = ?3, expires_at = ?4, "
               "scope = ?5, updated_at = ?6",
               json_pack("[s, o, o, I, s?, I]", t->user, access, refresh,
                         (json_int_t) t->expires_at, t->scope,
                         (json_int_t) now));
}

/*
 * {"blob":"<base64>"} of the sealed token, bound to its user and column
 * as ttai_token_open() expects; null for no token
 */

static json_t *
ttai_oauth_store_sealed(const ttai_oauth_tt_tokens_t *t, const char *field,
    const char *token, size_t len)
{
    char           *b64;
    size_t          slen, blen;
    json_t         *v;
    unsigned char  *blob;

    if (token == NULL) {
        return json_null();
    }

    slen = len + TTAI_CRYPTO_OVERHEAD;
    blen = sodium_base64_ENCODED_LEN(slen, sodium_base64_VARIANT_ORIGINAL);

    blob = malloc(slen);
    b64 = malloc(blen);

    if (blob == NULL || b64 == NULL
        || ttai_token_seal(t->key, t->user, field,
                           (const unsigned char *) token, len, blob)
           != 0)
    {
        free(blob);
        free(b64);
        return NULL;
    }

    sodium_bin2base64(b64, blen, blob, slen, sodium_base64_VARIANT_ORIGINAL);

    v = json_pack("{s:s}", "blob", b64);

    free(blob);
    free(b64);

    return v;
}

json_t *
ttai_oauth_store_grant(const char *client_id, int refresh, const char *token)
{
    ttai_oauth_store_hash_t  hash;

    ttai_oauth_store_hash(token, hash);

    return ttai_d1_batch_of(2,
               ttai_d1_stmt(
                   "SELECT client_id, secret_hash, name, redirect_uris, "
                   "auth_method, grant_types "
                   "FROM oauth_clients WHERE client_id = ?",
                   json_pack("[s]", client_id)),
               refresh
               ? ttai_d1_stmt(
                     "SELECT family, client_id, user_id, scope, resource, "
                     "expires_at, used, revoked "
                     "FROM oauth_refresh_tokens WHERE token_hash = ?",
                     json_pack("[s]", hash))
               : ttai_d1_stmt(
                     "SELECT client_id, user_id, redirect_uri, "
                     "code_challenge, scope, resource, expires_at, used, "
                     "family FROM oauth_codes WHERE code_hash = ?",
                     json_pack("[s]", hash)));
}

/*
 * The grant is used up by statements that succeed only once: of a code
 * or a refresh token raced twice, one issues a token and the other
 * inserts nothing, which ttai_oauth_store_issued() sees.  A new family
 * is named by its first token's hash, and the code keeps that name for
 * the day it comes back.
 */

json_t *
ttai_oauth_store_code_redeem(const char *code, const char *refresh,
    long long now)
{
    ttai_oauth_store_hash_t  hcode, hnew;

    ttai_oauth_store_hash(code, hcode);
    ttai_oauth_store_hash(refresh, hnew);

    return ttai_d1_batch_of(2,
               ttai_d1_stmt(
                   "INSERT INTO oauth_refresh_tokens (token_hash, family, "
                   "client_id, user_id, scope, resource, created_at, "
                   "expires_at) SELECT ?1, ?1, client_id, user_id, scope, "
                   "resource, ?2, ?3 FROM oauth_codes "
                   "WHERE code_hash = ?4 AND used = 0",
                   json_pack("[s, I, I, s]", hnew, (json_int_t) now,
                             (json_int_t) (now + TTAI_OAUTH_REFRESH_TTL),
                             hcode)),
               ttai_d1_stmt(
                   "UPDATE oauth_codes SET used = 1, family = ?1 "
                   "WHERE code_hash = ?2 AND used = 0",
                   json_pack("[s, s]", hnew, hcode)));
}

void
ttai_oauth_store_family_of(const char *refresh,
    char out[TTAI_OAUTH_HASH_LEN + 1])
{
    ttai_oauth_store_hash(refresh, out);
}

json_t *
ttai_oauth_store_code_use(const char *code)
{
    ttai_oauth_store_hash_t  hcode;

    return ttai_d1_batch_of(1, ttai_d1_stmt(
               "UPDATE oauth_codes SET used = 1 WHERE code_hash = ?",
               json_pack("[s]", ttai_oauth_store_hash(code, hcode))));
}

/*
 * Revoking a family revokes its refresh tokens, and adds the family to
 * oauth_revocations, for its access tokens: once, so that a code or a
 * refresh token presented again and again adds no row
 */

json_t *
ttai_oauth_store_code_revoke(const char *code, long long now)
{
    ttai_oauth_store_hash_t  hcode;

    ttai_oauth_store_hash(code, hcode);

    /* a code without a family matches no token: "= NULL" is never true */
    return ttai_d1_batch_of(2,
               ttai_d1_stmt(
                   "UPDATE oauth_refresh_tokens SET revoked = 1 WHERE family = "
                   "(SELECT family FROM oauth_codes WHERE code_hash = ?)",
                   json_pack("[s]", hcode)),
               ttai_d1_stmt(
                   "INSERT OR IGNORE INTO oauth_revocations (family, "
                   "revoked_at) SELECT family, ?2 FROM oauth_codes "
                   "WHERE code_hash = ?1 AND family IS NOT NULL"
                   TTAI_OAUTH_STORE_RETURNING,
                   json_pack("[s, I]", hcode, (json_int_t) now)));
}

json_t *
ttai_oauth_store_refresh_rotate(const char *old, const char *fresh,
    long long now)
{
    ttai_oauth_store_hash_t  hold, hnew;

    ttai_oauth_store_hash(old, hold);
    ttai_oauth_store_hash(fresh, hnew);

    return ttai_d1_batch_of(2 + TTAI_OAUTH_STORE_PURGE,
               ttai_d1_stmt(
                   "INSERT INTO oauth_refresh_tokens (token_hash, family, "
                   "client_id, user_id, scope, resource, created_at, "
                   "expires_at) SELECT ?1, family, client_id, user_id, "
                   "scope, resource, ?2, ?3 FROM oauth_refresh_tokens "
                   "WHERE token_hash = ?4 AND used = 0 AND revoked = 0",
                   json_pack("[s, I, I, s]", hnew, (json_int_t) now,
                             (json_int_t) (now + TTAI_OAUTH_REFRESH_TTL),
                             hold)),
               ttai_d1_stmt(
                   "UPDATE oauth_refresh_tokens SET used = 1 "
                   "WHERE token_hash = ?", json_pack("[s]", hold)),
               ttai_oauth_store_purge(now, 0), ttai_oauth_store_purge(now, 1),
               ttai_oauth_store_purge(now, 2), ttai_oauth_store_purge(now, 3));
}

json_t *
ttai_oauth_store_family_revoke(const char *family, long long now)
{
    return ttai_d1_batch_of(2,
               ttai_d1_stmt(
                   "UPDATE oauth_refresh_tokens SET revoked = 1 "
                   "WHERE family = ?", json_pack("[s]", family)),
               ttai_d1_stmt(
                   "INSERT OR IGNORE INTO oauth_revocations (family, "
                   "revoked_at) SELECT ?1, ?2 WHERE EXISTS (SELECT 1 "
                   "FROM oauth_refresh_tokens WHERE family = ?1)"
                   TTAI_OAUTH_STORE_RETURNING,
                   json_pack("[s, I]", family, (json_int_t) now)));
}

json_t *
ttai_oauth_store_token_revoke(const char *token, long long now)
{
    ttai_oauth_store_hash_t  hash;

    ttai_oauth_store_hash(token, hash);

    return ttai_d1_batch_of(2,
               ttai_d1_stmt(
                   "UPDATE oauth_refresh_tokens SET revoked = 1 WHERE family = "
                   "(SELECT family FROM oauth_refresh_tokens "
                   "WHERE token_hash = ?)",
                   json_pack("[s]", hash)),
               ttai_d1_stmt(
                   "INSERT OR IGNORE INTO oauth_revocations (family, "
                   "revoked_at) SELECT family, ?2 FROM oauth_refresh_tokens "
                   "WHERE token_hash = ?1" TTAI_OAUTH_STORE_RETURNING,
                   json_pack("[s, I]", hash, (json_int_t) now)));
}

/*
 * A user's access tokens are known by their subject and the time they
 * were issued: a row per revocation, so that a second one, later,
 * covers the tokens issued in between
 */

json_t *
ttai_oauth_store_user_revoke(const char *user, long long now)
{
    return ttai_d1_batch_of(4,
               ttai_d1_stmt(
                   "SELECT id FROM users WHERE id = ?",
                   json_pack("[s]", user)),
               ttai_d1_stmt(
                   "UPDATE oauth_refresh_tokens SET revoked = 1 "
                   "WHERE user_id = ? AND revoked = 0",
                   json_pack("[s]", user)),
               ttai_d1_stmt(
                   "DELETE FROM user_oauth_tokens WHERE user_id = ?",
                   json_pack("[s]", user)),
               ttai_d1_stmt(
                   "INSERT INTO oauth_revocations (user_id, revoked_at) "
                   "SELECT id, ?2 FROM users WHERE id = ?1"
                   TTAI_OAUTH_STORE_RETURNING,
                   json_pack("[s, I]", user, (json_int_t) now)));
}

json_t *
ttai_oauth_store_revocations(long long after, long long since,
    long long limit)
{
    return ttai_d1_batch_of(2,
               ttai_d1_stmt(
                   "SELECT COALESCE(max(id), 0) AS id "
                   "FROM oauth_revocations",
                   json_array()),
               ttai_d1_stmt(
                   "SELECT id, family, user_id, revoked_at "
                   "FROM oauth_revocations WHERE id > ? AND revoked_at > ? "
                   "ORDER BY id LIMIT ?",
                   json_pack("[I, I, I]", (json_int_t) after,
                             (json_int_t) since, (json_int_t) limit)));
}

json_t *
ttai_oauth_store_users(long long now)
{
    return ttai_d1_batch_of(1, ttai_d1_stmt(
               "SELECT u.id, COALESCE(u.email, '') AS email, u.created_at, "
               "EXISTS (SELECT 1 FROM user_oauth_tokens t "
               "        WHERE t.user_id = u.id) AS connected, "
               "(SELECT COUNT(DISTINCT family) FROM oauth_refresh_tokens r "
               " WHERE r.user_id = u.id AND r.revoked = 0 AND r.used = 0 "
               " AND r.expires_at > ?) AS sign_ins "
               "FROM users u ORDER BY u.id",
               json_pack("[I]", (json_int_t) now)));
}

/* -- readers ------------------------------------------------------------ */

int
ttai_oauth_store_client_read(json_t *results, ttai_oauth_client_row_t *c)
{
    return ttai_oauth_store_read(ttai_oauth_store_row(results, 0, 0), c,
                                 sizeof(ttai_oauth_client_row_t),
                                 ttai_oauth_store_client_cols);
}

int
ttai_oauth_store_grant_read(json_t *results, ttai_oauth_grant_row_t *g)
{
    return ttai_oauth_store_read(ttai_oauth_store_row(results, 1, 0), g,
                                 sizeof(ttai_oauth_grant_row_t),
                                 ttai_oauth_store_grant_cols);
}

int
ttai_oauth_store_request_answered(json_t *results, ttai_oauth_pending_t *p)
{
    /* found, and this answer is the one whose update took it */
    return ttai_oauth_store_read(ttai_oauth_store_changes(results, 1) == 1
                                 ? ttai_oauth_store_row(results, 0, 0)
                                 : NULL,
                                 p, sizeof(ttai_oauth_pending_t),
                                 ttai_oauth_store_pending_cols);
}

int
ttai_oauth_store_request_taken(json_t *results, ttai_oauth_pending_t *p)
{
    return ttai_oauth_store_read(ttai_oauth_store_row(results, 0, 0), p,
                                 sizeof(ttai_oauth_pending_t),
                                 ttai_oauth_store_pending_cols);
}

int
ttai_oauth_store_issued(json_t *results)
{
    return ttai_oauth_store_changes(results, 0) == 1;
}

int
ttai_oauth_store_user_revoked(json_t *results, long long *tokens)
{
    *tokens = 0;

    if (ttai_oauth_store_row(results, 0, 0) == NULL) {
        return 0;
    }

    *tokens = ttai_oauth_store_changes(results, 1);

    return 1;
}

int
ttai_oauth_store_revocation_at(json_t *results, size_t i,
    ttai_oauth_revocation_t *rev)
{
    size_t  last;

    last = json_array_size(results);

    return ttai_oauth_store_read(last ? ttai_oauth_store_row(results,
                                                             last - 1, i)
                                      : NULL,
                                 rev, sizeof(ttai_oauth_revocation_t),
                                 ttai_oauth_store_revocation_cols);
}

long long
ttai_oauth_store_revocations_last(json_t *results)
{
    return (long long) json_integer_value(
               json_object_get(ttai_oauth_store_row(results, 0, 0), "id"));
}

int
ttai_oauth_store_tt_read(json_t *results, ttai_oauth_tt_sealed_t *t)
{
    return ttai_oauth_store_read(ttai_oauth_store_row(results, 0, 0), t,
                                 sizeof(ttai_oauth_tt_sealed_t),
                                 ttai_oauth_store_sealed_cols);
}

int
ttai_oauth_store_user_at(json_t *results, size_t i, ttai_oauth_user_row_t *u)
{
    return ttai_oauth_store_read(ttai_oauth_store_row(results, 0, i), u,
                                 sizeof(ttai_oauth_user_row_t),
                                 ttai_oauth_store_user_cols);
}

/* -- helpers ------------------------------------------------------------ */

/*
 * Statement i of the purge of expired rows, which rides along with the
 * writes that add rows (a sign-in, a rotation), so the tables stay as
 * large as the sign-ins that are alive.  A refresh token is kept until
 * it expires, used or revoked: until then it must still be recognised
 * when it comes back.  A redeemed code is kept as long as the refresh
 * tokens it could have started, for the same reason.  A revocation is
 * kept for a day, long after every access token it concerns expired.
 */

static json_t *
ttai_oauth_store_purge(long long now, int i)
{
    switch (i) {

    case 0:
        return ttai_d1_stmt(
                   "DELETE FROM oauth_requests WHERE expires_at <= ?",
                   json_pack("[I]", (json_int_t) now));

    case 1:
        return ttai_d1_stmt(
                   "DELETE FROM oauth_codes WHERE expires_at <= ?1 "
                   "AND (family IS NULL OR expires_at <= ?2)",
                   json_pack("[I, I]", (json_int_t) now,
                             (json_int_t) (now - TTAI_OAUTH_REFRESH_TTL)));

    case 2:
        return ttai_d1_stmt(
                   "DELETE FROM oauth_refresh_tokens WHERE expires_at <= ?",
                   json_pack("[I]", (json_int_t) now));

    default:
        return ttai_d1_stmt(
                   "DELETE FROM oauth_revocations WHERE revoked_at <= ?",
                   json_pack("[I]",
                             (json_int_t) (now - TTAI_OAUTH_REVOKED_KEEP)));
    }
}

static const char *
ttai_oauth_store_hash(const char *secret, ttai_oauth_store_hash_t out)
{
    ttai_oauth_hash(secret, strlen(secret), out);

    return out;
}

/* row n of statement i's result, or NULL */

static json_t *
ttai_oauth_store_row(json_t *results, size_t i, size_t n)
{
    json_t  *row;

    row = json_array_get(json_object_get(json_array_get(results, i),
                                         "results"), n);

    return json_is_object(row) ? row : NULL;
}

static long long
ttai_oauth_store_changes(json_t *results, size_t i)
{
    return (long long) json_integer_value(json_object_get(
               json_object_get(json_array_get(results, i), "meta"),
               "changes"));
}

/*
 * A row into a struct, column by column; the struct is cleared first, so
 * a missing row leaves it empty.  1 when there was a row, else 0.
 */

static int
ttai_oauth_store_read(json_t *row, void *out, size_t size,
    const ttai_oauth_store_col_t *cols)
{
    json_t         *v;
    unsigned char  *p;

    memset(out, 0, size);

    if (row == NULL) {
        return 0;
    }

    for ( /* void */ ; cols->name != NULL; cols++) {
        p = (unsigned char *) out + cols->offset;
        v = json_object_get(row, cols->name);

        switch (cols->kind) {

        case TTAI_OAUTH_STORE_STR:
            *(const char **) p = json_string_value(v);
            break;

        case TTAI_OAUTH_STORE_INT:
            *(long long *) p = (long long) json_integer_value(v);
            break;

        default: /* TTAI_OAUTH_STORE_FLAG */
            *(int *) p = json_integer_value(v) != 0;
            break;
        }
    }

    return 1;
}
