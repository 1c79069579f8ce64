"""``journey churn``: train, score and evaluate churn models from the command line.

``score DATA`` (no model) is the at-risk list of :func:`journey_lib.churn.at_risk`: trained
at the latest labelled cutoff, every customer active at the log's end, with reasons in words
and the offer's decision. ``score MODEL DATA`` scores with a saved model.

A model trained on a touchpoint log keeps the :class:`~journey_lib.churn.FeatureRecipe`
its features were built with (cutoff, horizon, churn definition, windows), and ``score``
and ``evaluate`` rebuild them with it at their own cutoff. A model trained on a
one-row-per-customer table (``--label``) records its label and identifier columns instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from ..churn import (
    CALIBRATIONS,
    MODELS,
    ChurnModel,
    FeatureRecipe,
    at_risk,
    build_dataset,
    build_features,
    load,
    train,
)
from ..churn._inputs import binary_labels, looks_like_id
from ..churn.call_list import MAX_REASONS
from ..churn.fitting import LARGE, SETTINGS
from ..errors import JourneyDataError, JourneyParameterError
from ..io import read_events, read_table, write_table
from ..io.database import is_database
from ..io.profile import profile as infer_profile
from ._common import (
    Parser,
    add_database_options,
    add_profile_hints,
    data_source,
    database_options,
    profile_hints,
    shown,
    usage,
    whole_number,
)

#: The offer :func:`journey_lib.churn.at_risk` assumes when none is given.
AT_RISK_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(at_risk).parameters.items()
    if name in ("offer_cost", "save_rate")
}
#: Options of ``score`` that only the at-risk list (no MODEL) reads.
_AT_RISK_ONLY = (
    "horizon",
    "inactivity",
    "model_family",
    "seed",
    "max_reasons",
    "columns",
    "conversion",
)


def add_commands(sub: Any) -> None:
    """Add ``churn train|score|evaluate`` to the ``journey`` subcommands."""
    churn = sub.add_parser(
        "churn",
        help="train, score and evaluate churn models",
        description="Churn models on touchpoint logs or one-row-per-customer tables.",
    )
    commands = churn.add_subparsers(dest="churn_command", metavar="COMMAND", parser_class=Parser)
    churn.set_defaults(handler=lambda args: usage(churn))

    fit = commands.add_parser(
        "train",
        help="build a dataset, train and evaluate on a holdout, save the model",
        description="Train a churn model. On a touchpoint log, give --cutoff: features come "
        "from before it and labels from the horizon after it. On a one-row-per-customer "
        "table, give --label instead. A stratified holdout is evaluated and its metrics "
        "are saved in the model card.",
    )
    fit.add_argument(
        "data", type=data_source, help="touchpoint log, or a customer table with --label"
    )
    source = fit.add_mutually_exclusive_group(required=True)
    source.add_argument("--cutoff", metavar="DATE", help="prediction moment, for a touchpoint log")
    source.add_argument("--label", metavar="COLUMN", help="churn column, for a customer table")
    _dataset_options(fit)
    fit.add_argument("--model", choices=MODELS, default="hgb", help="model family (default hgb)")
    fit.add_argument(
        "--calibrate",
        choices=(*CALIBRATIONS, "none"),
        default="sigmoid",
        help="probability calibration (default sigmoid)",
    )
    fit.add_argument(
        "--settings",
        choices=SETTINGS,
        default="auto",
        help=f"fit for a small or a large table (default auto: large from {LARGE:,} rows)",
    )
    fit.add_argument(
        "--holdout",
        type=_share,
        default=0.25,
        metavar="SHARE",
        help="share of customers held out for evaluation (default 0.25)",
    )
    add_database_options(fit)
    fit.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    fit.add_argument("--out", type=Path, required=True, metavar="MODEL", help="model file (.skops)")
    fit.set_defaults(handler=_train)

    score = commands.add_parser(
        "score",
        help="who to call today (from a log), or score customers with a saved model",
        description="With DATA alone, a touchpoint log: train a model at the latest cutoff "
        "whose churn labels are known (the log's end, midnight after its last event, minus "
        "the horizon) and write the at-risk list: every customer active at the log's end, "
        "highest churn probability first, with three reasons in words, the value of keeping "
        "them, the expected value of the offer, whether to contact them and their segment "
        "(as jl.churn.at_risk). With MODEL DATA: score with a saved model, writing each "
        "customer's churn probability, highest first; optionally their top reasons and a "
        "retention-offer decision.",
    )
    score.add_argument(
        "model",
        type=Path,
        nargs="?",
        metavar="MODEL",
        help="a model saved by journey churn train (leave out for the at-risk list)",
    )
    score.add_argument(
        "data",
        type=data_source,
        metavar="DATA",
        help="touchpoint log (or customer table with MODEL): a file, or a database with --table",
    )
    score.add_argument(
        "--cutoff",
        metavar="DATE",
        help="with MODEL: score as of this moment (default: midnight after the log's last event)",
    )
    score.add_argument("--customers", type=Path, metavar="PATH", help="customer table")
    add_database_options(score)
    score.add_argument(
        "--reasons",
        type=int,
        default=0,
        metavar="N",
        help="with MODEL: add each customer's top N reasons (one extra scoring per feature "
        "group); the at-risk list always has three",
    )
    score.add_argument(
        "--offer-cost",
        type=float,
        metavar="COST",
        help=f"cost of one offer (at-risk list: default {AT_RISK_DEFAULTS['offer_cost']:g})",
    )
    score.add_argument(
        "--save-rate",
        type=float,
        metavar="SHARE",
        help=f"share of would-be churners kept (at-risk list: default "
        f"{AT_RISK_DEFAULTS['save_rate']:g})",
    )
    score.add_argument(
        "--value",
        metavar="NUMBER|COLUMN",
        help="value of keeping a customer: a number or a feature column (default value_total)",
    )
    score.add_argument("--budget", type=int, metavar="N", help="most customers to contact")
    listing = score.add_argument_group("the at-risk list (without MODEL)")
    listing.add_argument("--horizon", help="churn horizon (default: the profile's, usually 90D)")
    listing.add_argument(
        "--inactivity", help="inactivity that counts as churn (default: the profile's)"
    )
    listing.add_argument("--model-family", choices=MODELS, help="model family (default hgb)")
    listing.add_argument("--seed", type=int, help="random seed of the model (default 0)")
    listing.add_argument(
        "--max-reasons",
        type=_reason_limit,
        metavar="N|all",
        help=f"find reasons for at most N customers, those acted on first: the contacted "
        f"ones, then the riskiest (default {MAX_REASONS:,}; reasons take about a second per "
        f"700 customers)",
    )
    add_profile_hints(listing)
    score.add_argument(
        "--out",
        type=data_source,
        required=True,
        metavar="PATH",
        help="scores file (.csv, .parquet, ...); for the at-risk list, at_risk.csv; or a "
        "PostgreSQL table, postgresql://user@host:port/db/table, replaced atomically",
    )
    score.set_defaults(handler=_score)

    check = commands.add_parser(
        "evaluate",
        help="evaluate a saved model on labelled customers",
        description="Metrics with bootstrap intervals for the model and its baselines. On a "
        "touchpoint log, labels come from the horizon after --cutoff (default: the model's "
        "cutoff plus its horizon, the first moment a fresh test is possible).",
    )
    check.add_argument("model", type=Path, help="a model saved by journey churn train")
    check.add_argument("data", type=data_source, help="touchpoint log or customer table")
    check.add_argument("--cutoff", metavar="DATE", help="test cutoff, for a touchpoint log")
    check.add_argument("--customers", type=Path, metavar="PATH", help="customer table")
    add_database_options(check)
    check.add_argument(
        "--bootstraps", type=int, default=200, metavar="B", help="resamples (default 200)"
    )
    check.add_argument("--out", type=Path, metavar="PATH", help="also write the metrics here")
    check.set_defaults(handler=_evaluate)


def _dataset_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--horizon", default="90D", help="churn horizon (default 90D)")
    parser.add_argument(
        "--definition",
        choices=("inactivity", "event"),
        default="inactivity",
        help="churn as inactivity or as a churn event (default inactivity)",
    )
    parser.add_argument(
        "--inactivity", default="90D", help="inactivity that counts as churn (default 90D)"
    )
    parser.add_argument("--churn-event", metavar="EVENT", help="event that marks churn")
    parser.add_argument(
        "--acquisition-event",
        default="purchase",
        metavar="EVENT",
        help="event that makes someone a customer (default purchase)",
    )
    parser.add_argument("--customers", type=Path, metavar="PATH", help="customer table to join")


def _train(args: argparse.Namespace) -> int:
    recipe, note = None, {}
    if args.label is not None:
        X, y = _labelled_table(args.data, args.label, options=database_options(args))
        note = {"label": args.label, "id": X.index.name}
    else:
        dataset = build_dataset(
            _events(args.data, database_options(args)),
            cutoff=args.cutoff,
            horizon=args.horizon,
            definition=args.definition,
            inactivity=args.inactivity,
            churn_event=args.churn_event,
            acquisition_event=args.acquisition_event,
            customers=_table(args.customers),
        )
        print(dataset.report.summary())
        X, y = dataset
        recipe = dataset.recipe
    from sklearn.model_selection import train_test_split

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=args.holdout, stratify=y, random_state=args.seed
    )
    calibrate = False if args.calibrate == "none" else args.calibrate
    model = train(
        X_train,
        y_train,
        recipe=recipe,
        model=args.model,
        calibrate=calibrate,
        settings=args.settings,
        random_state=args.seed,
    )
    if note:
        # Where a table's features came from, for score and evaluate to read it alike.
        model = dataclasses.replace(model, provenance={**model.provenance, "built_from": note})
    evaluation = model.evaluate(X_test, y_test, random_state=args.seed)
    model.save(args.out, evaluation=evaluation)
    print(
        f"trained on {len(X_train):,} customers, evaluated on {len(X_test):,} held out "
        f"({args.holdout:.0%})"
    )
    print(evaluation.summary())
    print(f"model and card written to {args.out}")
    return 0


def _score(args: argparse.Namespace) -> int:
    if args.model is None:
        return _at_risk(args)
    given = [
        f"--{name.replace('_', '-')}" for name in _AT_RISK_ONLY if getattr(args, name) is not None
    ]
    if given:
        raise JourneyParameterError(
            f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to the at-risk list, "
            f"without MODEL; a saved model's recipe fixes the features, and --reasons N adds "
            f"reasons to its scores"
        )
    model = load(args.model)
    deciding = args.offer_cost is not None or args.save_rate is not None
    if deciding and (args.offer_cost is None or args.save_rate is None):
        raise JourneyParameterError("a retention decision needs both --offer-cost and --save-rate")
    if args.reasons < 0:
        raise JourneyParameterError(f"--reasons must be 0 or more; got {args.reasons}")
    X = _features_for(model, args)
    if deciding:
        plan = model.target(
            X,
            offer_cost=args.offer_cost,
            save_rate=args.save_rate,
            value=_value(args.value),
            budget=args.budget,
        )
        scores = plan.contacts
        print(plan.summary())
    else:
        scores = model.predict_proba(X).sort_values(ascending=False, kind="stable").to_frame()
    scores.insert(0, "rank", range(1, len(scores) + 1))
    if args.reasons:
        wide = _wide_reasons(model.reasons(X, top=args.reasons), scores.index)
        scores = scores.join(wide)
    said = write_table(scores.rename_axis(scores.index.name or "customer").reset_index(), args.out)
    print(f"{len(scores):,} customers scored; written to {said}")
    return 0


def _at_risk(args: argparse.Namespace) -> int:
    """``journey churn score DATA``: the at-risk list of :func:`journey_lib.churn.at_risk`."""
    for option, value in (("--cutoff", args.cutoff), ("--reasons", args.reasons)):
        if value:
            raise JourneyParameterError(
                f"{option} applies with a saved MODEL; the at-risk list is scored at the log's "
                f"end, with three reasons"
            )
    options, data = database_options(args), args.data
    if is_database(data):
        # Read once: profiling and reading would each read the table again.
        data, options = read_table(data, **options)[0], {}
    found = infer_profile(data, **profile_hints(args), **options)
    if found.shape == "customers":
        raise JourneyDataError(
            f"{shown(args.data)} is a customer table, one row per customer: the at-risk list "
            f"needs a touchpoint log (a customer table is scored with a MODEL trained on one)"
        )
    report = found.read(data, **options)
    if not report.ok:
        print(report.summary(), file=sys.stderr)
    if report.clean.empty:
        raise JourneyDataError(f"{shown(args.data)}: no usable row")
    chosen = {
        "horizon": args.horizon,
        "inactivity": args.inactivity,
        "model": args.model_family,
        "seed": args.seed,
        "offer_cost": args.offer_cost,
        "save_rate": args.save_rate,
        "budget": args.budget,
        "value": _value(args.value),
    }
    # Not given keeps at_risk's limit; "all" is None to it, no limit.
    if args.max_reasons is not None:
        limit = {"max_reasons": None if args.max_reasons == "all" else args.max_reasons}
    else:
        limit = {}
    risk = at_risk(
        report.clean,
        profile=found,
        customers=_table(args.customers),
        **{name: value for name, value in chosen.items() if value is not None},
        **limit,
    )
    said = write_table(risk.table, args.out)
    print(f"{risk.summary()}; written to {said}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    model = load(args.model)
    note = model.provenance.get("built_from", {})
    if "label" in note:
        X, y = _labelled_table(
            args.data, note["label"], index=note.get("id"), options=database_options(args)
        )
    else:
        recipe = _recipe_of(model, args)
        cutoff = args.cutoff
        if cutoff is None:
            cutoff = recipe.cutoff + pd.Timedelta(recipe.horizon)
            print(f"testing at {cutoff:%Y-%m-%d} (the model's cutoff plus its horizon)")
        X, y = build_dataset(
            _events(args.data, database_options(args)),
            cutoff=cutoff,
            customers=_customers_for(model, args),
            recipe=recipe,
        )
    evaluation = model.evaluate(X, y, n_bootstraps=args.bootstraps)
    print(f"{len(X):,} customers, {int(binary_labels(y).sum()):,} churned")
    print(evaluation.summary())
    if args.out is not None:
        write_table(evaluation.metrics, args.out)
        print(f"metrics written to {args.out}")
    return 0


def _features_for(model: ChurnModel, args: argparse.Namespace) -> pd.DataFrame:
    """The customers to score: a customer table as it is, or features built from a log the
    way the model's were."""
    note = model.provenance.get("built_from", {})
    if "label" in note:
        X, _ = _labelled_table(
            args.data,
            note["label"],
            index=note.get("id"),
            to_score=True,
            options=database_options(args),
        )
        return X
    recipe = _recipe_of(model, args)
    events = _events(args.data, database_options(args))
    cutoff = args.cutoff
    if cutoff is None:
        # read_events has parsed the times (UTC).
        cutoff = events["timestamp"].max().floor("D") + pd.Timedelta(days=1)
        print(f"scoring as of {cutoff:%Y-%m-%d %H:%M} UTC (after the log's last event)")
    customers = _customers_for(model, args)
    return build_features(events, cutoff=cutoff, customers=customers, recipe=recipe).X


