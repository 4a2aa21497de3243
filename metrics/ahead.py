"""A process that decides years ahead for the loader (metrics.suppress._ahead_in_parallel): `python -m metrics.ahead`.

Why not multiprocessing: a spawned worker imports the parent's `__main__` again, and inside the app's server that
is the page script being run (Streamlit sets it), which would run the page in every worker. This process imports
only the engine. It reads one task at a time from stdin and writes its answer to stdout, each a pickle after its
length; the parent is the loader on this machine, the only writer of either pipe.
"""
from __future__ import annotations

import os
import pickle
import struct
import sys
import traceback
from typing import BinaryIO

_LENGTH = struct.Struct(">Q")


def send(pipe: BinaryIO, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_LENGTH.pack(len(data)) + data)
    pipe.flush()


def receive(pipe: BinaryIO) -> object:
    """The next message, or EOFError where the other side has closed the pipe."""
    head = pipe.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    size = _LENGTH.unpack(head)[0]
    data = pipe.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def main() -> None:
    from metrics.suppress import _ahead

    answers = os.fdopen(os.dup(1), "wb")  # the answers' own pipe: anything printed goes to stderr instead
    os.dup2(2, 1)
    tasks = sys.stdin.buffer
    while True:
        try:
            args = receive(tasks)
        except EOFError:  # the loader is done
            return
        try:
            send(answers, ("ok", _ahead(*args)))
        except Exception:  # noqa: BLE001 - the loader logs it and leaves the rest to the readers
            send(answers, ("error", traceback.format_exc()))


if __name__ == "__main__":
    main()
