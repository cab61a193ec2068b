/* archload.c: architecture templates (lmp-arch(5)) found on the search path
 * and their "extends" resolved into one template before arch.c expands it.
 *
 * The path: the directories of LMP_ARCH_PATH (colon-separated), then the
 * user's data home ($XDG_DATA_HOME/lmp/archs, by default
 * ~/.local/share/lmp/archs), then the shipped share/lmp/archs.  The first
 * MODEL_TYPE.json found wins.
 *
 * A derived template names its parent ("extends"), renames the parent's
 * classes ("rename", as transformers' modular converter renames Llama to
 * Mistral), merges its own objects over the parent's (RFC 7386: a null
 * removes a key) and edits the parent's tree by node path ("edits"). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmp.h"

#define MAX_EXTENDS 8
#define MAX_DIRS 64

/* The keys of a template: every one arch.c reads, the derivation's own, the
 * descriptive ones, and those reserved for templates an agent writes. */
static const char *const top_keys[] = {
	"lmp", "version", "model_type", "architectures", "class", "summary", "sources", "defaults",
	"null_means", "require", "require_each", "accept", "checks", "aliases", "scoped", "attrs", "positions",
	"tree", "extends", "rename", "edits", "validation", "code_location", NULL,
};
static const char *const node_keys[] = {
	"name", "class", "attrs", "sub_layers", "repeat", "layers", "when", "tied", "tied_when", "active", "parallel", NULL,
};
/* Objects a derived template merges over its parent's; every other key
 * replaces the parent's value whole. */
static const char *const merged_keys[] = {
	"defaults", "null_means", "require", "require_each", "aliases", "attrs", "positions", NULL,
};

static int
in(const char *const *list, const char *k)
{
	for (; *list; list++)
		if (!strcmp(*list, k))
			return 1;
	return 0;
}

/* The search path's directories; the last is the shipped one. */
static int
arch_dirs(char dirs[][PATH_MAX])
{
	const char *env = getenv("LMP_ARCH_PATH"), *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	int n = 0;

	while (env && *env && n < MAX_DIRS - 2) {
		size_t len = strcspn(env, ":");
		if (len > 0 && len < PATH_MAX)
			snprintf(dirs[n++], PATH_MAX, "%.*s", (int)len, env);
		env += len + (env[len] == ':');
	}
	/* XDG Base Directory: an unset, empty or relative value means the default */
	if (xdg && xdg[0] == '/')
		snprintf(dirs[n++], PATH_MAX, "%.*s/lmp/archs", PATH_MAX - 16, xdg);
	else if (home && *home)
		snprintf(dirs[n++], PATH_MAX, "%.*s/.local/share/lmp/archs", PATH_MAX - 32, home);
	snprintf(dirs[n++], PATH_MAX, "%.*s/archs", PATH_MAX - 8, lmp_datadir());
	return n;
}

/* The first MODEL_TYPE.json on the path from directory `from` on: its
 * directory index, or -1. */
static int
find(const char *mt, int from, char path[PATH_MAX])
{
	static char dirs[MAX_DIRS][PATH_MAX];
	int n = arch_dirs(dirs);

	for (int i = from; i < n; i++) {
		snprintf(path, PATH_MAX, "%.*s/%.64s.json", PATH_MAX - 80, dirs[i], mt);
		if (access(path, R_OK) == 0)
			return i;
	}
	return -1;
}

/* Every model_type on the path once, sorted. */
static char **
all_names(int *n)
{
	static char dirs[MAX_DIRS][PATH_MAX];
	char **names = NULL;
	int nd = arch_dirs(dirs), k = 0;

	*n = 0;
	for (int i = 0; i < nd; i++)
		lmp_json_names(dirs[i], &names, n);
	if (!*n)
		return names;
	qsort(names, (size_t)*n, sizeof *names, lmp_cmp_str);
	for (int i = 0; i < *n; i++) /* a name found in several directories */
		if (k && !strcmp(names[k - 1], names[i]))
			free(names[i]);
		else
			names[k++] = names[i];
	*n = k;
	return names;
}

char *
lmp_arch_names(void)
{
	int n;
	char **names = all_names(&n);

	return lmp_names_join(names, n);
}

char *
lmp_arch_list(void)
{
	static char dirs[MAX_DIRS][PATH_MAX];
	char path[PATH_MAX];
	lmp_buf b = {0};
	int n, nd = arch_dirs(dirs);
	char **names = all_names(&n);

	for (int i = 0; i < n; i++) {
		int d = find(names[i], 0, path);
		lmp_buf_printf(&b, "%s\t%s\n", names[i], d == nd - 1 ? "shipped" : path);
		free(names[i]);
	}
	free(names);
	if (!b.s)
		lmp_buf_add(&b, "", 0);
	return b.s;
}

