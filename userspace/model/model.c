// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The validated configuration's destructor; config.c builds it. */
#include <stdlib.h>
#include "model.h"

void xtc_model_free(struct xtc_model *m)
{
	int i;

	if (!m)
		return;
	for (i = 0; i < m->n_sets; i++) {
		free(m->sets[i].prefixes);
		free(m->sets[i].ports_r);
	}
	free(m->sets);
	for (i = 0; i < m->n_files; i++)
		free(m->files[i]);
	free(m->files);
	free(m->statics);
	free(m->rules);
	xtc_arena_free(&m->names);
	free(m->ifaces);
	free(m->patterns);
	free(m->absent);
	free(m);
}
