"""One table of bad records through every write surface: the Python module,
`recdb import` of JSONL and of CSV, and `recdb serve`'s POST /v1/events. Each
must refuse the record with the same error code and a message naming the
same field, and store nothing of the batch (a good record goes first). The C
API runs the cases it can express in tests/capi/capi_test.c
(BadRecordsTable). Issue 19 #1 and the one validator behind every surface
(recdb/record_fields.h for keys, engine/write_validation.h for values)."""

import csv
import io
import json
import os
import signal
import subprocess
import urllib.error
import urllib.request

import pytest

import recdb

CLI = os.environ.get("RECDB_CLI", "")
GOOD = {"user": "good", "item": "g1", "ts": 1500000000}

# name, bad event, the field the error must name, surfaces that can hold it.
ALL = ("python", "jsonl", "csv", "http")
CASES = [
    ("unknown_key", {"user": "a", "item": "i1", "ts": 1500000000, "tyep": "purchase"}, "tyep",
     ALL),
    ("missing_item", {"user": "a", "ts": 1500000000}, "item", ALL),
    ("missing_ts", {"user": "a", "item": "i1"}, "ts", ALL),
    ("value_not_a_number", {"user": "a", "item": "i1", "ts": 1500000000, "value": "high"},
     "value", ALL),
    ("ts_not_an_integer", {"user": "a", "item": "i1", "ts": "late"}, "ts", ALL),
    ("empty_user", {"user": "", "item": "i1", "ts": 1500000000}, "user", ALL),
    ("ts_out_of_range", {"user": "a", "item": "i1", "ts": 10 ** 13}, "timestamp", ALL),
    ("item_too_long", {"user": "a", "item": "x" * 300, "ts": 1500000000}, "item", ALL),
    ("unknown_type", {"user": "a", "item": "i1", "ts": 1500000000, "type": "nope"}, "type",
     ALL),
    # JSON text cannot hold invalid UTF-8 (the parser refuses the line before
    # any field is read): the module and CSV can.
    ("invalid_utf8_item", {"user": "a", "item": "bad\udcff", "ts": 1500000000}, "item",
     ("python", "csv")),
]


def via_python(tmp_path, event):
    with recdb.open(str(tmp_path / "py"), create_if_missing=True, background_threads=0) as db:
        with pytest.raises(recdb.Error) as e:
            db.record_events([GOOD, event])
        assert db.stats()["events"] == 0
        return e.value.code, e.value.message


def run_cli(*args):
    return subprocess.run([CLI, *args], capture_output=True, timeout=120)


def import_file(tmp_path, name, data):
    db = str(tmp_path / name)
    assert run_cli("init", db).returncode == 0
    path = tmp_path / f"events.{name}"
    path.write_bytes(data)
    r = run_cli("import", db, "--events", str(path), "--on-error=stop", "--json")
    assert r.returncode == 1, r.stderr
    summary = json.loads(r.stdout)
    stats = json.loads(run_cli("stats", db, "--json").stdout)
    assert stats["events"] == 0
    # A bad line is in bad_lines; a bad CSV header stops the whole file.
    if summary["bad_lines"]:
        bad = summary["bad_lines"][0]
        return bad["code"], bad["message"]
    return summary["error"]["code"], summary["error"]["message"]


def utf8_bytes(s):
    return s.encode("utf-8", "surrogateescape")


def via_jsonl(tmp_path, event):
    lines = [json.dumps(GOOD), json.dumps(event)]
    return import_file(tmp_path, "jsonl", ("\n".join(lines) + "\n").encode())


def via_csv(tmp_path, event):
    columns = list(dict.fromkeys(list(GOOD) + list(event)))
    if "item" not in event:
        columns.remove("item")
    if "ts" not in event:
        columns.remove("ts")
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    w.writerow([GOOD.get(c, "") for c in columns])
    w.writerow([str(event.get(c, "")) for c in columns])
    return import_file(tmp_path, "csv", out.getvalue().encode("utf-8", "surrogateescape"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CLI:
        pytest.skip("RECDB_CLI not set")
    tmp = tmp_path_factory.mktemp("serve")
    token = tmp / "token"
    token.write_text("a-long-enough-test-token\n")
    proc = subprocess.Popen([CLI, "serve", str(tmp / "db"), "--create", "--no-train",
                             "--token-file", str(token)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    ready = json.loads(proc.stdout.readline())
    yield f"http://127.0.0.1:{ready['port']}", "a-long-enough-test-token"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


def http(server, method, path, body=None):
    url, token = server
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def via_http(server, event):
    before = http(server, "GET", "/v1/stats")[1]["events"]
    status, body = http(server, "POST", "/v1/events", {"events": [GOOD, event]})
    assert status == 400, body
    assert http(server, "GET", "/v1/stats")[1]["events"] == before
    return body["error"]["code"], body["error"]["message"]


@pytest.mark.parametrize("name, event, field, surfaces", CASES, ids=[c[0] for c in CASES])
def test_same_error_on_every_surface(tmp_path, request, name, event, field, surfaces):
    if not CLI:
        pytest.skip("RECDB_CLI not set")
    got = {}
    for surface in surfaces:
        if surface == "python":
            got[surface] = via_python(tmp_path, event)
        elif surface == "jsonl":
            got[surface] = via_jsonl(tmp_path, event)
        elif surface == "csv":
            got[surface] = via_csv(tmp_path, event)
        else:
            got[surface] = via_http(request.getfixturevalue("server"), event)
    for surface, (code, message) in got.items():
        assert code == "invalid_argument", (surface, code, message)
        assert field in message, (surface, message)
