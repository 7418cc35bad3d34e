"""pkg_resolver.py - resolves and fetches third-party Python packages for
toolgate (lib/packages.c, docs/packages.md). It is embedded in the toolgate
binary and always runs INSIDE the sandbox, as the code of a sandbox run whose
only egress is the package index (and the vulnerability source): it never
runs on the host, and it never runs code from a package (wheels only; an
sdist would run its setup.py).

main(op="resolve", index_url, name, spec, osv_url, extras) -> the review
  document:
  {"name", "version", "extras", "provides_extra", "summary", "license",
   "home_page", "requires_python",
   "closure": [{"name", "version", "filename", "url", "sha256", "size",
                "import_names", "requires", "extras"}],
   "vulnerabilities": {"status": "checked"|"unknown"|"not_configured", ...}}
main(op="fetch", closure) -> {"wheels": [{"name", "sha256"}], "files": N}:
   every wheel downloaded again, its sha256 compared with the recorded one
   (a mismatch is refused), and its files stored through the egress proxy
   into the worker's new tree directory (paths checked again there).
Wheels are streamed to /tmp by the proxy's download mode (their own cap,
TOOLGATE_PIP_MAX_DOWNLOAD), never held in memory whole.
A refusal raises PackageRefused (the error type lib/packages.c reports as a
4xx with the message); anything else is an index or network failure.
"""
import base64
import hashlib
import json
import os
import posixpath
import re
import sys
import zipfile
from email.parser import Parser
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from toolgate import http

MAX_CLOSURE = 64
STORE_BATCH = 2 * 1024 * 1024
CHUNK = 1024 * 1024


class PackageRefused(Exception):
    pass


def canon(name):
    return re.sub(r"[-_.]+", "-", name).lower()


# ---- versions (PEP 440, the common subset) --------------------------------

_VER = re.compile(r"^v?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)"
                  r"[-_.]?(\d*))?(?:(?:-(\d+))|(?:[-_.]?(?:post|rev|r)[-_.]?(\d*)))?"
                  r"(?:[-_.]?dev[-_.]?(\d*))?(?:\+[a-z0-9.]+)?$", re.I)


def vkey(v):
    m = _VER.match(v.strip())
    if not m:
        return None
    rel = [int(x) for x in m.group(1).split(".")]
    while len(rel) > 1 and rel[-1] == 0:
        rel.pop()
    pre = m.group(2)
    prek = (3, 0)
    if pre:
        p = pre.lower()
        p = {"alpha": "a", "beta": "b", "c": "rc", "pre": "rc",
             "preview": "rc"}.get(p, p)
        prek = ({"a": 0, "b": 1, "rc": 2}[p], int(m.group(3) or 0))
    post = m.group(4) or m.group(5)
    postk = -1 if post is None else int(post or 0)
    dev = m.group(6)
    devk = 1 << 30 if dev is None else int(dev or 0)
    if dev is not None and not pre and post is None:
        prek = (-1, 0)
    return (tuple(rel), prek, postk, devk)


def is_pre(v):
    k = vkey(v)
    return k is not None and (k[1][0] < 3 or k[3] != 1 << 30)


def _rel(v):
    m = _VER.match(v.strip())
    return [int(x) for x in m.group(1).split(".")] if m else []


