
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "ttai_json.h"
#include "ttai_mcp_core.h"


/*
 * Asking the human, as 2026-07-28's multi round-trip requests do.  A
 * tool that needs an answer returns ttai_tool_input_required(): the core
 * answers the call with resultType "input_required", the requests, and a
 * requestState that carries the tool's state.  The client asks its user,
 * then calls again with inputResponses and that state, and the core
 * gives both to the tool's input step.  No server keeps anything between
 * the two calls, so any worker, or any ttai with the same key, continues.
 *
 * The state comes back from the client, so it is sealed: XChaCha20-
 * Poly1305 under the server's key, over the user it was made for (the
 * JWT's sub), the method and the tool, a BLAKE2b digest of the exact
 * arguments, an expiry, and the tool's state.  Opening it checks each.
 * Sealed, it is also secret: a tool may keep in its state what the user
 * must not read.  It is not single-use (MRTR says so): a tool whose step
 * must run once needs its own record of having run.
 */

#define TTAI_MCP_STATE_PREFIX  "v1."
#define TTAI_MCP_STATE_AD      "ttai requestState v1"

/* a state larger than this was not made here */
#define TTAI_MCP_STATE_MAX     65536


static char *ttai_mcp_state_seal(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, const ttai_mcp_asker_t *asker,
    json_t *args, json_t *state);
static json_t *ttai_mcp_state_open(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, const ttai_mcp_asker_t *asker,
    json_t *args, json_t *sealed, const char **reason);
static int ttai_mcp_args_digest(json_t *args, char *hex);
static json_t *ttai_mcp_input_missing(json_t *requests, json_t *caps);
static int ttai_mcp_input_ask(const ttai_mcp_server_t *srv,
    ttai_mcp_run_t *run, const ttai_mcp_asker_t *asker, json_t *id,
    json_t *args, json_t *requests, ttai_mcp_pending_t **pending);
static int ttai_mcp_input_only_elicits(json_t *requests);
static time_t ttai_mcp_now(const ttai_mcp_call_t *call);


void
ttai_mcp_server_state_key(ttai_mcp_server_t *srv, const unsigned char *key,
    long ttl)
{
    memcpy(srv->state_key, key, sizeof(srv->state_key));
    srv->state_keyed = 1;
    srv->state_ttl = (ttl > 0) ? ttl : TTAI_MCP_STATE_TTL;
}


/* 1 when the tool's result asks for input */

int
ttai_mcp_input_asked(json_t *result)
{
    const char  *type;

    type = json_string_value(json_object_get(result, "resultType"));

    return type != NULL && strcmp(type, "input_required") == 0;
}


/*
 * Answers a tool's input_required result: sealed and sent in the
 * stateless revision, to a client that can answer it; explained in a
 * 2025 session, whose client is not asked.  Takes the reference to
 * result.  Returns 0 with *response, or -1 when out of memory.
 */

