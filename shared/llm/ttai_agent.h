
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_AGENT_H_INCLUDED_
#define _TTAI_AGENT_H_INCLUDED_


#include <jansson.h>

#include "ttai_workflow.h"


/*
 * The agents: analyses that are durable workflows (ttai_workflow.h).  A
 * workflow gathers data with ttai's read-only tools (TTAI_WF_TOOL
 * steps), asks the model (TTAI_WF_LLM steps), lets the model call
 * read-only tools in a bounded loop, and finishes with the model's text
 * and the numbers it was given.  Each tool call and each model's turn is
 * a step, written before the next begins: a restart resumes after the
 * last one, and none runs twice.  A model's turn that failed with an
 * error worth a retry (overloaded, rate limited, 5xx) is tried again
 * after a sleep that doubles, as new steps ("model-2-a2" after
 * "model-2-w1"), so that each attempt is on the record.
 *
 * The model sees the tools' text as data between <data> tags, and may
 * call only the tools of ttai_agent_tool_allowed(): never a trading
 * tool, never one that writes.
 */

#define TTAI_AGENT_MAX_TURNS     6       /* the model's turns, tools' too */
#define TTAI_AGENT_MAX_ATTEMPTS  4       /* of one turn */
#define TTAI_AGENT_RETRY_MS      1000    /* the first backoff */
#define TTAI_AGENT_TOKENS        60000   /* of one analysis, by default */
#define TTAI_AGENT_MAX_OUTPUT    1500    /* max_tokens of a turn */


/* the agents' workflows, named like their tools */
int ttai_wf_analyze_portfolio(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a);
int ttai_wf_review_trade(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a);
int ttai_wf_daily_brief(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a);

/* 1: an agent's model may call the tool named name */
int ttai_agent_tool_allowed(const char *name);

/*
 * What a tool's step holds: the tool's text, whether it is an error, and
 * its structuredContent (NULL: none), from its CallToolResult (a
 * JSON-RPC response's "result"); a new object, or NULL
 */
json_t *ttai_agent_tool_output(json_t *result);

/*
 * A sentence that says where an instance of an agent is, from its steps
 * (ttai_workflow_status()'s second result): "asking the model (turn 2)",
 * "calling get_positions", ...; and how many of its steps are done
 */
const char *ttai_agent_progress(json_t *steps, char *buf, size_t len,
    unsigned *done);

/* the same, from the name of the step done last (NULL: none yet) */
const char *ttai_agent_step_said(const char *name, char *buf, size_t len);


#endif /* _TTAI_AGENT_H_INCLUDED_ */
