"""scripts/mutate.py's bookkeeping: scores per module, what MUTATION.md records and what CI's check reads back."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from ctp_credentials.automation.engine import ROOT


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutate_script", ROOT / "scripts" / "mutate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


mutate = load()
PATHS = ["components/scopes.py", "components/providers/api_client.py"]
STATUSES = {
    "components.scopes.x_parse_scope__mutmut_1": "killed",
    "components.scopes.x_parse_scope__mutmut_2": "killed",
    "components.scopes.x_parse_scope__mutmut_3": "timeout",
    "components.scopes.x_closest__mutmut_7": "survived",
    "components.scopes.xǁScopeǁimplied__mutmut_2": "survived",
    "components.providers.api_client.xǁApiClientProviderǁcheck__mutmut_1": "no tests",
    "components.providers.api_client.x__moved__mutmut_3": "killed",
    "components.scopes_other.x_f__mutmut_1": "survived",  # another module whose name starts the same
}
REPORT = """# Mutation testing

| mutant | why |
|---|---|
| `components.scopes.x_parse_scope__mutmut_1` | a table of another section: not an equivalent |

## Equivalent mutants

| mutant | why it is equivalent |
|---|---|
| `components.scopes.x_closest__mutmut_7` | the same value either way |

## Survivors

<!-- scores: written by scripts/mutate.py --write -->
<!-- /scores -->

<!-- survivors: written by scripts/mutate.py --write -->
<!-- /survivors -->
"""


def test_scores_count_caught_over_all_but_the_explained_equivalents() -> None:
    counts = mutate.tally(PATHS, STATUSES, mutate.equivalents(REPORT))
    scopes, client = counts["components/scopes.py"], counts["components/providers/api_client.py"]
    assert dict(scopes) == {"killed": 2, "timeout": 1, "equivalent": 1, "survived": 1}
    assert mutate.score(scopes) == 75.0  # 3 caught of 4: the equivalent one is not counted
    assert mutate.score(client) == 50.0  # `no tests` counts against the module


def test_only_the_equivalent_table_names_equivalents_and_unfinished_mutants_are_counted() -> None:
    assert mutate.equivalents(REPORT) == {"components.scopes.x_closest__mutmut_7"}
    counts = mutate.tally(
        ["components/scopes.py"], {**STATUSES, "components.scopes.x_f__mutmut_9": "not checked"}, set()
    )
    assert mutate.unfinished(counts["components/scopes.py"]) == 1
    assert mutate.score(mutate.Counter()) == 0.0  # nothing mutated is no pass
    row = mutate.table({"components/clients/secretsmanager.py": mutate.Counter({"not checked": 5})}).splitlines()[-1]
    assert row.endswith("| 5 | not run |") and mutate.recorded_scores(row) == {}  # no score, so no floor either


def test_the_written_report_is_read_back_by_the_check() -> None:
    counts = mutate.tally(PATHS, STATUSES, mutate.equivalents(REPORT))
    report = mutate.replace_block(REPORT, mutate.BEGIN, mutate.END, mutate.table(counts))
    report = mutate.replace_block(
        report, mutate.LIST_BEGIN, mutate.LIST_END, mutate.survivors(STATUSES, mutate.equivalents(report))
    )
    assert mutate.recorded_scores(report) == {"components/scopes.py": 75.0, "components/providers/api_client.py": 50.0}
    assert "- `components.scopes.xǁScopeǁimplied (survived)`: 1 (2)" in report
    assert "x_closest" not in report.partition(mutate.LIST_BEGIN)[2]  # explained: not listed as open
    # written twice, the blocks are replaced, not repeated
    again = mutate.replace_block(report, mutate.BEGIN, mutate.END, mutate.table(counts))
    assert again.count(mutate.BEGIN) == 1 and again == report


def test_the_modules_are_the_configured_ones() -> None:
    configured = mutate.configured_modules()
    assert "ctp_credentials/automation/redaction.py" in configured and all((ROOT / p).is_file() for p in configured)
    # mutated through the import root, so mutants are named as the functions' modules are
    assert all(p.startswith("ctp_credentials/") for p in configured)
    sample = (ROOT / "Makefile").read_text().split("MUTATE_SAMPLE :=")[1].splitlines()[0].split()
    sample = [mutate.as_configured(p) for p in sample]
    assert sample and set(sample) <= set(configured)
    recorded = mutate.recorded_scores((ROOT / "tests" / "MUTATION.md").read_text())
    assert set(sample) <= set(recorded), "CI's sample must have recorded scores to check against"


def test_module_names_match_mutant_names() -> None:
    assert mutate.module_name("components/providers/api_client.py") == "components.providers.api_client"
    # a module may be named by its file (MODULES="components/scopes.py") or through the import root
    assert mutate.as_configured("components/scopes.py") == "ctp_credentials/components/scopes.py"
    assert mutate.as_configured("ctp_credentials/components/scopes.py") == "ctp_credentials/components/scopes.py"


def test_saved_runs_merge_with_the_later_verdict_winning_and_unchecked_never_erasing_one() -> None:
    full = "\n".join(
        [
            "    components.scopes.x_parse_scope__mutmut_1: survived",
            "    components.scopes.x_parse_scope__mutmut_2: killed",
            "    components.scopes.x_parse_scope__mutmut_3: not checked",
            "some progress line",
        ]
    )
    rerun = "\n".join(
        [
            "    components.scopes.x_parse_scope__mutmut_1: killed",  # a new test caught it
            "    components.scopes.x_parse_scope__mutmut_2: not checked",  # not rerun: keeps its verdict
        ]
    )
    assert mutate.merged([full, rerun]) == {
        "components.scopes.x_parse_scope__mutmut_1": "killed",
        "components.scopes.x_parse_scope__mutmut_2": "killed",
        "components.scopes.x_parse_scope__mutmut_3": "not checked",
    }
    assert mutate.merged([rerun]) == {
        "components.scopes.x_parse_scope__mutmut_1": "killed",
        "components.scopes.x_parse_scope__mutmut_2": "not checked",
    }
