
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>

#include "ttai_cli.h"


int
ttai_cli_d1(int argc, char **argv)
{
    fprintf(stderr, "ttai: \"d1\" is not implemented yet\n");

    return TTAI_EXIT_FAIL;
}
