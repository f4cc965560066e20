
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_json.h"
#include "ttai_mcp_core.h"


/*
 * Resources: the registry, resources/list, resources/templates/list and
 * resources/read.  Most of ttai's resources are the answers of its tools
 * (the accounts, positions, balances, watchlists): reading one runs the
 * tool, through the same steps and the same cache as tools/call, and
 * gives its structuredContent as a JSON document.  So a resource is
 * written once, as a tool, and both eras read it.
 */

#define TTAI_MCP_URI_MAX  2048


static int ttai_mcp_resource_fail(ttai_mcp_server_t *srv,
    const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ttai_mcp_resource_list(ttai_mcp_server_t *srv,
    const ttai_mcp_call_t *call, ttai_mcp_run_t *run, json_t *id,
    json_t *params, int templates, json_t **response);
static int ttai_mcp_template_match(const char *tmpl, const char *uri,
    json_t *vars);
static int ttai_mcp_template_check(const char *tmpl);


int
ttai_mcp_register_resource(ttai_mcp_server_t *srv,
    const ttai_resource_t *resource)
{
    size_t                      i;
    unsigned                    toolset;
    json_t                     *d;
    ttai_mcp_resource_entry_t  *resources, *e;

    srv->error[0] = '\0';

    if (resource->uri == NULL || resource->name == NULL
        || (resource->tool == NULL) == (resource->read == NULL))
    {
        return ttai_mcp_resource_fail(srv, "a resource needs a URI, a "
                                      "name, and a tool or a read "
                                      "function");
    }

    if (ttai_mcp_template_check(resource->uri) != 0) {
        return ttai_mcp_resource_fail(srv, "resource \"%s\": a template "
                                      "part is {name}, a whole path "
                                      "segment", resource->uri);
    }

    for (i = 0; i < srv->nresources; i++) {
        if (strcmp(srv->resources[i].res.uri, resource->uri) == 0) {
            return ttai_mcp_resource_fail(srv, "resource \"%s\" is "
                                          "registered twice",
                                          resource->uri);
        }
    }

    toolset = 0;

    if (resource->toolset != NULL) {
        toolset = ttai_mcp_toolset_of(resource->toolset);

        if (toolset == 0) {
            return ttai_mcp_resource_fail(srv, "resource \"%s\": unknown "
                                          "toolset \"%.32s\"", resource->uri,
                                          resource->toolset);
        }
    }

    if (strchr(resource->uri, '{') != NULL) {
        d = json_pack("{s:s, s:s, s:s*, s:s*, s:s*}", "uriTemplate",
                      resource->uri, "name", resource->name,
                      "title", resource->title,
                      "description", resource->description,
                      "mimeType", resource->mime_type);

    } else {
        d = json_pack("{s:s, s:s, s:s*, s:s*, s:s*}", "uri", resource->uri,
                      "name", resource->name, "title", resource->title,
                      "description", resource->description,
                      "mimeType", resource->mime_type);
    }

    if (d == NULL) {
        return ttai_mcp_resource_fail(srv, "out of memory");
    }

    resources = realloc(srv->resources, (srv->nresources + 1)
                                        * sizeof(ttai_mcp_resource_entry_t));
    if (resources == NULL) {
        json_decref(d);
        return ttai_mcp_resource_fail(srv, "out of memory");
    }

    srv->resources = resources;

    e = &srv->resources[srv->nresources++];
    e->res = *resource;
    e->descriptor = d;
    e->is_template = (strchr(resource->uri, '{') != NULL);
    e->toolset = toolset;

    return 0;
}


void
ttai_mcp_resources_free(ttai_mcp_server_t *srv)
{
    size_t  i;

    for (i = 0; i < srv->nresources; i++) {
        json_decref(srv->resources[i].descriptor);
    }

    free(srv->resources);
    srv->resources = NULL;
    srv->nresources = 0;
}


int
ttai_mcp_resources_list(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    return ttai_mcp_resource_list(srv, call, run, id, params, 0, response);
}


int
ttai_mcp_templates_list(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    return ttai_mcp_resource_list(srv, call, run, id, params, 1, response);
}


int
ttai_mcp_resources_read(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, json_t **response,
    ttai_mcp_pending_t **pending)
{
    int                         rc;
    json_t                     *uri, *vars, *contents, *tparams;
    const char                 *mime;
    ttai_tool_ctx_t             ctx;
    ttai_mcp_resource_entry_t  *e;

    uri = json_object_get(params, "uri");

    if (!json_is_string(uri)) {
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_INVALID_PARAMS, NULL,
                                       "Invalid params: uri is required");
        return 0;
    }

    vars = NULL;
    e = ttai_mcp_resource_match(srv, ttai_mcp_toolsets(call),
                                json_string_value(uri), &vars);

    if (e == NULL) {
        json_decref(vars);
        *response = ttai_mcp_rpc_error(id, TTAI_MCP_RESOURCE_NOT_FOUND,
                                       json_pack("{s:O}", "uri", uri),
                                       "Resource not found");
        return *response ? 0 : -1;
    }

    if (e->res.read != NULL) {
        ttai_mcp_tools_ctx(srv, call, run, &ctx);

        contents = NULL;
        rc = e->res.read(&ctx, json_string_value(uri), vars, &contents);
        json_decref(vars);

        if (rc != 0) {
            json_decref(contents);
            return -1;
        }

        if (contents == NULL) {
            *response = ttai_mcp_rpc_error(id, TTAI_MCP_RESOURCE_NOT_FOUND,
                                           json_pack("{s:O}", "uri", uri),
                                           "Resource not found");
            return *response ? 0 : -1;
        }

        *response = ttai_mcp_rpc_result(id, json_pack("{s:o}", "contents",
                                                      contents));
        return *response ? 0 : -1;
    }

    /* the tool's call, answered as this resource */
    mime = e->res.mime_type ? e->res.mime_type : "application/json";

    free(run->reading);
    free(run->reading_mime);
    run->reading = strdup(json_string_value(uri));
    run->reading_mime = strdup(mime);

    tparams = json_pack("{s:s, s:o}", "name", e->res.tool, "arguments",
                        vars ? vars : json_object());

    if (tparams == NULL || run->reading == NULL
        || run->reading_mime == NULL)
    {
        json_decref(tparams);
        return -1;
    }

    rc = ttai_mcp_tools_call(srv, call, run, id, tparams, response, pending);
    json_decref(tparams);

    return rc;
}


