"""Commands of the intake intelligence: `pingan train`, `pingan evaluate intake|duplicates`,
`pingan export training-data`. Registered on the main app in `cli.py`."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pingan.config import Settings

console = Console()
evaluate_app = typer.Typer(
    help="Measure the intake intelligence on labelled data", no_args_is_help=True
)
export_app = typer.Typer(help="Export data", no_args_is_help=True)

UrlOpt = Annotated[
    str | None, typer.Option("--url", help="database URL (default PINGAN_DATABASE_URL)")
]


def _settings(url: str | None) -> Settings:
    settings = Settings()
    if url:
        settings.database_url = url
    return settings


def _fail(exc: Exception) -> typer.Exit:
    from pingan.domain.errors import DomainError
    from pingan.messages import message

    if isinstance(exc, DomainError):
        console.print(f"[red]{exc.code}[/] {message(exc.code, 'en', exc.params)}", soft_wrap=True)
    else:
        console.print(f"[red]error[/] {exc}", soft_wrap=True)
    return typer.Exit(2)


def _steps() -> Any:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    )


def _metrics_table(title: str, targets: dict[str, Any]) -> Table:
    table = Table(title=title)
    for column in ("target", "top-1", "top-3", "macro F1"):
        table.add_column(column, justify="right" if column != "target" else "left")
    for name, head in targets.items():
        table.add_row(
            name,
            f"{head['top1_accuracy']:.1%}",
            f"{head['top3_accuracy']:.1%}",
            f"{head['macro_f1']:.3f}",
        )
    return table


def train(
    url: UrlOpt = None,
    out: Annotated[
        Path | None, typer.Option(help="model directory (default PINGAN_MODEL_DIR)")
    ] = None,
    test_size: Annotated[float, typer.Option(help="share held out to measure")] = 0.2,
    seed: int = 0,
) -> None:
    """Learn category and department suggestions from the case history; print held-out figures."""
    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory
    from pingan.domain.access import SYSTEM_ACTOR
    from pingan.domain.errors import DomainError
    from pingan.intelligence.model_files import save
    from pingan.services.suggestions import read_history, train_on_history

    settings = _settings(url)
    engine = make_engine(settings.database_url)
    with _steps() as progress:
        task = progress.add_task("reading the case history")
        with UnitOfWorkFactory(engine)(SYSTEM_ACTOR, snapshot=True) as uow:
            history = read_history(uow)
        engine.dispose()
        progress.update(task, description=f"read {len(history.texts):,} cases")
        progress.stop_task(task)
        current = progress.add_task("training")

        def say(step: str) -> None:
            progress.update(current, description=f"training: {step}")

        try:
            trained = train_on_history(
                history, datetime.now(UTC), test_size=test_size, seed=seed, progress=say
            )
        except (DomainError, ValueError) as exc:
            raise _fail(exc) from None
        progress.update(current, description="trained")
        target = save(out or settings.model_dir, trained.model, trained.meta)
    console.print(_metrics_table("held-out accuracy", trained.meta["metrics"]["targets"]))
    console.print(
        f"[green]model written[/] {target} ({trained.meta['n_samples']:,} cases, "
        f"{trained.meta['n_features']:,} terms; trained in "
        f"{trained.meta['metrics']['train_seconds']:.1f} s on the training part)"
    )


def _display_names(target: str) -> dict[str, str]:
    """Pingan's own codes get their Chinese name on charts; other labels are shown as they are."""
    from pingan.domain.categories import CATEGORIES, DEPARTMENT_KINDS, MAJORS

    if target == "department":
        return {k.code: f"{k.code} {k.name}" for k in DEPARTMENT_KINDS}
    return {
        **{code: f"{code} {c.name}" for code, c in CATEGORIES.items()},
        **{code: f"{code} {zh}" for code, (zh, _en) in MAJORS.items()},
    }