def spec_ok(version, spec):
    """version satisfies every clause of spec ("", ">=1,<2", "==1.*")."""
    k = vkey(version)
    if k is None:
        return False
    for clause in [c.strip() for c in spec.split(",") if c.strip()]:
        m = re.match(r"^(===|==|!=|~=|>=|<=|>|<)\s*(\S+)$", clause)
        if not m:
            raise PackageRefused("unsupported version specifier %r" % clause)
        op, want = m.groups()
        if op == "===":
            if version != want:
                return False
            continue
        if op in ("==", "!=") and want.endswith(".*"):
            pre = [int(x) for x in want[:-2].split(".") if x.isdigit()]
            r = _rel(version)
            r = r + [0] * (len(pre) - len(r))
            match = r[:len(pre)] == pre
            if match != (op == "=="):
                return False
            continue
        w = vkey(want)
        if w is None:
            raise PackageRefused("bad version %r in specifier %r" % (want, clause))
        if op == "==" and k != w:
            return False
        if op == "!=" and k == w:
            return False
        if op == ">=" and not k >= w:
            return False
        if op == "<=" and not k <= w:
            return False
        if op == ">" and not k > w:
            return False
        if op == "<" and not k < w:
            return False
        if op == "~=":
            r = _rel(want)
            if len(r) < 2:
                raise PackageRefused("~= needs at least two release numbers")
            upper = r[:-1]
            if not (k >= w and _rel(version)[:len(upper)] == upper):
                return False
    return True


# ---- environment markers (PEP 508) ----------------------------------------

def marker_env():
    import platform
    vi = sys.version_info
    return {
        "python_version": "%d.%d" % (vi[0], vi[1]),
        "python_full_version": "%d.%d.%d" % (vi[0], vi[1], vi[2]),
        "os_name": os.name,
        "sys_platform": sys.platform,
        "platform_system": platform.system(),
        "platform_machine": platform.machine(),
        "platform_python_implementation": platform.python_implementation(),
        "implementation_name": sys.implementation.name,
        "implementation_version": "%d.%d.%d" % sys.implementation.version[:3],
        "platform_release": "",
        "platform_version": "",
        "extra": "",
    }


_TOK = re.compile(r"\s*(?:(\()|(\))|('[^']*'|\"[^\"]*\")|(===|==|!=|<=|>=|~=|<|>)"
                  r"|(not\s+in\b)|(in\b)|(and\b)|(or\b)|([A-Za-z_][A-Za-z0-9_.]*))")


def marker_ok(marker, env):
    toks = []
    pos = 0
    marker = marker.strip()
    while pos < len(marker):
        m = _TOK.match(marker, pos)
        if not m or m.end() == pos:
            raise PackageRefused("cannot parse marker %r" % marker)
        pos = m.end()
        kinds = ["(", ")", "str", "op", "op", "op", "and", "or", "var"]
        for i, g in enumerate(m.groups()):
            if g is not None:
                kind = kinds[i]
                val = re.sub(r"\s+", " ", g)
                toks.append((kind, val))
                break
        if marker[pos:].strip() == "":
            break
    toks.append(("end", ""))
    i = [0]

    def peek():
        return toks[i[0]]

    def take():
        t = toks[i[0]]
        i[0] += 1
        return t

    def value():
        k, v = take()
        if k == "str":
            return v[1:-1], None
        if k == "var":
            if v not in env:
                raise PackageRefused("unknown marker variable %r" % v)
            return env[v], v
        raise PackageRefused("bad marker %r" % marker)

    def compare(a, op, b):
        if op in ("in", "not in"):
            r = a in b
            return r if op == "in" else not r
        ka, kb = vkey(a), vkey(b)
        if ka is not None and kb is not None and op != "===":
            if op == "~=":
                return spec_ok(a, "~=" + b)
            return {"==": ka == kb, "!=": ka != kb, "<": ka < kb,
                    "<=": ka <= kb, ">": ka > kb, ">=": ka >= kb}[op]
        return {"==": a == b, "===": a == b, "!=": a != b, "<": a < b,
                "<=": a <= b, ">": a > b, ">=": a >= b, "~=": False}[op]

    def atom():
        if peek()[0] == "(":
            take()
            r = expr()
            if take()[0] != ")":
                raise PackageRefused("bad marker %r" % marker)
            return r
        a, av = value()
        k, op = take()
        if k != "op":
            raise PackageRefused("bad marker %r" % marker)
        b, bv = value()
        if "extra" in (av, bv):     # PEP 685: extras compare normalised
            a, b = canon(a), canon(b)
        return compare(a, op, b)

    def chain(word, operand, join):
        # operand (word operand)*, folded left with join; every operand is
        # parsed (and checked) even where join no longer needs its value
        r = operand()
        while peek()[0] == word:
            take()
            r = join(r, operand())
        return r

    def conj():
        return chain("and", atom, lambda a, b: a and b)

    def expr():
        return chain("or", conj, lambda a, b: a or b)

    r = expr()
    if peek()[0] != "end":
        raise PackageRefused("bad marker %r" % marker)
    return r


