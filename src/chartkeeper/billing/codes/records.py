"""What the table parsers share: a refusal naming the line, CSV records with their line."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from chartkeeper.core.errors import InvalidError


def bad_line(number: int, what: str) -> InvalidError:
    """``Line N is not <what>``: the 400 (exit 65 in the CLI) a file in the wrong layout gets."""
    return InvalidError(f"Line {number} is not {what}", (f"line {number}",))


def csv_records(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """CSV records with the line each ends on; a malformed one is refused with its line."""
    reader = csv.reader(lines)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise bad_line(reader.line_num, f"valid CSV ({error})") from error
        yield reader.line_num, record