/* ---- checking ---- */

static int
check_node(const cJSON *n, const char *file, const char *parent, int depth, lmp_err *e)
{
	const cJSON *c, *name = cJSON_GetObjectItemCaseSensitive(n, "name");
	char path[1024];

	if (depth > LMP_MAX_TREE_DEPTH)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: tree nested deeper than %d", file, LMP_MAX_TREE_DEPTH);
	if (!cJSON_IsObject(n) || !cJSON_IsString(name))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s%sa tree node is an object with a \"name\"", file,
			parent, *parent ? ": " : "");
	snprintf(path, sizeof path, "%s%s%s", parent, *parent ? "." : "", name->valuestring);
	cJSON_ArrayForEach(c, n)
		if (!in(node_keys, c->string))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: tree node %s: unknown key \"%s\"", file, path, c->string);
	if (cJSON_GetObjectItemCaseSensitive(n, "layers") && !cJSON_GetObjectItemCaseSensitive(n, "repeat"))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: tree node %s: \"layers\" belongs to a node with \"repeat\"", file, path);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(n, "sub_layers"))
		if (check_node(c, file, path, depth + 1, e))
			return -1;
	return 0;
}

static int
check_nodes(const cJSON *list, const char *file, const char *parent, lmp_err *e)
{
	const cJSON *c;

	if (list && !cJSON_IsArray(list))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: \"tree\" is an array of nodes", file);
	cJSON_ArrayForEach(c, list)
		if (check_node(c, file, parent, 0, e))
			return -1;
	return 0;
}

/* The header and the keys of one template file. */
static int
check_top(const cJSON *t, const char *file, lmp_err *e)
{
	const cJSON *c, *lmp = cJSON_GetObjectItemCaseSensitive(t, "lmp");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(t, "version");
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(t, "model_type");
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(t, "extends");
	lmp_num v, one = lmp_num_int(1);

	if (!cJSON_IsObject(t))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: a template is a JSON object", file);
	cJSON_ArrayForEach(c, t)
		if (!in(top_keys, c->string))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: unknown key \"%s\" in a template", file, c->string);
	if (!cJSON_IsString(lmp) || strcmp(lmp->valuestring, "arch_template") || lmp_json_num(ver, &v) ||
	    lmp_num_cmp(&v, &one))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: not an lmp template (its header is \"lmp\": \"arch_template\", "
			"\"version\": 1)", file);
	if (!cJSON_IsString(mt) || !*mt->valuestring)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: a template names its \"model_type\"", file);
	if (ext && (!cJSON_IsString(ext) || !*ext->valuestring || strlen(ext->valuestring) > 64 ||
		    strchr(ext->valuestring, '/')))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: \"extends\" names a model_type", file);
	if (!ext && (cJSON_GetObjectItemCaseSensitive(t, "rename") || cJSON_GetObjectItemCaseSensitive(t, "edits")))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: \"rename\" and \"edits\" need \"extends\"", file);
	return check_nodes(cJSON_GetObjectItemCaseSensitive(t, "tree"), file, "", e);
}

/* ---- merging ---- */

static void
drop_nulls(cJSON *o)
{
	cJSON *c = o ? o->child : NULL, *next;

	for (; c; c = next) {
		next = c->next;
		if (cJSON_IsNull(c))
			cJSON_Delete(cJSON_DetachItemViaPointer(o, c));
		else if (cJSON_IsObject(c))
			drop_nulls(c);
	}
}

/* Put item into the object or array o before `before` (NULL: last).
 * Spliced by hand: cJSON_InsertItemInArray refuses some duplicated items
 * in older cJSON releases.  cJSON keeps the last item in child->prev. */
static void
put_before(cJSON *o, cJSON *item, cJSON *before)
{
	if (!before) {
		cJSON_AddItemToArray(o, item); /* keeps item->string */
		return;
	}
	item->next = before;
	item->prev = before->prev;
	if (before == o->child)
		o->child = item;
	else
		before->prev->next = item;
	before->prev = item;
}

/* RFC 7386 merge of patch into target, in place.  A key target lacks goes
 * before the next key of patch that target has, or last: a derived
 * template lists its new keys where they belong among the parent's. */