int
ttai_mcp_input_answer(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, const ttai_mcp_asker_t *asker, json_t *id,
    json_t *args, json_t *result, json_t **response,
    ttai_mcp_pending_t **pending)
{
    int      rc;
    char    *sealed;
    json_t  *requests, *missing, *out;

    requests = json_object_get(result, "inputRequests");

    if (!run->stateless) {
        missing = ttai_mcp_input_missing(requests, run->caps);

        if (missing == NULL && run->caps != NULL
            && ttai_mcp_input_only_elicits(requests))
        {
            /* the session's client asks its user: elicitation/create */
            rc = ttai_mcp_input_ask(srv, run, asker, id, args, requests,
                                    pending);
            json_decref(result);
            return rc;
        }

        json_decref(missing);
        json_decref(result);

        *response = ttai_mcp_rpc_result(id,
                        ttai_tool_error_result("%s needs the user's "
                            "answer before it can go on, and this client "
                            "did not say at initialize that it can ask "
                            "its user this (the elicitation capability).  "
                            "Ask the user to use a client that supports "
                            "elicitation or MCP 2026-07-28, or to do this "
                            "step themselves.", asker->name));

        return *response ? 0 : -1;
    }

    missing = ttai_mcp_input_missing(requests, run->caps);

    if (missing != NULL) {
        json_decref(result);

        *response = ttai_mcp_rpc_error(id, TTAI_MCP_MISSING_CAPABILITY,
                        json_pack("{s:o}", "requiredCapabilities", missing),
                        "Missing required client capability: %s needs to "
                        "ask the user, and this request's "
                        "clientCapabilities do not offer it", asker->name);

        return *response ? 0 : -1;
    }

    if (!srv->state_keyed) {
        json_decref(result);

        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INTERNAL_ERROR, NULL,
                                       "Internal error: this server has no "
                                       "key to seal requestState with");
        return *response ? 0 : -1;
    }

    sealed = ttai_mcp_state_seal(srv, call, asker, args, run->state);
    if (sealed == NULL) {
        json_decref(result);
        return -1;
    }

    out = json_pack("{s:s, s:O, s:s}", "resultType", "input_required",
                    "inputRequests", requests, "requestState", sealed);

    free(sealed);
    json_decref(result);

    *response = ttai_mcp_rpc_result(id, out);

    return *response ? 0 : -1;
}


/*
 * A retry: params carry requestState and inputResponses.  Opens the
 * state for this user, tool and these arguments, and gives it to the
 * tool's input step with the responses.  Returns 0 with *result or
 * *pending (as a tool's run does) or *response (a refusal), or -1.
 */

int
ttai_mcp_input_retry(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, const ttai_mcp_asker_t *asker, json_t *id,
    json_t *params, json_t *args, ttai_tool_ctx_t *ctx, json_t **result,
    ttai_mcp_pending_t **pending, json_t **response)
{
    json_t      *sealed, *responses, *state;
    const char  *reason;

    sealed = json_object_get(params, "requestState");
    responses = json_object_get(params, "inputResponses");

    if (sealed == NULL && !asker->no_state) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: inputResponses "
                                       "come with the requestState they "
                                       "answer");
        return *response ? 0 : -1;
    }

    if (responses != NULL && !json_is_object(responses)) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: inputResponses "
                                       "must be an object");
        return *response ? 0 : -1;
    }

    if (asker->input == NULL) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS,
                        json_pack("{s:s}", "reason",
                                  "invalid_request_state"),
                        "Invalid params: %s asks no questions, so this "
                        "requestState is not its", asker->name);
        return *response ? 0 : -1;
    }

    if (sealed == NULL) {
        /* a tool whose questions protect nothing starts over */
        state = json_object();
        reason = NULL;

    } else if (!srv->state_keyed) {
        reason = "this server has no key to open it with";
        state = NULL;

    } else {
        state = ttai_mcp_state_open(srv, call, asker, args, sealed,
                                    &reason);
    }

    if (state == NULL) {
        if (reason == NULL) {
            return -1;
        }

        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS,
                        json_pack("{s:s}", "reason",
                                  "invalid_request_state"),
                        "Invalid or expired requestState: %s.  Call the "
                        "tool again without it to start over.", reason);
        return *response ? 0 : -1;
    }

    json_decref(run->state);
    run->state = state;
    ctx->state = state;

    if (responses == NULL) {
        responses = json_object();

    } else {
        json_incref(responses);
    }

    if (responses == NULL) {
        return -1;
    }

    if (asker->input(ctx, args, responses, result, pending) != 0) {
        json_decref(responses);
        return -1;
    }

    json_decref(responses);

    return 0;
}


/*
 * A 2025 session's client is asked on the POST's own stream: each input
 * request becomes an elicitation/create request of ttai's, with an id
 * nobody can guess (the answer, POSTed to any worker, is matched by it),
 * and the call waits, in memory, for the responses.  Nothing is sealed:
 * the state never leaves the server.
 */

