
/*
 * Copyright (C) ttai contributors
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ttai_state.h"


typedef struct {
    char  dir[64];
} fixture_t;


static int
setup(void **state)
{
    fixture_t  *f;

    f = calloc(1, sizeof(fixture_t));
    assert_non_null(f);

    snprintf(f->dir, sizeof(f->dir), "%s/ttai-test-state-XXXXXX",
             P_tmpdir);
    assert_non_null(mkdtemp(f->dir));

    *state = f;

    return 0;
}


static int
teardown(void **state)
{
    fixture_t  *f = *state;
    char        cmd[160];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);

    free(f);

    return 0;
}


static const char *
at(fixture_t *f, const char *rel)
{
    static char  path[256];

    snprintf(path, sizeof(path), "%s/%s", f->dir, rel);

    return path;
}


static void
make(fixture_t *f, const char *rel, mode_t mode)
{
    FILE  *fp;

    fp = fopen(at(f, rel), "w");
    assert_non_null(fp);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(at(f, rel), mode), 0);
}


static void
folder(fixture_t *f, const char *rel, mode_t mode)
{
    assert_int_equal(mkdir(at(f, rel), 0700), 0);
    assert_int_equal(chmod(at(f, rel), mode), 0);
}


static mode_t
mode_of(fixture_t *f, const char *rel)
{
    struct stat  st;

    assert_int_equal(lstat(at(f, rel), &st), 0);

    return st.st_mode & 07777;
}


static void
test_tightens_what_others_can_reach(void **state)
{
    fixture_t            *f = *state;
    char                  state_dir[128], target[256];
    ttai_state_report_t   rep;

    folder(f, "state", 0755);
    folder(f, "state/d1", 0750);
    folder(f, "state/kv", 0700);
    folder(f, "state/r2", 0777);
    folder(f, "state/r2/bucket", 0705);
    make(f, "state/d1/db.sqlite", 0644);
    make(f, "state/d1/db.sqlite-wal", 0660);
    make(f, "state/kv/kv.snapshot", 0600);
    make(f, "state/r2/bucket/object", 0604);
    make(f, "state/r2/bucket/private", 0400);

    /* a link, and what it points to outside, are left as they are */
    make(f, "outside", 0644);
    snprintf(target, sizeof(target), "%s", at(f, "outside"));
    assert_int_equal(symlink(target, at(f, "state/r2/link")), 0);

    snprintf(state_dir, sizeof(state_dir), "%s/state", f->dir);
    ttai_state_private(state_dir, &rep);

    assert_int_equal(rep.tightened, 7);
    assert_int_equal(rep.failed, 0);
    assert_string_equal(rep.example, state_dir);

    assert_int_equal(mode_of(f, "state"), 0700);
    assert_int_equal(mode_of(f, "state/d1"), 0700);
    assert_int_equal(mode_of(f, "state/kv"), 0700);
    assert_int_equal(mode_of(f, "state/r2"), 0700);
    assert_int_equal(mode_of(f, "state/r2/bucket"), 0700);
    assert_int_equal(mode_of(f, "state/d1/db.sqlite"), 0600);
    assert_int_equal(mode_of(f, "state/d1/db.sqlite-wal"), 0600);
    assert_int_equal(mode_of(f, "state/kv/kv.snapshot"), 0600);
    assert_int_equal(mode_of(f, "state/r2/bucket/object"), 0600);

    /* private already: stricter than 0600 is kept */
    assert_int_equal(mode_of(f, "state/r2/bucket/private"), 0400);
    assert_int_equal(mode_of(f, "outside"), 0644);

    /* a second pass finds nothing to do */
    ttai_state_private(state_dir, &rep);
    assert_int_equal(rep.tightened, 0);
    assert_int_equal(rep.failed, 0);
    assert_string_equal(rep.example, "");
}


static void
test_one_file_and_nothing(void **state)
{
    fixture_t            *f = *state;
    char                  path[128];
    ttai_state_report_t   rep;

    make(f, "db.sqlite", 0666);
    snprintf(path, sizeof(path), "%s/db.sqlite", f->dir);

    ttai_state_private(path, &rep);
    assert_int_equal(rep.tightened, 1);
    assert_int_equal(mode_of(f, "db.sqlite"), 0600);

    /* no such file: nothing to do, nothing failed */
    snprintf(path, sizeof(path), "%s/db.sqlite-wal", f->dir);
    ttai_state_private(path, &rep);
    assert_int_equal(rep.tightened, 0);
    assert_int_equal(rep.failed, 0);
}


static void
test_failure_is_reported(void **state)
{
    fixture_t            *f = *state;
    char                  path[128];
    ttai_state_report_t   rep;

    /* under a file, a path cannot be reached: said, with the path */
    make(f, "file", 0600);
    snprintf(path, sizeof(path), "%s/file/below", f->dir);

    ttai_state_private(path, &rep);
    assert_int_equal(rep.tightened, 0);
    assert_int_equal(rep.failed, 1);
    assert_non_null(strstr(rep.error, path));
    assert_non_null(strstr(rep.error, "Not a directory"));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_tightens_what_others_can_reach,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_file_and_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failure_is_reported, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