static void
merge_patch(cJSON *target, const cJSON *patch)
{
	const cJSON *p, *q;

	for (p = patch->child; p; p = p->next) {
		cJSON *have = cJSON_GetObjectItemCaseSensitive(target, p->string), *v;
		if (cJSON_IsNull(p)) {
			if (have)
				cJSON_Delete(cJSON_DetachItemViaPointer(target, have));
			continue;
		}
		if (have && cJSON_IsObject(have) && cJSON_IsObject(p)) {
			merge_patch(have, p);
			continue;
		}
		v = cJSON_Duplicate(p, 1);
		drop_nulls(v);
		if (have) {
			cJSON_ReplaceItemViaPointer(target, have, v);
			continue;
		}
		cJSON *anchor = NULL;
		for (q = p->next; q && !anchor; q = q->next)
			anchor = cJSON_GetObjectItemCaseSensitive(target, q->string);
		put_before(target, v, anchor);
	}
}

/* The parent's classes renamed: every occurrence of each key of "rename"
 * in a class name becomes its value (Llama -> Mistral, llama -> mistral). */
static void
rename_class(cJSON *holder, const cJSON *rename)
{
	cJSON *cls = cJSON_GetObjectItemCaseSensitive(holder, "class");
	const cJSON *r;

	if (!cJSON_IsString(cls))
		return;
	cJSON_ArrayForEach(r, rename) {
		lmp_buf b = {0};
		const char *s = cls->valuestring, *hit;
		size_t len = strlen(r->string);
		if (!len || !strstr(s, r->string))
			continue;
		while ((hit = strstr(s, r->string))) {
			lmp_buf_add(&b, s, (size_t)(hit - s));
			lmp_buf_puts(&b, r->valuestring);
			s = hit + len;
		}
		lmp_buf_puts(&b, s);
		cJSON_ReplaceItemInObjectCaseSensitive(holder, "class", cJSON_CreateString(b.s));
		cls = cJSON_GetObjectItemCaseSensitive(holder, "class");
		lmp_buf_free(&b);
	}
}

static void
rename_tree(cJSON *list, const cJSON *rename)
{
	cJSON *c;

	cJSON_ArrayForEach(c, list) {
		rename_class(c, rename);
		rename_tree(cJSON_GetObjectItemCaseSensitive(c, "sub_layers"), rename);
	}
}

/* ---- tree edits ---- */

/* The node at a dotted path of names: the list that holds it and the node. */
static int
locate_node(cJSON *tree, const char *path, cJSON **list, cJSON **node, const char *where, lmp_err *e)
{
	char seg[256];
	const char *p = path;
	cJSON *l = tree, *found = NULL;

	if (!*path)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: an empty node path", where);
	while (*p) {
		size_t len = strcspn(p, ".");
		cJSON *c;
		int hits = 0;
		if (!len || len >= sizeof seg)
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: bad node path \"%s\"", where, path);
		memcpy(seg, p, len);
		seg[len] = '\0';
		if (found)
			l = cJSON_GetObjectItemCaseSensitive(found, "sub_layers");
		found = NULL;
		cJSON_ArrayForEach(c, l) {
			const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
			if (cJSON_IsString(nm) && !strcmp(nm->valuestring, seg) && !hits++)
				found = c;
		}
		if (hits != 1)
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s node \"%.*s\" in the parent's tree", where,
				hits ? "more than one" : "no", (int)(p - path + len), path);
		p += len + (p[len] == '.');
	}
	*list = l;
	*node = found;
	return 0;
}

static int
index_of(const cJSON *list, const cJSON *item)
{
	int i = 0;

	for (const cJSON *c = list->child; c && c != item; c = c->next)
		i++;
	return i;
}

/* Insert a node or a list of nodes at position i of list (i == size: last). */
static void
insert_nodes(cJSON *list, int i, const cJSON *what)
{
	const cJSON *c;

	if (cJSON_IsObject(what)) {
		put_before(list, cJSON_Duplicate(what, 1), cJSON_GetArrayItem(list, i));
		return;
	}
	cJSON_ArrayForEach(c, what)
		insert_nodes(list, i++, c);
}

/* One edit: {"at": PATH(S), node keys to merge}, {"remove": PATH(S)},
 * {"before"|"after"|"into": PATH, "insert": NODE(S)}. */
static const char *const edit_ops[] = {"at", "remove", "before", "after", "into", NULL};