static int
ttai_mcp_input_ask(const ttai_mcp_server_t *srv, ttai_mcp_run_t *run,
    const ttai_mcp_asker_t *asker, json_t *id, json_t *args,
    json_t *requests, ttai_mcp_pending_t **pending)
{
    char                 rid[sizeof(TTAI_MCP_ASK_PREFIX) + 32];
    size_t               i, n;
    json_t              *req, *msg;
    const char          *key;
    unsigned char        raw[16];
    ttai_mcp_pending_t  *p;

    n = json_object_size(requests);

    p = calloc(1, sizeof(ttai_mcp_pending_t));
    if (p == NULL) {
        return -1;
    }

    /* a human's answer is waited for as long as a requestState lasts */
    p->kind = TTAI_PENDING_ASK;
    p->ms = ((srv->state_ttl > 0) ? srv->state_ttl : TTAI_MCP_STATE_TTL)
            * 1000;
    p->ask_ids = calloc(n ? n : 1, sizeof(char *));

    json_decref(run->ask_ids);
    json_decref(run->ask_keys);
    run->ask_ids = json_array();
    run->ask_keys = json_array();

    if (p->ask_ids == NULL || run->ask_ids == NULL || run->ask_keys == NULL) {
        ttai_mcp_pending_free(p);
        return -1;
    }

    i = 0;

    json_object_foreach(requests, key, req) {
        memcpy(rid, TTAI_MCP_ASK_PREFIX, sizeof(TTAI_MCP_ASK_PREFIX) - 1);
        randombytes_buf(raw, sizeof(raw));
        sodium_bin2hex(rid + sizeof(TTAI_MCP_ASK_PREFIX) - 1, 33, raw,
                       sizeof(raw));

        msg = json_pack("{s:s, s:s, s:O, s:O}", "jsonrpc", "2.0", "id", rid,
                        "method", json_object_get(req, "method"),
                        "params", json_object_get(req, "params"));

        p->ask_ids[i] = strdup(rid);

        if (msg == NULL || p->ask_ids[i] == NULL
            || json_array_append_new(run->events, msg) != 0
            || json_array_append_new(run->ask_ids, json_string(rid)) != 0
            || json_array_append_new(run->ask_keys, json_string(key)) != 0)
        {
            p->nasks = i + 1;
            ttai_mcp_pending_free(p);
            return -1;
        }

        i++;
    }

    p->nasks = n;

    /* the continuation: ttai_mcp_input_resume() */
    run->ask_prompt = asker->prompt;
    run->tool = asker->index;

    if (run->args != args) {
        json_decref(run->args);
        run->args = json_incref(args);
    }

    if (run->id != id) {
        json_decref(run->id);
        run->id = json_incref(id);
    }

    *pending = p;

    return 0;
}


/*
 * The responses of a 2025 session's client, or none: the call goes on
 * with them as its inputResponses, as a retry would in 2026-07-28
 */

int
ttai_mcp_input_resume(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, const ttai_mcp_response_t *resp, json_t **response,
    ttai_mcp_pending_t **pending)
{
    int           rc;
    size_t        i;
    json_t       *responses, *msg, *res, *err;
    const char   *failed, *key;
    json_error_t  jerr;
    char          why[256];

    responses = json_object();
    if (responses == NULL) {
        return -1;
    }

    failed = NULL;

    for (i = 0; i < json_array_size(run->ask_ids) && failed == NULL; i++) {
        key = json_string_value(json_array_get(run->ask_keys, i));

        if (resp->answers == NULL || resp->answers[i] == NULL) {
            failed = resp->error ? resp->error
                                 : "the client did not answer";
            break;
        }

        msg = json_loadb(resp->answers[i], resp->answer_lens[i], 0, &jerr);
        res = json_object_get(msg, "result");
        err = json_object_get(msg, "error");

        if (json_is_object(res)) {
            rc = json_object_set(responses, key, res);
            json_decref(msg);

            if (rc != 0) {
                json_decref(responses);
                return -1;
            }

            continue;
        }

        snprintf(why, sizeof(why), "the client could not ask the user "
                 "(%.160s)",
                 json_string_value(json_object_get(err, "message"))
                 ? json_string_value(json_object_get(err, "message"))
                 : "its answer was not a result");
        json_decref(msg);
        failed = why;
    }

    json_decref(run->ask_ids);
    json_decref(run->ask_keys);
    run->ask_ids = NULL;
    run->ask_keys = NULL;

    if (failed != NULL) {
        json_decref(responses);
        responses = NULL;
    }

    rc = run->ask_prompt
         ? ttai_mcp_prompts_input(srv, call, run, responses, failed,
                                  response, pending)
         : ttai_mcp_tools_input(srv, call, run, responses, failed,
                                response, pending);

    json_decref(responses);

    return rc;
}


