"""Fidelity: telling an outlet's real edits from page chrome that changes on every request (see volatility)."""
