
/*
 * Copyright (C) ttai contributors
 */


/*
 * The MCP core as the shell drives it: one POST /mcp body handed to
 * ttai_mcp_handle(), then each pending request answered through
 * ttai_mcp_resume() until the reply, so that the tools' reading of
 * TastyTrade's JSON is fuzzed along with JSON-RPC.  The input is pieces
 * between FUZZ_SEP lines:
 *
 *   flags       what the shell knows about the request, a letter each:
 *               h  it has an Mcp-Session-Id, of a session found, with
 *                  version 2025-11-25 (o: 2025-03-26, n: 2025-06-18)
 *               u  the session is unknown (with h)
 *               p  an MCP-Protocol-Version header, the session's or
 *                  the latest; P: one no version has
 *               m  the MCP-Protocol-Version header 2026-07-28 (instead
 *                  of p), and Mcp-Method and Mcp-Name copied from the
 *                  body, as a client of the stateless revision sends
 *                  them; M: the header alone
 *               x  the shell sends the tail apart (call->split)
 *               g  tools/list pages of 4 tools
 *               F  the conformance fixtures are served (call->fixtures)
 *               e  the session's client declared elicitation, both modes
 *               t  followed by a hex digit: the location's toolsets
 *   body        the JSON-RPC body
 *   answers     one per pending step, in order, as fuzz_steps.h
 *               reads them: "STATUS BODY" for a request, one value a
 *               line for KV reads
 *
 * An input with no separator is a body alone, in a session.
 *
 * Checked: every reply is one the transport may send (status, JSON
 * body, the request's id); no tool result is a bug report of the core
 * (a result that breaks its tool's output schema, or none); pending
 * requests and KV writes are well formed: paths and keys the shell can
 * put on a request line or in KV as they are; every call ends.  Then
 * the same body is sent again, on the same server (now with the plans,
 * memo and tools/list pages of the first time), and once more forced
 * off the quick path, and the answers must be the same text.
 */

#include <jansson.h>

#include "ttai_mcp_core.h"
#include "fuzz_steps.h"


#define FUZZ_MAX_PIECES   34
#define FUZZ_MAX_STEPS    (FUZZ_MAX_PIECES + 16)


typedef struct {
    ttai_mcp_call_t      call;
    unsigned             page4:1;
    unsigned             bad_version:1;
    unsigned             stateless:1;
    unsigned             derive:1;
    char                 method[128];
    char                 name[256];
} fuzz_flags_t;


typedef struct {
    int                  status;
    char                *text;        /* body and tail, NUL-terminated */
    size_t               len;
} fuzz_answer_t;


static ttai_mcp_server_t *fuzz_server(void);
static void fuzz_flags(const fuzz_piece_t *piece, fuzz_flags_t *f);
static void fuzz_exchange(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, const char *body, size_t len,
    const fuzz_piece_t *answers, size_t nanswers, fuzz_answer_t *out);
static void fuzz_check_reply(const ttai_mcp_call_t *call, const char *body,
    size_t len, const ttai_mcp_reply_t *reply, fuzz_answer_t *out);
static void fuzz_check_message(json_t *request, json_t *response);
static void fuzz_check_result(const char *name, json_t *result);
static char *fuzz_general(const char *body, size_t len, size_t *out);
static void fuzz_derive(fuzz_flags_t *f, const char *body, size_t len);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char               *body, *general;
    size_t              n, len, glen;
    fuzz_flags_t        flags;
    fuzz_piece_t        pieces[FUZZ_MAX_PIECES], none;
    fuzz_answer_t       first, again, forced;
    ttai_mcp_server_t  *srv;

    n = fuzz_split(data, size, pieces, FUZZ_MAX_PIECES);

    if (n == 1) {
        none.data = "h";
        none.len = 1;
        fuzz_flags(&none, &flags);
        body = fuzz_strndup(pieces[0].data, pieces[0].len);
        len = pieces[0].len;
        n = 0;

    } else {
        fuzz_flags(&pieces[0], &flags);
        body = fuzz_strndup(pieces[1].data, pieces[1].len);
        len = pieces[1].len;
        n -= 2;
    }

    if (flags.derive) {
        fuzz_derive(&flags, body, len);
    }

    srv = fuzz_server();
    ttai_mcp_server_page_size(srv, flags.page4 ? 4 : 0);

    fuzz_exchange(srv, &flags.call, body, len, pieces + 2, n, &first);
    fuzz_exchange(srv, &flags.call, body, len, pieces + 2, n, &again);

    fuzz_check(first.status == again.status && first.len == again.len
               && memcmp(first.text, again.text, first.len) == 0,
               "the same body answered otherwise the second time:\n"
               "%d %s\n%d %s", first.status, first.text, again.status,
               again.text);

    /* a body that is no JSON would be answered with another column */
    general = (first.status != 400) ? fuzz_general(body, len, &glen) : NULL;

    if (general != NULL) {
        fuzz_exchange(srv, &flags.call, general, glen, pieces + 2, n,
                      &forced);

        fuzz_check(first.status == forced.status
                   && first.len == forced.len
                   && memcmp(first.text, forced.text, first.len) == 0,
                   "the body answered otherwise off the quick path:\n"
                   "%d %s\n%d %s", first.status, first.text, forced.status,
                   forced.text);

        free(forced.text);
        free(general);
    }

    free(first.text);
    free(again.text);
    free(body);

    return 0;
}