/*
 * What a 2025 client declared at initialize, reduced to what ttai asks
 * of it, so that a session keeps a few bytes whatever the client sent:
 * elicitation, with its modes ({} before 2025-11-25 and {} in it mean
 * form only).  NULL when it declared nothing ttai uses.
 */

json_t *
ttai_mcp_input_caps(json_t *declared, const char *version)
{
    json_t  *el, *modes;

    el = json_object_get(declared, "elicitation");

    if (!json_is_object(el)) {
        return NULL;
    }

    modes = json_object();
    if (modes == NULL) {
        return NULL;
    }

    if (json_object_size(el) == 0 || json_object_get(el, "form") != NULL) {
        json_object_set_new(modes, "form", json_object());
    }

    /* URL mode came with 2025-11-25 */
    if (json_object_get(el, "url") != NULL && version != NULL
        && strcmp(version, "2025-11-25") >= 0)
    {
        json_object_set_new(modes, "url", json_object());
    }

    return json_pack("{s:o}", "elicitation", modes);
}


/* 1 when every request is an elicitation, the one kind ttai sends */

static int
ttai_mcp_input_only_elicits(json_t *requests)
{
    json_t      *req;
    const char  *key, *method;

    if (json_object_size(requests) == 0) {
        return 0;
    }

    json_object_foreach(requests, key, req) {
        method = json_string_value(json_object_get(req, "method"));

        if (method == NULL || strcmp(method, "elicitation/create") != 0) {
            return 0;
        }
    }

    return 1;
}


/* "v1." base64url(nonce || sealed JSON) */

