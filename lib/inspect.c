/* inspect.c: a model's config to its architecture document (lmp-inspect(1)):
 * the config found and read, a multimodal wrapper opened, the template of
 * its model_type loaded and checked against its architecture, and the tree
 * built (arch.c). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

/* The config as read: parsed, with its text's SHA-256. */
typedef struct config {
	lmp_located loc;
	cJSON *cfg;
	char sha[65];
	char *arch;    /* architectures[0], or NULL */
	char *wrapper; /* the multimodal model_type around a text_config, or NULL */
} config;

static void
config_free(config *c)
{
	cJSON_Delete(c->cfg);
	free(c->arch);
	free(c->wrapper);
}

static char *
first_architecture(const cJSON *cfg)
{
	const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cfg, "architectures"), 0);

	return cJSON_IsString(a) ? lmp_xstrdup(a->valuestring) : NULL;
}

static int
read_config(const char *model, const char *revision, config *c, lmp_err *e)
{
	lmp_buf text = {0};

	if (lmp_model_locate(model, revision, &c->loc, e) || lmp_read_file(c->loc.path, &text, e)) {
		lmp_buf_free(&text);
		return -1;
	}
	c->cfg = lmp_json_parse_one(text.s, text.len, c->loc.path, e);
	if (c->cfg)
		lmp_sha256_hex(text.s, text.len, c->sha);
	lmp_buf_free(&text);
	if (!c->cfg)
		return -1;
	if (!cJSON_IsObject(c->cfg))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: a config is a JSON object", c->loc.path);
	c->arch = first_architecture(c->cfg);
	return 0;
}

/* Multimodal: the text model inside is what lmp analyses. */
static void
open_wrapper(config *c)
{
	const cJSON *mt;
	cJSON *inner;

	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(c->cfg, "text_config")))
		return;
	mt = cJSON_GetObjectItemCaseSensitive(c->cfg, "model_type");
	c->wrapper = lmp_xstrdup(cJSON_IsString(mt) ? mt->valuestring : "multimodal");
	inner = cJSON_DetachItemFromObjectCaseSensitive(c->cfg, "text_config");
	cJSON_Delete(c->cfg);
	c->cfg = inner;
	/* The wrapper's architecture (LlavaForConditionalGeneration ...) is
	 * not the text model's: check the inner one, if the config has it. */
	free(c->arch);
	c->arch = first_architecture(c->cfg);
}

static int
valid_type(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_-", *s))
			return 0;
	return 1;
}

/* The config's model_type, or an error naming the supported ones. */
static const char *
model_type(const config *c, lmp_err *e)
{
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(c->cfg, "model_type");
	char *s;

	if (cJSON_IsString(mt) && valid_type(mt->valuestring))
		return mt->valuestring;
	s = lmp_arch_names();
	lmp_fail(e, LMP_EXIT_INPUT, "%s: no usable model_type (supported: %s)", c->loc.path, s);
	free(s);
	return NULL;
}

/* The template of model_type mt (archload.c), or the one in file, which
 * must list the config's architecture. */
static cJSON *
load_template(const char *mt, const char *arch, const char *file, char *where, lmp_err *e)
{
	char *s;
	const cJSON *a, *archs, *have;
	cJSON *tmpl;
	int ok = 0;

	if (!(tmpl = file ? lmp_arch_load_file(file, e) : lmp_arch_load(mt, where, e)))
		return NULL;
	if (file)
		snprintf(where, PATH_MAX, "%s", file);
	have = cJSON_GetObjectItemCaseSensitive(tmpl, "model_type");
	if (file && strcmp(have->valuestring, mt)) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s is a template of model_type \"%s\", the config's is \"%s\"", file,
			have->valuestring, mt);
		cJSON_Delete(tmpl);
		return NULL;
	}
	if (!arch)
		return tmpl;
	archs = cJSON_GetObjectItemCaseSensitive(tmpl, "architectures");
	cJSON_ArrayForEach(a, archs)
		ok |= cJSON_IsString(a) && !strcmp(a->valuestring, arch);
	if (ok)
		return tmpl;
	s = lmp_json_print(archs, 0);
	lmp_fail(e, LMP_EXIT_INPUT, "architecture %s is not supported by the %s template (supported: %s)", arch, mt, s);
	free(s);
	cJSON_Delete(tmpl);
	return NULL;
}

