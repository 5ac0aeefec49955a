// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xtc: the command line.  Parses global options and hands off to a command. */
#include <stdio.h>
#include "cli.h"
#include "mem.h"

int main(int argc, char **argv)
{
	xtc_mem_tune();
	return xtc_cli_main(argc, argv);
}