static char *
ttai_mcp_state_seal(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    const ttai_mcp_asker_t *asker, json_t *args, json_t *state)
{
    char                hex[crypto_generichash_BYTES * 2 + 1], *plain, *out;
    size_t              plen, blen, olen;
    json_t             *j;
    unsigned char      *box;
    unsigned long long  clen;

    if (ttai_mcp_args_digest(args, hex) != 0) {
        return NULL;
    }

    j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:O}", "v", 1,
                  "sub", call->sub ? call->sub : "", "m", asker->method,
                  "t", asker->target, "a", hex,
                  "e", (json_int_t) (ttai_mcp_now(call) + srv->state_ttl),
                  "s", state ? state : json_null());
    if (j == NULL) {
        return NULL;
    }

    plain = ttai_json_dumps(j, &plen);
    json_decref(j);

    if (plain == NULL) {
        return NULL;
    }

    blen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plen
           + crypto_aead_xchacha20poly1305_ietf_ABYTES;

    box = malloc(blen);
    olen = sizeof(TTAI_MCP_STATE_PREFIX) - 1
           + sodium_base64_ENCODED_LEN(blen,
                 sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out = malloc(olen);

    if (box == NULL || out == NULL) {
        free(plain);
        free(box);
        free(out);
        return NULL;
    }

    randombytes_buf(box, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);

    crypto_aead_xchacha20poly1305_ietf_encrypt(
        box + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &clen,
        (unsigned char *) plain, plen,
        (unsigned char *) TTAI_MCP_STATE_AD, sizeof(TTAI_MCP_STATE_AD) - 1,
        NULL, box, srv->state_key);

    sodium_memzero(plain, plen);
    free(plain);

    memcpy(out, TTAI_MCP_STATE_PREFIX, sizeof(TTAI_MCP_STATE_PREFIX) - 1);
    sodium_bin2base64(out + sizeof(TTAI_MCP_STATE_PREFIX) - 1,
                      olen - (sizeof(TTAI_MCP_STATE_PREFIX) - 1), box, blen,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    free(box);

    return out;
}


/*
 * The tool's state, or NULL with *reason: a sentence for the client, or
 * NULL when out of memory
 */

static json_t *
ttai_mcp_state_open(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    const ttai_mcp_asker_t *asker, json_t *args, json_t *sealed,
    const char **reason)
{
    char                hex[crypto_generichash_BYTES * 2 + 1];
    size_t              slen, blen, plen;
    json_t             *j, *state;
    const char         *s, *v;
    unsigned char      *box, *plain;
    json_error_t        jerr;
    unsigned long long  mlen;

    *reason = "it was not made by this server";

    s = json_string_value(sealed);
    slen = json_string_length(sealed);

    if (s == NULL || slen > TTAI_MCP_STATE_MAX
        || slen <= sizeof(TTAI_MCP_STATE_PREFIX) - 1
        || memcmp(s, TTAI_MCP_STATE_PREFIX,
                  sizeof(TTAI_MCP_STATE_PREFIX) - 1) != 0)
    {
        return NULL;
    }

    s += sizeof(TTAI_MCP_STATE_PREFIX) - 1;
    slen -= sizeof(TTAI_MCP_STATE_PREFIX) - 1;

    box = malloc(slen);
    if (box == NULL) {
        *reason = NULL;
        return NULL;
    }

    if (sodium_base642bin(box, slen, s, slen, NULL, &blen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0
        || blen < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
                  + crypto_aead_xchacha20poly1305_ietf_ABYTES)
    {
        free(box);
        return NULL;
    }

    plen = blen - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
           - crypto_aead_xchacha20poly1305_ietf_ABYTES;

    plain = malloc(plen + 1);
    if (plain == NULL) {
        free(box);
        *reason = NULL;
        return NULL;
    }

    /* the tag is checked in constant time by libsodium */
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &mlen, NULL,
            box + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
            blen - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
            (unsigned char *) TTAI_MCP_STATE_AD,
            sizeof(TTAI_MCP_STATE_AD) - 1, box, srv->state_key)
        != 0)
    {
        free(box);
        free(plain);
        *reason = "it was changed, or sealed with another key";
        return NULL;
    }

    free(box);

    j = json_loadb((char *) plain, mlen, 0, &jerr);
    sodium_memzero(plain, plen);
    free(plain);

    if (j == NULL) {
        *reason = NULL;
        return NULL;
    }

    *reason = NULL;

    v = json_string_value(json_object_get(j, "sub"));

    if (v == NULL || call->sub == NULL || strcmp(v, call->sub) != 0) {
        *reason = "it belongs to another user";

    } else if ((v = json_string_value(json_object_get(j, "t"))) == NULL
               || strcmp(v, asker->target) != 0
               || (v = json_string_value(json_object_get(j, "m"))) == NULL
               || strcmp(v, asker->method) != 0)
    {
        *reason = "it was made for another tool or prompt";

    } else if (json_integer_value(json_object_get(j, "e"))
               < (json_int_t) ttai_mcp_now(call))
    {
        *reason = "it has expired";

    } else if (ttai_mcp_args_digest(args, hex) != 0) {
        json_decref(j);
        return NULL;

    } else if ((v = json_string_value(json_object_get(j, "a"))) == NULL
               || strlen(v) != sizeof(hex) - 1
               || sodium_memcmp(v, hex, sizeof(hex) - 1) != 0)
    {
        *reason = "the arguments are not the ones it was made for";
    }

    if (*reason != NULL) {
        json_decref(j);
        return NULL;
    }

    state = json_incref(json_object_get(j, "s"));
    json_decref(j);

    if (!json_is_object(state)) {
        json_decref(state);
        state = json_object();
    }

    return state;
}


/* BLAKE2b of the arguments in one canonical form, as hex */

