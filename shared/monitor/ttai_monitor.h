
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_MONITOR_H_INCLUDED_
#define _TTAI_MONITOR_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>


/*
 * The PORTFOLIO_MONITOR: alert rules a user makes through the tools, and
 * their evaluation in the background.  Rules, what they fired and the
 * positions seen are rows (migrations/0007_monitor.sql); this is the
 * I/O-free half: the rule kinds, the statements, and one user's
 * evaluation, which asks for the tool calls it needs (run by the shell
 * through the MCP core, so they have the tools' cache and rate limit)
 * and turns what they answered into statements.
 */


/* what a kind of rule reads */
#define TTAI_MON_QUOTES          0x01
#define TTAI_MON_POSITIONS       0x02
#define TTAI_MON_BALANCES        0x04
#define TTAI_MON_ORDERS          0x08
#define TTAI_MON_GREEKS          0x10    /* get_position_greeks */

#define TTAI_MON_ID_LEN          20      /* "alr_" and 16 hex digits */
#define TTAI_MON_MAX_RULES       50      /* a user's */


/* where one observation of a rule stands */
typedef enum {
    TTAI_MON_HOLD = 0,                  /* near the level: as it was */
    TTAI_MON_FIRE,                      /* the condition holds */
    TTAI_MON_CLEAR                      /* clearly past it: armed again */
} ttai_mon_zone_e;

typedef struct {
    const char           *subject;      /* a symbol, a position, an order */
    double                value;
    int                   has_value;
    ttai_mon_zone_e       zone;
    char                  message[320];
} ttai_mon_obs_t;

typedef int (*ttai_mon_observe_pt)(void *data, const ttai_mon_obs_t *obs);

/*
 * A kind evaluates a rule's params on the data gathered for its user
 * ({"quotes":{SYMBOL:quote}, "accounts":{KEY:{"positions","balances",
 * "orders"}}}, each as its tool's structuredContent) and calls observe
 * for each subject it sees; -1 when out of memory.
 */
typedef int (*ttai_mon_eval_pt)(json_t *params, json_t *data,
    long long created_ms, long long now_ms, ttai_mon_observe_pt observe,
    void *odata);

typedef struct {
    const char           *name;
    const char           *summary;      /* for the tool's description */
    const char           *required[4];  /* its arguments, NULL ended */
    unsigned              needs;        /* TTAI_MON_* */
    ttai_mon_eval_pt      eval;
} ttai_mon_kind_t;

/* the kinds, ending with a NULL name: a table that grows */
extern const ttai_mon_kind_t  ttai_mon_kinds[];

const ttai_mon_kind_t *ttai_mon_kind(const char *name);


/*
 * create_alert's arguments made into a rule's params: the kind's own
 * arguments, checked beyond the schema (a symbol's form, a direction
 * the kind knows).  NULL with err set when they do not make a rule.
 */
json_t *ttai_monitor_params(const char *kind, json_t *args, char *err,
    size_t errlen);

/*
 * 1 when url is one the operator allows: http or https, and its scheme,
 * host and port those of an entry of allow (each "scheme://host[:port]",
 * maybe with a path the URL must begin with); 0, with why in err.
 */
int ttai_monitor_webhook_allowed(const char *url, const char *const *allow,
    size_t n, char *err, size_t errlen);

/*
 * A position's P/L since open at its quote in data (its previous close
 * without one): 1 with the price, the P/L in USD and in percent of what
 * it cost, 0 when its figures do not tell
 */
int ttai_monitor_pnl(json_t *pos, json_t *data, double *price, double *pnl,
    double *pct);

/* epoch ms as "2026-12-07T17:05:54Z" (or "" when it cannot be) */
void ttai_monitor_iso(long long ms, char out[32]);

/* a new rule's id, "alr_" and 16 random hex digits */
void ttai_monitor_rule_id(char out[TTAI_MON_ID_LEN + 1]);


/* the tools' statements, each a batch, NULL when out of memory */
json_t *ttai_monitor_create(const char *user, const char *id,
    const char *kind, json_t *params, const char *note,
    const char *webhook, long long now_ms);
json_t *ttai_monitor_list(const char *user);
json_t *ttai_monitor_delete(const char *user, const char *id);
json_t *ttai_monitor_fired(const char *user, long long before_id,
    long limit);
json_t *ttai_monitor_history(const char *user, const char *account,
    const char *symbol, long long since_ms, long limit);


/*
 * What /debug/do/PORTFOLIO_MONITOR shows of a user (NULL: of everyone):
 * the user's row, rules with their states, last alerts, positions kept
 */
json_t *ttai_monitor_debug(const char *user);


/*
 * The background's statements: a claim of up to max users whose time
 * has come (their rules and the subjects that have fired with them), and
 * the positions older than keep_ms removed
 */
json_t *ttai_monitor_claim(const char *lease, long long now_ms,
    long lease_ms, long max);
json_t *ttai_monitor_prune(long long now_ms, long long keep_ms);

/*
 * The claim's results as one entry per user:
 * [{"user","rules":[{"id","kind","params","webhook","created_at"}],
 *   "fired":{RULE_ID:{SUBJECT:true}}}]
 */
json_t *ttai_monitor_claimed(json_t *results);


/* one user's evaluation */
typedef struct ttai_mon_eval_s  ttai_mon_eval_t;

/* user: an entry of ttai_monitor_claimed() (its reference is taken) */
ttai_mon_eval_t *ttai_monitor_eval_create(json_t *user, long long now_ms);

/*
 * The next tools/call to make, as a JSON-RPC body (free() it), or NULL
 * when there is none left (*oom set when out of memory)
 */
char *ttai_monitor_eval_next(ttai_mon_eval_t *ev, int *oom);

/* the answer to the call next() gave; -1 when out of memory */
int ttai_monitor_eval_feed(ttai_mon_eval_t *ev, const char *body,
    size_t len);

/*
 * Appends the user's statements to batch (the rules' states, the alerts
 * fired, the positions, the user's next time) and, to fired, an object
 * per alert that fired {"user","rule_id","kind","subject","message"};
 * -1 when out of memory
 */
int ttai_monitor_eval_finish(ttai_mon_eval_t *ev, const char *lease,
    long long next_ms, json_t *batch, json_t *fired);

const char *ttai_monitor_eval_user(ttai_mon_eval_t *ev);
void ttai_monitor_eval_free(ttai_mon_eval_t *ev);


/*
 * Webhooks: a claim of up to max alerts whose POST is due, the body of
 * one (its row, as claimed), and the outcome of a delivery
 */
json_t *ttai_monitor_webhook_claim(const char *lease, long long now_ms,
    long max);
char *ttai_monitor_webhook_body(json_t *row);
json_t *ttai_monitor_webhook_done(json_t *row, const char *lease, int sent,
    long long now_ms);


#endif /* _TTAI_MONITOR_H_INCLUDED_ */
