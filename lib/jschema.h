/*
 * jschema.h - the JSON Schema subset toolgate checks tool arguments
 * against (tools/call of served tools and of the management tools), and
 * schemas generated from field specs (the management tools' inputSchema:
 * lib/mcp_mgmt.c). Pure: jansson values in and out; no I/O.
 */
#ifndef TG_JSCHEMA_H
#define TG_JSCHEMA_H

#include <stddef.h>

#include <jansson.h>

/*
 * Validates instance against a JSON Schema (the subset documented in
 * docs/mcp.md: type, enum, const, properties, required,
 * additionalProperties, items, min/max(Length|Items|imum), exclusive
 * bounds, anyOf/oneOf/allOf, $ref to local $defs/definitions; other
 * keywords are ignored). 0 when valid; else -TG_E_UNPROCESSABLE and a
 * one-line reason naming the path ("$.city: expected string").
 */
int tg_mcp_schema_validate(const json_t *schema, const json_t *instance,
    char *why, size_t cap);

/* JSON types of a field, as a mask: one is served as {"type": ...}, several
 * as {"anyOf": [{"type": ...}, ...]} in this order (portable: clients
 * that map schemas onto a single-type dialect reject "type" arrays). */
#define TG_JT_STRING 0x01
#define TG_JT_INTEGER 0x02
#define TG_JT_BOOLEAN 0x04
#define TG_JT_ARRAY 0x08
#define TG_JT_OBJECT 0x10
#define TG_JT_NULL 0x20

/*
 * One member of an object, a field spec. Lists end with a {NULL} entry.
 * Unset constraints (0 / NULL) are not emitted. An object with props is
 * closed (its props, their required list, additionalProperties false);
 * without props it is any object.
 */
struct tg_jfield {
	const char *name;		/* NULL ends a list */
	unsigned types;			/* TG_JT_* mask */
	int required;
	const char *description;
	const char *pattern;		/* string: ECMA-262 regular expression */
	const char *enums;		/* string: "a|b|c" */
	int has_min, has_max;		/* integer: minimum, maximum */
	json_int_t min, max;
	json_int_t max_length;		/* string: maxLength when > 0 */
	json_int_t min_items;		/* array: minItems when > 0 */
	const struct tg_jfield *items;	/* array: the items (name unused) */
	const struct tg_jfield *props;	/* object: its members, closed */
};

/*
 * The schema of a closed object with members props:
 * {"type":"object","properties":{...},"required":[...] (when any),
 * "additionalProperties":false}, members in list order, each
 * {type|anyOf, pattern, enum, minimum, maximum, maxLength, minItems,
 * items, description} as set. New reference; NULL on OOM.
 */
json_t *tg_jschema_object(const struct tg_jfield *props);

#endif
