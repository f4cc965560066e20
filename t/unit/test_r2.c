
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "ttai_r2.h"


static char  root[64];


static int
setup(void **state)
{
    snprintf(root, sizeof(root), "/tmp/ttai-r2-test-XXXXXX");

    if (mkdtemp(root) == NULL) {
        return -1;
    }

    return sodium_init() < 0 ? -1 : 0;
}


static int
teardown(void **state)
{
    char  cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);

    return system(cmd) == 0 ? 0 : -1;
}


static void
test_keys_that_leave_the_bucket_are_refused(void **state)
{
    size_t  i;

    static const char  *bad[] = {
        "../escape", "a/../../escape", "/etc/passwd", "a//b", "a/./b",
        "a/", ".", "..", ".ttai-meta/x.json", ".ttai-tmp-1", "",
        /* every name of ttai's own, which listings pass over */
        ".ttai-other", ".ttai-", ".ttai-x/y"
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_non_null(ttai_r2_check_key(bad[i], strlen(bad[i])));
    }

    assert_non_null(ttai_r2_check_key("a\0b", 3));

    assert_null(ttai_r2_check_key("a", 1));
    assert_null(ttai_r2_check_key("reports/2026/q1.pdf", 19));
    assert_null(ttai_r2_check_key("a..b/.hidden", 12));
    assert_null(ttai_r2_check_key(".ttai", 5));
    assert_null(ttai_r2_check_key("a/.ttai-x", 9));

    /* a segment is a file name, and its metadata's with ".json" */
    {
        char  key[300];

        memset(key, 'k', sizeof(key));
        key[0] = 'a';
        key[1] = '/';
        assert_null(ttai_r2_check_key(key, 2 + 250));
        assert_non_null(ttai_r2_check_key(key, 2 + 251));
        assert_non_null(ttai_r2_check_key(key + 2, 251));
    }

    assert_non_null(ttai_r2_check_bucket("ab", 2));
    assert_non_null(ttai_r2_check_bucket("Upper", 5));
    assert_non_null(ttai_r2_check_bucket("-abc", 4));
    assert_non_null(ttai_r2_check_bucket("a/b", 3));
    assert_null(ttai_r2_check_bucket("ttai-storage", 12));
}


static void
test_traversal_writes_nothing(void **state)
{
    char            err[TTAI_R2_ERRLEN], path[256];
    ttai_r2_meta_t  meta;

    assert_int_equal(ttai_r2_put(root, "bucket", "../../outside", "x", 1,
                                 NULL, &meta, err), TTAI_R2_INVALID);
    assert_non_null(strstr(err, "leave the bucket"));

    snprintf(path, sizeof(path), "%s/../outside", root);
    assert_int_equal(access(path, F_OK), -1);

    assert_int_equal(ttai_r2_get(root, "bucket", "../x", &meta, NULL, err),
                     TTAI_R2_INVALID);
    assert_int_equal(ttai_r2_delete(root, "bucket", "/x", err),
                     TTAI_R2_INVALID);
}


/* objects, their metadata and their folders are the server's user's */
static void
test_private_modes(void **state)
{
    char            err[TTAI_R2_ERRLEN], path[256];
    size_t          i;
    mode_t          mask;
    struct stat     st;
    ttai_r2_meta_t  meta;

    static const char  *dirs[] = { "bucket", "bucket/a", "bucket/a/b",
                                   "bucket/.ttai-meta/a/b" };

    mask = umask(022);

    assert_int_equal(ttai_r2_put(root, "bucket", "a/b/c.txt", "x", 1,
                                 "text/plain", &meta, err), TTAI_R2_OK);

    (void) umask(mask);

    snprintf(path, sizeof(path), "%s/bucket/a/b/c.txt", root);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    snprintf(path, sizeof(path), "%s/bucket/.ttai-meta/a/b/c.txt.json",
             root);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
        assert_int_equal(stat(path, &st), 0);

        if ((st.st_mode & 07777) != 0700) {
            fail_msg("%s is %04o", dirs[i], st.st_mode & 07777);
        }
    }
}