/*
 * A tools/call response made for a resource read becomes the read's:
 * the structuredContent as JSON text, or an error for a tool error
 */

int
ttai_mcp_resource_answer(ttai_mcp_run_t *run, json_t **response)
{
    char        *text;
    size_t       len;
    json_t      *resp, *result, *sc, *id, *out;
    const char  *why;

    resp = *response;
    id = json_object_get(resp, "id");
    result = json_object_get(resp, "result");

    if (result == NULL) {
        /* already an error */
        out = json_incref(resp);

    } else if (json_is_true(json_object_get(result, "isError"))) {
        why = json_string_value(json_object_get(json_array_get(
                  json_object_get(result, "content"), 0), "text"));

        out = ttai_mcp_rpc_error(id, TTAI_MCP_INTERNAL_ERROR,
                                 json_pack("{s:s}", "uri", run->reading),
                                 "%s", why ? why : "the read failed");

    } else {
        sc = json_object_get(result, "structuredContent");
        text = sc ? ttai_json_dumps(sc, &len) : NULL;

        if (sc == NULL) {
            /* a tool without structure: its text */
            why = json_string_value(json_object_get(json_array_get(
                      json_object_get(result, "content"), 0), "text"));
            text = strdup(why ? why : "");
        }

        out = text ? ttai_mcp_rpc_result(id,
                         json_pack("{s:[{s:s, s:s, s:s}]}", "contents",
                                   "uri", run->reading, "mimeType",
                                   run->reading_mime, "text", text))
                   : NULL;
        free(text);
    }

    free(run->reading);
    free(run->reading_mime);
    run->reading = NULL;
    run->reading_mime = NULL;

    json_decref(resp);
    *response = out;

    return out ? 0 : -1;
}


