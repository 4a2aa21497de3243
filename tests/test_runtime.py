"""ui/runtime.py: the imports' objects are frozen once per process, not at every run."""
import gc

from ui import runtime


def test_freeze_imports_freezes_once(monkeypatch):
    was_frozen = gc.get_freeze_count()
    monkeypatch.setattr(runtime, "_frozen", False)
    try:
        runtime.freeze_imports()
        frozen = gc.get_freeze_count()
        assert frozen > was_frozen
        later = [{"run": i} for i in range(1000)]  # what a later run creates stays collectable
        runtime.freeze_imports()
        assert gc.get_freeze_count() == frozen
        assert len(later) == 1000
    finally:
        if was_frozen == 0:
            gc.unfreeze()
