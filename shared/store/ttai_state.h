
/*
 * Copyright (C) ttai contributors
 */


#ifndef _TTAI_STATE_H_INCLUDED_
#define _TTAI_STATE_H_INCLUDED_


#include <stddef.h>


/*
 * The state folder holds the database (hashes of secrets, sealed
 * tokens), the KV and session snapshots and R2's objects: it is the
 * server's user's alone.  ttai makes its files 0600 and its folders 0700
 * (ttai_d1.c, ttai_r2.c, the snapshots); this makes private what an
 * older version, a copy or a hand left open to others.
 */


typedef struct {
    size_t   tightened;          /* files and folders made private */
    size_t   failed;             /* that could not be */
    char     example[256];       /* the first one made private */
    char     error[320];         /* the first failure, with its path */
} ttai_state_report_t;


/*
 * path and, when it is a folder, everything under it: a file that other
 * users may read, write or run becomes 0600, such a folder 0700.
 * Symbolic links are neither followed nor changed; other kinds of file
 * are left alone; a path that does not exist is nothing to do.  Blocks:
 * for the CLI, and for nginx while it loads its configuration.
 */
void ttai_state_private(const char *path, ttai_state_report_t *rep);


#endif /* _TTAI_STATE_H_INCLUDED_ */
