
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_WORKFLOW_H_INCLUDED_
#define _TTAI_WORKFLOW_H_INCLUDED_


#include <jansson.h>


/*
 * Workflows (the seed's Workflows): durable multi-step jobs in SQLite
 * (migrations/0006_workflows.sql), without I/O.  A workflow is a C
 * function replayed over the steps its instance completed: it says what
 * to do next (run a step, whose result it gives; sleep until a time;
 * wait for an event; retry a failed step; finish; fail), and a turn
 * writes each step's result before the next step starts, so that after a
 * restart an instance resumes after its last completed step and no
 * completed step runs again.  The functions return the batches of
 * statements ({"sql","params"}) that the shell runs on its thread pool.
 */

#define TTAI_WF_NAME_MAX    63
#define TTAI_WF_ID_LEN      32
#define TTAI_WF_PARAMS_MAX  (64 * 1024)

#define TTAI_WF_STEP        1
#define TTAI_WF_SLEEP       2
#define TTAI_WF_WAIT        3
#define TTAI_WF_RETRY       4
#define TTAI_WF_DONE        5
#define TTAI_WF_FAIL        6
#define TTAI_WF_FETCH       7      /* a GET of TastyTrade's, as a user */

/*
 * A read-only tool of ttai's, called as a user: request is
 * {"name","arguments"}; the step's output {"text","is_error",
 * "structured"?} (ttai_agent.h)
 */
#define TTAI_WF_TOOL        8

/*
 * A model's turn, as a user: request is {"model"?, "request"} (the core's
 * shape, ttai_llm.h); the step's output {"model","response"} or
 * {"model","error"}, its call recorded with it (ttai_llm_usage.h)
 */
#define TTAI_WF_LLM         9

/*
 * An object put in R2: request is {"bucket","key","body","content_type"};
 * the step's output {"bucket","key","size"} or {"error"}
 */
#define TTAI_WF_PUT         10


typedef struct {
    const char  *id;
    json_t      *params;
    json_t      *steps;        /* name: output, of the completed steps */
    json_t      *attempts;     /* name: failed attempts so far */
    long long    now_ms;

    /* whose work it is: its task's user, else params.user, else NULL */
    const char  *user;
} ttai_wf_ctx_t;


typedef struct {
    int          kind;
    char         name[TTAI_WF_NAME_MAX + 1];   /* the step's */
    json_t      *output;       /* STEP: its result; DONE: the output */
    long long    until;        /* SLEEP: when; WAIT: when to give up */
    char         event[TTAI_WF_NAME_MAX + 1];  /* WAIT */
    char         error[256];   /* RETRY, FAIL */
    char         path[512];    /* FETCH: with its query, escaped */
    char         user[128];    /* FETCH, TOOL, LLM: whose token */
    json_t      *request;      /* TOOL, LLM, PUT: taken by the turn */
} ttai_wf_action_t;


/*
 * A turn that ends with work for the shell (a fetch, a tool, a model's
 * turn): the shell does it, then fetched() or wrote() records it
 */
typedef struct {
    int          asked;        /* the kind: TTAI_WF_FETCH, _TOOL, _LLM,
                                  _PUT */
    char         name[TTAI_WF_NAME_MAX + 1];
    long long    seq;
    char         path[512];
    char         user[128];
    char        *request;      /* TOOL, LLM, PUT: JSON text; free() it */
} ttai_wf_fetch_t;


typedef int (*ttai_workflow_pt)(const ttai_wf_ctx_t *ctx,
    ttai_wf_action_t *a);

typedef struct {
    const char          *name;
    const char          *description;
    ttai_workflow_pt     run;
    unsigned             max_attempts;   /* of a step, retries included */
    long                 retry_delay;    /* ms, doubled at each retry */
} ttai_workflow_t;


/*
 * The conformance fixtures' tasks (shared/tools/ttai_fixtures_tasks.c),
 * named like the tools they do the work of
 */
int ttai_wf_slow_compute(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a);
int ttai_wf_failing_job(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a);
int ttai_wf_protocol_error_job(const ttai_wf_ctx_t *ctx,
    ttai_wf_action_t *a);
int ttai_wf_confirm_delete(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a);
int ttai_wf_multi_input(const ttai_wf_ctx_t *ctx, ttai_wf_action_t *a);

const ttai_workflow_t *ttai_workflow_find(const char *name);
const ttai_workflow_t *ttai_workflows(void);

/* a new instance's id: 32 hex digits */
void ttai_workflow_id(char out[TTAI_WF_ID_LEN + 1]);

json_t *ttai_workflow_create(const char *id, const char *workflow,
    const char *params, long long now_ms);

/*
 * Claims the instance that has waited longest for its turn, with its
 * steps and the events sent to it (three results)
 */
json_t *ttai_workflow_claim(const char *lease, long long now_ms,
    long lease_ms);

/*
 * A turn of the claimed instance: the batch that records what its
 * workflow did, up to max_steps steps, and gives the lease back; NULL
 * when nothing was claimed (*claimed 0) or out of memory (*claimed 1)
 */
json_t *ttai_workflow_turn(json_t *claim_results, const char *lease,
    long long now_ms, unsigned max_steps, int *claimed,
    ttai_wf_fetch_t *fetch);

/*
 * The fetch a turn asked for is done (status 0: no response, error
 * says why): its step is written with {"status","body"} (the body parsed
 * when it is JSON), and the lease given back.  The fetch itself may run
 * again if its worker dies first: at least once, as a step's effects.
 */
json_t *ttai_workflow_fetched(const char *id, const char *lease,
    const ttai_wf_fetch_t *fetch, int status, const char *body, size_t len,
    const char *error, long long now_ms);

/*
 * The tool or model's turn a turn asked for is done: output is the
 * step's (a reference is taken), written after the statements of also
 * (NULL: none; taken), and the lease given back
 */
json_t *ttai_workflow_wrote(const char *id, const char *lease,
    const ttai_wf_fetch_t *fetch, json_t *output, json_t *also,
    long long now_ms);

json_t *ttai_workflow_event(const char *id, const char *name,
    const char *payload, long long now_ms);
json_t *ttai_workflow_terminate(const char *id, long long now_ms);
json_t *ttai_workflow_list(long n);
json_t *ttai_workflow_status(const char *id);


#endif /* _TTAI_WORKFLOW_H_INCLUDED_ */
