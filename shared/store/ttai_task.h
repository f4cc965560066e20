
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_TASK_H_INCLUDED_
#define _TTAI_TASK_H_INCLUDED_


#include <jansson.h>


/*
 * MCP tasks as rows (migrations/0008_tasks.sql): a task is the workflow
 * instance its tool call started, seen by the user who made the call.
 * The statements, each a batch for the shell's thread pool, bound to the
 * user: another user's task is as unknown as one that never was.
 */

#define TTAI_TASK_TTL_MS    3600000   /* an hour: tasks/get answers it */
#define TTAI_TASK_POLL_MS   1000


/* the instance of workflow with params (JSON text), and its task */
json_t *ttai_task_create(const char *id, const char *user, const char *tool,
    const char *workflow, const char *params, long long now_ms);

/* the task with its instance's status, output and error */
json_t *ttai_task_get(const char *id, const char *user);

/*
 * The user's answers to a task's questions (inputResponses, JSON text),
 * as an event "input" of its workflow; the last result finds the task
 */
json_t *ttai_task_update(const char *id, const char *user,
    const char *responses, long long now_ms);

/*
 * A task whose workflow waits for "input": its questions not yet answered
 * (the last ask-N step's inputRequests, less the keys of the answer-N
 * steps and of the answers not yet taken), from the results of
 * ttai_task_get(); with some, the task is input_required and shows them.
 * -1 when out of memory.
 */
int ttai_task_inputs(json_t *task, json_t *results);

/* ends a task that has not ended (its instance is terminated) */
json_t *ttai_task_cancel(const char *id, const char *user, long long now_ms);

/* a task's status, from its instance's (queued, running, complete, ...) */
const char *ttai_task_status(const char *instance_status);

/*
 * The Task object of a row of ttai_task_get() (NULL: none): taskId,
 * status, timestamps, lifetimes; with detailed, the result of a completed
 * task and the error of a failed one
 */
json_t *ttai_task_object(json_t *row, int detailed);


#endif /* _TTAI_TASK_H_INCLUDED_ */
