
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_mcp_core.h"


/*
 * Prompts: the registry, prompts/list, prompts/get (which may ask the
 * user first, as a tool may), and completion/complete for their
 * arguments.  A prompt's arguments are strings; the required ones are
 * checked here, so that a prompt sees only what it declared.
 */

/* MCP: at most 100 completion values in one answer */
#define TTAI_MCP_COMPLETIONS_MAX  100


static ttai_mcp_prompt_entry_t *ttai_mcp_prompt_find(ttai_mcp_server_t *srv,
    unsigned toolsets, const char *name);
static int ttai_mcp_prompt_fail(ttai_mcp_server_t *srv, const char *fmt,
    ...) __attribute__((format(printf, 2, 3)));
static json_t *ttai_mcp_prompt_descriptor(const ttai_prompt_t *p);
static void ttai_mcp_prompts_asker(ttai_mcp_server_t *srv,
    ttai_mcp_prompt_entry_t *e, ttai_mcp_asker_t *asker, char *label,
    size_t len);
static int ttai_mcp_prompt_result(ttai_mcp_prompt_entry_t *e, json_t *id,
    json_t *result, json_t **response);


int
ttai_mcp_register_prompt(ttai_mcp_server_t *srv, const ttai_prompt_t *prompt)
{
    unsigned                  toolset;
    json_t                   *descriptor;
    ttai_mcp_prompt_entry_t  *prompts, *e;

    srv->error[0] = '\0';

    if (prompt->name == NULL || *prompt->name == '\0'
        || prompt->get == NULL)
    {
        return ttai_mcp_prompt_fail(srv, "a prompt needs a name and a get "
                                    "function");
    }

    if (ttai_mcp_prompt_find(srv, ~0u, prompt->name) != NULL) {
        return ttai_mcp_prompt_fail(srv, "prompt \"%s\" is registered "
                                    "twice", prompt->name);
    }

    toolset = 0;

    if (prompt->toolset != NULL) {
        toolset = ttai_mcp_toolset_of(prompt->toolset);

        if (toolset == 0) {
            return ttai_mcp_prompt_fail(srv, "prompt \"%s\": unknown "
                                        "toolset \"%.32s\"", prompt->name,
                                        prompt->toolset);
        }
    }

    descriptor = ttai_mcp_prompt_descriptor(prompt);
    if (descriptor == NULL) {
        return ttai_mcp_prompt_fail(srv, "out of memory registering \"%s\"",
                                    prompt->name);
    }

    prompts = realloc(srv->prompts, (srv->nprompts + 1)
                                    * sizeof(ttai_mcp_prompt_entry_t));
    if (prompts == NULL) {
        json_decref(descriptor);
        return ttai_mcp_prompt_fail(srv, "out of memory registering \"%s\"",
                                    prompt->name);
    }

    srv->prompts = prompts;

    e = &srv->prompts[srv->nprompts++];
    e->prompt = *prompt;
    e->descriptor = descriptor;
    e->toolset = toolset;

    return 0;
}


void
ttai_mcp_prompts_free(ttai_mcp_server_t *srv)
{
    size_t  i;

    for (i = 0; i < srv->nprompts; i++) {
        json_decref(srv->prompts[i].descriptor);
    }

    free(srv->prompts);
    srv->prompts = NULL;
    srv->nprompts = 0;
}


/* one page: a location has a handful of prompts */

int
ttai_mcp_prompts_list(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    size_t     i;
    json_t    *list;
    unsigned   toolsets;

    if (!ttai_mcp_list_cursor_ok(run, params)) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: unknown cursor; "
                                       "list again without one");
        return 0;
    }

    list = json_array();
    if (list == NULL) {
        return -1;
    }

    toolsets = ttai_mcp_toolsets(call);

    for (i = 0; i < srv->nprompts; i++) {
        if ((srv->prompts[i].toolset == 0
             || (srv->prompts[i].toolset & toolsets))
            && json_array_append(list, srv->prompts[i].descriptor) != 0)
        {
            json_decref(list);
            return -1;
        }
    }

    *response = ttai_mcp_rpc_result(id, json_pack("{s:o}", "prompts", list));

    return 0;
}


