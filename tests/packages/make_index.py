#!/usr/bin/env python3
"""make_index.py ROOT [tamper NAME] - the package index of
tests/integration/test_packages.c, built offline: small wheels written
directly as zip files (a wheel is a zip with NAME-VER.dist-info/METADATA,
WHEEL, RECORD and optionally top_level.txt; no pip or setuptools), laid out
as a PEP 503 simple index (ROOT/simple/<name>/index.html linking
ROOT/files/<file>#sha256=<hex>), plus ROOT/osv.json for the vulnerability
stub of index_server.py.

  tgdemo 1.0        pure Python, depends on tgdep>=1.0 (and on tgnever
                    only for Python < 3, a marker that must be false)
  tgdep 1.2         pure Python, a single module tgdep.py
  tg-odd-name 0.3   import name oddmod (top_level.txt), not its dist name
  tgsdist 1.0       an sdist only (.tar.gz): must be refused
  tgvuln 1.0, 1.1   OSV reports GHSA-tg-0001 for it
  tgchange 1.0      rewritten by "tamper tgchange" (new bytes, new hash)
  tgosvdown 1.0     the vulnerability stub fails (HTTP 500) when asked about it
  tgbig 1.0         a 12 MiB wheel (incompressible data file): over the egress
                    proxy's 5 MiB reply cap, under the suite's 20 MiB
                    TOOLGATE_PIP_MAX_DOWNLOAD
  tghuge 1.0        a 24 MiB wheel: over the download cap, refused
  tgextra 1.0       extras: [fast] pulls in tgdep, [plain] nothing
  tgslow 1.0        index_server.py answers its page after 20 s until
                    ROOT/tgslow.fast exists (a restart mid-resolution)
  tgwait 1.0, tgcrash 1.0, tgcli 1.0
                    plain modules of their own (trees no other test
                    builds), for the tests of asynchronous approval:
                    index_server.py holds a download back while
                    ROOT/<name>.hold exists
"""
import random
import base64
import hashlib
import io
import json
import os
import sys
import zipfile

PKGS = {
    "tgdemo": [("1.0", {"tgdemo/__init__.py":
                        "import tgdep\n\ndef hello():\n"
                        "    return 'hello from tgdemo %d' % tgdep.VALUE\n"},
                ["tgdep (>=1.0)", 'tgnever ; python_version < "3.0"'], None)],
    "tgdep": [("1.2", {"tgdep.py": "VALUE = 42\n"}, [], None)],
    "tg-odd-name": [("0.3", {"oddmod/__init__.py": "NAME = 'odd'\n"}, [],
                     "oddmod\n")],
    "tgvuln": [("1.0", {"tgvuln.py": "V = '1.0'\n"}, [], None),
               ("1.1", {"tgvuln.py": "V = '1.1'\n"}, [], None)],
    "tgchange": [("1.0", {"tgchange.py": "X = 1\n"}, [], None)],
    "tgosvdown": [("1.0", {"tgosvdown.py": "Y = 1\n"}, [], None)],
    "tgbig": [("1.0", {"tgbig/__init__.py": "import os\nSIZE = os.path.getsize("
                       "os.path.join(os.path.dirname(__file__), 'blob.bin'))\n",
                       "tgbig/blob.bin": ("random", 12 << 20)}, [], None)],
    "tghuge": [("1.0", {"tghuge/__init__.py": "",
                        "tghuge/blob.bin": ("random", 24 << 20)}, [], None)],
    "tgextra": [("1.0", {"tgextra.py": "E = 1\n"},
                 ['tgdep (>=1.0) ; extra == "fast"', "Provides-Extra: fast",
                  "Provides-Extra: plain"], None)],
    "tgslow": [("1.0", {"tgslow.py": "S = 1\n"}, [], None)],
    "tgwait": [("1.0", {"tgwait.py": "W = 'waited'\n"}, [], None)],
    "tgcrash": [("1.0", {"tgcrash.py": "C = 'taken over'\n"}, [], None)],
    "tgcli": [("1.0", {"tgcli.py": "R = 'run-jobs'\n"}, [], None)],
}


def content(data):
    """str, or ("random", n): n deterministic incompressible bytes."""
    if isinstance(data, tuple):
        return random.Random(data[1]).randbytes(data[1])
    return data.encode()


def wheel(name, version, files, requires, top_level, salt=""):
    dist = name.replace("-", "_")
    di = "%s-%s.dist-info" % (dist, version)
    meta = ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
            "Summary: test package %s\nLicense: MIT\n"
            "Home-page: https://example.invalid/%s\n" % (name, version, name,
                                                          name))
    for r in requires:
        meta += r + "\n" if r.startswith("Provides-Extra:") else \
            "Requires-Dist: %s\n" % r
    entries = dict(files)
    if salt:
        entries[list(files)[0]] = files[list(files)[0]] + "# %s\n" % salt
    entries = {p: content(d) for p, d in entries.items()}
    entries[di + "/METADATA"] = meta.encode()
    entries[di + "/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: make_index.py\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    if top_level:
        entries[di + "/top_level.txt"] = top_level.encode()
    record = ""
    for p, data in entries.items():
        h = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
        record += "%s,sha256=%s,%d\n" % (p, h.rstrip(b"=").decode(), len(data))
    entries[di + "/RECORD"] = (record + di + "/RECORD,,\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p, data in entries.items():
            zi = zipfile.ZipInfo(p, date_time=(2020, 1, 1, 0, 0, 0))
            z.writestr(zi, data)
    return "%s-%s-py3-none-any.whl" % (dist, version), buf.getvalue()


def write(root, fn, data):
    os.makedirs(os.path.join(root, "files"), exist_ok=True)
    with open(os.path.join(root, "files", fn), "wb") as f:
        f.write(data)


def page(root, name, fns):
    d = os.path.join(root, "simple", name)
    os.makedirs(d, exist_ok=True)
    links = ""
    for fn in fns:
        with open(os.path.join(root, "files", fn), "rb") as f:
            h = hashlib.sha256(f.read()).hexdigest()
        links += '<a href="../../files/%s#sha256=%s">%s</a><br>\n' % (fn, h, fn)
    with open(os.path.join(d, "index.html"), "w") as f:
        f.write("<!DOCTYPE html><html><body>\n%s</body></html>\n" % links)


def build(root, salt_for=None):
    for name, versions in PKGS.items():
        fns = []
        for v, files, req, top in versions:
            fn, data = wheel(name, v, files, req, top,
                             "tampered" if name == salt_for else "")
            write(root, fn, data)
            fns.append(fn)
        page(root, name, fns)
    # sdist only
    write(root, "tgsdist-1.0.tar.gz", b"not really a tarball")
    page(root, "tgsdist", ["tgsdist-1.0.tar.gz"])
    with open(os.path.join(root, "osv.json"), "w") as f:
        json.dump({"tgvuln": ["GHSA-tg-0001"]}, f)


if __name__ == "__main__":
    root = sys.argv[1]
    if len(sys.argv) == 4 and sys.argv[2] == "tamper":
        build(root, salt_for=sys.argv[3])
    else:
        build(root)
