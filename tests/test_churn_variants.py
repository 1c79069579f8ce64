"""Variants of customers scored through only the trees that read what changed: held to
scoring each variant whole, to the bit, on every kind of model ``train`` fits (a forest,
scored whole either way, to rounding: it adds its trees' votes in threads), and the
explanations built on them to the explanations computed whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey_lib.churn import explain, train
from journey_lib.churn.variants import VariantScorer

#: (model, calibrate, settings): each way ``train`` fits a model.
KINDS = [
    ("hgb", True, "small"),  # five calibrated boosters
    ("hgb", "isotonic", "small"),
    ("hgb", True, "large"),  # one booster, calibrated on held-out rows (FrozenEstimator)
    ("hgb", False, "small"),  # the booster's own probability
    ("logistic", True, "small"),
    ("forest", False, "small"),
]


def _table(n: int = 1200, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Numbers with gaps, a category with gaps, and churn depending on both."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "tickets": rng.poisson(1.0, n).astype(float),
            "visits": rng.poisson(4.0, n).astype(float),
            "spend": rng.gamma(2.0, 30.0, n),
            "plan": rng.choice(["basic", "plus", "premium"], n).astype(object),
        }
    )
    X.loc[rng.random(n) < 0.1, "spend"] = np.nan
    X.loc[rng.random(n) < 0.05, "plan"] = None
    # Rare events' counts, each weakly tied to churn: a tree reads few of the columns, as
    # on a real churn table, so that variants are walked tree by tree.
    rare = rng.poisson(0.3, (n, 10)).astype(float)
    for k in range(10):
        X[f"rare_{k}"] = rare[:, k]
    logit = (
        -1.5
        + 0.9 * X["tickets"]
        - 0.3 * X["visits"]
        + (X["plan"] == "basic") * 1.0
        + rare @ np.linspace(0.1, 0.5, 10)
    )
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int))
    return X, y


@pytest.fixture(scope="module")
def models():
    X, y = _table()
    return {
        kind: train(X, y, model=kind[0], calibrate=kind[1], settings=kind[2]) for kind in KINDS
    }, X


def _whole(model, frame, rows, columns, donors, source):
    """The variants built as frames and scored whole (the reference)."""
    variant = frame.iloc[rows].reset_index(drop=True)
    for column in columns:
        variant[column] = source[column].iloc[donors].reset_index(drop=True)
    return model.predict_aligned(variant)


@pytest.mark.parametrize("kind", KINDS, ids=["-".join(map(str, k)) for k in KINDS])
def test_the_base_is_the_models_score_and_only_boosters_are_walked_tree_by_tree(models, kind):
    fitted, X = models
    model = fitted[kind]
    frame = model.align(X.head(300))
    scorer = VariantScorer(model, frame)
    assert scorer.treewise == (kind[0] == "hgb")
    if scorer.treewise:
        np.testing.assert_array_equal(scorer.base, model.predict_aligned(frame))
    else:  # a forest adds its trees' votes in threads, so two scorings differ by rounding
        np.testing.assert_allclose(scorer.base, model.predict_aligned(frame), rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS, ids=["-".join(map(str, k)) for k in KINDS])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_variants_score_as_if_built_whole(models, kind, data):
    fitted, X = models
    model = fitted[kind]
    frame = model.align(X.head(200))
    columns = data.draw(
        st.lists(st.sampled_from(list(frame.columns)), min_size=1, max_size=3, unique=True)
    )
    n = data.draw(st.integers(1, 400))
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(frame), n)
    # From the frame itself (a shuffle), or from other rows: values never seen in training,
    # a plan the model does not know, gaps.
    if data.draw(st.booleans()):
        source, donors = None, rng.integers(0, len(frame), n)
    else:
        source = model.align(
            pd.DataFrame(
                {
                    "tickets": [0.0, 40.0, np.nan],
                    "visits": [-3.0, 2.0, 1e6],
                    "spend": [np.nan, 0.0, 5e5],
                    "plan": ["plus", "platinum", None],
                    **{f"rare_{k}": [np.nan, 0.0, 9.0 + k] for k in range(10)},
                }
            )
        )
        donors = rng.integers(0, len(source), n)
    scorer = VariantScorer(model, frame)
    got = scorer.mixed(rows, columns, donors, source)
    expected = _whole(model, frame, rows, columns, donors, frame if source is None else source)
    if scorer.treewise:
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_a_customer_given_their_own_values_keeps_their_score_to_the_bit(models):
    fitted, X = models
    model = fitted[("hgb", True, "small")]
    frame = model.align(X.head(500))
    scorer = VariantScorer(model, frame)
    rows = np.arange(len(frame))
    for columns in (["tickets"], ["plan", "spend"], list(frame.columns)):
        np.testing.assert_array_equal(scorer.mixed(rows, columns, rows), scorer.base)
    # Customers with the same number of tickets swap them: no tree can tell.
    tickets = frame["tickets"].to_numpy()
    same = np.flatnonzero(tickets == 1.0)
    np.testing.assert_array_equal(scorer.mixed(same, ["tickets"], same[::-1]), scorer.base[same])


def test_columns_few_trees_read_are_walked_through_those_trees_only(models, monkeypatch):
    fitted, X = models
    model = fitted[("hgb", True, "small")]
    frame = model.align(X.head(400))
    scorer = VariantScorer(model, frame)
    rng = np.random.default_rng(3)
    rows, donors = rng.integers(0, 400, 900), rng.integers(0, 400, 900)
    for columns in (["plan"], ["rare_0"], ["rare_3", "rare_7"]):  # each read by few trees
        whole = _whole(model, frame, rows, columns, donors, frame)

        def refused(*args, **kwargs):
            raise AssertionError("scored whole")

        with monkeypatch.context() as patched:
            patched.setattr(type(model), "predict_aligned", refused)
            got = scorer.mixed(rows, columns, donors)
        np.testing.assert_array_equal(got, whole)


def _importance_whole(model, X, y, n_repeats, random_state):
    """Permutation importance as it was computed before variants: each shuffled copy of
    the resampled customers scored whole (same draws as :func:`permutation_importance`)."""
    frame = model.align(X)
    labels = y.to_numpy()
    rng = np.random.default_rng(random_state)
    kept = np.sort(rng.choice(len(frame), size=2000, replace=False))
    frame, labels = frame.iloc[kept], labels[kept]
    n = len(frame)
    draws = rng.integers(0, n, size=(n_repeats, n))
    donors = rng.permuted(draws, axis=1)
    from sklearn.metrics import roc_auc_score

    scores = model.predict_aligned(frame)
    base = np.array([roc_auc_score(labels[d], scores[d]) for d in draws])
    found = {}
    for name, columns in explain.resolve_groups(model, "auto").items():
        permuted = _whole(model, frame, draws.ravel(), columns, donors.ravel(), frame).reshape(
            n_repeats, n
        )
        after = np.array(
            [roc_auc_score(labels[d], p) for d, p in zip(draws, permuted, strict=True)]
        )
        found[name] = float((base - after).mean())
    return found


def test_importance_equals_scoring_every_shuffled_copy_whole():
    X, y = _table(3000, seed=1)
    model = train(X, y)
    table = model.importance(X, y, n_repeats=3, random_state=4).table
    whole = _importance_whole(model, X, y, n_repeats=3, random_state=4)
    assert set(table["feature"]) == set(whole)
    for feature, importance in zip(table["feature"], table["importance"], strict=True):
        assert importance == whole[feature]


def test_reasons_equal_scoring_each_typical_copy_whole(models, monkeypatch):
    fitted, X = models
    model = fitted[("hgb", True, "small")]
    # Blocks of 7 customers: the block seams are crossed too.
    monkeypatch.setattr(explain, "_REASONS_BLOCK", 7)
    frame = model.align(X.head(60))
    got = model.reasons(frame, top=4)
    typical = frame.iloc[:1].copy()
    for column in frame.columns:
        typical[column] = pd.Series([model.reference[column]], dtype=frame[column].dtype).values
    effects = {}
    scores = model.predict_aligned(frame)
    for name, columns in explain.resolve_groups(model, "auto").items():
        variant = frame.copy()
        for column in columns:
            variant[column] = typical[column].iloc[0]
            variant[column] = variant[column].astype(frame[column].dtype)
        effects[name] = scores - model.predict_aligned(variant)
    expected = pd.DataFrame(effects, index=frame.index)
    for customer, rank, feature, effect in got[
        [got.columns[0], "rank", "feature", "effect"]
    ].itertuples(index=False):
        assert effect == expected.loc[customer, feature]
        # the reason of rank r is the customer's r-th largest effect
        ordered = expected.loc[customer].sort_values(ascending=False, kind="stable")
        assert ordered.iloc[rank - 1] == effect
    # every customer with a positive effect has a reason
    positive = (expected > 0).any(axis=1)
    assert set(got[got.columns[0]]) == set(expected.index[positive])


def test_no_customers_have_no_reasons(models):
    fitted, X = models
    model = fitted[("hgb", True, "small")]
    got = model.reasons(model.align(X.head(0)))
    assert len(got) == 0 and list(got.columns)[1:] == [
        "rank",
        "feature",
        "effect",
        "values",
        "churn_probability",
    ]