ttai_mcp_resource_entry_t *
ttai_mcp_resource_match(ttai_mcp_server_t *srv, unsigned toolsets,
    const char *uri, json_t **vars)
{
    size_t                      i, pass;
    ttai_mcp_resource_entry_t  *e;

    *vars = NULL;

    if (strlen(uri) > TTAI_MCP_URI_MAX) {
        return NULL;
    }

    /* a URI of its own first, then the templates, in their order */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < srv->nresources; i++) {
            e = &srv->resources[i];

            if (e->is_template != (int) pass
                || (e->toolset != 0 && (e->toolset & toolsets) == 0))
            {
                continue;
            }

            if (!e->is_template) {
                if (strcmp(e->res.uri, uri) == 0) {
                    return e;
                }

                continue;
            }

            *vars = json_object();
            if (*vars == NULL) {
                return NULL;
            }

            if (ttai_mcp_template_match(e->res.uri, uri, *vars) == 0) {
                return e;
            }

            json_decref(*vars);
            *vars = NULL;
        }
    }

    return NULL;
}


static int
ttai_mcp_resource_list(ttai_mcp_server_t *srv, const ttai_mcp_call_t *call,
    ttai_mcp_run_t *run, json_t *id, json_t *params, int templates,
    json_t **response)
{
    size_t                      i;
    json_t                     *list;
    unsigned                    toolsets;
    ttai_mcp_resource_entry_t  *e;

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

    for (i = 0; i < srv->nresources; i++) {
        e = &srv->resources[i];

        if (e->is_template != templates
            || (e->toolset != 0 && (e->toolset & toolsets) == 0))
        {
            continue;
        }

        if (json_array_append(list, e->descriptor) != 0) {
            json_decref(list);
            return -1;
        }
    }

    *response = ttai_mcp_rpc_result(id,
                    json_pack("{s:o}", templates ? "resourceTemplates"
                                                 : "resources", list));

    return 0;
}


/*
 * {name} matches one segment: one character or more, up to the next
 * literal character of the template, never a "/".  Returns 0 with vars
 * filled, or -1.
 */

static int
ttai_mcp_template_match(const char *tmpl, const char *uri, json_t *vars)
{
    char         name[64];
    size_t       n;
    const char  *end, *stop;

    while (*tmpl) {
        if (*tmpl != '{') {
            if (*tmpl != *uri) {
                return -1;
            }

            tmpl++;
            uri++;
            continue;
        }

        end = strchr(tmpl, '}');
        n = end - tmpl - 1;

        if (n >= sizeof(name)) {
            return -1;
        }

        memcpy(name, tmpl + 1, n);
        name[n] = '\0';
        tmpl = end + 1;

        stop = uri;

        while (*stop && *stop != '/' && *stop != *tmpl) {
            stop++;
        }

        if (stop == uri
            || json_object_set_new(vars, name,
                                   json_stringn(uri, stop - uri)) != 0)
        {
            return -1;
        }

        uri = stop;
    }

    return (*uri == '\0') ? 0 : -1;
}


/* {name}: a name of letters, digits and "_", and never two in a row */

static int
ttai_mcp_template_check(const char *tmpl)
{
    const char  *p;

    for (p = tmpl; *p; p++) {
        if (*p == '}') {
            return -1;
        }

        if (*p != '{') {
            continue;
        }

        if (p[1] == '}') {
            return -1;
        }

        for (p++; *p && *p != '}'; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                  || (*p >= '0' && *p <= '9') || *p == '_'))
            {
                return -1;
            }
        }

        if (*p != '}' || p[1] == '{') {
            return -1;
        }
    }

    return 0;
}


static int
ttai_mcp_resource_fail(ttai_mcp_server_t *srv, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(srv->error, sizeof(srv->error), fmt, args);
    va_end(args);

    return -1;
}
