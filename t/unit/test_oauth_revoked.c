
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ttai_oauth.h"
#include "ttai_oauth_revoked.h"


#define NOW     1700000000LL
#define WINDOW  (TTAI_OAUTH_ACCESS_TTL + 60)


static void
test_window(void **state)
{
    assert_int_equal(ttai_oauth_revoked_window(60), WINDOW);
    assert_int_equal(ttai_oauth_revoked_window(0), TTAI_OAUTH_ACCESS_TTL);
    assert_int_equal(ttai_oauth_revoked_window(-5), TTAI_OAUTH_ACCESS_TTL);
}


/* an entry lives as long as a token it concerns may be accepted */
static void
test_needed(void **state)
{
    assert_true(ttai_oauth_revoked_needed(NOW, 0, WINDOW, NOW));
    assert_true(ttai_oauth_revoked_needed(NOW, 0, WINDOW,
                                          NOW + WINDOW - 1));
    assert_false(ttai_oauth_revoked_needed(NOW, 0, WINDOW, NOW + WINDOW));

    /* a full set refuses every token up to full_at: that covers it */
    assert_false(ttai_oauth_revoked_needed(NOW, NOW, WINDOW, NOW));
    assert_false(ttai_oauth_revoked_needed(NOW - 10, NOW, WINDOW, NOW));
    assert_true(ttai_oauth_revoked_needed(NOW + 1, NOW, WINDOW, NOW + 1));
}


static void
test_family(void **state)
{
    /* every token of a revoked sign-in, whenever it was issued */
    assert_non_null(ttai_oauth_revoked_why(NOW - 100, 1, 0, 0, WINDOW,
                                           NOW));
    assert_non_null(ttai_oauth_revoked_why(0, 1, 0, 0, WINDOW, NOW));
    assert_string_equal(ttai_oauth_revoked_why(NOW, 1, 0, 0, WINDOW, NOW),
                        "its sign-in was revoked");

    /* nothing in the set: the token goes on */
    assert_null(ttai_oauth_revoked_why(NOW, 0, 0, 0, WINDOW, NOW));
}


/* a user: the tokens issued up to the revocation, its second included */
static void
test_user(void **state)
{
    assert_non_null(ttai_oauth_revoked_why(NOW - 3000, 0, NOW, 0, WINDOW,
                                           NOW + 10));
    assert_string_equal(ttai_oauth_revoked_why(NOW, 0, NOW, 0, WINDOW,
                                               NOW + 10),
                        "its user was revoked after it was issued");
    assert_null(ttai_oauth_revoked_why(NOW + 1, 0, NOW, 0, WINDOW,
                                       NOW + 10));

    /* a token without iat cannot show it came after */
    assert_non_null(ttai_oauth_revoked_why(0, 0, NOW, 0, WINDOW, NOW));
}


/* a full set: every token issued up to full_at, for a window */
static void
test_full(void **state)
{
    assert_non_null(ttai_oauth_revoked_why(NOW - 50, 0, 0, NOW, WINDOW,
                                           NOW + 1));
    assert_non_null(ttai_oauth_revoked_why(NOW, 0, 0, NOW, WINDOW,
                                           NOW + WINDOW - 1));
    assert_non_null(ttai_oauth_revoked_why(0, 0, 0, NOW, WINDOW, NOW));
    assert_string_equal(ttai_oauth_revoked_why(NOW, 0, 0, NOW, WINDOW,
                                               NOW),
                        "issued before a revocation the full set could "
                        "not hold");

    /* a token issued since goes on, and the rule ends with the window */
    assert_null(ttai_oauth_revoked_why(NOW + 1, 0, 0, NOW, WINDOW,
                                       NOW + 1));
    assert_null(ttai_oauth_revoked_why(NOW - 50, 0, 0, NOW, WINDOW,
                                       NOW + WINDOW));

    /* what the set holds still counts for the tokens issued since */
    assert_non_null(ttai_oauth_revoked_why(NOW + 5, 1, 0, NOW, WINDOW,
                                           NOW + 6));
    assert_non_null(ttai_oauth_revoked_why(NOW + 5, 0, NOW + 5, NOW,
                                           WINDOW, NOW + 6));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_needed),
        cmocka_unit_test(test_family),
        cmocka_unit_test(test_user),
        cmocka_unit_test(test_full),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
