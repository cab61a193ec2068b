/* collective.c: the alpha-beta time of a collective.
 *
 * A collective over n devices on a ring (NCCL's ring algorithm, the one
 * its bus-bandwidth figures assume: nccl-tests doc/PERFORMANCE.md) moves,
 * per device, a share of the buffer in each of its steps; each step pays
 * the link's latency (alpha) and its bytes over the link's one-direction
 * bandwidth (beta):
 *   all-reduce      2(n-1)/n x bytes, 2(n-1) steps (reduce-scatter, then all-gather)
 *   all-gather      (n-1)/n x bytes,  n-1 steps (bytes: the gathered buffer)
 *   reduce-scatter  (n-1)/n x bytes,  n-1 steps (bytes: the buffer reduced)
 *   all-to-all      (n-1)/n x bytes,  n-1 steps (bytes: a device's send buffer)
 *   send/recv       bytes,            1 step
 * Bytes are each device's buffer, as the eval document records them. */
#include "lmp.h"

static const char *const names[LMP_NCOLL] = {
	"none", "all_reduce", "all_gather", "reduce_scatter", "all_to_all", "send_recv",
};

const char *
lmp_coll_name(int kind)
{
	return kind > 0 && kind < LMP_NCOLL ? names[kind] : "none";
}

int
lmp_coll_kind(const char *name)
{
	for (int k = 1; k < LMP_NCOLL; k++)
		if (!strcmp(name, names[k]))
			return k;
	return 0;
}

int
lmp_coll_steps(int kind, int n)
{
	if (n < 2)
		return 0;
	switch (kind) {
	case LMP_COLL_ALL_REDUCE: return 2 * (n - 1);
	case LMP_COLL_SEND_RECV: return 1;
	default: return n - 1;
	}
}

/* The share of the buffer each device puts on its link, exactly. */
int
lmp_coll_link_factor(int kind, int n, lmp_num *out)
{
	if (n < 2) {
		*out = lmp_num_int(0);
		return 0;
	}
	switch (kind) {
	case LMP_COLL_ALL_REDUCE: *out = lmp_num_frac(2 * (n - 1), n); return 0;
	case LMP_COLL_ALL_GATHER:
	case LMP_COLL_REDUCE_SCATTER:
	case LMP_COLL_ALL_TO_ALL: *out = lmp_num_frac(n - 1, n); return 0;
	case LMP_COLL_SEND_RECV: *out = lmp_num_int(1); return 0;
	}
	return -1;
}

double
lmp_coll_time(int kind, int n, double bytes, double bw, double latency)
{
	lmp_num f;

	if (n < 2 || lmp_coll_link_factor(kind, n, &f))
		return 0;
	return lmp_coll_time_at(lmp_num_to_double(&f), lmp_coll_steps(kind, n), bytes, bw, latency);
}

/* The time itself, from the link factor as a double (a sweep keeps it) */
double
lmp_coll_time_at(double factor, int steps, double bytes, double bw, double latency)
{
	return factor * bytes / bw + steps * latency;
}
