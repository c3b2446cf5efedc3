"""Domain exceptions. The CLI maps every :class:`CustsegError` to exit code 2."""

from __future__ import annotations

from pathlib import Path


class CustsegError(Exception):
    """A mistake the user can fix: bad file, bad option, data that cannot be used.

    Parameters
    ----------
    problem : str
        What is wrong, in one sentence, without a trailing period.
    path : str or Path, optional
        The file or folder concerned.
    fix : str, optional
        What the user should do about it.
    """

    exit_code = 2

    def __init__(self, problem: str, *, path: str | Path | None = None, fix: str | None = None):
        self.problem = problem
        self.path = None if path is None else str(path)
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The message on one line: ``<path>: <problem>. <fix>``."""
        text = self.problem.rstrip(".")
        if self.path:
            text = f"{self.path}: {text}"
        text += "."
        if self.fix:
            fix = self.fix.rstrip(".")
            text += f" {fix[:1].upper()}{fix[1:]}."
        return " ".join(text.split())

    def with_path(self, path: str | Path) -> CustsegError:
        """The same error naming ``path``, unless it already names a file or folder."""
        if self.path:
            return self
        return type(self)(self.problem, path=path, fix=self.fix)


class InputFileError(CustsegError):
    """Missing, unreadable, empty, corrupt or unsupported input file."""


class ColumnError(CustsegError):
    """Required columns missing, or a mapping naming a column that does not exist."""


class DataError(CustsegError):
    """Values that cannot be used: unparsable dates, non-numeric quantities, nothing left."""


class ParameterError(CustsegError):
    """An option out of range or inconsistent with the data (e.g. k larger than customers)."""


class OutputError(CustsegError):
    """An output path that cannot be written."""


class DownloadError(CustsegError):
    """The dataset could not be downloaded or failed its check."""