/* The document's "model": where the config came from and what it is. */
static cJSON *
model_object(const config *c, const char *mt, const char *tmpl_file)
{
	cJSON *model = cJSON_CreateObject();
	const char *dd = lmp_datadir();

	cJSON_AddStringToObject(model, "id", c->loc.id);
	if (*c->loc.revision)
		cJSON_AddStringToObject(model, "revision", c->loc.revision);
	if (*c->loc.commit)
		cJSON_AddStringToObject(model, "commit", c->loc.commit);
	cJSON_AddStringToObject(model, "model_type", mt);
	if (c->arch)
		cJSON_AddStringToObject(model, "architecture", c->arch);
	if (c->wrapper) {
		cJSON_AddStringToObject(model, "text_model_of", c->wrapper);
		cJSON_AddStringToObject(model, "note", "a multimodal model: its text model (text_config) is analysed");
	}
	cJSON_AddStringToObject(model, "source", c->loc.source);
	/* A shipped config is named relative to the data directory, so that
	 * documents made from it are the same on every machine. */
	if (!strcmp(c->loc.source, "shipped") && !strncmp(c->loc.path, dd, strlen(dd)))
		cJSON_AddStringToObject(model, "config_file", c->loc.path + strlen(dd) + 1);
	else
		cJSON_AddStringToObject(model, "config_file", c->loc.path);
	cJSON_AddStringToObject(model, "config_sha256", c->sha);
	/* a template of the user's, not the installation's (lmp-arch(5)) */
	if (*tmpl_file)
		cJSON_AddStringToObject(model, "template_file", tmpl_file);
	return model;
}

/* A model_type with no template on the path: the config as read and what
 * is missing, for lmp-ensure to resolve (never a lookalike template). */
static cJSON *
unresolved(const config *c, const char *mt)
{
	cJSON *doc = cJSON_CreateObject(), *u;
	const cJSON *archs = cJSON_GetObjectItemCaseSensitive(c->cfg, "architectures");

	cJSON_AddStringToObject(doc, "lmp", "arch");
	cJSON_AddStringToObject(doc, "version", LMP_VERSION);
	cJSON_AddItemToObject(doc, "model", model_object(c, mt, ""));
	cJSON_AddItemToObject(doc, "config", cJSON_Duplicate(c->cfg, 1));
	u = cJSON_AddObjectToObject(doc, "unresolved");
	cJSON_AddStringToObject(u, "model_type", mt);
	cJSON_AddItemToObject(u, "architectures", cJSON_IsArray(archs) ? cJSON_Duplicate(archs, 1) : cJSON_CreateArray());
	cJSON_AddStringToObject(u, "missing", "template");
	cJSON_AddStringToObject(u, "note", "no template of this model_type on the template path (lmp-arch(5)); "
		"lmp-ensure resolves it with the architecture agent");
	return doc;
}

int
lmp_doc_unresolved(const cJSON *doc, lmp_err *e)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(doc, "unresolved");
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(u, "model_type");

	if (!u)
		return 0;
	return lmp_fail(e, LMP_EXIT_INPUT, "the architecture is unresolved (model_type \"%.64s\" has no template): "
		"lmp-ensure resolves it", cJSON_IsString(mt) ? mt->valuestring : "?");
}

cJSON *
lmp_inspect(const char *model, const char *revision, const char *arch_file, lmp_err *e)
{
	config c = {0};
	cJSON *tmpl = NULL, *doc = NULL;
	const char *mt;
	char where[PATH_MAX] = "";

	if (read_config(model, revision, &c, e))
		goto done;
	open_wrapper(&c);
	if (!(mt = model_type(&c, e)))
		goto done;
	if (!arch_file && !lmp_arch_exists(mt)) {
		doc = unresolved(&c, mt);
		goto done;
	}
	if (!(tmpl = load_template(mt, c.arch, arch_file, where, e)))
		goto done;
	doc = lmp_arch_build(tmpl, c.cfg, model_object(&c, mt, where), e);
done:
	cJSON_Delete(tmpl);
	config_free(&c);
	return doc;
}

/* The config's fields that neither the template nor the inert list
 * (config-inert.json) knows: a warning (its text in *warning, for the tool
 * to print), or under --strict an error. */
int
lmp_config_unused(const cJSON *doc, int strict, lmp_buf *warning, lmp_err *e)
{
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(doc, "model");
	const cJSON *un = cJSON_GetObjectItemCaseSensitive(model, "config_unused"), *f;
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(model, "model_type");
	int n = cJSON_GetArraySize(un);
	lmp_buf b = {0};

	if (n == 0)
		return 0;
	cJSON_ArrayForEach(f, un)
		lmp_buf_printf(&b, strict ? "%s\"%s\"" : "%s%s", f == un->child ? "" : ", ", f->valuestring);
	if (strict) {
		lmp_fail(e, LMP_EXIT_INPUT, n == 1 ? "config field %s is not understood by the %s template (it may change the architecture)"
						   : "config fields %s are not understood by the %s template (they may change the architecture)",
			b.s, mt->valuestring);
		lmp_buf_free(&b);
		return -1;
	}
	lmp_buf_printf(warning, "warning: %d config field%s not used: %s", n, n == 1 ? "" : "s", b.s);
	lmp_buf_free(&b);
	return 0;
}
