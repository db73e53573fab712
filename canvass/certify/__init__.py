"""Certification: boards of canvassers, their motions and signed votes, certificates, the
state roll-up and the certificate of ascertainment."""
