"""Suite-wide test settings."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# Hypothesis runs inside the 10-minute CI budget: no per-example deadline (the machine is shared), a
# bounded number of examples per test.
settings.register_profile(
    "midil",
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("midil")
