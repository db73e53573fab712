"""Risk-limiting audits: reproducible sampling and the statistics that measure risk."""
