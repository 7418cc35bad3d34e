/*
 * jschema.h - the JSON Schema subset toolgate checks tool arguments
 * against (tools/call of served tools and of the management tools).
 * Pure: jansson values in, a verdict and a one-line reason out.
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

#endif
