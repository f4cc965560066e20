
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>

#include "ttai_cli.h"


int
ttai_cli_r2(int argc, char **argv)
{
    fprintf(stderr, "ttai: \"r2\" is not implemented yet\n");

    return TTAI_EXIT_FAIL;
}
