/* layerpath.c: the one rule for a row's path in the layer tree.
 *
 * A node with "repeat" (any count, 1 included) is a member of a layer list
 * (an nn.ModuleList: decoder layers, experts); a checkpoint names each of
 * its instances by index (model.layers.0.input_layernorm), so the path
 * keeps ".*" in its place even when the list has one member.  A node
 * without "repeat" is a plain attribute of its parent. */
#include "lmp.h"

int
lmp_layer_is_member(const cJSON *node)
{
	return cJSON_GetObjectItemCaseSensitive(node, "repeat") != NULL;
}

/* Appends parent.name, and ".*" for a member of a layer list. */
void
lmp_layer_path(lmp_buf *b, const char *parent, const char *name, const cJSON *node)
{
	lmp_buf_puts(b, parent);
	if (*parent)
		lmp_buf_putc(b, '.');
	lmp_buf_puts(b, name);
	if (lmp_layer_is_member(node))
		lmp_buf_puts(b, ".*");
}
