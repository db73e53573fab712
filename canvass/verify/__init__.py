"""The independent verifier: reads a published bundle (a folder or a web address) and
checks everything in it, trusting nothing but the checkpoints and keys its user saw
before.

It depends on the pure library (``log``, ``ingest``, ``tabulate``, ``reconcile``,
``audit``, and the rules of ``certify``), never on ``store`` or ``web``: a verifier that
shared the server's database would prove nothing.
"""

from canvass.verify.checks import Check, Report, verify_bundle
from canvass.verify.source import Source, open_source
from canvass.verify.trust import TrustStore

__all__ = ["Check", "Report", "Source", "TrustStore", "open_source", "verify_bundle"]
