
/*
 * Copyright (C) ttai contributors
 */


/*
 * DXLink's messages as they come off the websocket: the input is one
 * message, handed to a client in each state of the handshake.
 *
 * Checked: ttai_dxl_receive() never fails but for memory; a message it
 * cannot read leaves the feed failed with its reason, and a feed that
 * failed says why; every message it asks to send is JSON with a type;
 * every event it decodes is an object with a type and a symbol, and no
 * number in it is anything but finite.
 */

#include <math.h>

#include <jansson.h>

#include "ttai_dxlink.h"
#include "fuzz.h"


static const char  *fuzz_dxl_steps[] = {
    "{\"type\":\"AUTH_STATE\",\"channel\":0,\"state\":\"UNAUTHORIZED\"}",
    "{\"type\":\"AUTH_STATE\",\"channel\":0,\"state\":\"AUTHORIZED\"}",
    "{\"type\":\"CHANNEL_OPENED\",\"channel\":3,\"service\":\"FEED\"}",
    "{\"type\":\"FEED_CONFIG\",\"channel\":3,\"dataFormat\":\"COMPACT\"}",
    NULL
};


static void fuzz_dxl_out(ttai_dxl_t *d, ttai_dxl_out_t *out);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t           i, k;
    char            *text;
    ttai_dxl_t      *d;
    ttai_dxl_out_t   out;

    /* the message, after each step of the handshake */
    for (k = 0; k <= 4; k++) {
        d = ttai_dxl_create("token");
        fuzz_check(d != NULL, "no client");

        text = ttai_dxl_start(d);
        free(text);

        for (i = 0; i < k; i++) {
            fuzz_check(ttai_dxl_receive(d, fuzz_dxl_steps[i],
                                        strlen(fuzz_dxl_steps[i]), &out)
                       == 0, "a step of the handshake failed");
            ttai_dxl_out_free(&out);
        }

        fuzz_check(ttai_dxl_receive(d, (const char *) data, size, &out)
                   == 0, "receive failed");

        fuzz_dxl_out(d, &out);
        ttai_dxl_out_free(&out);
        ttai_dxl_free(d);
    }

    return 0;
}


static void
fuzz_dxl_out(ttai_dxl_t *d, ttai_dxl_out_t *out)
{
    size_t       i;
    json_t      *m, *ev, *v;
    const char  *key;

    if (ttai_dxl_state(d) == TTAI_DXL_FAILED) {
        fuzz_check(out->error[0] != '\0', "a failed feed without a reason");
    }

    for (i = 0; i < out->nsend; i++) {
        m = json_loads(out->send[i], 0, NULL);
        fuzz_check(json_is_string(json_object_get(m, "type")),
                   "a message to send without a type: %s", out->send[i]);
        json_decref(m);
    }

    json_array_foreach(out->events, i, ev) {
        fuzz_check(json_is_string(json_object_get(ev, "type"))
                   && json_is_string(json_object_get(ev, "symbol")),
                   "an event without a type or a symbol");

        json_object_foreach(ev, key, v) {
            fuzz_check(!json_is_number(v) || isfinite(json_number_value(v)),
                       "%s is not finite", key);
        }
    }
}
