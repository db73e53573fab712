"""Every error Canvass raises on purpose.

::

    CanvassError                    anything the user can act on; the CLI prints its text
    ├── DefinitionError             an election definition file is malformed
    ├── IngestError                 a CVR, manifest or results file cannot be read as claimed
    ├── KeyFileError                a key file cannot be read, decrypted or parsed
    ├── RulesError                  a ranked-choice contest configuration is invalid
    ├── TabulationError             a count cannot go on under its rules (a tie to ask about)
    ├── StoreError                  the election directory cannot do what was asked
    │   └── ArtifactError           an artifact is missing or its bytes do not match its name
    └── VerificationError           something does not check out
        ├── ProofError              a Merkle proof is malformed or does not verify
        ├── SignatureError          a note, checkpoint or cosignature signature is wrong
        └── LogIntegrityError       the log or its projections disagree (carries a list)

Messages name the file, the place in it, what was expected and what was found. The errors
about a file's contents are one line whatever the file holds: a line break, another control
character or a lone surrogate quoted from the file is written as its escape.
"""

from __future__ import annotations

import re

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def one_line(message: str) -> str:
    """``message`` with every character that would break the line, or could not be
    printed, written as its escape (``\\n``, ``\\x00``, ``\\ud800``)."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], message)


_LONG_QUOTE = re.compile(r"'([^'\n]{200,})'|\"([^\"\n]{200,})\"")
_QUOTED_KEPT = 60
_LONGEST = 100_000


def shortened(message: str) -> str:
    """``message`` with any text it quotes past 200 characters cut to its first 60 and
    its length (a value from a file can be megabytes long: a message quotes enough of it to
    find it), and anything still past 100,000 characters cut in the middle, so that what
    the message names first and what it says to do last are kept."""
    if len(message) < 200:
        return message

    def cut(m: re.Match[str]) -> str:
        text = m.group(1) if m.group(1) is not None else m.group(2)
        q = m.group()[0]
        return f"{q}{text[:_QUOTED_KEPT]}…{q} ({len(text):,} characters)"

    message = _LONG_QUOTE.sub(cut, message)
    if len(message) > _LONGEST:
        left = len(message) - 6_000
        message = f"{message[:5_000]} … ({left:,} characters left out) … {message[-1_000:]}"
    return message


class CanvassError(Exception):
    """Base of every error meant for the person running Canvass."""

    def __init__(self, *args: object) -> None:
        if args and isinstance(args[0], str):
            args = (shortened(args[0]), *args[1:])
        super().__init__(*args)


class _OneLineError(CanvassError):
    def __init__(self, message: str = "") -> None:
        super().__init__(one_line(message))


class DefinitionError(_OneLineError):
    """An election definition file is malformed."""


class IngestError(_OneLineError):
    """A cast vote record, manifest or results file cannot be read as its format says."""


class KeyFileError(_OneLineError):
    """A key file cannot be read, decrypted or parsed."""


class RulesError(CanvassError):
    """A ranked-choice contest configuration (rules, candidates, sources) is invalid."""


class TabulationError(CanvassError):
    """A count cannot go on under its rules: a tie its rules say to ask about, or every
    candidate below the minimum vote threshold."""


class StoreError(CanvassError):
    """The election directory cannot do what was asked."""


class ArtifactError(StoreError):
    """An artifact is missing or its bytes do not match its SHA-256 name."""


class VerificationError(CanvassError):
    """Something does not check out."""


class ProofError(VerificationError):
    """A Merkle proof is malformed or does not verify."""


class SignatureError(VerificationError):
    """A signed note, checkpoint or cosignature does not verify."""


class LogIntegrityError(VerificationError):
    """The log, its checkpoints, its artifacts or its projections disagree."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))