def _recipe_of(model: ChurnModel, args: argparse.Namespace) -> FeatureRecipe:
    """The recipe that rebuilds the model's features from a log."""
    if model.recipe is None:
        raise JourneyDataError(
            f"{args.model} does not record how its features were built (it was trained in "
            f"Python without a recipe: train(dataset) or train(X, y, recipe=dataset.recipe) "
            f"keeps one); score it with ChurnModel.predict_proba"
        )
    return model.recipe


def _customers_for(model: ChurnModel, args: argparse.Namespace) -> pd.DataFrame | None:
    needed = model.recipe is not None and model.recipe.customers
    if needed and args.customers is None:
        raise JourneyParameterError(
            f"{args.model} was trained with a customer table; pass it with --customers"
        )
    return _table(args.customers) if needed else None


def _labelled_table(
    path: Path | str,
    label: str,
    index: str | None = None,
    *,
    to_score: bool = False,
    options: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.Series | None]:
    """A one-row-per-customer table split into features and labels; its identifier column
    (by name, or the first that looks like one) becomes the index.

    A table ``to_score`` may lack the label (``y`` is then None), and only an identifier
    column named by ``index`` becomes its index.
    """
    table = _table(path, options)
    if label not in table.columns and not to_score:
        raise JourneyDataError(
            f"{shown(path)} has no column {label!r}; its columns are {list(table.columns)[:10]}"
        )
    if index is None and not to_score:
        index = next((c for c in table.columns if c != label and looks_like_id(c)), None)
    if index in table.columns:
        table = table.set_index(index)
    y = table.pop(label) if label in table.columns else None
    return table, y


