"""Saving and loading churn models: round trips, the model card, refusing foreign files."""

from __future__ import annotations

import dataclasses
import json
import pickle
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression

import journey_lib as jl
from journey_lib.churn import build_dataset, load, persist, train


@pytest.fixture(scope="module")
def dataset():
    sim = jl.simulate(2500, seed=4, progress=False)
    return build_dataset(sim.events, cutoff="2024-08-01", horizon="60D")


@pytest.mark.parametrize("family", jl.churn.MODELS)
def test_every_family_round_trips_exactly(dataset, family, tmp_path):
    X, _ = dataset
    model = train(dataset, model=family)
    path = model.save(tmp_path / "nested" / f"{family}.skops")
    again = load(path)
    pd.testing.assert_series_equal(again.predict_proba(X), model.predict_proba(X))
    pd.testing.assert_series_equal(again.baseline_proba(X), model.baseline_proba(X))
    assert json.dumps(again.card) == json.dumps(model.card)  # NaN references included
    assert again.recipe == model.recipe == dataset.recipe
    assert not list(path.parent.glob("*.partial"))


def test_the_card_says_what_the_model_is_and_how_it_did(dataset, tmp_path):
    X, y = dataset
    X_train, X_test, y_train, y_test = X.iloc[::2], X.iloc[1::2], y.iloc[::2], y.iloc[1::2]
    model = train(X_train, y_train, recipe=dataset.recipe, model="logistic")
    evaluation = model.evaluate(X_test, y_test, n_bootstraps=20)
    card = load(model.save(tmp_path / "m.skops", evaluation=evaluation)).card
    assert card["model"] == "logistic" and card["calibration"] == "sigmoid"
    assert card["training"]["rows"] == len(X_train)
    assert card["training"]["fingerprint"] == model.training["fingerprint"]
    built = card["built_from"]
    assert built["cutoff"] == "2024-08-01T00:00:00+00:00" and built["horizon"] == "60D"
    assert built["definition"] == "inactivity" and built["windows"] == ["30D", "90D", "365D"]
    assert card["features"] == list(X.columns)
    assert set(card["versions"]) >= {"python", "journey-lab", "scikit-learn", "numpy", "skops"}
    metrics = pd.DataFrame(card["metrics"]["table"]).set_index(["scorer", "metric"])
    saved = evaluation.metrics.set_index(["scorer", "metric"])
    assert metrics["value"].to_dict() == pytest.approx(saved["value"].to_dict())
    assert card["metrics"]["n_bootstraps"] == 20
    text = load(tmp_path / "m.skops").describe()
    assert "cutoff 2024-08-01T00:00:00+00:00, horizon 60D" in text
    assert "| logistic | roc_auc |" in text


def test_a_model_trained_in_python_on_a_table_has_no_recipe(tmp_path):
    X = pd.DataFrame({"tenure": range(100)})
    model = train(X, (X["tenure"] < 30).astype(int), model="logistic")
    assert model.recipe is None
    assert model.card["built_from"] == {} and model.card["metrics"] == {}
    again = load(model.save(tmp_path / "t.skops"))
    assert again.recipe is None and again.card["built_from"] == {}
    assert "## Held-out metrics" not in again.describe()
    assert "no feature recipe given" in again.describe()


def test_features_stripped_of_everything_but_values_keep_the_recipe_given(dataset, tmp_path):
    # The recipe travels beside the frame, not in it: a copy made of bare values (which
    # drops any DataFrame.attrs) trains a model with the same card.
    X, y = dataset
    bare = pd.DataFrame(X.to_numpy(), index=X.index, columns=X.columns).astype(X.dtypes)
    model = train(bare, y, recipe=dataset.recipe, model="logistic")
    built = load(model.save(tmp_path / "b.skops")).card["built_from"]
    assert built == dataset.recipe.to_dict()
    assert built["cutoff"] == "2024-08-01T00:00:00+00:00" and built["customers"] is False