def parse_requirement(line):
    req, _, marker = line.partition(";")
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*\(?([^)]*)\)?\s*$",
                 req)
    if not m:
        raise PackageRefused("cannot parse requirement %r" % line)
    spec = m.group(3).strip()
    if "@" in spec or "://" in spec:
        raise PackageRefused("direct URL requirement %r: refused" % line)
    extras = frozenset(canon(x.strip()) for x in (m.group(2) or "[]")[1:-1]
                       .split(",") if x.strip())
    return m.group(1), spec.replace(" ", ""), marker.strip(), extras


# ---- wheel tags -----------------------------------------------------------

def compatible(filename):
    """The wheel's tags fit the sandbox's Python (the host's interpreter)."""
    parts = filename[:-4].split("-")
    if len(parts) not in (5, 6):
        return False
    py, abi, plat = parts[-3], parts[-2], parts[-1]
    minor = sys.version_info[1]
    import platform
    mach = platform.machine()
    try:
        glibc = tuple(int(x) for x in os.confstr("CS_GNU_LIBC_VERSION").split()[1]
                      .split(".")[:2])
    except Exception:
        glibc = (0, 0)

    def py_ok(t):
        if t in ("py3", "py%d%d" % (3, minor)):
            return True
        m = re.match(r"^(py|cp)3(\d+)$", t)
        return bool(m) and int(m.group(2)) <= minor and \
            (m.group(1) == "py" or int(m.group(2)) == minor or "abi3" in abi)

    def abi_ok(t):
        return t in ("none", "abi3", "cp3%d" % minor)

    def plat_ok(t):
        if t == "any" or t == "linux_" + mach:
            return True
        if t in ("manylinux1_" + mach, "manylinux2010_" + mach,
                 "manylinux2014_" + mach):
            need = {"manylinux1": (2, 5), "manylinux2010": (2, 12),
                    "manylinux2014": (2, 17)}[t.split("_")[0]]
            return glibc >= need
        m = re.match(r"^manylinux_(\d+)_(\d+)_(.+)$", t)
        return bool(m) and m.group(3) == mach and \
            (int(m.group(1)), int(m.group(2))) <= glibc

    return any(py_ok(t) for t in py.split(".")) and \
        any(abi_ok(t) for t in abi.split(".")) and \
        any(plat_ok(t) for t in plat.split("."))


# ---- the index ------------------------------------------------------------

class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []
        self._cur = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._cur = dict(attrs)
            self._cur["_text"] = ""

    def handle_data(self, data):
        if self._cur is not None:
            self._cur["_text"] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._cur is not None:
            self.links.append(self._cur)
            self._cur = None


def get(url):
    r = http.get(url, timeout=30)
    if r.status == 404:
        return None
    if r.status != 200:
        raise RuntimeError("HTTP %d from %s" % (r.status, url))
    return r


def project_files(index_url, name):
    url = urljoin(index_url if index_url.endswith("/") else index_url + "/",
                  canon(name) + "/")
    r = get(url)
    if r is None:
        raise PackageRefused("'%s' is not on the package index" % name)
    p = _Links()
    p.feed(r.text)
    files = []
    for a in p.links:
        href = a.get("href") or ""
        full = urljoin(r.url or url, href)
        path, _, frag = full.partition("#")
        fn = posixpath.basename(urlsplit(path).path)
        sha = None
        if frag.startswith("sha256="):
            sha = frag[7:].lower()
        if a.get("data-yanked") is not None:
            continue
        files.append({"filename": fn, "url": path, "sha256": sha,
                      "requires_python": a.get("data-requires-python")})
    return files


