/* calibration.c: calibration files (lmp-calibration(5)): the time model's
 * terms fitted per device, engine and weight precision by lmp-calibrate.  A file is checked
 * whole when read, so a malformed one is refused with one line before any
 * document is timed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

struct lmp_calibration {
	cJSON *doc;
	char *path;
};

const char *
lmp_calibration_path(const char *opt, int *dflt)
{
	static char def[4096];
	const char *env = getenv("LMP_CALIBRATION");

	*dflt = 0;
	if (!opt && env && *env)
		opt = env;
	if (opt)
		return strcmp(opt, "none") ? opt : NULL;
	*dflt = 1;
	snprintf(def, sizeof def, "%s/calibration/corpus.json", lmp_datadir());
	return def;
}

/* A number at key in [lo, hi] (lo itself excluded where open). */
static int
term(const cJSON *obj, const char *key, double lo, int open, double hi, const char *where, const char *file,
	lmp_err *e)
{
	lmp_num v;
	double x;

	if (lmp_json_num(cJSON_GetObjectItemCaseSensitive(obj, key), &v))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s.%s: missing or not a number", file, where, key);
	x = lmp_num_to_double(&v);
	if (!(open ? x > lo : x >= lo) || !(x <= hi))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s.%s: %g is not in %s%g, %g]", file, where, key, x,
			open ? "(" : "[", lo, hi);
	return 0;
}

int
lmp_calibration_wclass(int w_bit)
{
	return w_bit <= 0 ? 0 : w_bit > 8 ? 16 : w_bit > 4 ? 8 : 4;
}

/* An entry's weight precision class: 16, 8 or 4; 0 where absent or null
 * (every precision: files written before the split); -1 anything else. */
static int
wbits(const cJSON *en)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(en, "weight_bits");

	if (!w || cJSON_IsNull(w))
		return 0;
	if (!cJSON_IsNumber(w) || (w->valuedouble != 16 && w->valuedouble != 8 && w->valuedouble != 4))
		return -1;
	return (int)w->valuedouble;
}

static int
check_entry(const cJSON *en, int i, const char *file, lmp_err *e)
{
	const cJSON *dev = cJSON_GetObjectItemCaseSensitive(en, "device");
	const cJSON *eng = cJSON_GetObjectItemCaseSensitive(en, "engine");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(en, "terms");
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(en, "heldout");
	char where[64];

	snprintf(where, sizeof where, "entries[%d]", i);
	if (!cJSON_IsObject(en) || !cJSON_IsString(dev) || !*dev->valuestring)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s: not an object with a \"device\"", file, where);
	if (!cJSON_IsString(eng) && !cJSON_IsNull(eng))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s.engine: not a string or null", file, where);
	if (wbits(en) < 0)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s.weight_bits: not 16, 8, 4 or null", file, where);
	if (wbits(en) && cJSON_IsNull(eng))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s.weight_bits: set on a pooled entry (engine null)", file, where);
	if (term(en, "measurements", 0, 0, 1e9, where, file, e))
		return -1;
	if (h && !cJSON_IsNull(h)) {
		snprintf(where, sizeof where, "entries[%d].heldout", i);
		if (!cJSON_IsObject(h) || term(h, "median_abs_error", 0, 0, 1e6, where, file, e))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s: not an object with median_abs_error >= 0", file, where);
	}
	snprintf(where, sizeof where, "entries[%d].terms", i);
	if (!cJSON_IsObject(t))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s: missing or not an object", file, where);
	/* fractions of datasheet figures; floors of at most a second */
	if (term(t, "compute_fraction", 0, 1, 1, where, file, e) || term(t, "memory_fraction", 0, 1, 1, where, file, e) ||
	    term(t, "link_fraction", 0, 1, 1, where, file, e) || term(t, "launch_s", 0, 0, 1, where, file, e) ||
	    term(t, "step_s", 0, 0, 1, where, file, e))
		return -1;
	if (!cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(t, "waves")))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s.waves: missing or not true/false", file, where);
	return 0;
}

