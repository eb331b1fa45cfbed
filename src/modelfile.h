/* Reading back a model that `build --json` wrote: the other side of `diff --against FILE`. */
#ifndef MXFENCE_MODELFILE_H
#define MXFENCE_MODELFILE_H

#include "diag.h"
#include "sets.h"

/* 0, or -1 with every problem in d (FILE: json.path: error: ...). */
int modelfile_read(const char *path, struct set_list *out, struct diag *d);

#endif