static void
test_put_get_head_delete(void **state)
{
    char            err[TTAI_R2_ERRLEN], path[256];
    void           *data;
    ttai_r2_meta_t  meta, got;

    assert_int_equal(ttai_r2_put(root, "bucket", "docs/a.txt", "hello", 5,
                                 "text/plain", &meta, err), TTAI_R2_OK);
    assert_int_equal(meta.size, 5);
    assert_int_equal(strlen(meta.etag), TTAI_R2_ETAG_LEN);

    snprintf(path, sizeof(path), "%s/bucket/docs/a.txt", root);
    assert_int_equal(access(path, F_OK), 0);

    assert_int_equal(ttai_r2_get(root, "bucket", "docs/a.txt", &got, &data,
                                 err), TTAI_R2_OK);
    assert_memory_equal(data, "hello", 5);
    assert_string_equal(got.content_type, "text/plain");
    assert_string_equal(got.etag, meta.etag);
    assert_int_equal(got.uploaded, meta.uploaded);
    free(data);

    /* the same content has the same etag, other content another one */
    assert_int_equal(ttai_r2_put(root, "bucket", "b", "hello", 5, NULL,
                                 &got, err), TTAI_R2_OK);
    assert_string_equal(got.etag, meta.etag);
    assert_string_equal(got.content_type, "application/octet-stream");
    assert_int_equal(ttai_r2_put(root, "bucket", "b", "hullo", 5, NULL,
                                 &got, err), TTAI_R2_OK);
    assert_string_not_equal(got.etag, meta.etag);

    assert_int_equal(ttai_r2_delete(root, "bucket", "docs/a.txt", err),
                     TTAI_R2_OK);
    assert_int_equal(ttai_r2_head(root, "bucket", "docs/a.txt", &got, err),
                     TTAI_R2_NOT_FOUND);
    assert_int_equal(ttai_r2_delete(root, "bucket", "docs/a.txt", err),
                     TTAI_R2_NOT_FOUND);

    /* the folders the key made went with it */
    snprintf(path, sizeof(path), "%s/bucket/docs", root);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof(path), "%s/bucket/.ttai-meta/docs", root);
    assert_int_equal(access(path, F_OK), -1);
}


static void
test_conflicts_are_refused(void **state)
{
    char            err[TTAI_R2_ERRLEN];
    ttai_r2_meta_t  meta;

    assert_int_equal(ttai_r2_put(root, "bucket", "a", "1", 1, NULL, &meta,
                                 err), TTAI_R2_OK);
    assert_int_equal(ttai_r2_put(root, "bucket", "a/b", "2", 1, NULL, &meta,
                                 err), TTAI_R2_INVALID);
    assert_int_equal(ttai_r2_put(root, "bucket", "c/d", "3", 1, NULL, &meta,
                                 err), TTAI_R2_OK);

    /* the longest segment there is: the object and its metadata */
    {
        char            key[2 + 250 + 1];
        ttai_r2_meta_t  got;

        memset(key, 'k', sizeof(key) - 1);
        key[0] = 'e';
        key[1] = '/';
        key[sizeof(key) - 1] = '\0';

        assert_int_equal(ttai_r2_put(root, "bucket", key, "4", 1,
                                     "text/plain", &meta, err), TTAI_R2_OK);
        assert_int_equal(ttai_r2_head(root, "bucket", key, &got, err),
                         TTAI_R2_OK);
        assert_string_equal(got.content_type, "text/plain");
    }
    assert_int_equal(ttai_r2_put(root, "bucket", "c", "4", 1, NULL, &meta,
                                 err), TTAI_R2_INVALID);
}


