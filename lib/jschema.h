/*
 * jschema.h - the JSON Schema subset toolgate checks tool arguments
 * against (tools/call of served tools and of the management tools),
 * schemas generated from field specs (the management tools' inputSchema:
 * lib/mcp_mgmt.c), and the check of a REST body against the same field
 * specs (tg_jfields_check: lib/ops.h). Pure: jansson values in and out;
 * no I/O.
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
/* No bit: any JSON value ({} in a schema). */

/* Where a field exists (tg_jfield.only): 0 both, else one transport. */
#define TG_JF_REST 0x1	/* REST bodies only: never in an MCP schema */
#define TG_JF_MCP 0x2	/* MCP arguments only: not a REST body member */

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
	unsigned only;			/* TG_JF_REST or TG_JF_MCP; 0: both */
};

/*
 * The schema of a closed object with members props:
 * {"type":"object","properties":{...},"required":[...] (when any),
 * "additionalProperties":false}, members in list order, each
 * {type|anyOf, pattern, enum, minimum, maximum, maxLength, minItems,
 * items, description} as set. New reference; NULL on OOM.
 */
json_t *tg_jschema_object(const struct tg_jfield *props);
/* Adds the members props to the object schema o (properties, required),
 * after those it has. Fields marked TG_JF_REST are left out here and in
 * tg_jschema_object. 0, or -TG_E_NOMEM. */
int tg_jschema_add(json_t *o, const struct tg_jfield *props);

struct tg_err;
/*
 * Checks the top level of a REST body against fields (those not marked
 * TG_JF_MCP), so that a 422 names each field: not an object ("body":
 * "must be a JSON object"); for each member in body order, "unknown
 * member" or "must be <a string|a string or null|an object|an object or
 * null|an integer|a boolean|an array>"; then, in field order, "is
 * required". Values (patterns, ranges, enums) are the service's to
 * check. 0, or -TG_E_UNPROCESSABLE with the field errors in err.
 */
int tg_jfields_check(const struct tg_jfield *fields, const json_t *in,
    struct tg_err *err);

#endif
