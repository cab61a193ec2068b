/* poly_impl.h: the inside of the polynomial engine, shared by its three
 * files and no one else: poly.c (the algebra and the atoms), fold.c
 * (templates folded through the database) and polyeval.c (evaluation at a
 * runtime point).
 *
 * A polynomial is a sorted list of monomials c * a1^k1 * a2^k2 ..., whose
 * atoms are runtime variables (the first LMP_NVARS) or opaque operations
 * (min, ceil, division by a runtime value, a runtime condition) over
 * polynomials.  Equal atoms are one atom, so each is computed once per
 * point. */
#ifndef LMP_POLY_IMPL_H
#define LMP_POLY_IMPL_H

#include "lmp.h"

typedef struct factor {
	int atom, exp;
} factor;

typedef struct mono {
	lmp_num c;
	int nf;
	factor *f;
} mono;

struct lmp_poly {
	int nm;
	int ints; /* polyeval.c: every coefficient an integer of 64 bits: 1 yes, -1 no, 0 not yet known */
	mono *m;
};

typedef struct atom {
	int op; /* -1: runtime variable #var */
	int var;
	int nargs;
	lmp_poly **args;
	const char *where; /* entry, quantity and template, for messages */
	int col;
	unsigned long hash; /* of op and args, the key of the index */
} atom;

struct lmp_prog {
	lmp_arena *arena;
	atom *atoms;
	int natoms, cap;
	int *index;  /* open addressing over the opaque atoms: an atom number, 0 empty */
	size_t nindex; /* slots, a power of two */
	lmp_num *val; /* per atom, valid when gen == cur */
	unsigned *gen;
	int64_t *ival; /* per atom, val as an int64 when igen == cur (an integer that fits) */
	unsigned *igen;
	int nval;
	unsigned cur;
	const lmp_runtime *rt;
};

/* poly.c */
int poly_numerr(lmp_err *e, int code);
lmp_poly *poly_atom(lmp_prog *p, int a);
lmp_poly *poly_add_scaled(lmp_prog *p, const lmp_poly *a, const lmp_num *k, const lmp_poly *b, lmp_err *e);
/* NULL with e->status 0: too large, the caller keeps the product opaque. */
lmp_poly *poly_mul(lmp_prog *p, const lmp_poly *a, const lmp_poly *b, lmp_err *e);
/* The atom op(args), shared with an equal one made before. */
lmp_poly *poly_opaque(lmp_prog *p, int op, lmp_poly **args, int nargs, const char *where, int col, lmp_err *e);

static inline lmp_num
poly_const_value(const lmp_poly *q)
{
	return q->nm ? q->m[0].c : lmp_num_int(0);
}

/* polyeval.c: an operation applied to numbers; returns an lmp_numerr. */
int poly_apply(int op, const lmp_num *v, int n, lmp_num *r);

#endif
