/*
 * plan.c: reading the plan, one operation at a time, in place (the
 * format is in plan.h).
 */
#include <string.h>

#include "init.h"

static void *take(struct cursor *c, size_t n)
{
	char *p = c->p;
	if ((size_t)(c->end - c->p) < n)
		fail(0, "init: plan is truncated");
	c->p += n;
	return p;
}

static uint32_t take_u32(struct cursor *c)
{
	uint32_t v;
	memcpy(&v, take(c, 4), 4);
	return v;
}

void next_op(struct cursor *c, struct op *op)
{
	static char *strs[4096];
	static uint32_t lens[4096];
	static uint64_t ints[4096];

	op->code = take_u32(c);
	op->nints = take_u32(c);
	op->nstrs = take_u32(c);
	if (op->nints > 4096 || op->nstrs > 4096)
		fail(0, "init: plan operation %u is too large", op->code);
	memcpy(ints, take(c, 8 * (size_t)op->nints), 8 * (size_t)op->nints);
	for (uint32_t i = 0; i < op->nstrs; i++) {
		lens[i] = take_u32(c);
		strs[i] = take(c, lens[i]);
		if (lens[i] == 0 || strs[i][lens[i] - 1] != '\0')
			fail(0, "init: plan string is not terminated");
	}
	op->ints = ints;
	op->strs = strs;
	op->lens = lens;
}

void need(struct op *op, uint32_t nints, uint32_t nstrs)
{
	if (op->nints < nints || op->nstrs < nstrs)
		fail(0, "init: plan operation %u is missing arguments", op->code);
}
