// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The validated configuration's destructor; config.c builds it. */
#include <stdlib.h>
#include "model.h"

void xtc_model_free(struct xtc_model *m)
{
	if (!m)
		return;
	free(m->statics);
	free(m->rules);
	free(m->ifaces);
	free(m);
}
