"""The verifier's trust store: for each log (by origin) the operator key, the witnesses'
keys and the checkpoints this user has seen verify before. A later bundle must extend them: one that
contradicts a checkpoint seen before (a split view) or is older (a rollback) fails."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from canvass.errors import VerificationError
from canvass.guard.documents import json_value
from canvass.guard.text import read_file


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "canvass" / "trusted-checkpoints.json"


class TrustStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.logs: dict[str, dict[str, object]] = {}
        if path.is_file():
            doc = json_value(
                read_file(path, VerificationError), str(path), VerificationError, unique=True
            )
            logs = doc.get("logs") if isinstance(doc, dict) else None
            if not isinstance(logs, dict):
                raise VerificationError(
                    f"{path}: not a trust store (logs: expected an object of logs; found none)"
                )
            for origin, log in logs.items():
                if not isinstance(log, dict):
                    raise VerificationError(
                        f"{path}: not a trust store (logs.{origin}: expected an object of "
                        f"operator, checkpoints and witnesses; found {type(log).__name__})"
                    )
            self.logs = logs

    def operator(self, origin: str) -> str | None:
        found = self.logs.get(origin, {}).get("operator")
        return str(found) if found else None

    def checkpoints(self, origin: str) -> list[str]:
        found = self.logs.get(origin, {}).get("checkpoints", [])
        return [str(c) for c in found] if isinstance(found, list) else []

    def witnesses(self, origin: str) -> list[str]:
        """The witness keys whose cosignatures verified before: a later bundle must carry
        theirs too."""
        found = self.logs.get(origin, {}).get("witnesses", [])
        return [str(w) for w in found] if isinstance(found, list) else []

    def remember(
        self, origin: str, operator: str, checkpoint: str, witnesses: list[str] | None = None
    ) -> None:
        """Record a checkpoint that verified (and the operator key it verified under, and
        the witnesses that cosigned it)."""
        seen = self.checkpoints(origin)
        if checkpoint not in seen:
            seen.append(checkpoint)
        held = self.witnesses(origin)
        held += [w for w in witnesses or [] if w not in held]
        self.logs[origin] = {"operator": operator, "checkpoints": seen, "witnesses": held}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".trust-")
        with os.fdopen(fd, "w") as f:
            json.dump({"logs": self.logs}, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