static void
test_list_by_prefix(void **state)
{
    char            err[TTAI_R2_ERRLEN];
    ttai_r2_list_t  list;
    ttai_r2_meta_t  meta;

    assert_int_equal(ttai_r2_list(root, "empty", NULL, 0, &list, err),
                     TTAI_R2_OK);
    assert_int_equal(list.nobjects, 0);
    ttai_r2_list_free(&list);

    assert_int_equal(ttai_r2_put(root, "bucket", "r/2", "bb", 2, NULL,
                                 &meta, err), TTAI_R2_OK);
    assert_int_equal(ttai_r2_put(root, "bucket", "r/1", "a", 1, NULL,
                                 &meta, err), TTAI_R2_OK);
    assert_int_equal(ttai_r2_put(root, "bucket", "s", "c", 1, NULL,
                                 &meta, err), TTAI_R2_OK);

    assert_int_equal(ttai_r2_list(root, "bucket", "r/", 0, &list, err),
                     TTAI_R2_OK);
    assert_int_equal(list.nobjects, 2);
    assert_string_equal(list.objects[0].key, "r/1");
    assert_string_equal(list.objects[1].key, "r/2");
    assert_int_equal(list.objects[1].size, 2);
    assert_false(list.truncated);
    ttai_r2_list_free(&list);

    assert_int_equal(ttai_r2_list(root, "bucket", NULL, 2, &list, err),
                     TTAI_R2_OK);
    assert_int_equal(list.nobjects, 2);
    assert_true(list.truncated);
    ttai_r2_list_free(&list);
}


/*
 * The metadata file's etag and content type become response headers: a
 * file that holds others than ttai writes is stale, and the object is
 * described from its own file
 */

static void
test_metadata_that_cannot_be_headers(void **state)
{
    char            err[TTAI_R2_ERRLEN], path[PATH_MAX];
    FILE           *f;
    size_t          i;
    ttai_r2_meta_t  meta, got;

    static const char  *files[] = {
        "{\"size\":3,\"etag\":\"0123456789abcdef0123456789abcde\\\"\","
        "\"content_type\":\"text/plain\",\"uploaded\":1}",
        "{\"size\":3,\"etag\":\"0123456789abcdef0123456789abcdef\","
        "\"content_type\":\"text/plain\\r\\nX-Injected: 1\","
        "\"uploaded\":1}",
        "{\"size\":3,\"etag\":\"0123456789ABCDEF0123456789ABCDEF\","
        "\"content_type\":\"text/plain\",\"uploaded\":1}",
    };

    assert_int_equal(ttai_r2_put(root, "bucket", "k", "abc", 3, "text/csv",
                                 &meta, err), TTAI_R2_OK);

    snprintf(path, sizeof(path), "%s/bucket/.ttai-meta/k.json", root);

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(files[i], f);
        fclose(f);

        assert_int_equal(ttai_r2_head(root, "bucket", "k", &got, err),
                         TTAI_R2_OK);
        assert_string_equal(got.etag, meta.etag);
        assert_string_equal(got.content_type, "application/octet-stream");
        assert_int_equal(got.size, 3);
    }

    /* one as ttai writes it is read as it is */
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"size\":3,\"etag\":\"%s\",\"content_type\":"
            "\"text/plain; charset=utf-8\",\"uploaded\":7}", meta.etag);
    fclose(f);

    assert_int_equal(ttai_r2_head(root, "bucket", "k", &got, err),
                     TTAI_R2_OK);
    assert_string_equal(got.content_type, "text/plain; charset=utf-8");
    assert_int_equal(got.uploaded, 7);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_keys_that_leave_the_bucket_are_refused),
        cmocka_unit_test_setup_teardown(test_traversal_writes_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_modes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_put_get_head_delete,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflicts_are_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_by_prefix,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata_that_cannot_be_headers,
                                        setup, teardown),
    };

    return cmocka_run_group_tests_name("ttai_r2", tests, NULL, NULL);
}