/*
 * One server for the process, as an nginx worker has, since registering
 * the tools costs more than most inputs; what it remembers from one
 * input is forgotten before the next, so that each input runs alone.
 */

static ttai_mcp_server_t *
fuzz_server(void)
{
    ttai_cache_ttl_t  ttl = { 5, 60, 600, 7 };

    static ttai_mcp_server_t  *srv;

    if (srv == NULL) {
        srv = ttai_mcp_server_create("9.9.9", NULL);
        fuzz_check(srv != NULL, "no server");
        fuzz_check(ttai_fixtures_register_all(srv) == 0
                   && ttai_tools_register_all(srv) == 0
                   && ttai_prompts_register_all(srv) == 0,
                   "the tools do not register: %s",
                   ttai_mcp_server_error(srv));
        ttai_mcp_server_cache_ttl(srv, &ttl);
    }

    ttai_mcp_memo_free(srv);
    ttai_mcp_plans_free(srv);
    ttai_mcp_tools_pages_free(srv);
    ttai_mcp_quick_forget(srv);

    return srv;
}


static void
fuzz_flags(const fuzz_piece_t *piece, fuzz_flags_t *f)
{
    int           has_session, unknown, header, elicits;
    size_t        i;
    const char   *version;
    unsigned      c;

    memset(f, 0, sizeof(fuzz_flags_t));

    has_session = 0;
    elicits = 0;
    unknown = 0;
    header = 0;
    version = TTAI_MCP_LATEST_VERSION;

    f->call.sub = "fuzz-user";
    f->call.email = "fuzz@example.com";

    for (i = 0; i < piece->len; i++) {
        switch (piece->data[i]) {
        case 'h': has_session = 1; break;
        case 'u': unknown = 1; break;
        case 'o': version = TTAI_MCP_BATCH_VERSION; break;
        case 'n': version = "2025-06-18"; break;
        case 'p': header = 1; break;
        case 'P': header = 1; f->bad_version = 1; break;
        case 'x': f->call.split = 1; break;
        case 'g': f->page4 = 1; break;
        case 'F': f->call.fixtures = 1; break;
        case 'e': elicits = 1; break;
        case 'm': f->stateless = 1; f->derive = 1; break;
        case 'M': f->stateless = 1; break;

        case 't':
            if (i + 1 < piece->len) {
                c = (unsigned char) piece->data[++i];
                f->call.toolsets = (c & 0x0f) & ttai_toolsets_all();
            }

            break;

        default:
            break;
        }
    }

    /* what the shell sets, and how: see ngx_http_ttai_mcp.c */
    if (has_session) {
        f->call.session_id = "sess-fuzz-0123";

        if (unknown) {
            f->call.session_unknown = 1;

        } else {
            f->call.session_version = version;
            f->call.session_client = "{\"name\":\"fuzz\",\"version\":\"1\"}";
            f->call.session_log_level = "";
            f->call.session_caps = elicits
                ? "{\"elicitation\":{\"form\":{},\"url\":{}}}" : NULL;
            f->call.session_created = 1800000000L;
        }
    }

    if (header) {
        f->call.protocol_header = f->bad_version ? "1999-01-01" : version;
    }

    if (f->stateless) {
        f->call.protocol_header = TTAI_MCP_STATELESS_VERSION;
        header = 1;
    }

    f->call.stateless = (!has_session && !header);
}


