"""Ranked-choice ties the contest's rules leave to the officials (``stopCountingAndAsk``,
``previousRoundCountsThenAsk``): the count of that contest stops at the tie, and the
officials' decision, once recorded, is a log entry (``rcv.tie_resolved``) that every
count after it — results, certificates, the published bundle and the verifier — follows.
"""

from __future__ import annotations

from canvass.app.actor import Actor
from canvass.app.folds import append_canvass, changing_canvass
from canvass.app.results import definition, imports_in_force, ranked_choice_counts
from canvass.errors import StoreError
from canvass.log.entry import new_entry
from canvass.store.election import ElectionDirectory
from canvass.tabulate.election import Tie


def undecided_ties(election: ElectionDirectory) -> dict[str, Tie]:
    """The ties now stopping a contest's count, by contest."""
    return ranked_choice_counts(election).ties


def resolve_tie(
    election: ElectionDirectory,
    actor: Actor,
    contest: str,
    round_number: int,
    chosen: str,
    reason: str = "",
) -> int:
    """Record the officials' decision of the tie now stopping ``contest``'s count:
    ``chosen`` is elected or eliminated (as the tie is to elect or to eliminate). Refused
    unless that contest's count stops at a tie in that round, among candidates that
    include ``chosen``."""
    with changing_canvass(election) as (w, state):
        ids = {c.id for c in definition(w).contests}
        if contest not in ids:
            raise StoreError(f"no contest {contest!r}; the contests are {', '.join(sorted(ids))}")
        if not imports_in_force(w, "ballots"):
            raise StoreError(f"no ballots have been imported; {contest!r} has no count yet")
        tie = ranked_choice_counts(w, contest).ties.get(contest)
        if tie is None:
            raise StoreError(
                f"contest {contest!r}: its count stops at no tie left to the officials"
            )
        if tie.round != round_number:
            raise StoreError(
                f"contest {contest!r}: its count stops at a tie in round {tie.round}, not "
                f"round {round_number}"
            )
        if chosen not in tie.tied:
            raise StoreError(
                f"contest {contest!r}, round {tie.round}: {chosen!r} is not the id of one "
                f"of the tied candidates ({tie.named()})"
            )
        data = {
            "contest": contest,
            "round": tie.round,
            "tied": list(tie.tied),
            "elected": tie.elected,
            "chosen": chosen,
            "reason": reason,
        }
        return append_canvass(w, state, [new_entry("rcv.tie_resolved", actor.name, data)])[0]