static int
same_engine(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsNull(a) || cJSON_IsNull(b))
		return cJSON_IsNull(a) && cJSON_IsNull(b);
	return !strcmp(a->valuestring, b->valuestring);
}

static int
check(const cJSON *doc, const char *file, lmp_err *e)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "lmp");
	const cJSON *ents = cJSON_GetObjectItemCaseSensitive(doc, "entries"), *en, *o;
	lmp_num v;
	int i = 0;

	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "calibration"))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: not a calibration file (\"lmp\": \"calibration\")", file);
	if (lmp_json_num(cJSON_GetObjectItemCaseSensitive(doc, "version"), &v) || lmp_num_to_double(&v) != 1)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: version is not 1", file);
	if (!cJSON_IsArray(ents))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: \"entries\" is not an array", file);
	cJSON_ArrayForEach(en, ents) {
		if (check_entry(en, i, file, e))
			return -1;
		/* one entry a (device, engine, weight precision): the selection
		 * is then exact */
		for (o = ents->child; o != en; o = o->next)
			if (!strcmp(cJSON_GetObjectItemCaseSensitive(o, "device")->valuestring,
				cJSON_GetObjectItemCaseSensitive(en, "device")->valuestring) &&
			    same_engine(cJSON_GetObjectItemCaseSensitive(o, "engine"),
				cJSON_GetObjectItemCaseSensitive(en, "engine")) && wbits(o) == wbits(en))
				return lmp_fail(e, LMP_EXIT_INPUT, "%s: entries[%d] repeats an earlier entry's device and "
					"engine (and weight_bits)", file, i);
		i++;
	}
	return 0;
}

/* The name documents give a file: one in lmp's data directory by its
 * name there ("calibration/corpus.json"), so that the same calibration
 * writes the same document on every install; any other as given. */
static const char *
shown_name(const char *path)
{
	const char *dir = lmp_datadir();
	size_t n = strlen(dir);

	if (n && !strncmp(path, dir, n) && path[n] == '/' && path[n + 1])
		return path + n + 1;
	return path;
}

/* What no lmp tool reads is not parsed: the top-level "excluded" array
 * (the measurements lmp-calibrate left out and why) and each entry's
 * "used" list (the measurements its fit took), together nine tenths of the
 * shipped file, are cut to [] in a copy of the text, which then costs a
 * tenth as much to parse.  Where that text is not JSON the whole file is
 * parsed, so the error and its position are the file's. */
struct cut {
	const char *from; /* copied up to here */
	lmp_buf *out;
};

/* The object at p, with the array value of member `name` cut to [] (and
 * each object of the array value of member `inner`, if not NULL, cut the
 * same way for its member "used").  Just past the object, or NULL where
 * the text is not of that shape. */
static const char *
cut_members(struct cut *c, const char *p, const char *end, const char *name, const char *inner)
{
	size_t nl = strlen(name), il = inner ? strlen(inner) : 0;
	const char *k, *v, *ve;

	if (p >= end || *p != '{')
		return NULL;
	for (p = lmp_jscan_ws(p + 1, end); p < end && *p != '}';) {
		if (*p != '"' || !(k = lmp_jscan_string(p, end)))
			return NULL;
		v = lmp_jscan_ws(k, end);
		if (v >= end || *v != ':')
			return NULL;
		v = lmp_jscan_ws(v + 1, end);
		if ((size_t)(k - p) == nl + 2 && !memcmp(p + 1, name, nl) && *v == '[') {
			if (!(ve = lmp_jscan_value(v, end)))
				return NULL;
			lmp_buf_add(c->out, c->from, (size_t)(v - c->from));
			lmp_buf_puts(c->out, "[]");
			c->from = ve;
		} else if (inner && (size_t)(k - p) == il + 2 && !memcmp(p + 1, inner, il) && *v == '[') {
			/* the entries: each object's "used" */
			for (ve = lmp_jscan_ws(v + 1, end); ve < end && *ve != ']';) {
				if (*ve == '{') {
					if (!(ve = cut_members(c, ve, end, "used", NULL)))
						return NULL;
				} else if (!(ve = lmp_jscan_value(ve, end)))
					return NULL;
				ve = lmp_jscan_ws(ve, end);
				if (ve < end && *ve == ',')
					ve = lmp_jscan_ws(ve + 1, end);
			}
			if (ve >= end)
				return NULL;
			ve++;
		} else if (!(ve = lmp_jscan_value(v, end)))
			return NULL;
		p = lmp_jscan_ws(ve, end);
		if (p < end && *p == ',')
			p = lmp_jscan_ws(p + 1, end);
	}
	return p < end ? p + 1 : NULL;
}

