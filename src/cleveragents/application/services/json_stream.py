"""Reading one large JSON document piece by piece, without holding it whole.

The standard library parses whole strings only; this reader walks the outer object and
arrays itself and hands each inner value to :meth:`json.JSONDecoder.raw_decode`, reading
more of the file whenever a value runs past what has been read. Memory stays at about one
value plus one read chunk, however long the document.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any

from cleveragents.application.services.export_document import in_mib
from cleveragents.domain.errors import ExportDocumentTooLargeError, InvalidExportDocumentError
from cleveragents.domain.session_service import ReadableFile

READ_CHUNK = 64 * 1024  # pragma: no mutate (bytes read at a time: work, not results)
_WHITESPACE = " \t\n\r"


class JsonStreamReader:
    """A cursor over the JSON text of a file opened for reading (binary UTF-8, or text).

    Every defect is an :class:`InvalidExportDocumentError`; reading past ``max_bytes`` is an
    :class:`ExportDocumentTooLargeError`.
    """

    def __init__(self, file: ReadableFile, *, max_bytes: int, decoder: json.JSONDecoder) -> None:
        self._file = file
        self._max_bytes = max_bytes
        self._decoder = decoder
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._buffer = ""
        self._position = 0
        self._bytes_read = 0
        self._at_end = False

    def expect(self, character: str, what: str) -> None:
        """Consume ``character`` (after whitespace), or report ``what`` was expected."""
        if self._next_character() != character:
            raise self._syntax_error(f"expected {what}")
        self._position += 1

    def value(self) -> Any:
        """The next complete JSON value."""
        if self._next_character() is None:
            raise self._syntax_error("the document ends where a value was expected")
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._position)
            except json.JSONDecodeError as error:
                # The value may run on past what has been read so far: read more and retry.
                if self._read_more(at_least=len(self._buffer) - self._position):
                    continue
                raise InvalidExportDocumentError(
                    f"export document is not valid JSON: {error.msg}"
                ) from None
            except ValueError as error:
                raise InvalidExportDocumentError(
                    f"export document is not valid JSON: {error}"
                ) from None
            except RecursionError:
                raise InvalidExportDocumentError("export document is nested too deeply") from None
            # A number that ends exactly where the read data ends may have more digits.
            if (
                end == len(self._buffer)
                and isinstance(value, int | float)
                and self._read_more(at_least=READ_CHUNK)
            ):
                continue
            self._position = end
            return value

    def members(self) -> Iterator[str]:
        """The keys of the object that starts here; consume each key's value before the next."""
        self.expect("{", "a JSON object")
        if self._next_character() == "}":
            self._position += 1
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise self._syntax_error("expected a string as object key")
            self.expect(":", "':' after an object key")
            yield key
            character = self._next_character()
            self._position += 1
            if character == "}":
                return
            if character != ",":
                raise self._syntax_error("expected ',' or '}' in an object")

    def elements(self) -> Iterator[Any]:
        """The values of the array that starts here, one at a time."""
        self.expect("[", "a JSON array")
        if self._next_character() == "]":
            self._position += 1
            return
        while True:
            yield self.value()
            character = self._next_character()
            self._position += 1
            if character == "]":
                return
            if character != ",":
                raise self._syntax_error("expected ',' or ']' in an array")

    def at_array(self) -> bool:
        return self._next_character() == "["

    def finish(self) -> None:
        """Check that nothing but whitespace follows the document."""
        if self._next_character() is not None:
            raise self._syntax_error("extra data after the document")

    def _next_character(self) -> str | None:
        """The next non-whitespace character, without consuming it; ``None`` at the end."""
        while True:
            buffer, position = self._buffer, self._position
            while position < len(buffer) and buffer[position] in _WHITESPACE:
                position += 1
            self._position = position
            if position < len(buffer):
                return buffer[position]
            if not self._read_more(at_least=READ_CHUNK):
                return None

    def _read_more(self, *, at_least: int) -> bool:
        """Append at least one more piece of the file to the buffer; ``False`` at its end.

        Reads grow with the value being parsed, so a large value is re-parsed only a
        logarithmic number of times.
        """
        if self._at_end:
            return False
        data = self._file.read(max(at_least, READ_CHUNK))
        if isinstance(data, str):
            text = data
            self._count(len(data.encode("utf-8", "surrogatepass")))
        elif isinstance(data, bytes | bytearray):
            self._count(len(data))
            try:
                text = self._utf8.decode(data, final=not data)
            except UnicodeDecodeError:
                raise InvalidExportDocumentError(
                    "export document is not valid JSON: it is not UTF-8 text"
                ) from None
        else:
            raise InvalidExportDocumentError(
                f"export file must be opened for reading, got {type(data).__name__} from read()"
            )
        if not data:
            self._at_end = True
            return False
        self._buffer = self._buffer[self._position :] + text
        self._position = 0
        return True

    def _count(self, size: int) -> None:
        self._bytes_read += size
        if self._bytes_read > self._max_bytes:
            raise ExportDocumentTooLargeError(
                f"export document is over {in_mib(self._max_bytes)}; "
                f"the limit is {in_mib(self._max_bytes)}"
            )

    def _syntax_error(self, problem: str) -> InvalidExportDocumentError:
        return InvalidExportDocumentError(f"export document is not valid JSON: {problem}")