static int
ttai_mcp_args_digest(json_t *args, char *hex)
{
    char           *text;
    unsigned char   digest[crypto_generichash_BYTES];

    text = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (text == NULL) {
        return -1;
    }

    crypto_generichash(digest, sizeof(digest), (unsigned char *) text,
                       strlen(text), NULL, 0);
    free(text);

    sodium_bin2hex(hex, crypto_generichash_BYTES * 2 + 1, digest,
                   sizeof(digest));

    return 0;
}


/*
 * The capabilities the requests need and the client did not offer, as
 * requiredCapabilities, or NULL when it offers them all.  Form
 * elicitation needs "elicitation" ({} means form), URL elicitation
 * "elicitation.url", sampling "sampling", roots "roots".
 */

static json_t *
ttai_mcp_input_missing(json_t *requests, json_t *caps)
{
    json_t      *req, *missing, *el;
    const char  *key, *method, *mode;

    missing = NULL;
    el = json_object_get(caps, "elicitation");

    json_object_foreach(requests, key, req) {
        method = json_string_value(json_object_get(req, "method"));
        mode = json_string_value(json_object_get(json_object_get(req,
                                                                 "params"),
                                                 "mode"));

        if (method == NULL) {
            continue;
        }

        if (strcmp(method, "elicitation/create") == 0) {
            if (mode != NULL && strcmp(mode, "url") == 0) {
                if (json_object_get(el, "url") == NULL) {
                    missing = missing ? missing : json_object();
                    json_object_set_new(missing, "elicitation",
                                        json_pack("{s:{}}", "url"));
                }

            } else if (!json_is_object(el)
                       || (json_object_size(el) > 0
                           && json_object_get(el, "form") == NULL))
            {
                missing = missing ? missing : json_object();
                json_object_set_new(missing, "elicitation",
                                    json_pack("{s:{}}", "form"));
            }

        } else if (strcmp(method, "sampling/createMessage") == 0) {
            if (json_object_get(caps, "sampling") == NULL) {
                missing = missing ? missing : json_object();
                json_object_set_new(missing, "sampling", json_object());
            }

        } else if (strcmp(method, "roots/list") == 0) {
            if (json_object_get(caps, "roots") == NULL) {
                missing = missing ? missing : json_object();
                json_object_set_new(missing, "roots", json_object());
            }
        }
    }

    return missing;
}


static time_t
ttai_mcp_now(const ttai_mcp_call_t *call)
{
    return call->now ? call->now : time(NULL);
}


/* helpers for tools */

json_t *
ttai_tool_input_required(json_t *requests)
{
    if (requests == NULL) {
        return NULL;
    }

    return json_pack("{s:s, s:o}", "resultType", "input_required",
                     "inputRequests", requests);
}


json_t *
ttai_tool_elicit_form(const char *message, json_t *schema)
{
    if (schema == NULL) {
        return NULL;
    }

    return json_pack("{s:s, s:{s:s, s:s, s:o}}", "method",
                     "elicitation/create", "params", "mode", "form",
                     "message", message, "requestedSchema", schema);
}


json_t *
ttai_tool_elicit_url(const char *message, const char *url)
{
    return json_pack("{s:s, s:{s:s, s:s, s:s}}", "method",
                     "elicitation/create", "params", "mode", "url",
                     "message", message, "url", url);
}


/*
 * The user's answer to the request named key: "accept", "decline" or
 * "cancel", with *content the form's values on accept; NULL when the
 * client did not answer it (ask again)
 */

const char *
ttai_tool_input_action(json_t *responses, const char *key, json_t **content)
{
    json_t      *r;
    const char  *action;

    r = json_object_get(responses, key);
    action = json_string_value(json_object_get(r, "action"));

    if (content != NULL) {
        *content = json_object_get(r, "content");
    }

    if (action == NULL
        || (strcmp(action, "accept") != 0 && strcmp(action, "decline") != 0
            && strcmp(action, "cancel") != 0))
    {
        return NULL;
    }

    return action;
}
