"""One error for "install the extra": every optional library that is missing raises ``MissingExtra``
with the package and the pip line to copy, whichever part of consentgate needed it."""

import importlib
import sys

import pytest

from consentgate.errors import BadInput, MissingExtra


def test_the_message_names_the_packages_and_the_pip_line() -> None:
    one = MissingExtra("the polars engine", ["polars"], "pipeline")
    assert str(one) == (
        "the polars engine needs the 'polars' package, which is not installed; "
        "install it with: pip install 'consentgate[pipeline]'"
    )
    two = MissingExtra("classification", ["phonenumbers", "faker"], "classify")
    assert "needs the 'phonenumbers' and 'faker' packages, which are not installed" in str(two)
    assert "install them with: pip install 'consentgate[classify]'" in str(two)
    assert (two.packages, two.extra) == (("phonenumbers", "faker"), "classify")
    assert isinstance(two, BadInput)  # the CLI's and the API's bad-input handling applies


def test_classification_without_its_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    from consentgate.classify import _extras

    monkeypatch.setitem(sys.modules, "phonenumbers", None)
    monkeypatch.setitem(sys.modules, "faker", None)
    with pytest.raises(MissingExtra, match=r"'phonenumbers' and 'faker' packages") as caught:
        _extras.require()
    assert caught.value.extra == "classify"


def test_reading_tables_without_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    from consentgate.classify import readers

    monkeypatch.setitem(sys.modules, "duckdb", None)
    with pytest.raises(MissingExtra, match=r"pip install 'consentgate\[classify\]'"):
        readers._duckdb()


def test_redaction_and_engines_raise_the_same_class(monkeypatch: pytest.MonkeyPatch) -> None:
    from consentgate.classify import redact_engines
    from consentgate.pipeline.engines import EngineMissing

    monkeypatch.setitem(sys.modules, "polars", None)  # makes `import polars` fail
    with pytest.raises(MissingExtra, match=r"'polars' package.*consentgate\[pipeline\]"):
        redact_engines._need("polars", "pipeline")
    monkeypatch.delitem(sys.modules, "consentgate.pipeline.engines.polars", raising=False)
    with pytest.raises(EngineMissing) as caught:
        importlib.import_module("consentgate.pipeline.engines.polars")
    assert type(caught.value) is MissingExtra


@pytest.mark.parametrize(
    ("module", "blocked", "extra"),
    [
        ("consentgate.integrations.torch", "torch.utils.data", "torch"),
        ("consentgate.integrations.hf", "datasets", "hf"),
        ("consentgate.integrations.transformers", "transformers", "hf"),
    ],
)
def test_the_training_integrations_name_their_extra(
    monkeypatch: pytest.MonkeyPatch, module: str, blocked: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, blocked, None)  # makes the import fail
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(MissingExtra, match=rf"pip install 'consentgate\[{extra}\]'") as caught:
        importlib.import_module(module)
    assert caught.value.extra == extra
