
/*
 * Copyright (C) ttai contributors
 */


#include <stdio.h>

#include "ttai_cli.h"


int
ttai_cli_state(int argc, char **argv)
{
    fprintf(stderr, "ttai: \"state\" is not implemented yet\n");

    return TTAI_EXIT_FAIL;
}
