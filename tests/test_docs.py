"""Documentation kept in step with the code."""
from pathlib import Path

from sim.outputs.schema_doc import markdown

ROOT = Path(__file__).resolve().parents[1]


def test_parameter_reference_matches_schema():
    doc = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert doc == markdown(), "docs/parameters.md is stale: run `python -m sim.outputs.schema_doc > docs/parameters.md`"


def test_every_schema_key_is_documented():
    doc = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    for key in ("reimbursement.township.outpatient_rate", "family_doctor.reserved_share",
                "payment.global_budget.budget_per_resident", "conditions.<name>.incidence"):
        assert f"`{key}`" in doc, key
