/* docfield.c: fields of lmp documents by dotted path or by the short name a
 * user would type (lmp-report --plot batch_size:tokens_per_s). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

const cJSON *
lmp_field(const cJSON *doc, const char *dotted)
{
	const cJSON *o = doc, *c;

	while (o && *dotted) {
		size_t n = strcspn(dotted, ".");
		if (n >= 256 || !cJSON_IsObject(o))
			return NULL;
		/* the first member of that name, as cJSON_GetObjectItemCaseSensitive
		 * finds it, with the segment in place (a CSV line looks up forty
		 * fields: a first byte that differs rules most members out) */
		for (c = o->child; c && c->string; c = c->next)
			if (c->string[0] == (n ? dotted[0] : '\0') && !strncmp(c->string, dotted, n) && !c->string[n])
				break;
		o = c && c->string ? c : NULL;
		dotted += n + (dotted[n] == '.');
	}
	return o;
}

const cJSON *
lmp_field_find(const cJSON *doc, const char *name, char *path, size_t n)
{
	/* Where a short name is looked for, in order: what was asked
	 * (runtime), what came out (totals, bytes, fit), then the setting. */
	static const char *const where[] = {"runtime", "totals", "totals.bytes", "fit", "roofline", "model"};
	const cJSON *v;
	size_t i;

	if (strchr(name, '.')) {
		if (path)
			snprintf(path, n, "%s", name);
		return lmp_field(doc, name);
	}
	for (i = 0; i < sizeof where / sizeof *where; i++) {
		const cJSON *o = lmp_field(doc, where[i]);
		if ((v = o ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL) && !cJSON_IsObject(v)) {
			if (path)
				snprintf(path, n, "%s.%s", where[i], name);
			return v;
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(doc, name);
	if (path)
		snprintf(path, n, "%s", name);
	return v;
}

int
lmp_field_double(const cJSON *doc, const char *dotted, double *out)
{
	const cJSON *v = lmp_field(doc, dotted);

	if (!cJSON_IsNumber(v))
		return -1;
	*out = v->valuedouble;
	return 0;
}

double
lmp_field_or(const cJSON *doc, const char *dotted, double dflt)
{
	double v;

	return lmp_field_double(doc, dotted, &v) ? dflt : v;
}

const char *
lmp_field_text(const cJSON *item)
{
	/* lmp's reader keeps a number's literal in valuestring. */
	if (cJSON_IsNumber(item) || cJSON_IsString(item))
		return item->valuestring;
	return NULL;
}
