"""The README's Python example runs as printed (in a fresh directory)."""

import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_example_runs(tmp_path):
    text = README.read_text()
    section = text[text.index("\n## Python\n"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert "/tmp/recdb-py-demo" in code
    code = code.replace("/tmp/recdb-py-demo", str(tmp_path / "demo"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0].split()[0] in {"i3", "i4"}          # u1's unseen items
    assert "'item': 'i1', 'score': 1.0" in out.getvalue()
    assert "3" in lines
    assert lines[-1].startswith("not_found ")
