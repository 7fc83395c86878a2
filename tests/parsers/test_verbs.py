"""EDS-NLP's verb table read without pandas: the same conjugations, and pandas left unloaded."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest

from parsers.prose import warm_up
from parsers.prose.nlp import _pipeline
from parsers.prose.verbs import conjugations, terms


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _qualifier(name: str) -> Any:
    warm_up()
    return _pipeline().get_pipe(name)


@pytest.mark.parametrize("name", ["negation", "hypothesis", "reported_speech"])
def test_each_qualifier_gets_the_verbs_its_own_load_verbs_gives(name: str) -> None:
    pipe = _qualifier(name)
    base: Any = type(pipe).__mro__[1]
    genuine = base.load_verbs  # EDS-NLP's, through pandas
    if name == "negation":
        from edsnlp.pipes.qualifiers.negation import patterns

        args: dict[str, list[str]] = {"verbs": patterns.verbs}
    elif name == "hypothesis":
        from edsnlp.pipes.qualifiers.hypothesis import patterns

        args = {"verbs_hyp": patterns.verbs_hyp, "verbs_eds": patterns.verbs_eds}
    else:
        from edsnlp.pipes.qualifiers.reported_speech import patterns

        args = {"verbs": patterns.verbs}
    ours = pipe.load_verbs(**args)
    assert ours == genuine(pipe, **args)
    assert ours  # the defaults conjugate to something


def test_the_pipeline_and_a_parse_leave_pandas_unloaded() -> None:
    out = _run(
        """
        import sys
        from parsers.prose.nlp import mentions
        found = mentions("Il n'a pas de médecin traitant, dit sa fille.")
        print(len(found), "pandas" in sys.modules)
        """
    )
    assert out.split() == ["1", "False"]


def test_calling_into_edsnlps_resources_still_gets_the_real_module() -> None:
    out = _run(
        """
        import sys
        from parsers.prose.verbs import defer_resources
        assert defer_resources()
        from edsnlp.utils.resources import get_verbs
        print("pandas" in sys.modules, end=" ")
        table = get_verbs(["nier"])
        print(type(table).__name__, sorted(set(table.verb)), "pandas" in sys.modules, end=" ")
        from edsnlp.utils.resources import get_adicap_dict  # any other name: the real module's
        print(type(sys.modules["edsnlp.utils.resources"]).__name__, callable(get_adicap_dict))
        """
    )
    assert out.split() == ["False", "DataFrame", "['nier']", "True", "module", "True"]


def test_an_unknown_verb_is_an_error_and_no_verb_means_the_whole_table() -> None:
    with pytest.raises(ValueError, match="inventer-un-verbe"):
        conjugations(["nier", "inventer-un-verbe"])
    every = conjugations([])
    assert len(every) > 30_000
    assert {row.verb for row in every} >= {"nier", "dire", "éliminer"}


def test_terms_keep_the_first_appearance_of_each_form() -> None:
    rows = conjugations(["nier"])
    forms = terms(rows, lambda row: True)
    assert len(forms) == len(set(forms))
    assert forms[0] == rows[0].term
    assert "nié" in terms(rows, lambda row: row.tense == "Participe Passé")
