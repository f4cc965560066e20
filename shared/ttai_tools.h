
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_TOOLS_H_INCLUDED_
#define _TTAI_TOOLS_H_INCLUDED_


#include <jansson.h>

#include "ttai_mcp.h"


/*
 * The tool registry.  A tool declares its name, description, input
 * schema (validated before it runs: a failure is a tool result with
 * isError, never a JSON-RPC error), annotations and, where useful, an
 * output schema that its structuredContent follows.
 */

#define TTAI_TOOL_READ_ONLY    0x01
#define TTAI_TOOL_DESTRUCTIVE  0x02
#define TTAI_TOOL_IDEMPOTENT   0x04
#define TTAI_TOOL_OPEN_WORLD   0x08


typedef struct {
    const ttai_mcp_call_t     *call;
    const char                *server_version;
} ttai_tool_ctx_t;


/*
 * run: returns 0 with *result set to a CallToolResult object, or 0 with
 * *pending set when it needs upstream data (then resume gets the
 * response), or -1 when out of memory.
 */
typedef int (*ttai_tool_run_pt)(const ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);

typedef int (*ttai_tool_resume_pt)(const ttai_tool_ctx_t *ctx, json_t *args,
    int status, const char *body, size_t len, const char *error,
    json_t **result);


typedef struct {
    const char                *name;
    const char                *title;
    const char                *description;
    const char                *input_schema;     /* JSON text */
    const char                *output_schema;    /* JSON text, or NULL */
    unsigned                   annotations;
    ttai_tool_run_pt           run;
    ttai_tool_resume_pt        resume;           /* NULL: never pending */
} ttai_tool_t;


/* the tool object must outlive the server; returns -1 on a bad schema */
int ttai_mcp_register_tool(ttai_mcp_server_t *srv, const ttai_tool_t *tool);

/* registers every tool ttai ships */
int ttai_tools_register_all(ttai_mcp_server_t *srv);

/* helpers for tools: a text result, an error result a model can act on */
json_t *ttai_tool_text_result(const char *text, json_t *structured);
json_t *ttai_tool_error_result(const char *fmt, ...);

/*
 * The JSON Schema subset tools use: type, properties, required,
 * additionalProperties, enum, const, minimum, maximum, minLength,
 * maxLength, pattern-free strings, items, minItems, maxItems.  Returns 0,
 * or -1 with a message that names the argument.
 */
int ttai_schema_validate(json_t *schema, json_t *value, char *err,
    size_t errlen);


#endif /* _TTAI_TOOLS_H_INCLUDED_ */
