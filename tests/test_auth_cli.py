"""`python -m auth add|remove|list`: Swedish messages, no traceback, no password anywhere (run in this process;
its first add and list also as the real command in a fresh one)."""
from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from auth import accounts
from auth.roles import ADMIN, READER, STAFF

ROOT = Path(__file__).resolve().parents[1]
SECRET = "kanel-bulle-7 Åre"


def auth_cli(tmp_path: Path, *args: str, stdin: str | bytes | None = "",
             fresh_process: bool = False) -> subprocess.CompletedProcess:
    """`python -m auth …` with the accounts and audit log in tmp_path: `auth.cli.main(argv, stdin)` in this process
    (its output captured, SystemExit read as the status), or with `fresh_process` the real command."""
    paths = {"FINSAM_ACCOUNTS": str(tmp_path / "accounts.toml"), "FINSAM_AUDIT_DB": str(tmp_path / "audit.sqlite")}
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    if fresh_process:
        p = subprocess.run([sys.executable, "-m", "auth", *args], cwd=ROOT, env=os.environ | paths, input=data,
                           capture_output=True, timeout=120)
        return subprocess.CompletedProcess(p.args, p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8"))
    from auth import cli

    out, err = io.StringIO(), io.StringIO()
    reader = io.TextIOWrapper(io.BytesIO(data or b""), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        for name, value in paths.items():
            mp.setenv(name, value)
        try:
            code = cli.main(list(args), stdin=reader)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:
            traceback.print_exc()
            code = 1
    return subprocess.CompletedProcess(["python", "-m", "auth", *args], code, out.getvalue(), err.getvalue())


def no_traceback(p: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in p.stderr and "Error:" not in p.stderr, p.stderr


def test_add_list_remove(tmp_path):
    p = auth_cli(tmp_path, "add", "Anna", "--role", "administratör", stdin=SECRET + "\n", fresh_process=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("Kontot 'anna' har skapats med rollen administratör")
    p = auth_cli(tmp_path, "add", "bertil", "--role=staff", stdin=SECRET + "-b\r\n")
    assert p.returncode == 0, p.stderr
    p = auth_cli(tmp_path, "add", "cecilia", "-r", "reader", stdin=SECRET + "-c")  # no final newline
    assert p.returncode == 0, p.stderr
    found = accounts.load(tmp_path / "accounts.toml")
    assert {n: a.role for n, a in found.items()} == {"anna": ADMIN, "bertil": STAFF, "cecilia": READER}
    # the password is the line without its line ending
    assert accounts.authenticate("bertil", SECRET + "-b", tmp_path / "accounts.toml")
    assert accounts.authenticate("cecilia", SECRET + "-c", tmp_path / "accounts.toml")

    p = auth_cli(tmp_path, "list", fresh_process=True)
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["Namn", "Roll", "Skapat", "Ändrat"]
    assert [line.split()[:2] for line in lines[1:4]] == [["anna", "administratör"], ["bertil", "handläggare"],
                                                          ["cecilia", "läsare"]]
    assert "3 konton" in p.stdout

    p = auth_cli(tmp_path, "add", "cecilia", "--role", "handläggare", stdin="ett-nytt-lösenord\n")
    assert p.returncode == 0 and "har nu rollen handläggare och ett nytt lösenord" in p.stdout
    p = auth_cli(tmp_path, "remove", "bertil")
    assert p.returncode == 0 and "Kontot 'bertil' (handläggare) har tagits bort" in p.stdout
    assert set(accounts.load(tmp_path / "accounts.toml")) == {"anna", "cecilia"}

    # the CLI's changes are in the audit log, without a password
    con = sqlite3.connect(tmp_path / "audit.sqlite")
    events = con.execute("SELECT event, detail FROM audit_log ORDER BY id").fetchall()
    assert [e for e, _ in events] == ["account_saved"] * 4 + ["account_removed"]
    assert events[-1][1] == "bertil: hade rollen handläggare"


def test_list_with_no_accounts(tmp_path):
    p = auth_cli(tmp_path, "list")
    assert p.returncode == 0 and "Inga lokala konton" in p.stdout
    assert not (tmp_path / "accounts.toml").exists()


@pytest.mark.parametrize("args, stdin, message", [
    (["add", "anna", "--role", "chef"], SECRET, "okänd roll 'chef'"),
    (["add", "anna", "--role", "läsare"], "", "inget lösenord angavs"),
    (["add", "anna", "--role", "läsare"], "kort\n", "lösenordet är för kort"),
    (["add", "anna", "--role", "läsare"], b"\xff\xfe-inte-utf8-alls\n", "inte UTF-8"),
    (["add", "an na", "--role", "läsare"], SECRET, "ogiltigt användarnamn"),
    (["remove", "ingen"], "", "inget konto som heter 'ingen'"),
])
def test_errors_are_one_swedish_line_and_change_nothing(tmp_path, args, stdin, message):
    p = auth_cli(tmp_path, *args, stdin=stdin)
    assert p.returncode == 1
    no_traceback(p)
    assert p.stderr.startswith("Fel: ") and message in p.stderr, p.stderr
    assert accounts.load(tmp_path / "accounts.toml") == {}


@pytest.mark.parametrize("args, message", [
    ([], "ange ett kommando"),
    (["lägg-till", "anna"], "okänt kommando 'lägg-till'"),
    (["add", "anna"], "add behöver --role"),
    (["add", "anna", "--role"], "--role behöver ett värde"),
    (["add", "anna", "bertil", "--role", "admin"], "exakt ett användarnamn"),
    (["add", "anna", "--roles", "admin"], "okänd flagga '--roles'"),
    (["list", "extra"], "list tar inga argument"),
])
def test_a_wrong_command_line_shows_the_usage(tmp_path, args, message):
    p = auth_cli(tmp_path, *args)
    assert p.returncode == 2
    no_traceback(p)
    assert message in p.stderr and "Användning:" in p.stderr


def test_help(tmp_path):
    p = auth_cli(tmp_path, "--help")
    assert p.returncode == 0 and "python -m auth add NAMN --role" in p.stdout


def test_a_broken_accounts_file_is_reported_not_overwritten(tmp_path):
    (tmp_path / "accounts.toml").write_text("[accounts.anna\n", encoding="utf-8")
    for args in (["list"], ["add", "bertil", "--role", "läsare"], ["remove", "anna"]):
        p = auth_cli(tmp_path, *args, stdin=SECRET)
        assert p.returncode == 1
        no_traceback(p)
        assert "rad 1" in p.stderr and "accounts.toml" in p.stderr
    assert (tmp_path / "accounts.toml").read_text(encoding="utf-8") == "[accounts.anna\n"


def test_the_password_appears_nowhere(tmp_path):
    outputs = [auth_cli(tmp_path, "add", "anna", "--role", "admin", stdin=SECRET),
               auth_cli(tmp_path, "add", "anna", "--role", "nej", stdin=SECRET),
               auth_cli(tmp_path, "add", "anna", "--role", "reader", stdin=SECRET + "\n"),
               auth_cli(tmp_path, "list"), auth_cli(tmp_path, "remove", "anna")]
    for p in outputs:
        assert SECRET not in p.stdout + p.stderr
    files = [f for f in tmp_path.iterdir() if f.is_file()]
    assert {f.name for f in files} >= {"accounts.toml", "audit.sqlite"}
    for f in files:  # the accounts file, its lock, the audit log and its WAL
        assert SECRET.encode("utf-8") not in f.read_bytes(), f.name


def test_the_password_is_asked_twice_on_a_terminal(tmp_path, monkeypatch, capsys):
    """At a terminal: getpass twice (no echo); two different answers change nothing."""
    import getpass

    from auth import cli

    class Tty:
        def isatty(self):
            return True

    answers = iter([SECRET, SECRET + "x"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    monkeypatch.setenv("FINSAM_ACCOUNTS", str(tmp_path / "accounts.toml"))
    assert cli.main(["add", "anna", "--role", "admin"], stdin=Tty()) == 1
    assert "stämmer inte överens" in capsys.readouterr().err
    assert accounts.load(tmp_path / "accounts.toml") == {}
    answers = iter([SECRET, SECRET])
    assert cli.main(["add", "anna", "--role", "admin"], stdin=Tty()) == 0
    assert accounts.authenticate("anna", SECRET, tmp_path / "accounts.toml")