static int
apply_edit(cJSON *tree, const cJSON *ed, const char *where, lmp_err *e)
{
	const cJSON *c, *op = NULL, *ins = cJSON_GetObjectItemCaseSensitive(ed, "insert");
	cJSON *list = NULL, *node = NULL;
	int nops = 0;

	if (!cJSON_IsObject(ed))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: an edit is an object", where);
	cJSON_ArrayForEach(c, ed)
		if (in(edit_ops, c->string)) {
			op = c;
			nops++;
		}
	if (nops != 1)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: an edit has one of \"at\", \"remove\", \"before\", \"after\", \"into\"",
			where);
	int at = !strcmp(op->string, "at"), remove = !strcmp(op->string, "remove");
	cJSON_ArrayForEach(c, ed) {
		int ok = c == op || (at ? in(node_keys, c->string) : !remove && !strcmp(c->string, "insert"));
		if (!ok)
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: unknown key \"%s\" in a \"%s\" edit", where, c->string, op->string);
	}
	if (cJSON_IsArray(op) && (at || remove)) {
		cJSON_ArrayForEach(c, op) {
			cJSON *one = cJSON_Duplicate(ed, 1);
			cJSON_ReplaceItemInObjectCaseSensitive(one, op->string, cJSON_Duplicate(c, 0));
			int rc = apply_edit(tree, one, where, e);
			cJSON_Delete(one);
			if (rc)
				return -1;
		}
		return 0;
	}
	if (!cJSON_IsString(op))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: \"%s\" names a node path (model.layers.mlp)", where, op->string);
	if (!at && !remove) {
		if (!ins || !(cJSON_IsObject(ins) || cJSON_IsArray(ins)))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: \"%s\" needs \"insert\": a node or a list of nodes", where, op->string);
		/* the parent's path, for messages: PATH itself for "into" */
		char parent[1024];
		const char *dot = strrchr(op->valuestring, '.');
		snprintf(parent, sizeof parent, "%.*s", !strcmp(op->string, "into") ? (int)strlen(op->valuestring)
			 : dot ? (int)(dot - op->valuestring) : 0, op->valuestring);
		if (check_nodes(cJSON_IsArray(ins) ? ins : NULL, where, parent, e) ||
		    (cJSON_IsObject(ins) && check_node(ins, where, parent, 0, e)))
			return -1;
	}
	if (locate_node(tree, op->valuestring, &list, &node, where, e))
		return -1;
	if (remove) {
		cJSON_Delete(cJSON_DetachItemViaPointer(list, node));
	} else if (at) {
		cJSON *patch = cJSON_Duplicate(ed, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(patch, "at");
		merge_patch(node, patch);
		cJSON_Delete(patch);
		if (check_node(node, where, "", 0, e))
			return -1;
	} else if (!strcmp(op->string, "before")) {
		insert_nodes(list, index_of(list, node), ins);
	} else if (!strcmp(op->string, "after")) {
		insert_nodes(list, index_of(list, node) + 1, ins);
	} else {
		cJSON *subs = cJSON_GetObjectItemCaseSensitive(node, "sub_layers");
		if (!subs)
			subs = cJSON_AddArrayToObject(node, "sub_layers");
		insert_nodes(subs, cJSON_GetArraySize(subs), ins);
	}
	return 0;
}

/* The parent with the child's changes: renamed, merged, edited. */
static int
derive(cJSON *t, const cJSON *child, const char *file, lmp_err *e)
{
	const cJSON *c, *rename = cJSON_GetObjectItemCaseSensitive(child, "rename");
	const cJSON *edits = cJSON_GetObjectItemCaseSensitive(child, "edits");
	cJSON *tree;
	char where[PATH_MAX + 32];
	int i = 0;

	if (rename) {
		int ok = cJSON_IsObject(rename);
		cJSON_ArrayForEach(c, rename)
			ok &= cJSON_IsString(c) && *c->string;
		if (!ok)
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: \"rename\" maps strings to strings", file);
		rename_class(t, rename);
		rename_tree(cJSON_GetObjectItemCaseSensitive(t, "tree"), rename);
	}
	cJSON_ArrayForEach(c, child) {
		cJSON *have = cJSON_GetObjectItemCaseSensitive(t, c->string), *v;
		if (!strcmp(c->string, "extends") || !strcmp(c->string, "rename") || !strcmp(c->string, "edits"))
			continue;
		if (in(merged_keys, c->string) && cJSON_IsObject(have) && cJSON_IsObject(c)) {
			merge_patch(have, c);
			continue;
		}
		v = cJSON_Duplicate(c, 1);
		if (in(merged_keys, c->string))
			drop_nulls(v);
		if (have)
			cJSON_ReplaceItemViaPointer(t, have, v);
		else
			cJSON_AddItemToObject(t, c->string, v);
	}
	if (edits && !cJSON_IsArray(edits))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: \"edits\" is an array of edits", file);
	tree = cJSON_GetObjectItemCaseSensitive(t, "tree");
	cJSON_ArrayForEach(c, edits) {
		snprintf(where, sizeof where, "%s: edits[%d]", file, i++);
		if (apply_edit(tree, c, where, e))
			return -1;
	}
	return 0;
}

