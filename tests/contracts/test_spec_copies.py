"""The repo's copies of the shared contracts (dbt seeds, docs) must not drift from the spec."""

import pytest

from boligsocial.configuration import settings

SPEC_DIR = settings.PROJECT_ROOT.parent / "shared" / "spec"
COPIES = {
    "ruleset_categories.csv": settings.DBT_PROJECT_DIR / "seeds" / "ruleset_categories.csv",
    "ruleset_criteria.csv": settings.DBT_PROJECT_DIR / "seeds" / "ruleset_criteria.csv",
    "SOURCES.md": settings.PROJECT_ROOT / "docs" / "sources.md",
    "MARTS.md": settings.PROJECT_ROOT / "docs" / "marts.md",
    "DOMAIN.md": settings.PROJECT_ROOT / "docs" / "domain.md",
}


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copy_matches_spec(name: str):
    spec = SPEC_DIR / name
    if not spec.exists():
        pytest.skip(f"no shared spec beside the repo ({SPEC_DIR}): nothing to compare with")
    assert COPIES[name].read_bytes() == spec.read_bytes()
