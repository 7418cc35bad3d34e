"""validate.py - static checks of a tool's code, run inside toolgate-sandbox.

Run as a script (mode "validate"): reads the job JSON on fd 0 and writes
{"ok", "errors": [{"line", "column", "message"}], "input_schema",
"description"} on fd 3. Never executes the tool's code: it only parses it
with Python's own ast module and compiles it.

The module allow-list (BASE_MODULES, module_allowed) and its refusal text
live in runner.py and are imported from there, so both give the same
answer. BASE_MODULES (e.g. zlib, struct) are always allowed, on top of the
allowed_modules setting. The list is a review aid, not a security boundary.

Checks: syntax errors (line and column), a missing or non-function entry
point, imports outside the allow-list (import, from-import, __import__("x"),
importlib.import_module("x") with literal names), relative imports. The input
schema comes from the entry point's signature: annotations become JSON Schema
types, parameters with defaults are optional, the docstring becomes the
description (a Google-style "Args:" section describes the parameters).
"""

import os as _os
import sys as _sys

_sys.path.insert(0, _os.path.dirname(_os.path.abspath(__file__)))
from runner import BASE_MODULES, module_allowed, _not_allowed  # noqa: E402,E501
_sys.path.pop(0)


_SIMPLE = {
    "int": "integer", "float": "number", "str": "string", "bool": "boolean",
    "list": "array", "List": "array", "Sequence": "array", "tuple": "array",
    "Tuple": "array", "set": "array", "Set": "array", "Iterable": "array",
    "dict": "object", "Dict": "object", "Mapping": "object",
    "bytes": "string", "None": "null", "NoneType": "null",
}


def _name(node):
    import ast
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    return None


def _union(schemas):
    types = []
    for s in schemas:
        if set(s) == {"type"} and isinstance(s["type"], str):
            types.append(s["type"])
        else:
            return {"anyOf": schemas}
    return {"type": types[0] if len(types) == 1 else types}


def annotation_schema(node):
    """JSON Schema for an annotation expression (best effort; {} = any)."""
    import ast
    if node is None:
        return {}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return annotation_schema(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return {}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([annotation_schema(node.left),
                       annotation_schema(node.right)])
    name = _name(node)
    if name is not None:
        if name in _SIMPLE:
            return {"type": _SIMPLE[name]}
        return {}
    if isinstance(node, ast.Subscript):
        base = _name(node.value)
        sl = node.slice
        args = list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]
        if base == "Optional":
            return _union([annotation_schema(args[0]), {"type": "null"}])
        if base == "Union":
            return _union([annotation_schema(a) for a in args])
        if base == "Literal":
            vals = [a.value for a in args if isinstance(a, ast.Constant)]
            return {"enum": vals}
        if base == "Annotated":
            s = annotation_schema(args[0])
            for a in args[1:]:
                if isinstance(a, ast.Constant) and isinstance(a.value, str):
                    s = dict(s, description=a.value)
            return s
        t = _SIMPLE.get(base)
        if t == "array":
            s = {"type": "array"}
            if args and base not in ("tuple", "Tuple"):
                items = annotation_schema(args[0])
                if items:
                    s["items"] = items
            return s
        if t == "object":
            s = {"type": "object"}
            if len(args) == 2:
                v = annotation_schema(args[1])
                if v:
                    s["additionalProperties"] = v
            return s
    return {}


def _split_doc(doc):
    """(description, {param: text}) from a docstring with an Args: section."""
    if not doc:
        return "", {}
    lines = doc.splitlines()
    desc, params, cur, in_args = [], {}, None, False
    for line in lines:
        s = line.strip()
        if s.rstrip(":").lower() in ("args", "arguments", "parameters",
                                     "params"):
            in_args = True
            continue
        if in_args:
            if s.rstrip(":").lower() in ("returns", "return", "raises",
                                         "yields", "examples", "example"):
                in_args = False
                continue
            if not s:
                cur = None
                continue
            head, sep, text = s.partition(":")
            pname = head.split("(")[0].strip()
            if sep and pname.isidentifier():
                params[pname] = text.strip()
                cur = pname
            elif cur is not None:
                params[cur] = (params[cur] + " " + s).strip()
            continue
        desc.append(line)
    return "\n".join(desc).strip(), params