def wheel_version(fn):
    parts = fn[:-4].split("-")
    return parts[1] if len(parts) in (5, 6) else None


def pick(index_url, name, spec, allow_pre):
    files = project_files(index_url, name)
    wheels = [f for f in files if f["filename"].endswith(".whl")]
    if not wheels:
        if files:
            raise PackageRefused(
                "'%s' has only source distributions (sdist) on the index: "
                "toolgate installs wheels only (installing an sdist would run "
                "its setup.py): refused" % name)
        raise PackageRefused("'%s' has no files on the package index" % name)
    cands = []
    any_match = False
    for f in wheels:
        v = wheel_version(f["filename"])
        if v is None or vkey(v) is None or not spec_ok(v, spec):
            continue
        if is_pre(v) and not allow_pre:
            continue
        rp = f.get("requires_python")
        if rp and not spec_ok("%d.%d.%d" % sys.version_info[:3],
                              rp.replace("&lt;", "<").replace("&gt;", ">")):
            continue
        any_match = True
        if compatible(f["filename"]):
            cands.append((vkey(v), 1 if f["filename"].endswith("-any.whl") else 0,
                          v, f))
    if not cands:
        if any_match:
            raise PackageRefused(
                "'%s%s' has no wheel for this host's Python %d.%d (%s); only "
                "wheels can be installed: refused" % (name, spec,
                                                       sys.version_info[0],
                                                       sys.version_info[1],
                                                       os.uname().machine))
        raise PackageRefused("no version of '%s' matches '%s' on the index"
                             % (name, spec or "(any)"))
    cands.sort(key=lambda c: (c[0], c[1]))
    return cands[-1][2], cands[-1][3]


def download(f):
    """The wheel into a file under /tmp (streamed): -> (path, sha256, size)."""
    path = "/tmp/" + hashlib.sha256(f["url"].encode()).hexdigest()[:32] + ".whl"
    try:
        status, size = http._download(f["url"], path)
    except http.HttpError as e:
        if "download cap" in str(e):
            raise PackageRefused("%s: %s" % (f["filename"], e))
        raise
    if status == 404:
        os.unlink(path)
        raise PackageRefused("%s is gone from the index" % f["filename"])
    if status != 200:
        os.unlink(path)
        raise RuntimeError("HTTP %d from %s" % (status, f["url"]))
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    sha = h.hexdigest()
    if f.get("sha256") and f["sha256"] != sha:
        os.unlink(path)
        raise PackageRefused(
            "sha256 of %s is %s but %s was expected: refused"
            % (f["filename"], sha, f["sha256"]))
    return path, sha, size