int
ttai_mcp_prompts_get(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    int                       rc;
    char                      label[160];
    json_t                   *name, *args, *v, *result, *refusal;
    const char               *key;
    ttai_tool_ctx_t           ctx;
    ttai_mcp_asker_t          asker;
    ttai_mcp_pending_t       *p;
    const ttai_prompt_arg_t  *a;
    ttai_mcp_prompt_entry_t  *e;

    name = json_object_get(params, "name");

    if (!json_is_string(name)) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: name is required");
        return 0;
    }

    e = ttai_mcp_prompt_find(srv, ttai_mcp_toolsets(call),
                             json_string_value(name));

    if (e == NULL) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Unknown prompt: %.128s",
                                       json_string_value(name));
        return 0;
    }

    args = json_object_get(params, "arguments");

    if (args != NULL && !json_is_null(args) && !json_is_object(args)) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: arguments must be "
                                       "an object of strings");
        return 0;
    }

    json_object_foreach(args, key, v) {
        if (!json_is_string(v)) {
            *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                           "Invalid params: argument "
                                           "\"%.64s\" must be a string", key);
            return 0;
        }
    }

    for (a = e->prompt.args; a != NULL && a->name != NULL; a++) {
        if (a->required && !json_is_string(json_object_get(args, a->name)))
        {
            *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                           "Invalid params: prompt %s needs "
                                           "the argument \"%s\"",
                                           e->prompt.name, a->name);
            return 0;
        }
    }

    args = (args == NULL || json_is_null(args)) ? json_object()
                                                : json_incref(args);

    json_decref(run->state);
    run->state = json_object();

    if (args == NULL || run->state == NULL) {
        json_decref(args);
        return -1;
    }

    ttai_mcp_tools_ctx(srv, call, run, &ctx);

    ttai_mcp_prompts_asker(srv, e, &asker, label, sizeof(label));

    result = NULL;
    p = NULL;
    refusal = NULL;

    if (json_object_get(params, "requestState") != NULL
        || json_object_get(params, "inputResponses") != NULL)
    {
        rc = ttai_mcp_input_retry(srv, call, run, &asker, id, params, args,
                                  &ctx, &result, &p, &refusal);

    } else {
        rc = e->prompt.get(&ctx, args, &result);
    }

    /* a prompt's steps take no data from the shell */
    ttai_mcp_pending_free(p);

    if (rc != 0 || refusal != NULL) {
        json_decref(args);
        json_decref(result);
        *response = refusal;
        return rc;
    }

    if (result != NULL && ttai_mcp_input_asked(result)) {
        rc = ttai_mcp_input_answer(srv, call, run, &asker, id, args, result,
                                   response, pending);
        json_decref(args);
        return rc;
    }

    json_decref(args);

    return ttai_mcp_prompt_result(e, id, result, response);
}


/* what a prompt that asks the user is, and what its state is bound to */

static void
ttai_mcp_prompts_asker(ttai_mcp_server_t *srv, ttai_mcp_prompt_entry_t *e,
    ttai_mcp_asker_t *asker, char *label, size_t len)
{
    snprintf(label, len, "Prompt %s", e->prompt.name);

    asker->method = "prompts/get";
    asker->target = e->prompt.name;
    asker->name = label;
    asker->input = e->prompt.input;
    asker->no_state = 0;
    asker->prompt = 1;
    asker->index = e - srv->prompts;
}


/* a 2025 session's client answered what the prompt asked, or failed to */

int
ttai_mcp_prompts_input(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *responses, const char *failed,
    json_t **response, ttai_mcp_pending_t **pending)
{
    int                       rc;
    char                      label[160];
    json_t                   *result, *id, *args;
    ttai_tool_ctx_t           ctx;
    ttai_mcp_asker_t          asker;
    ttai_mcp_pending_t       *p;
    ttai_mcp_prompt_entry_t  *e;

    if (run->tool >= srv->nprompts) {
        return -1;
    }

    e = &srv->prompts[run->tool];
    id = run->id;
    run->id = NULL;
    args = run->args;
    run->args = NULL;

    result = NULL;
    p = NULL;

    if (failed != NULL) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INTERNAL_ERROR, NULL,
                                       "Prompt %s could not go on: %s",
                                       e->prompt.name, failed);
        rc = (*response != NULL) ? 0 : -1;
        json_decref(id);
        json_decref(args);
        return rc;
    }

    ttai_mcp_tools_ctx(srv, call, run, &ctx);
    rc = e->prompt.input(&ctx, args, responses, &result, &p);

    /* a prompt's steps take no data from the shell */
    ttai_mcp_pending_free(p);

    if (rc != 0) {
        json_decref(result);
        rc = -1;

    } else if (result != NULL && ttai_mcp_input_asked(result)) {
        ttai_mcp_prompts_asker(srv, e, &asker, label, sizeof(label));
        rc = ttai_mcp_input_answer(srv, call, run, &asker, id, args, result,
                                   response, pending);

    } else {
        rc = ttai_mcp_prompt_result(e, id, result, response);
    }

    json_decref(id);
    json_decref(args);

    return rc;
}


