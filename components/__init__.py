"""Pulumi components that provision commercetools API credentials into secret stores.

Deliberately imports nothing: the dynamic provider process unpickles several providers on parallel
threads, and a package __init__ that imported the component (and through it every provider) made those
imports wait on each other ("deadlock detected by _ModuleLock") during `pulumi refresh`.
"""

# Before #16 this folder was the top-level package `components`, and the pickled providers in existing stacks'
# state name its modules so (`components.providers.vault_secret`). Imported under that old name (only a checkout
# can: the wheel has no top-level `components`), the package hands out the one module of each file, the
# `ctp_credentials.components` one, instead of loading the file a second time. Lazy, like the rest of it.
if __name__ == "components":
    import importlib
    import importlib.abc
    import importlib.machinery
    import importlib.util
    import sys

    class _LegacyName(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path, target=None):  # type: ignore[no-untyped-def]
            return importlib.util.spec_from_loader(name, self) if name.startswith("components.") else None

        own: dict[str, importlib.machinery.ModuleSpec | None] = {}  # noqa: RUF012  # one finder; per-name import locks

        def create_module(self, spec):  # type: ignore[no-untyped-def]
            module = importlib.import_module(f"ctp_credentials.{spec.name}")
            self.own[spec.name] = module.__spec__
            return module

        def exec_module(self, module):  # type: ignore[no-untyped-def]
            # the import system has just given the real module the legacy spec: give it back its own
            module.__spec__ = self.own.pop(module.__spec__.name)

    sys.meta_path.insert(0, _LegacyName())
    sys.modules[__name__] = importlib.import_module("ctp_credentials.components")
