
/*
 * Copyright (C) ttai contributors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_ttai_throttle.h"


/*
 * One slot per kind of line and key, in the process's static memory: it
 * outlives a reload without a master, as the timer that writes the sums
 * must.  The kinds and keys are few (zones, reasons, users who hit an
 * error); past the slots, the slot quiet for longest is taken over, its
 * sum written first if it has one.
 */


#define NGX_HTTP_TTAI_THROTTLE_SLOTS  64
#define NGX_HTTP_TTAI_THROTTLE_KEY    255


/*
 * An interval starts with the first line; "written" lines of it were
 * written at once, and "count" events wait for the sum.
 */
typedef struct {
    ngx_http_ttai_throttle_pt  write;
    time_t                     start;
    ngx_uint_t                 written;
    ngx_uint_t                 count;
    size_t                     key_len;
    u_char                     key[NGX_HTTP_TTAI_THROTTLE_KEY];
} ngx_http_ttai_throttle_slot_t;


static ngx_http_ttai_throttle_slot_t *ngx_http_ttai_throttle_slot(
    ngx_http_ttai_throttle_pt write, ngx_str_t *key, ngx_log_t *log,
    time_t now);
static void ngx_http_ttai_throttle_sum(ngx_http_ttai_throttle_slot_t *t,
    ngx_log_t *log, time_t now);
static void ngx_http_ttai_throttle_arm(time_t secs);
static void ngx_http_ttai_throttle_handler(ngx_event_t *ev);


static ngx_http_ttai_throttle_slot_t
    ngx_http_ttai_throttle_slots[NGX_HTTP_TTAI_THROTTLE_SLOTS];
static ngx_uint_t        ngx_http_ttai_throttle_nslots;

static ngx_event_t       ngx_http_ttai_throttle_timer;

/* the timer's ev->data: ngx_event_ident() reads a connection's fd */
static ngx_connection_t  ngx_http_ttai_throttle_conn;


void
ngx_http_ttai_throttle(ngx_log_t *log, ngx_http_ttai_throttle_pt write,
    ngx_str_t *key, ngx_uint_t n, void *data)
{
    time_t                          now;
    ngx_str_t                       once;
    ngx_http_ttai_throttle_slot_t  *t;

    now = ngx_time();

    t = ngx_http_ttai_throttle_slot(write, key, log, now);

    if (now - t->start >= NGX_HTTP_TTAI_THROTTLE_INTERVAL) {

        if (t->count) {
            /* a sum the timer has not written yet: this event joins it */
            t->count += n;
            ngx_http_ttai_throttle_sum(t, log, now);
            return;
        }

        t->start = now;
        t->written = 0;
    }

    if (t->written < NGX_HTTP_TTAI_THROTTLE_BURST) {
        t->written++;

        ngx_str_null(&once);
        write(log, key, n, &once, data);
        return;
    }

    t->count += n;

    ngx_http_ttai_throttle_arm(t->start + NGX_HTTP_TTAI_THROTTLE_INTERVAL
                               - now);
}


void
ngx_http_ttai_throttle_flush(ngx_log_t *log)
{
    time_t      now;
    ngx_uint_t  i;

    now = ngx_time();

    for (i = 0; i < ngx_http_ttai_throttle_nslots; i++) {
        if (ngx_http_ttai_throttle_slots[i].count) {
            ngx_http_ttai_throttle_sum(&ngx_http_ttai_throttle_slots[i], log,
                                       now);
        }
    }
}


static ngx_http_ttai_throttle_slot_t *
ngx_http_ttai_throttle_slot(ngx_http_ttai_throttle_pt write, ngx_str_t *key,
    ngx_log_t *log, time_t now)
{
    size_t                          len;
    ngx_uint_t                      i;
    ngx_http_ttai_throttle_slot_t  *t, *quiet, *oldest;

    len = ngx_min(key->len, NGX_HTTP_TTAI_THROTTLE_KEY);

    quiet = NULL;
    oldest = NULL;

    for (i = 0; i < ngx_http_ttai_throttle_nslots; i++) {
        t = &ngx_http_ttai_throttle_slots[i];

        if (t->write == write && t->key_len == len
            && ngx_memcmp(t->key, key->data, len) == 0)
        {
            return t;
        }

        if (t->count == 0 && (quiet == NULL || t->start < quiet->start)) {
            quiet = t;
        }

        if (oldest == NULL || t->start < oldest->start) {
            oldest = t;
        }
    }

    if (ngx_http_ttai_throttle_nslots < NGX_HTTP_TTAI_THROTTLE_SLOTS) {
        t = &ngx_http_ttai_throttle_slots[ngx_http_ttai_throttle_nslots++];

    } else if (quiet != NULL) {
        t = quiet;

    } else {
        ngx_http_ttai_throttle_sum(oldest, log, now);
        t = oldest;
    }

    t->write = write;
    t->start = 0;
    t->written = 0;
    t->count = 0;
    t->key_len = len;
    ngx_memcpy(t->key, key->data, len);

    return t;
}


static void
ngx_http_ttai_throttle_sum(ngx_http_ttai_throttle_slot_t *t, ngx_log_t *log,
    time_t now)
{
    u_char      buf[sizeof(" in the last  s") + NGX_TIME_T_LEN];
    ngx_str_t   key, span;
    ngx_uint_t  n;

    span.data = buf;
    span.len = ngx_sprintf(buf, " in the last %T s",
                           ngx_max(now - t->start, 1))
               - buf;

    key.data = t->key;
    key.len = t->key_len;

    n = t->count;

    /* a flood that goes on is summed again at the end of the next one */
    t->start = now;
    t->written = NGX_HTTP_TTAI_THROTTLE_BURST;
    t->count = 0;

    t->write(log, &key, n, &span, NULL);
}


/* the timer goes off in secs, or sooner if it is set for sooner */

static void
ngx_http_ttai_throttle_arm(time_t secs)
{
    ngx_msec_t    ms;
    ngx_event_t  *ev;

    ev = &ngx_http_ttai_throttle_timer;
    ms = (ngx_msec_t) ngx_max(secs, 1) * 1000;

    if (ev->timer_set
        && (ngx_msec_int_t) (ev->timer.key - (ngx_current_msec + ms)) <= 0)
    {
        return;
    }

    ngx_http_ttai_throttle_conn.fd = (ngx_socket_t) -1;

    ev->handler = ngx_http_ttai_throttle_handler;
    ev->data = &ngx_http_ttai_throttle_conn;
    ev->log = ngx_cycle->log;

    /* a worker that is shutting down does not wait for a log line */
    ev->cancelable = 1;

    ngx_add_timer(ev, ms);
}


static void
ngx_http_ttai_throttle_handler(ngx_event_t *ev)
{
    time_t                          now, next, left;
    ngx_uint_t                      i;
    ngx_http_ttai_throttle_slot_t  *t;

    now = ngx_time();
    next = 0;

    for (i = 0; i < ngx_http_ttai_throttle_nslots; i++) {
        t = &ngx_http_ttai_throttle_slots[i];

        if (t->count == 0) {
            continue;
        }

        left = t->start + NGX_HTTP_TTAI_THROTTLE_INTERVAL - now;

        if (left <= 0) {
            ngx_http_ttai_throttle_sum(t, ngx_cycle->log, now);
            continue;
        }

        if (next == 0 || left < next) {
            next = left;
        }
    }

    if (next) {
        ngx_http_ttai_throttle_arm(next);
    }
}