def _events(path: Path | str, options: dict[str, str]) -> pd.DataFrame:
    report = read_events(path, **options)
    if not report.ok:
        print(report.summary(), file=sys.stderr)
    if report.clean.empty:
        raise JourneyDataError(f"{shown(path)}: no usable row")
    return report.clean


def _table(path: Path | str | None, options: dict[str, str] | None = None) -> pd.DataFrame | None:
    if path is None:
        return None
    table, malformed = read_table(path, **(options or {}))
    if malformed:
        print(
            f"{path}: {len(malformed)} malformed line(s) skipped, e.g. {malformed[0]}",
            file=sys.stderr,
        )
    return table


def _reason_limit(text: str) -> int | str:
    """``--max-reasons``: a whole number of at least 0, or ``all``."""
    return "all" if text.lower() == "all" else whole_number(text, minimum=0)


def _value(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _wide_reasons(long: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """``reason_k``, ``reason_k_effect`` and ``reason_k_values`` columns per customer."""
    key = long.columns[0]
    wide = long.pivot(index=key, columns="rank", values=["feature", "effect", "values"])
    names = {"feature": "reason_{}", "effect": "reason_{}_effect", "values": "reason_{}_values"}
    wide.columns = [names[what].format(rank) for what, rank in wide.columns]
    order = sorted(wide.columns, key=lambda c: (int(c.split("_")[1]), c))
    return wide[order].reindex(index)


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must lie between 0 and 1, got {value}")
    return value