static int
cut_unread(const char *s, size_t len, lmp_buf *out)
{
	struct cut c = {s, out};
	const char *end = s + len;

	if (!cut_members(&c, lmp_jscan_ws(s, end), end, "excluded", "entries"))
		return 0;
	lmp_buf_add(out, c.from, (size_t)(end - c.from));
	return 1;
}

lmp_calibration *
lmp_calibration_load(const char *path, lmp_err *e)
{
	lmp_calibration *c;
	lmp_buf b = {0}, cut = {0};
	lmp_err quiet = {0};
	cJSON *doc = NULL;

	if (!lmp_read_file(path, &b, e) && !lmp_json_check_text(b.s, b.len, path, e)) {
		if (!cut_unread(b.s, b.len, &cut) || !(doc = lmp_json_parse_one(cut.s, cut.len, path, &quiet)))
			doc = lmp_json_parse_one(b.s, b.len, path, e);
	}
	lmp_buf_free(&b);
	lmp_buf_free(&cut);
	if (!doc)
		return NULL;
	if (check(doc, path, e)) {
		cJSON_Delete(doc);
		return NULL;
	}
	c = lmp_xcalloc(1, sizeof *c);
	c->doc = doc;
	c->path = lmp_xstrdup(shown_name(path));
	return c;
}

void
lmp_calibration_free(lmp_calibration *c)
{
	if (!c)
		return;
	cJSON_Delete(c->doc);
	free(c->path);
	free(c);
}

const char *
lmp_calibration_file(const lmp_calibration *c)
{
	return c->path;
}

const cJSON *
lmp_calibration_select(const lmp_calibration *c, const char *device, const char *engine, int w_bit)
{
	const cJSON *en, *pooled = NULL, *any = NULL;
	int wc = lmp_calibration_wclass(w_bit);

	cJSON_ArrayForEach(en, cJSON_GetObjectItemCaseSensitive(c->doc, "entries")) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(en, "device");
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(en, "engine");
		if (strcmp(d->valuestring, device))
			continue;
		if (cJSON_IsNull(g))
			pooled = en;
		else if (!engine || strcmp(g->valuestring, engine))
			continue;
		else if (!wbits(en))
			any = en;
		else if (wc && wbits(en) == wc)
			return en;
	}
	return any ? any : pooled;
}

static double
num_at(const cJSON *obj, const char *key)
{
	lmp_num v;

	return lmp_json_num(cJSON_GetObjectItemCaseSensitive(obj, key), &v) ? NAN : lmp_num_to_double(&v);
}

void
lmp_calibration_terms(const cJSON *entry, lmp_tparams *tp)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(entry, "terms");

	tp->compute_fraction = num_at(t, "compute_fraction");
	tp->memory_fraction = num_at(t, "memory_fraction");
	tp->link_fraction = num_at(t, "link_fraction");
	tp->launch_s = num_at(t, "launch_s");
	tp->step_s = num_at(t, "step_s");
	tp->waves = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "waves"));
}
