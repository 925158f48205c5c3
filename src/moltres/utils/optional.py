"""Import optional dependencies, or explain how to install them."""

from __future__ import annotations

import importlib
from types import ModuleType

from moltres.utils.exceptions import MissingDependencyError

__all__ = ["require"]


def require(module: str, extra: str) -> ModuleType:
    """Import an optional dependency or raise an error that names the extra to install.

    Args:
        module: The module to import, such as ``"pandas"``.
        extra: The moltres extra that provides it, such as ``"pandas"``.

    Raises:
        MissingDependencyError: The module is not installed.

    Example:
        >>> require("json", "core").__name__
        'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f'{module} is needed for this; install it with: pip install "moltres[{extra}]"',
            suggestion=f'pip install "moltres[{extra}]"',
        ) from exc