/* ---- loading ---- */

/* A template file, its ancestors resolved.  chain holds the files above
 * it, for the cycle check; dir is the file's directory on the path (-1:
 * not on it). */
static cJSON *
resolve(const char *file, int dir, char chain[][PATH_MAX], int depth, lmp_err *e)
{
	char real[PATH_MAX], ppath[PATH_MAX];
	const cJSON *ext;
	cJSON *t, *parent;
	int pdir;

	if (!realpath(file, real))
		snprintf(real, sizeof real, "%s", file);
	for (int i = 0; i < depth; i++)
		if (!strcmp(chain[i], real)) {
			lmp_buf b = {0};
			for (int j = i; j < depth; j++)
				lmp_buf_printf(&b, "%s -> ", chain[j]);
			lmp_buf_puts(&b, real);
			lmp_fail(e, LMP_EXIT_INPUT, "templates extend each other in a cycle: %.900s", b.s);
			lmp_buf_free(&b);
			return NULL;
		}
	if (depth >= MAX_EXTENDS)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: \"extends\" nested deeper than %d", file, MAX_EXTENDS), NULL;
	snprintf(chain[depth], PATH_MAX, "%s", real);
	if (!(t = lmp_json_load_file(file, e)))
		return NULL;
	if (check_top(t, file, e)) {
		cJSON_Delete(t);
		return NULL;
	}
	if (!(ext = cJSON_GetObjectItemCaseSensitive(t, "extends")))
		return t;
	/* A template that extends its own model_type (a user's llama.json over
	 * the shipped one) extends the next one down the path. */
	if (!strcmp(ext->valuestring, cJSON_GetObjectItemCaseSensitive(t, "model_type")->valuestring))
		pdir = find(ext->valuestring, dir + 1, ppath);
	else
		pdir = find(ext->valuestring, 0, ppath);
	if (pdir >= 0 && dir < 0 && realpath(ppath, real) && !strcmp(real, chain[depth]))
		pdir = find(ext->valuestring, pdir + 1, ppath);
	if (pdir < 0) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: extends \"%s\", which is not on the template path", file, ext->valuestring);
		cJSON_Delete(t);
		return NULL;
	}
	if (!(parent = resolve(ppath, pdir, chain, depth + 1, e))) {
		cJSON_Delete(t);
		return NULL;
	}
	if (derive(parent, t, file, e)) {
		cJSON_Delete(parent);
		cJSON_Delete(t);
		return NULL;
	}
	cJSON_Delete(t);
	return parent;
}

cJSON *
lmp_arch_load(const char *mt, char *where, lmp_err *e)
{
	static char chain[MAX_EXTENDS][PATH_MAX];
	char path[PATH_MAX];
	const cJSON *have;
	cJSON *t;
	int dir = find(mt, 0, path);

	if (dir < 0) {
		char *s = lmp_arch_names();
		lmp_fail(e, LMP_EXIT_INPUT, "model_type \"%s\" is not supported (supported: %s)", mt, s);
		free(s);
		return NULL;
	}
	if (!(t = resolve(path, dir, chain, 0, e)))
		return NULL;
	if (where) {
		static char dirs[MAX_DIRS][PATH_MAX];
		snprintf(where, PATH_MAX, "%s", dir == arch_dirs(dirs) - 1 ? "" : path);
	}
	have = cJSON_GetObjectItemCaseSensitive(t, "model_type");
	if (strcmp(have->valuestring, mt)) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: the template of model_type \"%s\" is named %s.json", path, have->valuestring, mt);
		cJSON_Delete(t);
		return NULL;
	}
	return t;
}

int
lmp_arch_exists(const char *mt)
{
	char path[PATH_MAX];

	return find(mt, 0, path) >= 0;
}

cJSON *
lmp_arch_load_file(const char *file, lmp_err *e)
{
	static char chain[MAX_EXTENDS][PATH_MAX];

	return resolve(file, -1, chain, 0, e);
}
