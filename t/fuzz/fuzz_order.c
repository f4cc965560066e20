
/*
 * Copyright (C) ttai contributors
 */


/*
 * What confirms an order (ttai_order.c): the input is an order's
 * arguments, as a model sends them to place_order (JSON), then FUZZ_SEP
 * and a confirmation token as a model could make one up.
 *
 * Checked: arguments that make an order make one text, twice the same;
 * a token made for it is taken for that order and user, and for no
 * other user, nor with any one character of it changed; the token of
 * the input is never taken for the order unless it is exactly one made
 * for it under the key (the fuzzer has no way to make one, but a seed
 * may carry one, made here); the operator's limits either pass with a
 * notional that is a finite amount of at least 0, or refuse saying why.
 */

#include <math.h>

#include <jansson.h>
#include <sodium.h>

#include "ttai_order.h"
#include "fuzz.h"


static const unsigned char  fuzz_key[TTAI_ORDER_KEY_LEN] = "ttai fuzz order";

#define FUZZ_NOW  1800000000


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  rc;
    char                 err[256], token[TTAI_ORDER_TOKEN_LEN], *text, *again;
    char                 nonce[TTAI_ORDER_NONCE_HEX + 1], given[256];
    char                 changed[TTAI_ORDER_TOKEN_LEN];
    size_t               n, i, len;
    json_t              *args, *c, *mids;
    double               notional;
    fuzz_piece_t         pieces[2];
    ttai_order_limits_t  lim;

    if (sodium_init() < 0) {
        return 0;
    }

    n = fuzz_split(data, size, pieces, 2);

    args = json_loadb(pieces[0].data, pieces[0].len, JSON_REJECT_DUPLICATES,
                      NULL);
    if (!json_is_object(args)) {
        json_decref(args);
        return 0;
    }

    c = ttai_order_canonical(args, "5WT00001", err, sizeof(err));
    json_decref(args);

    if (c == NULL) {
        fuzz_check(err[0] != '\0', "a refused order says nothing");
        return 0;
    }

    text = ttai_order_canonical_text(c);
    again = ttai_order_canonical_text(c);
    fuzz_check(text != NULL && again != NULL && strcmp(text, again) == 0,
               "one order, two texts");
    free(again);

    fuzz_check(ttai_order_token(fuzz_key, "alice", text, FUZZ_NOW, 60,
                                token, sizeof(token)) == 0,
               "no token for %s", text);
    fuzz_check(ttai_order_token_check(fuzz_key, "alice", text, token,
                                      FUZZ_NOW + 1, nonce)
               == TTAI_ORDER_TOKEN_OK, "its own token refused: %s", token);
    fuzz_check(ttai_order_token_check(fuzz_key, "mallory", text, token,
                                      FUZZ_NOW + 1, nonce)
               != TTAI_ORDER_TOKEN_OK, "another user's token taken");
    fuzz_check(ttai_order_token_check(fuzz_key, "alice", text, token,
                                      FUZZ_NOW + 61, nonce)
               == TTAI_ORDER_TOKEN_EXPIRED, "an expired token taken");

    len = strlen(token);

    for (i = 0; i < len; i += 7) {
        memcpy(changed, token, len + 1);
        changed[i] = (changed[i] == 'a') ? 'b' : 'a';

        fuzz_check(ttai_order_token_check(fuzz_key, "alice", text, changed,
                                          FUZZ_NOW + 1, nonce)
                   != TTAI_ORDER_TOKEN_OK,
                   "a token changed at %zu taken", i);
    }

    /* the input's own token: taken only if it is this order's, verbatim */
    if (n == 2 && pieces[1].len < sizeof(given)) {
        memcpy(given, pieces[1].data, pieces[1].len);
        given[pieces[1].len] = '\0';

        rc = ttai_order_token_check(fuzz_key, "alice", text, given,
                                    FUZZ_NOW + 1, nonce);
        if (rc == TTAI_ORDER_TOKEN_OK) {
            fuzz_check(ttai_order_token_check(fuzz_key, "bob", text, given,
                                              FUZZ_NOW + 1, nonce)
                       != TTAI_ORDER_TOKEN_OK,
                       "a given token taken for two users");
        }
    }

    memset(&lim, 0, sizeof(lim));
    lim.max_notional = 10000;
    lim.max_contracts = 10;
    lim.price_band = 0.1;

    mids = json_pack("{s:f}", "AAPL", 150.0);
    err[0] = '\0';
    notional = -1;

    if (ttai_order_check_limits(&lim, c, mids, 0, &notional, err,
                                sizeof(err)) == 0)
    {
        fuzz_check(isfinite(notional) && notional >= 0,
                   "notional %f of %s", notional, text);
    } else {
        fuzz_check(err[0] != '\0', "a limit refused without saying which");
    }

    json_decref(mids);
    json_decref(c);
    free(text);

    return 0;
}