/* the headers a stateless client derives from its body */

static void
fuzz_derive(fuzz_flags_t *f, const char *body, size_t len)
{
    json_t      *root, *params, *target;
    const char  *method;

    root = json_loadb(body, len, JSON_DECODE_ANY, NULL);
    method = json_string_value(json_object_get(root, "method"));
    params = json_object_get(root, "params");
    target = json_object_get(params, "name");

    if (!json_is_string(target)) {
        target = json_object_get(params, "uri");
    }

    /* a header holds no NUL, and the shell gives the core none */
    if (method != NULL && strlen(method) < sizeof(f->method)) {
        strcpy(f->method, method);
        f->call.method_header = f->method;
    }

    if (json_is_string(target)
        && json_string_length(target) < sizeof(f->name)
        && strlen(json_string_value(target)) == json_string_length(target))
    {
        strcpy(f->name, json_string_value(target));
        f->call.name_header = f->name;
    }

    json_decref(root);
}


/* one POST: the body, then every step, until the reply */

static void
fuzz_exchange(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    const char *body, size_t len, const fuzz_piece_t *answers,
    size_t nanswers, fuzz_answer_t *out)
{
    size_t                 steps;
    fuzz_bufs_t            bufs;
    ttai_mcp_reply_t       reply;
    ttai_mcp_response_t    resp;

    fuzz_check(ttai_mcp_handle(srv, call, body, len, &reply) == 0,
               "ttai_mcp_handle failed");

    memset(&bufs, 0, sizeof(fuzz_bufs_t));

    for (steps = 0; reply.pending != NULL; steps++) {
        fuzz_check(steps < FUZZ_MAX_STEPS, "a call that does not end: "
                   "%zu steps on %zu answers", steps, nanswers);

        fuzz_check_pending(reply.pending);
        fuzz_check_stores(reply.stores, reply.nstores);

        fuzz_respond(&bufs, reply.pending,
                     steps < nanswers ? &answers[steps] : NULL, &resp);

        fuzz_check(ttai_mcp_resume(srv, call, &reply, &resp) == 0,
                   "ttai_mcp_resume failed");
    }

    fuzz_bufs_free(&bufs);

    fuzz_check_stores(reply.stores, reply.nstores);
    fuzz_check_reply(call, body, len, &reply, out);

    ttai_mcp_reply_free(&reply);
}


static void
fuzz_check_reply(const ttai_mcp_call_t *call, const char *body, size_t len,
    const ttai_mcp_reply_t *reply, fuzz_answer_t *out)
{
    size_t         i;
    json_t        *request, *response;
    json_error_t   err;

    fuzz_check(reply->status == 200 || reply->status == 202
               || reply->status == 400 || reply->status == 404,
               "HTTP status %d", reply->status);
    fuzz_check(reply->tail == NULL || call->split, "a tail not asked for");

    out->status = reply->status;
    out->len = reply->len + reply->tail_len;
    out->text = malloc(out->len + 1);
    fuzz_check(out->text != NULL, "out of memory");

    if (reply->len) {
        memcpy(out->text, reply->body, reply->len);
    }

    if (reply->tail_len) {
        memcpy(out->text + reply->len, reply->tail, reply->tail_len);
    }

    out->text[out->len] = '\0';

    if (reply->status == 202) {
        fuzz_check(reply->body == NULL, "a 202 with a body: %s", out->text);
        return;
    }

    fuzz_check(reply->body != NULL, "a %d without a body", reply->status);

    if (reply->stateless) {
        fuzz_check(!reply->new_session, "a session made by a stateless "
                   "request");
    }

    if (reply->new_session) {
        fuzz_check(reply->status == 200, "a session made on a %d",
                   reply->status);
        fuzz_check(ttai_mcp_version_supported(reply->version,
                                              strlen(reply->version)),
                   "a session of version \"%s\"", reply->version);
    }

    response = json_loadb(out->text, out->len, 0, &err);
    fuzz_check(response != NULL, "an answer that is not JSON (%s): %s",
               err.text, out->text);

    if (reply->status != 200) {
        fuzz_check(json_is_object(json_object_get(response, "error")),
                   "a %d that is no JSON-RPC error: %s", reply->status,
                   out->text);
        json_decref(response);
        return;
    }

    request = json_loadb(body, len, JSON_DECODE_ANY, NULL);

    if (json_is_array(response)) {
        fuzz_check(json_is_array(request), "a batch answer to no batch");
        fuzz_check(json_array_size(response) <= json_array_size(request),
                   "more answers than messages");

        /* answers come in order, notifications have none */
        for (i = 0; i < json_array_size(response); i++) {
            fuzz_check_message(NULL, json_array_get(response, i));
        }

    } else {
        fuzz_check_message(json_is_object(request) ? request : NULL,
                           response);

        /* every stateless result says what kind of result it is */
        fuzz_check(!reply->stateless
                   || json_object_get(response, "error") != NULL
                   || json_is_string(json_object_get(json_object_get(
                          response, "result"), "resultType")),
                   "a stateless result without resultType: %s", out->text);
    }

    json_decref(request);
    json_decref(response);
}


