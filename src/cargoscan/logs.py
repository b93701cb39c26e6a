"""Progress bars for long work (rich), one look everywhere."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def progress(transient: bool = False) -> Progress:
    """A rich progress bar with count, elapsed and remaining time, on standard error.

    Standard output stays the command's own (a benchmark's JSON, a CLI's table): piped, it must parse.
    """
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=transient,
        console=Console(stderr=True),
    )
