"""The compiled modules' on-disk cache is named by the sources it was compiled from."""
import numba

from sim.core import jit


def test_any_source_change_names_a_new_cache_folder(tmp_path):
    (tmp_path / "sim" / "core").mkdir(parents=True)
    (tmp_path / "models").mkdir()
    caller, callee = tmp_path / "models" / "demand.py", tmp_path / "sim" / "core" / "search.py"
    caller.write_text("def f(x):\n    return g(x)\n")
    callee.write_text("def g(x):\n    return x\n")
    before = jit.fingerprint(tmp_path)
    assert jit.fingerprint(tmp_path) == before
    callee.write_text("def g(x):\n    return x + 1\n")  # only the called file changes
    changed = jit.fingerprint(tmp_path)
    assert changed != before
    (tmp_path / "models" / "notes.txt").write_text("not source")  # not a source file: same code
    assert jit.fingerprint(tmp_path) == changed


def test_compiled_modules_cache_in_the_fingerprinted_folder():
    import models.demand  # noqa: F401  (a compiled module: its functions are decorated by now)

    assert numba.config.CACHE_DIR == str(jit.CACHE_FOLDER)
    assert jit.CACHE_FOLDER.name == jit.fingerprint()
