"""`python -m auth add NAME --role ROLE | remove NAME | list`: the local accounts (data contract §9).

The password is read from standard input when that is not a terminal (one line), else asked for
twice without echo. Every message is Swedish, every failure a one-line message and exit status 1
(2 for a wrong command line); no traceback, and the password never appears in any output.
"""
from __future__ import annotations

import datetime as dt
import getpass
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from core.paths import default_accounts_path

from . import accounts, audit
from .roles import ADMIN, RoleError, parse_role

STOCKHOLM = ZoneInfo("Europe/Stockholm")
USAGE = """\
Användning:
  python -m auth add NAMN --role läsare|handläggare|administratör   skapa ett konto eller byt roll och lösenord
  python -m auth remove NAMN                                        ta bort ett konto
  python -m auth list                                               visa kontona

Rollerna kan också skrivas reader, staff och admin. Lösenordet läses från standard in när den
inte är en terminal (en rad), annars frågas det efter två gånger. Kontona finns i
data/accounts.toml, eller i filen som $FINSAM_ACCOUNTS anger; lösenord bara som saltade hashar.
"""


class UsageError(Exception):
    pass


class Failure(Exception):
    pass


def _parse(argv: list[str]) -> tuple[str, str | None, str | None]:
    """(command, name, role) from the command line."""
    if not argv:
        raise UsageError("ange ett kommando: add, remove eller list")
    command, rest = argv[0], list(argv[1:])
    if command not in ("add", "remove", "list"):
        raise UsageError(f"okänt kommando {command!r}: använd add, remove eller list")
    role = None
    positional = []
    while rest:
        arg = rest.pop(0)
        if arg in ("--role", "--roll", "-r"):
            if not rest:
                raise UsageError(f"{arg} behöver ett värde: läsare, handläggare eller administratör")
            role = rest.pop(0)
        elif arg.startswith(("--role=", "--roll=")):
            role = arg.split("=", 1)[1]
        elif arg.startswith("-") and arg != "-":
            raise UsageError(f"okänd flagga {arg!r}")
        else:
            positional.append(arg)
    if command == "list":
        if positional or role is not None:
            raise UsageError("list tar inga argument")
        return command, None, None
    if len(positional) != 1:
        raise UsageError(f"{command} tar exakt ett användarnamn")
    if command == "add" and role is None:
        raise UsageError("add behöver --role läsare|handläggare|administratör")
    if command == "remove" and role is not None:
        raise UsageError("remove tar ingen roll")
    return command, positional[0], role


def read_password(stdin=None) -> str:
    """One line from standard input when it is not a terminal; else asked for twice, without echo."""
    stdin = sys.stdin if stdin is None else stdin
    if stdin is None:
        raise Failure("inget lösenord: standard in saknas")
    if stdin.isatty():
        first = getpass.getpass("Lösenord: ")
        second = getpass.getpass("Samma lösenord igen: ")
        if first != second:
            raise Failure("lösenorden stämmer inte överens; inget har ändrats")
        password = first
    else:
        raw = stdin.buffer.readline() if hasattr(stdin, "buffer") else stdin.readline().encode("utf-8")
        try:
            password = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise Failure("lösenordet på standard in är inte UTF-8; inget har ändrats") from None
    if not password:
        raise Failure("inget lösenord angavs; inget har ändrats")
    return password


def _local_time(stamp: str) -> str:
    try:
        t = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return stamp or "–"
    return t.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def _who() -> str:
    try:
        return f"kommandoraden ({getpass.getuser()})"
    except Exception:  # no user name in the environment (some containers)
        return "kommandoraden"


def _audit(event: str, name: str, detail: str) -> None:
    try:
        audit.record(event, _who(), detail=f"{name}: {detail}")
    except audit.AuditError as e:
        print(f"Varning: {e}", file=sys.stderr)


def main(argv: list[str] | None = None, stdin=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    path = default_accounts_path()
    try:
        command, name, role = _parse(argv)
        if command == "list":
            return _list(path)
        name = accounts.normalise_name(name)
        if command == "add":
            role = parse_role(role)
            password = read_password(stdin)
            account, created = accounts.upsert(name, role, password, path)
            del password
            if created:
                print(f"Kontot {name!r} har skapats med rollen {account.role} i {path}.")
            else:
                print(f"Kontot {name!r} har nu rollen {account.role} och ett nytt lösenord ({path}).")
            _audit(audit.ACCOUNT_SAVED, name, f"roll {account.role}" + ("" if created else " (ändrat)"))
            return 0
        gone = accounts.remove(name, path)
        print(f"Kontot {name!r} ({gone.role}) har tagits bort ur {path}.")
        _audit(audit.ACCOUNT_REMOVED, name, f"hade rollen {gone.role}")
        left = accounts.load(path)
        if left and not any(a.role == ADMIN for a in left.values()):
            print("Obs: inget konto har längre rollen administratör. Skapa ett med "
                  "python -m auth add NAMN --role administratör.", file=sys.stderr)
        return 0
    except UsageError as e:
        print(f"Fel: {e}\n\n{USAGE}", file=sys.stderr, end="")
        return 2
    except (Failure, accounts.AccountError, RoleError) as e:
        print(f"Fel: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nAvbrutet; inget har ändrats.", file=sys.stderr)
        return 130
    except OSError as e:
        print(f"Fel: {e.filename or path}: {e.strerror}", file=sys.stderr)
        return 1


def _list(path: Path) -> int:
    found = accounts.load(path)
    if not found:
        print(f"Inga lokala konton i {path}. Skapa ett med: python -m auth add NAMN --role administratör")
        return 0
    rows = [("Namn", "Roll", "Skapat", "Ändrat")]
    rows += [(a.name, a.role, _local_time(a.created), _local_time(a.changed)) for a in found.values()]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    print(f"\n{len(found)} konton i {path}." if len(found) != 1 else f"\n1 konto i {path}.")
    return 0