@evaluate_app.command("intake")
def evaluate_intake(
    data: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="CSV (UTF-8 or GBK) or xlsx")
    ],
    text: Annotated[str | None, typer.Option(help="text column (auto-detected)")] = None,
    category: Annotated[str | None, typer.Option(help="category column (auto-detected)")] = None,
    department: Annotated[
        str | None, typer.Option(help="department column (auto-detected, optional)")
    ] = None,
    test_size: float = 0.2,
    seed: int = 0,
    out: Annotated[Path, typer.Option(help="where the report and charts go")] = Path(
        "var/evaluation/intake"
    ),
    top: Annotated[int, typer.Option(help="classes shown in the confusion charts")] = 20,
) -> None:
    """Train on one part of a labelled CSV and report on the rest: top-1/top-3 accuracy,
    per-class precision/recall/F1, confusion charts, report.json."""
    from pingan.domain.errors import DomainError
    from pingan.intelligence.charts import confusion_chart
    from pingan.intelligence.datasets import read_labelled
    from pingan.intelligence.evaluation import evaluate

    try:
        labelled = read_labelled(data, text, category, department)
    except DomainError as exc:
        raise _fail(exc) from None
    console.print(
        f"{len(labelled.texts):,} rows ({labelled.encoding}; {labelled.skipped} skipped), "
        f"columns {labelled.columns}, {len(set(labelled.categories))} categories"
    )
    targets: dict[str, list[str | None]] = {"category": list(labelled.categories)}
    if labelled.departments is not None:
        targets["department"] = list(labelled.departments)
    with _steps() as progress:
        task = progress.add_task("training")
        try:
            result = evaluate(
                labelled.texts,
                targets,
                test_size=test_size,
                seed=seed,
                progress=lambda s: progress.update(task, description=s),
            )
        except ValueError as exc:
            raise _fail(exc) from None
    out.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "data": str(data),
        "encoding": labelled.encoding,
        "columns": labelled.columns,
        "rows": len(labelled.texts),
        "skipped": labelled.skipped,
        "test_size": test_size,
        "seed": seed,
        **result.as_dict(),
        "charts": {},
    }
    console.print(
        _metrics_table(
            f"held out: {result.n_test:,} of {result.n_test + result.n_train:,} rows",
            document["targets"],
        )
    )
    for head in result.heads:
        table = Table(title=f"{head.target}: per class (by support)")
        for column in ("class", "precision", "recall", "F1", "support"):
            table.add_column(column, justify="left" if column == "class" else "right")
        for c in head.classes[:60]:
            table.add_row(
                c.label, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", str(c.support)
            )
        if len(head.classes) > 60:
            table.caption = f"{len(head.classes) - 60} more classes in report.json"
        console.print(table)
        chart = out / f"confusion-{head.target}.png"
        legend = confusion_chart(
            head.truth,
            head.predicted,
            chart,
            f"{head.target}: held-out confusion (row-normalised), top {top} classes",
            top=top,
            names=_display_names(head.target),
        )
        document["charts"][head.target] = {"file": chart.name, "legend": legend}
    (out / "report.json").write_text(json.dumps(document, ensure_ascii=False, indent=1), "utf-8")
    console.print(
        f"trained in {result.train_seconds:.1f} s, predicted {result.n_test:,} in "
        f"{result.predict_seconds:.1f} s; [green]report[/] {out / 'report.json'}"
    )


@evaluate_app.command("duplicates")
def evaluate_duplicates(
    data: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="labelled pairs CSV")],
    out: Annotated[Path, typer.Option(help="where the report and chart go")] = Path(
        "var/evaluation/duplicates"
    ),
) -> None:
    """Precision, recall and F1 of the duplicate scorer at its threshold, and a P/R curve."""
    from pingan.domain.errors import DomainError
    from pingan.intelligence.charts import curve_chart
    from pingan.intelligence.duplicate_evaluation import read_pairs, report, score_pairs
    from pingan.services.duplicates import DEFAULT_WINDOW

    try:
        pairs = read_pairs(data)
    except DomainError as exc:
        raise _fail(exc) from None
    scored = score_pairs(pairs, DEFAULT_WINDOW)
    document = {"data": str(data), **report(scored, DEFAULT_WINDOW)}
    at, best = document["at_threshold"], document["best_f1_threshold"]
    table = Table(title=f"{document['pairs']} pairs, {document['duplicates']} duplicates")
    for column in ("threshold", "precision", "recall", "F1"):
        table.add_column(column, justify="right")
    for label, row in (("in use", at), ("best F1", best)):
        table.add_row(
            f"{row['threshold']:.2f} ({label})",
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
            f"{row['f1']:.3f}",
        )
    console.print(table)
    for kind, share in document["offered_by_kind"].items():
        console.print(f"  offered at {at['threshold']:.2f}: {share:.1%} of {kind} pairs")
    out.mkdir(parents=True, exist_ok=True)
    curve_chart(
        [(c["threshold"], c["precision"], c["recall"]) for c in document["curve"]],
        (at["threshold"], at["precision"], at["recall"]),
        out / "duplicates-pr.png",
        "duplicate suggestions: precision / recall over thresholds",
    )
    (out / "report.json").write_text(json.dumps(document, ensure_ascii=False, indent=1), "utf-8")
    console.print(f"[green]report[/] {out / 'report.json'}, chart {out / 'duplicates-pr.png'}")