class Sneaky:
    """A type no journey-lab model holds; building it would write a file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __setstate__(self, state: dict) -> None:
        with open(state["path"], "w") as handle:
            handle.write("ran")


def test_files_holding_foreign_types_are_refused_before_anything_is_built(tmp_path):
    marker = tmp_path / "ran.txt"
    payload = {
        "format": persist.FORMAT,
        "format_version": persist.FORMAT_VERSION,
        "pipeline": Sneaky(str(marker)),
        "baseline": None,
        "card": "{}",
    }
    sio.dump(payload, tmp_path / "evil.skops")
    with pytest.raises(jl.JourneyDataError, match="that journey-lab models never contain"):
        load(tmp_path / "evil.skops")
    assert not marker.exists()


def test_damaged_foreign_and_missing_files_are_clear_errors(dataset, tmp_path):
    X, y = dataset
    good = train(X, y, model="logistic").save(tmp_path / "good.skops")
    raw = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as archive:
        member = archive.infolist()[-1]
    # Flip bytes inside a stored member: its checksum no longer matches.
    start = member.header_offset + 30 + len(member.filename) + 5
    raw[start : start + 8] = bytes(b ^ 0xFF for b in raw[start : start + 8])
    (tmp_path / "flipped.skops").write_bytes(bytes(raw))
    (tmp_path / "truncated.skops").write_bytes(good.read_bytes()[:200])
    (tmp_path / "model.pkl").write_bytes(pickle.dumps({"format": persist.FORMAT}))
    sio.dump(LogisticRegression(), tmp_path / "plain.skops")
    cases = {
        "flipped.skops": "damaged|cannot be read",
        "truncated.skops": "cannot be read as a skops file",
        "model.pkl": "cannot be read as a skops file",
        "plain.skops": "not a journey-lab churn model",
        "absent.skops": "no model file",
    }
    for name, message in cases.items():
        with pytest.raises(jl.JourneyDataError, match=message):
            load(tmp_path / name)


def test_another_scikit_learn_version_warns(dataset, tmp_path, monkeypatch):
    X, y = dataset
    path = train(X, y, model="logistic").save(tmp_path / "m.skops")
    running = persist.versions()
    monkeypatch.setattr(persist, "versions", lambda: running | {"scikit-learn": "0.1"})
    with pytest.warns(jl.JourneyDataWarning, match="trained with scikit-learn .* loaded with 0.1"):
        load(path)
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load(path)


def test_the_allow_list_is_journey_labs_own_types():
    assert persist._trusted("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor")
    assert persist._trusted("numpy.dtype")
    assert not persist._trusted("sklearn.utils.validation.column_or_1d")  # a function
    assert not persist._trusted("builtins.eval")
    assert not persist._trusted("os.system")
    assert not persist._trusted("sklearn.not_a_module.Thing")
    assert not persist._trusted(f"{__name__}.Sneaky")


def test_aligning_fills_counts_never_seen_and_refuses_other_gaps(dataset):
    X, y = dataset
    model = train(X, y, model="logistic")
    counts = [c for c in X.columns if c.startswith("event_")][:2]
    aligned = model.align(X.drop(columns=counts).join(pd.Series(1, X.index, name="extra")))
    assert list(aligned.columns) == list(model.features)
    assert (aligned[counts] == 0).all().all()
    with pytest.raises(jl.JourneyDataError, match="lacks 1 of the model's features"):
        model.align(X.drop(columns=["recency_days"]))
    assert np.isfinite(model.predict_proba(aligned)).all()


def test_a_card_from_before_the_recipe_with_a_custom_framework_still_loads(dataset, tmp_path):
    # Cards written before FeatureRecipe kept a custom stage framework as its repr.
    old_card = dataset.recipe.to_dict() | {"framework": "StageFramework(name='mine', ...)"}
    model = jl.churn.train(dataset.X, dataset.y, model="logistic")
    old = dataclasses.replace(model, provenance={**model.provenance, "built_from": old_card})
    path = old.save(tmp_path / "old.skops")
    with pytest.warns(jl.JourneyDataWarning, match="cannot rebuild"):
        again = jl.churn.load(path)
    assert again.recipe is None and again.card["built_from"] == old_card
    pd.testing.assert_series_equal(again.predict_proba(dataset.X), model.predict_proba(dataset.X))


def test_a_model_scores_the_result_of_build_features_as_its_table(dataset):
    model = jl.churn.train(dataset, model="logistic")
    events = jl.simulate(300, seed=1).events
    features = jl.churn.build_features(events, recipe=dataset.recipe)
    pd.testing.assert_series_equal(model.predict_proba(features), model.predict_proba(features.X))
    offer = {"offer_cost": 5.0, "save_rate": 0.3, "value": 100.0}
    plan, by_table = model.target(features, **offer), model.target(features.X, **offer)
    pd.testing.assert_frame_equal(plan.contacts, by_table.contacts)
    assert plan.chosen == by_table.chosen
