
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ttai_tools.h"


/*
 * The fixtures of the MCP conformance suites (@modelcontextprotocol/
 * conformance): the tools, prompts and resources their scenarios call,
 * by the names and with the answers the scenarios check.  They are in
 * the toolset TTAI_TOOLSET_FIXTURES, which a location shows only with
 * "ttai_mcp_fixtures conformance" (development only), so that the suites
 * test ttai's own core, transport and both eras, not a second server.
 */

/* a 1x1 PNG and a tiny WAV: what content of those kinds looks like */
#define TTAI_FIXTURE_PNG                                                      \
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIA" \
    "X8jx0gAAAABJRU5ErkJggg=="
#define TTAI_FIXTURE_WAV                                                      \
    "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

#define TTAI_FIXTURE_NO_ARGS  "{\"type\":\"object\",\"properties\":{}}"
#define TTAI_FIXTURE_TEXT     128


static int ttai_fixture_text(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_image(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_audio(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_embedded(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_mixed(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_error(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_logging(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_progress(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_tools_changed(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_prompts_changed(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_resource_updated(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_progress_step(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_fixture_logs(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_logs_step(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending);
static int ttai_fixture_needs_sampling(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_streaming(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_ask_name(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_name_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_ask_sampling(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_sampling_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_ask_roots(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_roots_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_ask_ok(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_ok_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_ask_three(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_three_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_ask_rounds(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_rounds_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_ask_what_it_can(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_simple_prompt(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result);
static int ttai_fixture_args_prompt(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result);
static int ttai_fixture_resource_prompt(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result);
static int ttai_fixture_image_prompt(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result);
static int ttai_fixture_ask_prompt(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result);
static int ttai_fixture_prompt_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_region(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_schema_2020(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_ask_info(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_ask_defaults(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_ask_enums(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending);
static int ttai_fixture_form_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending);
static json_t *ttai_fixture_complete(const char *arg, const char *value,
    json_t *args);
static int ttai_fixture_read(ttai_tool_ctx_t *ctx, const char *uri,
    json_t *vars, json_t **contents);
static json_t *ttai_fixture_elicit(const char *message, const char *field,
    const char *type);
static json_t *ttai_fixture_sample(const char *question, int max_tokens);
static json_t *ttai_fixture_roots(void);
static json_t *ttai_fixture_result(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));


#define TTAI_FIXTURE_TOOL(name, description, run, input, flags)              \
    { name, NULL, description, TTAI_FIXTURE_NO_ARGS, NULL, flags, run,       \
      NULL, TTAI_TOOLSET_FIXTURES, input }


static const ttai_tool_t  ttai_fixture_tools[] = {

    TTAI_FIXTURE_TOOL("test_simple_text", "Answers with one text item.",
                      ttai_fixture_text, NULL, TTAI_TOOL_READ_ONLY),
    TTAI_FIXTURE_TOOL("test_image_content", "Answers with an image.",
                      ttai_fixture_image, NULL, TTAI_TOOL_READ_ONLY),
    TTAI_FIXTURE_TOOL("test_audio_content", "Answers with audio.",
                      ttai_fixture_audio, NULL, TTAI_TOOL_READ_ONLY),
    TTAI_FIXTURE_TOOL("test_embedded_resource",
                      "Answers with an embedded resource.",
                      ttai_fixture_embedded, NULL, TTAI_TOOL_READ_ONLY),
    TTAI_FIXTURE_TOOL("test_multiple_content_types",
                      "Answers with text, an image and a resource.",
                      ttai_fixture_mixed, NULL, TTAI_TOOL_READ_ONLY),
    TTAI_FIXTURE_TOOL("test_error_handling",
                      "Answers with a tool error.",
                      ttai_fixture_error, NULL, TTAI_TOOL_READ_ONLY),
    TTAI_FIXTURE_TOOL("test_logging_tool",
                      "Logs only at a level the request names.",
                      ttai_fixture_logging, NULL, TTAI_TOOL_READ_ONLY),
    { "test_tool_with_progress", NULL,
      "Reports its progress three times, 50 ms apart.",
      TTAI_FIXTURE_NO_ARGS, NULL, TTAI_TOOL_READ_ONLY,
      ttai_fixture_progress, ttai_fixture_progress_step,
      TTAI_TOOLSET_FIXTURES, NULL },
    { "test_tool_with_logging", NULL,
      "Logs three messages, 50 ms apart.",
      TTAI_FIXTURE_NO_ARGS, NULL, TTAI_TOOL_READ_ONLY,
      ttai_fixture_logs, ttai_fixture_logs_step,
      TTAI_TOOLSET_FIXTURES, NULL },
    TTAI_FIXTURE_TOOL("test_trigger_tool_change",
                      "Tells the listening streams that the tools changed.",
                      ttai_fixture_tools_changed, NULL, 0),
    TTAI_FIXTURE_TOOL("test_trigger_prompt_change",
                      "Tells the listening streams that the prompts "
                      "changed.", ttai_fixture_prompts_changed, NULL, 0),
    { "test_trigger_resource_update", NULL,
      "Tells the calling user's listening streams that a resource "
      "changed.",
      "{\"type\":\"object\",\"properties\":{\"uri\":{\"type\":"
      "\"string\",\"minLength\":1,\"maxLength\":500}},"
      "\"required\":[\"uri\"]}", NULL, 0,
      ttai_fixture_resource_updated, NULL, TTAI_TOOLSET_FIXTURES, NULL },
    TTAI_FIXTURE_TOOL("test_missing_capability",
                      "Test tool requiring sampling.",
                      ttai_fixture_needs_sampling, NULL,
                      TTAI_TOOL_READ_ONLY),
    TTAI_FIXTURE_TOOL("test_streaming_elicitation",
                      "Asks the user, never with a request on the stream.",
                      ttai_fixture_streaming, ttai_fixture_name_input,
                      TTAI_TOOL_READ_ONLY),

    /* an argument repeated in a header, for proxies (SEP-2243) */
    { "test_header_param", NULL,
      "Echoes its region, which the client repeats in Mcp-Param-Region.",
      "{\"type\":\"object\",\"properties\":{\"region\":{\"type\":"
      "\"string\",\"x-mcp-header\":\"Region\",\"maxLength\":200}},"
      "\"required\":[\"region\"]}", NULL, TTAI_TOOL_READ_ONLY,
      ttai_fixture_region, NULL, TTAI_TOOLSET_FIXTURES, NULL },

    /* a schema with JSON Schema 2020-12's references and conditions */
    { "json_schema_2020_12_tool", NULL,
      "Tool with JSON Schema 2020-12 features",
      "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
      "\"type\":\"object\","
      "\"$defs\":{\"address\":{\"$anchor\":\"addressDef\","
      "\"type\":\"object\",\"properties\":{\"street\":{\"type\":"
      "\"string\"},\"city\":{\"type\":\"string\"}}}},"
      "\"properties\":{\"name\":{\"type\":\"string\"},"
      "\"address\":{\"$ref\":\"#/$defs/address\"},"
      "\"contactMethod\":{\"type\":\"string\",\"enum\":[\"phone\","
      "\"email\"]},\"phone\":{\"type\":\"string\"},"
      "\"email\":{\"type\":\"string\"}},"
      "\"allOf\":[{\"anyOf\":[{\"required\":[\"phone\"]},"
      "{\"required\":[\"email\"]}]}],"
      "\"if\":{\"properties\":{\"contactMethod\":{\"const\":"
      "\"phone\"}},\"required\":[\"contactMethod\"]},"
      "\"then\":{\"required\":[\"phone\"]},"
      "\"else\":{\"required\":[\"email\"]},"
      "\"additionalProperties\":false}", NULL, TTAI_TOOL_READ_ONLY,
      ttai_fixture_schema_2020, NULL, TTAI_TOOLSET_FIXTURES, NULL },

    /* elicitation as 2025-11-25 clients see it: a request on the stream */
    { "test_elicitation", NULL,
      "Asks the user for a username and an email address.",
      "{\"type\":\"object\",\"properties\":{\"message\":{\"type\":"
      "\"string\",\"maxLength\":500}}}", NULL, TTAI_TOOL_READ_ONLY,
      ttai_fixture_ask_info, NULL, TTAI_TOOLSET_FIXTURES,
      ttai_fixture_form_input },
    TTAI_FIXTURE_TOOL("test_elicitation_sep1034_defaults",
                      "Asks with a form whose fields have defaults.",
                      ttai_fixture_ask_defaults, ttai_fixture_form_input,
                      TTAI_TOOL_READ_ONLY),
    TTAI_FIXTURE_TOOL("test_elicitation_sep1330_enums",
                      "Asks with a form of every kind of choice.",
                      ttai_fixture_ask_enums, ttai_fixture_form_input,
                      TTAI_TOOL_READ_ONLY),

    /* multi round-trip requests */
    TTAI_FIXTURE_TOOL("test_input_required_result_elicitation",
                      "Asks the user's name, then greets them.",
                      ttai_fixture_ask_name, ttai_fixture_name_input,
                      TTAI_TOOL_READ_ONLY | TTAI_TOOL_INPUT_NO_STATE),
    TTAI_FIXTURE_TOOL("test_input_required_result_sampling",
                      "Asks the client's model a question.",
                      ttai_fixture_ask_sampling, ttai_fixture_sampling_input,
                      TTAI_TOOL_READ_ONLY),
    TTAI_FIXTURE_TOOL("test_input_required_result_list_roots",
                      "Asks the client for its roots.",
                      ttai_fixture_ask_roots, ttai_fixture_roots_input,
                      TTAI_TOOL_READ_ONLY),
    TTAI_FIXTURE_TOOL("test_input_required_result_request_state",
                      "Asks for a confirmation, keeping its state sealed.",
                      ttai_fixture_ask_ok, ttai_fixture_ok_input,
                      TTAI_TOOL_READ_ONLY),
    TTAI_FIXTURE_TOOL("test_input_required_result_multiple_inputs",
                      "Asks three questions at once.",
                      ttai_fixture_ask_three, ttai_fixture_three_input,
                      TTAI_TOOL_READ_ONLY),
    TTAI_FIXTURE_TOOL("test_input_required_result_multi_round",
                      "Asks two questions, one after the other.",
                      ttai_fixture_ask_rounds, ttai_fixture_rounds_input,
                      TTAI_TOOL_READ_ONLY),
    TTAI_FIXTURE_TOOL("test_input_required_result_tampered_state",
                      "Asks for a confirmation; refuses a changed state.",
                      ttai_fixture_ask_ok, ttai_fixture_ok_input,
                      TTAI_TOOL_READ_ONLY),
    TTAI_FIXTURE_TOOL("test_input_required_result_capabilities",
                      "Asks only what the client can answer.",
                      ttai_fixture_ask_what_it_can,
                      ttai_fixture_sampling_input, TTAI_TOOL_READ_ONLY),

    { NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL }
};


static const ttai_prompt_arg_t  ttai_fixture_two_args[] = {
    { "arg1", "First test argument", 1 },
    { "arg2", "Second test argument", 1 },
    { NULL, NULL, 0 }
};

static const ttai_prompt_arg_t  ttai_fixture_uri_arg[] = {
    { "resourceUri", "URI of the resource to embed", 1 },
    { NULL, NULL, 0 }
};


static const ttai_prompt_t  ttai_fixture_prompts[] = {

    { "test_simple_prompt", NULL, "A prompt of one text message.", NULL,
      ttai_fixture_simple_prompt, NULL, TTAI_TOOLSET_FIXTURES, NULL },

    { "test_prompt_with_arguments", NULL, "A prompt with two arguments.",
      ttai_fixture_two_args, ttai_fixture_args_prompt, ttai_fixture_complete,
      TTAI_TOOLSET_FIXTURES, NULL },

    { "test_prompt_with_embedded_resource", NULL,
      "A prompt that embeds a resource.", ttai_fixture_uri_arg,
      ttai_fixture_resource_prompt, NULL, TTAI_TOOLSET_FIXTURES, NULL },

    { "test_prompt_with_image", NULL, "A prompt with an image.", NULL,
      ttai_fixture_image_prompt, NULL, TTAI_TOOLSET_FIXTURES, NULL },

    { "test_input_required_result_prompt", NULL,
      "A prompt that asks the user for context first.", NULL,
      ttai_fixture_ask_prompt, NULL, TTAI_TOOLSET_FIXTURES,
      ttai_fixture_prompt_input },

    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }
};


static const ttai_resource_t  ttai_fixture_resources[] = {

    { "test://static-text", "static-text", "Static Text Resource",
      "A static text resource for testing", "text/plain", NULL,
      ttai_fixture_read, TTAI_TOOLSET_FIXTURES },

    { "test://static-binary", "static-binary", "Static Binary Resource",
      "A static binary resource for testing", "image/png", NULL,
      ttai_fixture_read, TTAI_TOOLSET_FIXTURES },

    { "test://watched-resource", "watched-resource", "Watched Resource",
      "A resource to subscribe to", "text/plain", NULL,
      ttai_fixture_read, TTAI_TOOLSET_FIXTURES },

    { "test://template/{id}/data", "template", "Template Resource",
      "Data for an id", "application/json", NULL, ttai_fixture_read,
      TTAI_TOOLSET_FIXTURES },

    { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }
};


int
ttai_fixtures_register_all(ttai_mcp_server_t *srv)
{
    const ttai_tool_t      *t;
    const ttai_prompt_t    *p;
    const ttai_resource_t  *r;

    for (t = ttai_fixture_tools; t->name != NULL; t++) {
        if (ttai_mcp_register_tool(srv, t) != 0) {
            return -1;
        }
    }

    for (p = ttai_fixture_prompts; p->name != NULL; p++) {
        if (ttai_mcp_register_prompt(srv, p) != 0) {
            return -1;
        }
    }

    for (r = ttai_fixture_resources; r->uri != NULL; r++) {
        if (ttai_mcp_register_resource(srv, r) != 0) {
            return -1;
        }
    }

    return ttai_fixtures_tasks_register(srv);
}


/* tools */

static int
ttai_fixture_text(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = ttai_tool_text_result("This is a simple text response for "
                                    "testing.", NULL);
    return *result ? 0 : -1;
}


static int
ttai_fixture_image(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = json_pack("{s:[{s:s, s:s, s:s}]}", "content", "type", "image",
                        "data", TTAI_FIXTURE_PNG, "mimeType", "image/png");
    return *result ? 0 : -1;
}


static int
ttai_fixture_audio(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = json_pack("{s:[{s:s, s:s, s:s}]}", "content", "type", "audio",
                        "data", TTAI_FIXTURE_WAV, "mimeType", "audio/wav");
    return *result ? 0 : -1;
}


static int
ttai_fixture_embedded(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = json_pack("{s:[{s:s, s:{s:s, s:s, s:s}}]}", "content",
                        "type", "resource", "resource",
                        "uri", "test://embedded-resource",
                        "mimeType", "text/plain",
                        "text", "This is an embedded resource content.");
    return *result ? 0 : -1;
}


static int
ttai_fixture_mixed(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = json_pack("{s:[{s:s, s:s}, {s:s, s:s, s:s},"
                        " {s:s, s:{s:s, s:s, s:s}}]}", "content",
                        "type", "text", "text",
                        "Multiple content types test:",
                        "type", "image", "data", TTAI_FIXTURE_PNG,
                        "mimeType", "image/png",
                        "type", "resource", "resource",
                        "uri", "test://mixed-content-resource",
                        "mimeType", "application/json",
                        "text", "{\"test\":\"data\",\"value\":123}");
    return *result ? 0 : -1;
}


static int
ttai_fixture_error(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = ttai_tool_error_result("This tool intentionally returns an "
                                     "error for testing");
    return *result ? 0 : -1;
}


static int
ttai_fixture_logging(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = ttai_tool_text_result("Logging evaluated", NULL);
    return *result ? 0 : -1;
}


/*
 * Progress at 0, 50 and 100 of 100, with a wait of 50 ms between, then
 * the progress token as the answer
 */

static int
ttai_fixture_progress(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_object_set_new(ctx->state, "step", json_integer(0));

    if (ttai_tool_progress(ctx, 0, 100, "Completed step 0 of 100") != 0) {
        return -1;
    }

    *pending = ttai_mcp_pending_wait(50);

    return *pending ? 0 : -1;
}


static int
ttai_fixture_progress_step(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char     text[64];
    json_int_t  step;

    step = json_integer_value(json_object_get(ctx->state, "step")) + 1;
    json_object_set_new(ctx->state, "step", json_integer(step));

    snprintf(text, sizeof(text), "Completed step %d of 100",
             (int) (step * 50));

    if (ttai_tool_progress(ctx, (double) (step * 50), 100, text) != 0) {
        return -1;
    }

    if (step < 2) {
        *pending = ttai_mcp_pending_wait(50);
        return *pending ? 0 : -1;
    }

    if (json_is_string(ctx->progress_token)) {
        *result = ttai_tool_text_result(json_string_value(
                                            ctx->progress_token), NULL);

    } else {
        *result = ttai_fixture_result("%lld", (long long) json_integer_value(
                                          ctx->progress_token));
    }

    return *result ? 0 : -1;
}


static const char  *ttai_fixture_log_lines[] = {
    "Tool execution started", "Tool processing data",
    "Tool execution completed"
};


static int
ttai_fixture_logs(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_object_set_new(ctx->state, "step", json_integer(0));

    if (ttai_tool_log(ctx, "info", ttai_fixture_log_lines[0]) != 0) {
        return -1;
    }

    *pending = ttai_mcp_pending_wait(50);

    return *pending ? 0 : -1;
}


static int
ttai_fixture_logs_step(ttai_tool_ctx_t *ctx, json_t *args,
    const ttai_mcp_response_t *resp, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_int_t  step;

    step = json_integer_value(json_object_get(ctx->state, "step")) + 1;
    json_object_set_new(ctx->state, "step", json_integer(step));

    if (ttai_tool_log(ctx, "info", ttai_fixture_log_lines[step]) != 0) {
        return -1;
    }

    if (step < 2) {
        *pending = ttai_mcp_pending_wait(50);
        return *pending ? 0 : -1;
    }

    *result = ttai_tool_text_result("Tool with logging executed "
                                    "successfully", NULL);

    return *result ? 0 : -1;
}


static int
ttai_fixture_tools_changed(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    if (ttai_tool_changed(ctx, TTAI_LISTEN_TOOLS, NULL, 0) != 0) {
        return -1;
    }

    *result = ttai_tool_text_result("Mutation triggered", NULL);

    return *result ? 0 : -1;
}


static int
ttai_fixture_prompts_changed(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    if (ttai_tool_changed(ctx, TTAI_LISTEN_PROMPTS, NULL, 0) != 0) {
        return -1;
    }

    *result = ttai_tool_text_result("Mutation triggered", NULL);

    return *result ? 0 : -1;
}


static int
ttai_fixture_resource_updated(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    if (ttai_tool_changed(ctx, TTAI_LISTEN_UPDATED,
                          json_string_value(json_object_get(args, "uri")), 1)
        != 0)
    {
        return -1;
    }

    *result = ttai_tool_text_result("Mutation triggered", NULL);

    return *result ? 0 : -1;
}


/* sampling is required: a client that does not offer it gets -32021 */

static int
ttai_fixture_needs_sampling(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    if (json_object_get(ctx->caps, "sampling") != NULL) {
        *result = ttai_tool_text_result("Success", NULL);

    } else {
        *result = ttai_tool_input_required(json_pack("{s:o}", "sample",
                      ttai_fixture_sample("Sample request", 50)));
    }

    return *result ? 0 : -1;
}


static int
ttai_fixture_streaming(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_fixture_ask_name(ctx, args, result, pending);
}


static int
ttai_fixture_region(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = ttai_fixture_result("Region: %.200s",
                  json_string_value(json_object_get(args, "region")));

    return *result ? 0 : -1;
}


static int
ttai_fixture_schema_2020(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    char  *text;

    text = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
    *result = ttai_fixture_result("JSON Schema 2020-12 tool called with: "
                                  "%.400s", text ? text : "{}");
    free(text);

    return *result ? 0 : -1;
}


/* the forms the 2025 elicitation scenarios inspect, field by field */

static int
ttai_fixture_ask_form(const char *message, const char *schema,
    json_t **result)
{
    *result = ttai_tool_input_required(json_pack("{s:o}", "form",
                  ttai_tool_elicit_form(message,
                                        json_loads(schema, 0, NULL))));
    return *result ? 0 : -1;
}


static int
ttai_fixture_ask_info(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    const char  *message;

    message = json_string_value(json_object_get(args, "message"));

    return ttai_fixture_ask_form(message ? message
                                         : "Please provide your information",
        "{\"type\":\"object\",\"properties\":{"
        "\"username\":{\"type\":\"string\",\"description\":"
        "\"User's response\"},"
        "\"email\":{\"type\":\"string\",\"description\":"
        "\"User's email address\"}},"
        "\"required\":[\"username\",\"email\"]}", result);
}


static int
ttai_fixture_ask_defaults(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    return ttai_fixture_ask_form(
        "Please review and update the form fields with defaults",
        "{\"type\":\"object\",\"properties\":{"
        "\"name\":{\"type\":\"string\",\"description\":\"User name\","
        "\"default\":\"John Doe\"},"
        "\"age\":{\"type\":\"integer\",\"description\":\"User age\","
        "\"default\":30},"
        "\"score\":{\"type\":\"number\",\"description\":\"User score\","
        "\"default\":95.5},"
        "\"status\":{\"type\":\"string\",\"description\":"
        "\"User status\",\"enum\":[\"active\",\"inactive\","
        "\"pending\"],\"default\":\"active\"},"
        "\"verified\":{\"type\":\"boolean\",\"description\":"
        "\"Verification status\",\"default\":true}},"
        "\"required\":[]}", result);
}


static int
ttai_fixture_ask_enums(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    return ttai_fixture_ask_form(
        "Please select options from the enum fields",
        "{\"type\":\"object\",\"properties\":{"
        "\"untitledSingle\":{\"type\":\"string\",\"description\":"
        "\"Select one option\",\"enum\":[\"option1\",\"option2\","
        "\"option3\"]},"
        "\"titledSingle\":{\"type\":\"string\",\"description\":"
        "\"Select one option with titles\",\"oneOf\":["
        "{\"const\":\"value1\",\"title\":\"First Option\"},"
        "{\"const\":\"value2\",\"title\":\"Second Option\"},"
        "{\"const\":\"value3\",\"title\":\"Third Option\"}]},"
        "\"legacyEnum\":{\"type\":\"string\",\"description\":"
        "\"Select one option (legacy)\",\"enum\":[\"opt1\",\"opt2\","
        "\"opt3\"],\"enumNames\":[\"Option One\",\"Option Two\","
        "\"Option Three\"]},"
        "\"untitledMulti\":{\"type\":\"array\",\"description\":"
        "\"Select multiple options\",\"minItems\":1,\"maxItems\":3,"
        "\"items\":{\"type\":\"string\",\"enum\":[\"option1\","
        "\"option2\",\"option3\"]}},"
        "\"titledMulti\":{\"type\":\"array\",\"description\":"
        "\"Select multiple options with titles\",\"minItems\":1,"
        "\"maxItems\":3,\"items\":{\"anyOf\":["
        "{\"const\":\"value1\",\"title\":\"First Choice\"},"
        "{\"const\":\"value2\",\"title\":\"Second Choice\"},"
        "{\"const\":\"value3\",\"title\":\"Third Choice\"}]}}},"
        "\"required\":[]}", result);
}


/* what the user did with the form, and what they put in it */

static int
ttai_fixture_form_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending)
{
    char        *text;
    json_t      *content;
    const char  *action;

    action = ttai_tool_input_action(responses, "form", &content);

    if (action == NULL) {
        *result = ttai_fixture_result("The client did not answer");
        return *result ? 0 : -1;
    }

    text = content ? json_dumps(content, JSON_COMPACT | JSON_SORT_KEYS)
                   : NULL;

    *result = ttai_fixture_result("User response: action=%s, content=%s",
                                  action, text ? text : "{}");
    free(text);

    return *result ? 0 : -1;
}


static int
ttai_fixture_ask_name(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = ttai_tool_input_required(json_pack("{s:o}", "user_name",
                  ttai_fixture_elicit("What is your name?", "name",
                                      "string")));
    return *result ? 0 : -1;
}


static int
ttai_fixture_name_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending)
{
    json_t      *content;
    const char  *action, *name;

    action = ttai_tool_input_action(responses, "user_name", &content);
    name = json_string_value(json_object_get(content, "name"));

    if (action == NULL || (strcmp(action, "accept") == 0 && name == NULL)) {
        /* not answered, or not as asked: ask again */
        return ttai_fixture_ask_name(ctx, args, result, pending);
    }

    *result = (strcmp(action, "accept") == 0)
              ? ttai_fixture_result("Hello, %.64s!", name)
              : ttai_fixture_result("The user chose %s", action);

    return *result ? 0 : -1;
}


static int
ttai_fixture_ask_sampling(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    *result = ttai_tool_input_required(json_pack("{s:o}", "capital_question",
                  ttai_fixture_sample("What is the capital of France?",
                                      100)));
    return *result ? 0 : -1;
}


/* the first sampling answer among the responses */

static int
ttai_fixture_sampling_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending)
{
    json_t      *r;
    const char  *key, *text;

    text = NULL;

    json_object_foreach(responses, key, r) {
        text = json_string_value(json_object_get(json_object_get(r,
                                                                 "content"),
                                                 "text"));
        if (text != NULL) {
            break;
        }
    }

    if (text == NULL) {
        return ttai_fixture_ask_what_it_can(ctx, args, result, pending);
    }

    *result = ttai_fixture_result("Sampling result: %.200s", text);

    return *result ? 0 : -1;
}


static int
ttai_fixture_ask_roots(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    *result = ttai_tool_input_required(json_pack("{s:o}", "client_roots",
                                                 ttai_fixture_roots()));
    return *result ? 0 : -1;
}


static int
ttai_fixture_roots_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending)
{
    json_t  *roots;

    roots = json_object_get(json_object_get(responses, "client_roots"),
                            "roots");

    if (!json_is_array(roots)) {
        return ttai_fixture_ask_roots(ctx, args, result, pending);
    }

    *result = ttai_fixture_result("Found %zu root(s)", json_array_size(roots));

    return *result ? 0 : -1;
}


static int
ttai_fixture_ask_ok(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    /* what only the sealed state carries back */
    json_object_set_new(ctx->state, "asked", json_true());

    *result = ttai_tool_input_required(json_pack("{s:o}", "confirm",
                  ttai_fixture_elicit("Please confirm", "ok", "boolean")));
    return *result ? 0 : -1;
}


static int
ttai_fixture_ok_input(ttai_tool_ctx_t *ctx, json_t *args, json_t *responses,
    json_t **result, ttai_mcp_pending_t **pending)
{
    json_t      *content;
    const char  *action;

    action = ttai_tool_input_action(responses, "confirm", &content);

    if (action == NULL) {
        return ttai_fixture_ask_ok(ctx, args, result, pending);
    }

    if (!json_is_true(json_object_get(ctx->state, "asked"))) {
        *result = ttai_tool_error_result("the state does not say it asked");
        return *result ? 0 : -1;
    }

    *result = ttai_fixture_result("state-ok: requestState validated (%s, "
                                  "ok=%s)", action,
                                  json_is_true(json_object_get(content, "ok"))
                                  ? "true" : "false");
    return *result ? 0 : -1;
}


static int
ttai_fixture_ask_three(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_object_set_new(ctx->state, "asked", json_integer(3));

    *result = ttai_tool_input_required(json_pack("{s:o, s:o, s:o}",
                  "user_name", ttai_fixture_elicit("What is your name?",
                                                   "name", "string"),
                  "greeting", ttai_fixture_sample("Generate a greeting", 50),
                  "client_roots", ttai_fixture_roots()));
    return *result ? 0 : -1;
}


static int
ttai_fixture_three_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending)
{
    json_t      *content, *roots;
    const char  *name, *greeting;

    (void) ttai_tool_input_action(responses, "user_name", &content);
    name = json_string_value(json_object_get(content, "name"));
    greeting = json_string_value(json_object_get(json_object_get(
                   json_object_get(responses, "greeting"), "content"),
                   "text"));
    roots = json_object_get(json_object_get(responses, "client_roots"),
                            "roots");

    if (name == NULL || greeting == NULL || !json_is_array(roots)) {
        return ttai_fixture_ask_three(ctx, args, result, pending);
    }

    *result = ttai_fixture_result("Name: %.64s; Greeting: %.64s; Roots: %zu",
                                  name, greeting, json_array_size(roots));
    return *result ? 0 : -1;
}


static int
ttai_fixture_ask_rounds(ttai_tool_ctx_t *ctx, json_t *args, json_t **result,
    ttai_mcp_pending_t **pending)
{
    json_object_set_new(ctx->state, "step", json_integer(1));

    *result = ttai_tool_input_required(json_pack("{s:o}", "step1",
                  ttai_fixture_elicit("Step 1: What is your name?", "name",
                                      "string")));
    return *result ? 0 : -1;
}


/* the name of step 1 travels to step 2 in the sealed state */

static int
ttai_fixture_rounds_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending)
{
    json_t      *content;
    const char  *value;

    if (json_integer_value(json_object_get(ctx->state, "step")) == 1) {
        (void) ttai_tool_input_action(responses, "step1", &content);
        value = json_string_value(json_object_get(content, "name"));

        if (value == NULL) {
            return ttai_fixture_ask_rounds(ctx, args, result, pending);
        }

        json_object_set_new(ctx->state, "step", json_integer(2));
        json_object_set_new(ctx->state, "name", json_string(value));

        *result = ttai_tool_input_required(json_pack("{s:o}", "step2",
                      ttai_fixture_elicit("Step 2: What is your favorite "
                                          "color?", "color", "string")));
        return *result ? 0 : -1;
    }

    (void) ttai_tool_input_action(responses, "step2", &content);
    value = json_string_value(json_object_get(content, "color"));

    if (value == NULL) {
        *result = ttai_tool_input_required(json_pack("{s:o}", "step2",
                      ttai_fixture_elicit("Step 2: What is your favorite "
                                          "color?", "color", "string")));
        return *result ? 0 : -1;
    }

    *result = ttai_fixture_result("Multi-round complete for %.64s who likes "
                                  "%.64s", json_string_value(json_object_get(
                                      ctx->state, "name")), value);
    return *result ? 0 : -1;
}


/* one question for each kind of answer the client offers */

static int
ttai_fixture_ask_what_it_can(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result, ttai_mcp_pending_t **pending)
{
    json_t  *requests;

    requests = json_object();
    if (requests == NULL) {
        return -1;
    }

    if (json_object_get(ctx->caps, "elicitation") != NULL) {
        json_object_set_new(requests, "user_name",
                            ttai_fixture_elicit("What is your name?", "name",
                                                "string"));
    }

    if (json_object_get(ctx->caps, "sampling") != NULL) {
        json_object_set_new(requests, "sample_input",
                            ttai_fixture_sample("Sample request", 50));
    }

    if (json_object_get(ctx->caps, "roots") != NULL) {
        json_object_set_new(requests, "client_roots", ttai_fixture_roots());
    }

    if (json_object_size(requests) == 0) {
        json_decref(requests);
        *result = ttai_tool_error_result("the client offers no way to ask "
                                         "it anything");
        return *result ? 0 : -1;
    }

    *result = ttai_tool_input_required(requests);

    return *result ? 0 : -1;
}


/* prompts */

static int
ttai_fixture_simple_prompt(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result)
{
    *result = json_pack("{s:[{s:s, s:{s:s, s:s}}]}", "messages",
                        "role", "user", "content", "type", "text",
                        "text", "This is a simple prompt for testing.");
    return *result ? 0 : -1;
}


static int
ttai_fixture_args_prompt(ttai_tool_ctx_t *ctx, json_t *args, json_t **result)
{
    char  text[512];

    snprintf(text, sizeof(text), "Prompt with arguments: arg1='%.200s', "
             "arg2='%.200s'",
             json_string_value(json_object_get(args, "arg1")),
             json_string_value(json_object_get(args, "arg2")));

    *result = json_pack("{s:[{s:s, s:{s:s, s:s}}]}", "messages",
                        "role", "user", "content", "type", "text",
                        "text", text);
    return *result ? 0 : -1;
}


static int
ttai_fixture_resource_prompt(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result)
{
    *result = json_pack("{s:[{s:s, s:{s:s, s:{s:O, s:s, s:s}}},"
                        " {s:s, s:{s:s, s:s}}]}", "messages",
                        "role", "user", "content", "type", "resource",
                        "resource", "uri",
                        json_object_get(args, "resourceUri"),
                        "mimeType", "text/plain",
                        "text", "Embedded resource content for testing.",
                        "role", "user", "content", "type", "text",
                        "text", "Please process the embedded resource "
                        "above.");
    return *result ? 0 : -1;
}


static int
ttai_fixture_image_prompt(ttai_tool_ctx_t *ctx, json_t *args,
    json_t **result)
{
    *result = json_pack("{s:[{s:s, s:{s:s, s:s, s:s}}, {s:s, s:{s:s, s:s}}]}",
                        "messages",
                        "role", "user", "content", "type", "image",
                        "data", TTAI_FIXTURE_PNG, "mimeType", "image/png",
                        "role", "user", "content", "type", "text",
                        "text", "Please analyze the image above.");
    return *result ? 0 : -1;
}


static int
ttai_fixture_ask_prompt(ttai_tool_ctx_t *ctx, json_t *args, json_t **result)
{
    *result = ttai_tool_input_required(json_pack("{s:o}", "user_context",
                  ttai_fixture_elicit("What context should the prompt use?",
                                      "context", "string")));
    return *result ? 0 : -1;
}


static int
ttai_fixture_prompt_input(ttai_tool_ctx_t *ctx, json_t *args,
    json_t *responses, json_t **result, ttai_mcp_pending_t **pending)
{
    char         text[256];
    json_t      *content;
    const char  *context;

    (void) ttai_tool_input_action(responses, "user_context", &content);
    context = json_string_value(json_object_get(content, "context"));

    if (context == NULL) {
        return ttai_fixture_ask_prompt(ctx, args, result);
    }

    snprintf(text, sizeof(text), "Prompt with context: %.200s", context);

    *result = json_pack("{s:[{s:s, s:{s:s, s:s}}]}", "messages",
                        "role", "user", "content", "type", "text",
                        "text", text);
    return *result ? 0 : -1;
}


static json_t *
ttai_fixture_complete(const char *arg, const char *value, json_t *args)
{
    json_t  *values;

    values = json_array();

    if (values != NULL && strcmp(arg, "arg1") == 0) {
        json_array_append_new(values, json_string("testValue1"));
    }

    return values;
}


/* resources */

static int
ttai_fixture_read(ttai_tool_ctx_t *ctx, const char *uri, json_t *vars,
    json_t **contents)
{
    char         text[256];
    const char  *id;

    if (strcmp(uri, "test://static-text") == 0) {
        *contents = json_pack("[{s:s, s:s, s:s}]", "uri", uri,
                              "mimeType", "text/plain", "text",
                              "This is the content of the static text "
                              "resource.");

    } else if (strcmp(uri, "test://static-binary") == 0) {
        *contents = json_pack("[{s:s, s:s, s:s}]", "uri", uri,
                              "mimeType", "image/png",
                              "blob", TTAI_FIXTURE_PNG);

    } else if (strcmp(uri, "test://watched-resource") == 0) {
        *contents = json_pack("[{s:s, s:s, s:s}]", "uri", uri,
                              "mimeType", "text/plain",
                              "text", "Watched resource content");

    } else {
        id = json_string_value(json_object_get(vars, "id"));

        if (id == NULL) {
            *contents = NULL;
            return 0;
        }

        snprintf(text, sizeof(text), "{\"id\":\"%.64s\",\"templateTest\":"
                 "true,\"data\":\"Data for ID: %.64s\"}", id, id);

        *contents = json_pack("[{s:s, s:s, s:s}]", "uri", uri,
                              "mimeType", "application/json", "text", text);
    }

    return *contents ? 0 : -1;
}


/* helpers */

static json_t *
ttai_fixture_elicit(const char *message, const char *field, const char *type)
{
    return ttai_tool_elicit_form(message,
               json_pack("{s:s, s:{s:{s:s}}, s:[s]}", "type", "object",
                         "properties", field, "type", type,
                         "required", field));
}


static json_t *
ttai_fixture_sample(const char *question, int max_tokens)
{
    return json_pack("{s:s, s:{s:[{s:s, s:{s:s, s:s}}], s:i}}",
                     "method", "sampling/createMessage", "params",
                     "messages", "role", "user", "content", "type", "text",
                     "text", question, "maxTokens", max_tokens);
}


static json_t *
ttai_fixture_roots(void)
{
    return json_pack("{s:s, s:{}}", "method", "roots/list", "params");
}


static json_t *
ttai_fixture_result(const char *fmt, ...)
{
    char     text[TTAI_FIXTURE_TEXT * 4];
    va_list  args;

    va_start(args, fmt);
    vsnprintf(text, sizeof(text), fmt, args);
    va_end(args);

    return ttai_tool_text_result(text, NULL);
}