@export_app.command("training-data")
def export_training_data(
    out: Annotated[Path, typer.Argument(help="CSV file to write (UTF-8 with BOM, Excel-friendly)")],
    url: UrlOpt = None,
) -> None:
    """The case history as rows for `evaluate intake`: text (title and description), the
    description alone, category, its major (大类) and the dispatched department kind."""
    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory
    from pingan.domain.access import SYSTEM_ACTOR
    from pingan.services.suggestions import iter_training_rows, read_history

    engine = make_engine(_settings(url).database_url)
    with UnitOfWorkFactory(engine)(SYSTEM_ACTOR, snapshot=True) as uow:
        history = read_history(uow)
    engine.dispose()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "description", "category", "major", "department"])
        n = 0
        for text, cat, dept in iter_training_rows(history):
            _title, _, description = text.partition("\n")
            writer.writerow([text, description, cat, cat[:3], dept])
            n += 1
    console.print(f"{n:,} rows written to {out}")


def import_addresses(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV (UTF-8 or GBK) or xlsx")
    ],
    crs: Annotated[str, typer.Option(help="datum of rows without a crs column")] = "wgs84",
    source: Annotated[str, typer.Option(help="where the list came from")] = "",
    dry_run: Annotated[bool, typer.Option(help="check every row, store nothing")] = False,
    url: UrlOpt = None,
) -> None:
    """Load the address registry: columns address,lng,lat[,crs] (or 地址,经度,纬度[,坐标系])."""
    from pingan.adapters.address_files import read_addresses
    from pingan.api.runtime import Runtime
    from pingan.domain.access import SYSTEM_ACTOR
    from pingan.domain.errors import DomainError
    from pingan.domain.geo import CRS
    from pingan.services.geocoding import register_addresses

    try:
        rows, errors = read_addresses(file, CRS(crs))
    except (DomainError, ValueError) as exc:
        raise _fail(exc) from None
    rt = Runtime.build(_settings(url))
    with rt.uows(SYSTEM_ACTOR) as uow:
        report = register_addresses(
            uow, rows, rt.env, source=source or file.name, dry_run=dry_run or bool(errors)
        )
    problems = errors + report.errors
    for row, text, code in problems[:200]:
        console.print(f"[red]row {row}[/] {text}: {code}", soft_wrap=True)
    rt.engine.dispose()
    if problems:
        console.print(
            f"[red]nothing stored[/]: {len(problems)} bad row(s) of {len(rows) + len(errors)}"
        )
        raise typer.Exit(1)
    if dry_run:
        console.print(f"[green]all {len(rows)} rows can be stored[/]")
    else:
        console.print(f"[green]stored[/] {report.stored} address(es)")


def train_demo_model(settings: Settings) -> None:
    """Train the intake classifier right after the demo is seeded, so suggestions work at once.
    A failure here is reported and skipped: the demo runs without suggestions."""
    import time

    from pingan.adapters.db.engine import make_engine
    from pingan.adapters.db.uow import UnitOfWorkFactory
    from pingan.domain.access import SYSTEM_ACTOR
    from pingan.domain.errors import DomainError
    from pingan.intelligence.model_files import save
    from pingan.services.suggestions import read_history, train_on_history

    started = time.perf_counter()
    engine = make_engine(settings.database_url)
    try:
        with console.status("training the intake classifier on the case history…"):
            with UnitOfWorkFactory(engine)(SYSTEM_ACTOR, snapshot=True) as uow:
                history = read_history(uow)
            trained = train_on_history(history, datetime.now(UTC))
            save(settings.model_dir, trained.model, trained.meta)
    except (DomainError, ValueError, OSError) as exc:
        console.print(f"[yellow]intake classifier not trained[/]: {exc}")
        return
    finally:
        engine.dispose()
    top1 = trained.meta["metrics"]["targets"]["category"]["top1_accuracy"]
    console.print(
        f"intake classifier trained on {trained.meta['n_samples']:,} cases in "
        f"{time.perf_counter() - started:.1f} s (held-out category top-1 {top1:.1%}; "
        "demo texts are generated from templates, so this overstates real accuracy)"
    )
