#!/usr/bin/python3
"""Walks docs/SURFACES.md, the table of every DB call and its name on each surface
(issue #18 item 4), and checks it against the code:

- every DB member of api/include/recdb/db.h has a row (overloads share one);
- every C name is declared in api/include/recdb/c.h;
- every Python name is a method of recdb.DB or a module function (python/recdb_module.cc);
  `DB.method?keyword` names a keyword argument the module declares, `DB.method["key"]` a key
  python/convert.cc writes into each result dict;
- every HTTP route is a path + method of tools/serve/openapi.yaml (a cell `METHOD /path?param`
  names a query parameter of that route, which must be declared there);
- every CLI cell runs: `recdb CMD --help` exits 0 and names each action word and flag of the cell;
- every openapi route and every Python method appears in a row or in "Bound on one surface only";
- every "—" cell gives a reason.

usage: surfaces_test.py REPO_ROOT RECDB_BINARY
"""
import re
import subprocess
import sys
from pathlib import Path


def fail(errors):
    for e in errors:
        print("FAIL:", e)
    print(f"{len(errors)} problem(s)")
    sys.exit(1)


def main():
    root, recdb = Path(sys.argv[1]), sys.argv[2]
    doc = (root / "docs/SURFACES.md").read_text()
    rows = []
    for line in doc.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5:
            fail([f"row without 5 cells: {line}"])
        rows.append(cells)
    errors = []

    # Every DB member of db.h has a row.
    dbh = (root / "api/include/recdb/db.h").read_text()
    members = set(re.findall(r"virtual [^;{]*?\b([A-Z]\w*)\(", dbh))
    members |= set(re.findall(r"static [^;{]*?\b([A-Z]\w*)\(", dbh))
    members.discard("DB")
    names = {r[0].strip("`").removeprefix("DB::") for r in rows}
    for m in sorted(members - names):
        errors.append(f"db.h: DB::{m} has no row in docs/SURFACES.md")
    if len(members) < 30:
        errors.append(f"db.h: only {len(members)} members found; the parser is broken")

    c_decls = set(re.findall(r"\b(recdb_\w+)\(", (root / "api/include/recdb/c.h").read_text()))
    module = (root / "python/recdb_module.cc").read_text()
    py_convert = (root / "python/convert.cc").read_text()
    py_module = set(re.findall(r'm\.def\("(\w+)"', module))
    py_db = set(re.findall(r'\.def\("(\w+)"', module)) - py_module
    openapi = (root / "tools/serve/openapi.yaml").read_text()
    routes, path, route, params = set(), None, None, {}
    for line in openapi.splitlines():
        if line.startswith("components"):
            break
        m = re.match(r"^  (/\S+):", line)
        if m:
            path = m.group(1)
        m = re.match(r"^    (get|post|put|delete|patch):", line)
        if m and path:
            route = f"{m.group(1).upper()} {path}"
            routes.add(route)
        m = re.search(r"\{name: (\w+), in: query", line)
        if m and route:
            params.setdefault(route, set()).add(m.group(1))

    help_cache = {}

    def cli_help(cmd):
        if cmd not in help_cache:
            r = subprocess.run([recdb, cmd, "--help"], capture_output=True, text=True, timeout=60)
            help_cache[cmd] = r.stdout + r.stderr if r.returncode == 0 else None
        return help_cache[cmd]

    seen_routes, seen_py = set(), set()
    for cpp, c, py, http, cli in rows:
        for surface, cell in (("C", c), ("Python", py), ("HTTP", http), ("CLI", cli)):
            if cell.startswith("—"):
                if len(cell.lstrip("— ").strip()) < 12:
                    errors.append(f"{cpp} {surface}: '—' without a reason")
                continue
            m = re.fullmatch(r"`([^`]+)`", cell)
            if not m:
                errors.append(f"{cpp} {surface}: cell is neither `name` nor '— reason': {cell}")
                continue
            name = m.group(1)
            if surface == "C" and name not in c_decls:
                errors.append(f"{cpp}: C name {name} is not declared in recdb/c.h")
            elif surface == "Python":
                # DB.method, DB.method?keyword (an argument) or DB.method["key"] (a result key).
                pm = re.fullmatch(r'(\w+)\.(\w+)(?:\?(\w+)|\["(\w+)"\])?', name)
                kind, fn, kw, key = pm.groups() if pm else ("", name, None, None)
                ok = (kind == "DB" and fn in py_db) or (kind == "recdb" and fn in py_module)
                if not ok:
                    errors.append(f"{cpp}: Python name {name} is not bound in python/recdb_module.cc")
                if kw and f'"{kw}"_a' not in module:
                    errors.append(f"{cpp}: python/recdb_module.cc declares no keyword {kw}")
                if key and f'd["{key}"]' not in py_convert:
                    errors.append(f"{cpp}: python/convert.cc writes no result key {key}")
                seen_py.add(fn)
            elif surface == "HTTP":
                name, _, param = name.partition("?")
                if name not in routes:
                    errors.append(f"{cpp}: HTTP route {name} is not in openapi.yaml")
                elif param and param not in params.get(name, set()):
                    errors.append(f"{cpp}: openapi.yaml declares no query parameter {param} of {name}")
                seen_routes.add(name)
            elif surface == "CLI":
                words = name.split()
                if words[0] != "recdb" or len(words) < 2:
                    errors.append(f"{cpp}: CLI cell must start with 'recdb CMD': {name}")
                    continue
                text = cli_help(words[1])
                if text is None:
                    errors.append(f"{cpp}: `recdb {words[1]} --help` fails")
                    continue
                for w in words[2:]:
                    if not re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", text):
                        errors.append(f"{cpp}: `recdb {words[1]} --help` does not mention {w}")

    # Reverse: every route and Python method is in the table or the one-surface list.
    one_surface = doc.split("## Bound on one surface only", 1)[-1]
    for r in sorted(routes - seen_routes):
        if f"`{r}`" not in one_surface:
            errors.append(f"openapi.yaml: {r} appears in no row of docs/SURFACES.md")
    for p in sorted((py_db | py_module) - seen_py):
        if f"`DB.{p}`" not in one_surface and f"`recdb.{p}`" not in one_surface:
            errors.append(f"python: {p} appears in no row of docs/SURFACES.md")

    if errors:
        fail(errors)
    print(f"{len(rows)} calls x 4 surfaces checked; {len(routes)} routes, "
          f"{len(py_db | py_module)} Python names, {len(help_cache)} CLI commands")


if __name__ == "__main__":
    main()