/*
 * completion/complete: the values of a prompt's argument (ref/prompt),
 * or of a resource template's part (ref/resource, none yet), that begin
 * with what the user typed
 */

int
ttai_mcp_complete(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    size_t                    n;
    json_t                   *ref, *arg, *values, *context;
    const char               *type, *name, *aname, *value;
    ttai_mcp_prompt_entry_t  *e;

    ref = json_object_get(params, "ref");
    arg = json_object_get(params, "argument");
    type = json_string_value(json_object_get(ref, "type"));
    aname = json_string_value(json_object_get(arg, "name"));
    value = json_string_value(json_object_get(arg, "value"));

    if (type == NULL || aname == NULL || value == NULL) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: ref.type, "
                                       "argument.name and argument.value "
                                       "are required");
        return 0;
    }

    values = NULL;

    if (strcmp(type, "ref/prompt") == 0) {
        name = json_string_value(json_object_get(ref, "name"));
        e = name ? ttai_mcp_prompt_find(srv, ttai_mcp_toolsets(call), name)
                 : NULL;

        if (e == NULL) {
            *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                           "Unknown prompt: %.128s",
                                           name ? name : "(none)");
            return 0;
        }

        context = json_object_get(json_object_get(params, "context"),
                                  "arguments");

        if (e->prompt.complete != NULL) {
            values = e->prompt.complete(aname, value, context);
        }

    } else if (strcmp(type, "ref/resource") != 0) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: ref.type must be "
                                       "ref/prompt or ref/resource");
        return 0;
    }

    if (values == NULL) {
        values = json_array();
        if (values == NULL) {
            return -1;
        }
    }

    n = json_array_size(values);

    while (json_array_size(values) > TTAI_MCP_COMPLETIONS_MAX) {
        json_array_remove(values, json_array_size(values) - 1);
    }

    *response = ttai_mcp_rpc_result(id,
                    json_pack("{s:{s:o, s:I, s:b}}", "completion",
                              "values", values, "total", (json_int_t) n,
                              "hasMore", n > TTAI_MCP_COMPLETIONS_MAX));

    return 0;
}


static ttai_mcp_prompt_entry_t *
ttai_mcp_prompt_find(ttai_mcp_server_t *srv, unsigned toolsets,
    const char *name)
{
    size_t  i;

    for (i = 0; i < srv->nprompts; i++) {
        if (strcmp(srv->prompts[i].prompt.name, name) == 0
            && (srv->prompts[i].toolset == 0
                || (srv->prompts[i].toolset & toolsets)))
        {
            return &srv->prompts[i];
        }
    }

    return NULL;
}


static json_t *
ttai_mcp_prompt_descriptor(const ttai_prompt_t *p)
{
    json_t                   *d, *args, *a;
    const ttai_prompt_arg_t  *arg;

    args = json_array();
    if (args == NULL) {
        return NULL;
    }

    for (arg = p->args; arg != NULL && arg->name != NULL; arg++) {
        a = json_pack("{s:s, s:s*, s:b}", "name", arg->name,
                      "description", arg->description,
                      "required", arg->required);

        if (a == NULL || json_array_append_new(args, a) != 0) {
            json_decref(args);
            return NULL;
        }
    }

    d = json_pack("{s:s, s:s*, s:s*, s:o}", "name", p->name,
                  "title", p->title, "description", p->description,
                  "arguments", args);

    return d;
}


/* a GetPromptResult needs its messages: a prompt without is a bug */

static int
ttai_mcp_prompt_result(ttai_mcp_prompt_entry_t *e, json_t *id,
    json_t *result, json_t **response)
{
    if (!json_is_object(result)
        || !json_is_array(json_object_get(result, "messages")))
    {
        json_decref(result);

        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INTERNAL_ERROR, NULL,
                                       "Internal error: prompt %s made no "
                                       "messages", e->prompt.name);
        return *response ? 0 : -1;
    }

    *response = ttai_mcp_rpc_result(id, result);

    return *response ? 0 : -1;
}


static int
ttai_mcp_prompt_fail(ttai_mcp_server_t *srv, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(srv->error, sizeof(srv->error), fmt, args);
    va_end(args);

    return -1;
}