static void
fuzz_check_message(json_t *request, json_t *response)
{
    json_t      *error, *result, *id;
    const char  *s;

    s = json_string_value(json_object_get(response, "jsonrpc"));
    fuzz_check(s != NULL && strcmp(s, "2.0") == 0, "no jsonrpc 2.0");

    error = json_object_get(response, "error");
    result = json_object_get(response, "result");

    fuzz_check((error == NULL) != (result == NULL),
               "a response with both or neither of result and error");

    id = json_object_get(response, "id");
    fuzz_check(id != NULL, "a response without an id");

    if (request != NULL && json_object_get(request, "id") != NULL) {
        fuzz_check(json_equal(id, json_object_get(request, "id")),
                   "a response to another id");
    }

    if (error != NULL) {
        fuzz_check(json_is_integer(json_object_get(error, "code"))
                   && json_is_string(json_object_get(error, "message")),
                   "an error without code and message");
        fuzz_check(json_integer_value(json_object_get(error, "code"))
                   != TTAI_MCP_INTERNAL_ERROR,
                   "an internal error: %s",
                   json_string_value(json_object_get(error, "message")));
        return;
    }

    s = json_string_value(json_object_get(request, "method"));

    if (s != NULL && strcmp(s, "tools/call") == 0) {
        fuzz_check_result(json_string_value(
                              json_object_get(json_object_get(request,
                                                              "params"),
                                              "name")),
                          result);
    }
}


/*
 * A CallToolResult.  The core's report of a tool's bug is told from
 * text a tool copies from its input (upstream messages, the shell's
 * reasons) by where it stands: first, after the tool's name.
 */

static void
fuzz_check_result(const char *name, json_t *result)
{
    char         bug[128];
    size_t       i;
    json_t      *content, *c, *v;
    const char  *text;

    snprintf(bug, sizeof(bug), "Tool %s made a result that breaks its own "
             "output schema (", name ? name : "");

    content = json_object_get(result, "content");
    fuzz_check(json_is_array(content), "a tool result without content");

    v = json_object_get(result, "isError");
    fuzz_check(v == NULL || json_is_boolean(v), "isError is no boolean");

    json_array_foreach(content, i, c) {
        text = json_string_value(json_object_get(c, "text"));
        fuzz_check(text != NULL, "a content item without text");

        fuzz_check(strncmp(text, bug, strlen(bug)) != 0,
                   "the core caught a tool's bug: %s", text);
    }

    v = json_object_get(result, "structuredContent");
    fuzz_check(v == NULL || json_is_object(v),
               "structuredContent that is no object");
}


/*
 * The body with "jsonrpc":"2.0" written as "2\u002e0": the same message
 * to JSON, which the quick path does not take.  NULL when it has none.
 */

static char *
fuzz_general(const char *body, size_t len, size_t *out)
{
    char        *s;
    const char  *p;

    static const char  plain[] = "\"jsonrpc\":\"2.0\"";
    static const char  forced[] = "\"jsonrpc\":\"2\\u002e0\"";

    p = memmem(body, len, plain, sizeof(plain) - 1);
    if (p == NULL) {
        return NULL;
    }

    *out = len + sizeof(forced) - sizeof(plain);
    s = malloc(*out + 1);
    fuzz_check(s != NULL, "out of memory");

    memcpy(s, body, p - body);
    memcpy(s + (p - body), forced, sizeof(forced) - 1);
    memcpy(s + (p - body) + sizeof(forced) - 1, p + sizeof(plain) - 1,
           len - (p - body) - (sizeof(plain) - 1));
    s[*out] = '\0';

    return s;
}