def wheel_info(data, filename):
    try:
        z = zipfile.ZipFile(data)
    except zipfile.BadZipFile:
        raise PackageRefused("%s is not a valid wheel (zip): refused" % filename)
    names = z.namelist()
    di = [n.split("/")[0] for n in names
          if n.count("/") == 1 and n.split("/")[0].endswith(".dist-info")
          and n.endswith("/METADATA")]
    if len(di) != 1:
        raise PackageRefused("%s has no single .dist-info/METADATA: refused"
                             % filename)
    meta = Parser().parsestr(z.read(di[0] + "/METADATA").decode("utf-8", "replace"))
    imports = []
    if di[0] + "/top_level.txt" in names:
        imports = [x.strip() for x in z.read(di[0] + "/top_level.txt")
                   .decode("utf-8", "replace").splitlines() if x.strip()]
    else:
        for n in names:
            top = n.split("/")[0]
            if top.endswith(".dist-info") or top.endswith(".data"):
                continue
            if "/" in n:
                if n.endswith("/__init__.py") and n.count("/") == 1:
                    imports.append(top)
            elif n.endswith(".py"):
                imports.append(n[:-3])
            elif n.endswith(".so"):
                imports.append(n.split(".")[0])
    imports = sorted(set(i for i in imports
                         if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", i)))
    home = meta.get("Home-page") or ""
    if not home:
        for u in meta.get_all("Project-URL") or []:
            home = u.split(",", 1)[-1].strip()
            break
    return {
        "summary": meta.get("Summary") or "",
        "license": meta.get("License-Expression") or meta.get("License") or "",
        "home_page": home,
        "requires_python": meta.get("Requires-Python") or "",
        "requires": meta.get_all("Requires-Dist") or [],
        "provides_extra": sorted(set(canon(x) for x in
                                     meta.get_all("Provides-Extra") or [])),
        "import_names": imports,
    }


def osv(osv_url, closure):
    if not osv_url:
        return {"status": "not_configured"}
    q = {"queries": [{"package": {"name": c["name"], "ecosystem": "PyPI"},
                      "version": c["version"]} for c in closure]}
    try:
        r = http.post(osv_url, json=q, timeout=20)
        if r.status != 200:
            raise RuntimeError("HTTP %d" % r.status)
        res = r.json().get("results")
        if not isinstance(res, list) or len(res) != len(closure):
            raise RuntimeError("the answer has no results for every package")
        out = {}
        for c, x in zip(closure, res):
            ids = sorted(str(v.get("id")) for v in (x or {}).get("vulns") or []
                         if isinstance(v, dict) and v.get("id"))
            if ids:
                out[c["name"]] = ids
        return {"status": "checked", "source": osv_url, "packages": out}
    except Exception as e:  # unreachable, refused, malformed: unknown
        return {"status": "unknown", "source": osv_url,
                "reason": "%s: %s" % (type(e).__name__, str(e)[:300])}


def wanted(info, extras, env, seen):
    """The requirements of a picked wheel for its extras ("" = none) that
    were not followed yet: [(name, spec, extras, line)]."""
    out = []
    for line in info["requires"]:
        if line in seen:
            continue
        dn, ds, mk, dx = parse_requirement(line)
        if mk:
            ok = False
            for x in [""] + sorted(extras):
                e = dict(env)
                e["extra"] = x
                if marker_ok(mk, e):
                    ok = True
                    break
            if not ok:
                continue
        seen.add(line)
        out.append((dn, ds, dx, line))
    return out


def resolve(index_url, name, spec, osv_url, extras=()):
    env = marker_env()
    extras = frozenset(canon(x) for x in extras)
    allow_pre = any(is_pre(m) for m in re.findall(r"[0-9][0-9A-Za-z.]*", spec))
    queue = [(name, spec, None, extras)]
    picked = {}
    state = {}
    order = []
    top = None
    while queue:
        n, s, parent, ex = queue.pop(0)
        cn = canon(n)
        if cn in picked:
            if not spec_ok(picked[cn]["version"], s):
                raise PackageRefused(
                    "conflict: %s needs %s%s but %s %s was chosen: refused"
                    % (parent or "the request", n, s, cn, picked[cn]["version"]))
            info, seen, done = state[cn]
            new = set(ex) - done
            if new:     # more extras of a package already chosen
                done |= new
                ent = picked[cn]
                for dn, ds, dx, _ in wanted(info, done, env, seen):
                    ent["requires"].append(canon(dn) + ds)
                    queue.append((dn, ds, "%s %s" % (cn, ent["version"]), dx))
                ent["extras"] = sorted(done & set(info["provides_extra"]))
            continue
        if len(picked) >= MAX_CLOSURE:
            raise PackageRefused("more than %d packages in the closure: refused"
                                 % MAX_CLOSURE)
        v, f = pick(index_url, n, s, allow_pre and parent is None)
        path, sha, size = download(f)
        try:
            info = wheel_info(path, f["filename"])
        finally:
            os.unlink(path)
        if parent is None:
            missing = sorted(set(ex) - set(info["provides_extra"]))
            if missing:
                raise PackageRefused(
                    "'%s' %s has no extra %s (it provides: %s): refused"
                    % (cn, v, ", ".join("'%s'" % m for m in missing),
                       ", ".join(info["provides_extra"]) or "none"))
        seen = set()
        reqs = []
        for dn, ds, dx, _ in wanted(info, ex, env, seen):
            reqs.append(canon(dn) + ds)
            queue.append((dn, ds, "%s %s" % (cn, v), dx))
        ent = {"name": cn, "version": v, "filename": f["filename"],
               "url": f["url"], "sha256": sha, "size": size,
               "import_names": info["import_names"], "requires": reqs,
               "extras": sorted(set(ex) & set(info["provides_extra"]))}
        picked[cn] = ent
        state[cn] = (info, seen, set(ex))
        order.append(ent)
        if top is None:
            top = dict(info)
            top["version"] = v
    closure = sorted(order, key=lambda e: e["name"])
    return {"name": canon(name), "version": top["version"],
            "extras": sorted(extras),
            "provides_extra": top["provides_extra"],
            "summary": top["summary"], "license": top["license"],
            "home_page": top["home_page"],
            "requires_python": top["requires_python"],
            "closure": closure,
            "vulnerabilities": osv(osv_url, closure)}


def safe_path(p):
    if not p or p.startswith("/") or "\\" in p or "\0" in p:
        return None
    parts = p.split("/")
    if any(x in ("", ".", "..") for x in parts):
        return None
    return p


class _Store:
    """Unpacked files to the worker's new tree, through the egress proxy's
    store (the installer's runs only), in batches of about STORE_BATCH."""

    def __init__(self):
        self.batch = []
        self.size = 0
        self.count = 0

    def add(self, path, data, append):
        self.batch.append([path, base64.b64encode(data).decode(), append])
        self.size += len(data)
        if self.size >= STORE_BATCH:
            self.flush()

    def flush(self):
        if not self.batch:
            return
        doc = http._roundtrip({"store": self.batch})
        if not doc.get("ok"):
            raise PackageRefused(doc.get("error") or "store refused")
        self.count += len([b for b in self.batch if not b[2]])
        self.batch = []
        self.size = 0


def fetch(closure):
    wheels = []
    out = _Store()
    for c in closure:
        f = {"filename": c["filename"], "url": c["url"], "sha256": None}
        path, sha, _ = download(f)
        if sha != c["sha256"]:
            os.unlink(path)
            raise PackageRefused(
                "%s changed after review: refused (sha256 on the index %s, "
                "recorded %s)" % (c["filename"], sha[:16], c["sha256"][:16]))
        wheels.append({"name": c["name"], "sha256": sha})
        unpack(c, zipfile.ZipFile(path), out)
        os.unlink(path)
    out.flush()
    return {"wheels": wheels, "files": out.count}


def unpack(c, z, out):
    for zi in z.infolist():
        if zi.is_dir():
            continue
        p = zi.filename
        top = p.split("/")[0]
        if top.endswith(".data"):
            rest = p.split("/", 2)
            if len(rest) == 3 and rest[1] in ("purelib", "platlib"):
                p = rest[2]
            else:
                continue    # scripts, headers, data: not importable
        sp = safe_path(p)
        if sp is None:
            raise PackageRefused("%s holds an unsafe path %r: refused"
                                 % (c["filename"], zi.filename))
        with z.open(zi) as src:
            first = True
            while True:
                block = src.read(CHUNK)
                if not block and not first:
                    break
                out.add(sp, block, not first)
                first = False


def main(op: str = "resolve", index_url: str = "", name: str = "",
         spec: str = "", osv_url: str = "", closure: list = None,
         extras: list = None):
    if op == "resolve":
        return resolve(index_url, name, spec, osv_url, extras or ())
    if op == "fetch":
        return fetch(closure or [])
    raise ValueError("unknown op %r" % op)