def input_schema(fn):
    """(schema, description) from an ast (Async)FunctionDef."""
    import ast
    doc = ast.get_docstring(fn) or ""
    description, pdocs = _split_doc(doc)
    a = fn.args
    props, required = {}, []
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    pairs = list(zip(positional, defaults)) + list(zip(a.kwonlyargs,
                                                       a.kw_defaults))
    for arg, default in pairs:
        s = dict(annotation_schema(arg.annotation))
        if arg.arg in pdocs and pdocs[arg.arg]:
            s["description"] = pdocs[arg.arg]
        if default is None:
            required.append(arg.arg)
        else:
            try:
                s["default"] = ast.literal_eval(default)
            except (ValueError, TypeError, SyntaxError, MemoryError,
                    RecursionError):
                pass
        props[arg.arg] = s
    schema = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    if a.kwarg is None:
        schema["additionalProperties"] = False
    return schema, description


def _err(node, message):
    line = getattr(node, "lineno", None) if node is not None else None
    col = getattr(node, "col_offset", None) if node is not None else None
    return {"line": line, "column": None if col is None else col + 1,
            "message": message}


def validate(code, entry="main", allowed=()):
    import ast
    allowed = set(allowed or ())
    errors = []
    try:
        tree = ast.parse(code, filename="tool.py")
        compile(tree, "tool.py", "exec", dont_inherit=True)
    except SyntaxError as e:
        return {"ok": False, "errors": [{
            "line": e.lineno, "column": e.offset,
            "message": "syntax error: %s" % e.msg}],
            "input_schema": None, "description": ""}
    except (ValueError, RecursionError, MemoryError) as e:
        return {"ok": False, "errors": [{"line": None, "column": None,
                                         "message": "cannot parse: %s" % e}],
                "input_schema": None, "description": ""}

    def check(node, name):
        if not module_allowed(name, allowed):
            errors.append(_err(node, _not_allowed(name)))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for al in node.names:
                check(node, al.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                errors.append(_err(node, "relative imports are not "
                                   "supported in tools"))
            elif not module_allowed(node.module, allowed):
                subs = [node.module + "." + al.name for al in node.names]
                if not all(module_allowed(s, allowed) for s in subs):
                    check(node, node.module)
        elif isinstance(node, ast.Call) and node.args and \
                isinstance(node.args[0], ast.Constant) and \
                isinstance(node.args[0].value, str) and \
                _name(node.func) in ("__import__", "import_module"):
            check(node, node.args[0].value)

    fn = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                node.name == entry:
            fn = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) \
                else [node.target]
            if any(isinstance(t, ast.Name) and t.id == entry
                   for t in targets):
                fn = node
        elif isinstance(node, ast.ClassDef) and node.name == entry:
            fn = node
    schema, description = None, ""
    if fn is None:
        errors.append({"line": None, "column": None,
                       "message": "no function '%s' defined at module "
                       "level" % entry})
    elif not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        errors.append(_err(fn, "'%s' must be a function defined with def "
                           "or async def" % entry))
    else:
        schema, description = input_schema(fn)
    errors.sort(key=lambda e: (e["line"] or 0, e["column"] or 0))
    return {"ok": not errors, "errors": errors, "input_schema": schema,
            "description": description}


def _main():
    import json
    import os
    from runner import _read_all
    job = json.loads(_read_all(0))
    doc = validate(job["code"], job.get("entry") or "main",
                   job.get("allowed_modules") or ())
    data = json.dumps(doc, ensure_ascii=False).encode("utf-8", "replace")
    view = memoryview(data)
    while view:
        view = view[os.write(3, view):]
    os.close(3)


if __name__ == "__main__":
    _main()
