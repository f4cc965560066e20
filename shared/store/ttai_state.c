
/*
 * Copyright (C) ttai contributors
 */


#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "ttai_state.h"


static void ttai_state_walk(char *path, size_t len,
    ttai_state_report_t *rep);
static void ttai_state_failed(ttai_state_report_t *rep, const char *path,
    const char *what);


void
ttai_state_private(const char *path, ttai_state_report_t *rep)
{
    char    buf[PATH_MAX];
    size_t  len;

    memset(rep, 0, sizeof(ttai_state_report_t));

    len = strlen(path);

    if (len >= sizeof(buf)) {
        ttai_state_failed(rep, path, "the path is too long");
        return;
    }

    memcpy(buf, path, len + 1);

    ttai_state_walk(buf, len, rep);
}


/* path has len bytes in a buffer of PATH_MAX, which the walk extends */

static void
ttai_state_walk(char *path, size_t len, ttai_state_report_t *rep)
{
    DIR            *dir;
    size_t          n;
    mode_t          mode;
    struct stat     st;
    struct dirent  *e;

    if (lstat(path, &st) != 0) {
        if (errno != ENOENT) {
            ttai_state_failed(rep, path, strerror(errno));
        }

        return;
    }

    if (S_ISDIR(st.st_mode)) {
        mode = 0700;

    } else if (S_ISREG(st.st_mode)) {
        mode = 0600;

    } else {
        /* a link is not followed: what it points to is not the state's */
        return;
    }

    if (st.st_mode & 077) {
        if (chmod(path, mode) != 0) {
            ttai_state_failed(rep, path, strerror(errno));

        } else {
            if (rep->tightened++ == 0) {
                snprintf(rep->example, sizeof(rep->example), "%s", path);
            }
        }
    }

    if (!S_ISDIR(st.st_mode)) {
        return;
    }

    dir = opendir(path);
    if (dir == NULL) {
        ttai_state_failed(rep, path, strerror(errno));
        return;
    }

    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }

        n = strlen(e->d_name);

        if (len + 1 + n >= PATH_MAX) {
            ttai_state_failed(rep, path, "a path under it is too long");
            continue;
        }

        path[len] = '/';
        memcpy(path + len + 1, e->d_name, n + 1);

        ttai_state_walk(path, len + 1 + n, rep);

        path[len] = '\0';
    }

    (void) closedir(dir);
}


static void
ttai_state_failed(ttai_state_report_t *rep, const char *path,
    const char *what)
{
    if (rep->failed++ == 0) {
        snprintf(rep->error, sizeof(rep->error), "\"%.256s\": %s", path,
                 what);
    }
}
