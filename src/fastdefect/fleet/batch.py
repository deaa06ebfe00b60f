"""Detection for many cameras at once, on a ``dask.distributed`` cluster.

:func:`run_batch` reads a manifest (:mod:`fastdefect.fleet.manifest`), sends one task per
camera to the cluster (a ``LocalCluster`` of worker processes by default, or an existing
scheduler), and writes:

``OUTDIR/<serial>/defects.csv``
    exactly what ``fastdefect detect -o defects.csv`` writes for the same stacks and
    options (the same :func:`~fastdefect.detection.analyse` call and CSV writer);
``OUTDIR/<serial>/report.html``
    with ``reports=True``: the camera's HTML report (the ``plot`` extra);
``OUTDIR/<serial>/summary.json``
    the camera's status, counts, verdicts, timings and the fingerprint of its inputs,
    written last: its presence with ``status: ok`` marks the camera complete;
``OUTDIR/fleet.csv`` and ``OUTDIR/fleet.html``
    one line per camera, and the fleet report.

Why one task per camera: a camera's stacks stream through one worker in bounded memory
(the accumulators plus one frame, whatever the number of frames), so a worker's memory
does not depend on the number of cameras, and the result that travels back is a small
dict; only a stack longer than ``chunk_frames`` frames is cut into frame chunks that
all the workers sum and the camera's task merges exactly (:func:`chunk_sums`,
:func:`fastdefect.stats.merge_sums`). A camera whose files are bad fails alone
(``status: error`` with the message);
the batch goes on. Re-running skips the complete cameras whose inputs and options are
unchanged (``force=True`` redoes them).

Threads: each task limits its kernels' threads (numba's and fastdefect's own pool) to
its worker's thread count (``threads_per_worker``), so two single-threaded workers on a
2-core machine do not oversubscribe it.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import html
import io
import json
import logging
import os
import resource
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from .. import __version__
from ..defaults import DEFAULT_CHUNK_FRAMES
from ..defects import KINDS
from ..errors import FastDefectError, InputError, import_optional
from ..outputs import atomic_output
from .manifest import CameraJob, read_manifest

__all__ = [
    "DETECTED_KINDS",
    "FLEET_COLUMNS",
    "BatchOptions",
    "FleetResult",
    "chunk_sums",
    "process_camera",
    "run_batch",
]

#: Kinds counted per camera in ``fleet.csv`` (detection never reports ``unknown``).
DETECTED_KINDS = tuple(kind for kind in KINDS if kind != "unknown")
#: Columns of ``fleet.csv``.
FLEET_COLUMNS = (
    "serial",
    "status",
    "model",
    "width",
    "height",
    "defects",
    *DETECTED_KINDS,
    "ok",
    "warn",
    "error",
    "seconds",
    "message",
)
SUMMARY_FILE = "summary.json"
DEFECTS_FILE = "defects.csv"
REPORT_FILE = "report.html"


@dataclass(frozen=True)
class BatchOptions:
    """Detection options applied to every camera (those of ``fastdefect detect``)."""

    threshold: str = "102lsb10"
    line_threshold: str = "48lsb10"
    noise_factor: float = 3.0
    vote: float = 0.0
    bit_depth: int | None = None
    cfa: str | None = None
    rules: str = "av"
    reports: bool = False

    def fingerprint(self, job: CameraJob) -> str:
        """Hash of what a camera's result depends on (inputs, options, version)."""
        record = {
            "options": asdict(self),
            "job": {k: v for k, v in job.to_dict().items() if k != "lines"},
            "inputs": _input_stamps(job),
            "version": __version__,
        }
        return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def _input_stamps(job: CameraJob) -> list[Any]:
    """Size and modification time of the stack paths that are plain files."""
    stamps = []
    for path in [*job.dark, *job.bright, *job.saturated]:
        try:
            stat = os.stat(path)
            stamps.append([path, stat.st_size, stat.st_mtime_ns])
        except OSError:
            stamps.append([path, None, None])
    return stamps


def _set_threads(threads: int | None) -> int:
    """Limit this worker's kernel threads (numba's and fastdefect's); return the count."""
    import numba

    from ..kernels._threads import limit_threads

    if threads is None:
        with contextlib.suppress(ValueError, ImportError):
            from distributed import get_worker

            threads = get_worker().state.nthreads
    threads = limit_threads(threads)
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return threads


def _peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _error_summary(job: CameraJob, message: str, seconds: float) -> dict[str, Any]:
    return {
        "serial": job.serial,
        "status": "error",
        "model": job.model,
        "message": message,
        "seconds": seconds,
    }


def chunk_sums(path: str, bit_depth: int | None, frames: range, threads: int | None):
    """The exact sums of frames ``frames`` of the stack at ``path``; runs on a worker."""
    from ..frames import open_stack
    from ..stats import stack_sums

    _set_threads(threads)
    return stack_sums(open_stack(path, bit_depth=bit_depth), frames, extremes=False)


def _split_long_stacks(
    paths: list[str], bit_depth: int | None, chunk_frames: int | None, threads: int | None
) -> tuple[list[Any], int]:
    """``paths``, with every stack longer than ``chunk_frames`` frames summed in chunks of
    that many frames on the cluster's workers and merged (:class:`~fastdefect.stats.
    SummedStack`: exactly what one pass gives). Only inside a Dask worker; returns the
    stacks and the number of chunk tasks."""
    if not chunk_frames or not paths:
        return paths, 0
    try:
        from distributed import get_worker, worker_client

        get_worker()
    except (ImportError, ValueError):  # not on a worker: one pass, here
        return paths, 0
    from ..masters import MasterFrame, open_stack_or_master
    from ..stats import SummedStack, merge_sums

    stacks: list[Any] = []
    chunks = 0
    for path in paths:
        stack = open_stack_or_master(path, bit_depth)
        if isinstance(stack, MasterFrame) or stack.n_frames <= chunk_frames:
            stacks.append(path)
            continue
        ranges = [
            range(start, min(start + chunk_frames, stack.n_frames))
            for start in range(0, stack.n_frames, chunk_frames)
        ]
        # worker_client: this task leaves its worker's thread pool while the chunks run,
        # so a one-thread worker can run chunks too. Merged in frame order as they come
        # back: two sets of sums in memory here, whatever the number of chunks.
        with worker_client() as client:
            futures = [
                client.submit(chunk_sums, path, bit_depth, frames, threads, pure=False)
                for frames in ranges
            ]
            merged = None
            for future in futures:
                part = future.result()
                merged = part if merged is None else merge_sums([merged, part])
                future.release()
        stacks.append(SummedStack(stack, merged.finish()))
        chunks += len(ranges)
    return stacks, chunks


def process_camera(
    job: CameraJob,
    options: BatchOptions,
    outdir: str,
    db_url: str | None = None,
    threads: int | None = None,
    chunk_frames: int | None = None,
) -> dict[str, Any]:
    """Detect one camera's defects and write its files; runs on a worker.

    Stacks longer than ``chunk_frames`` frames are summed in chunks on the cluster's
    workers (:func:`chunk_sums`) and merged exactly. Never raises for a camera's own
    problems: a :class:`FastDefectError` (bad file, wrong size ...) or any other failure
    gives ``status: error`` with the message.
    """
    from ..detection import analyse
    from ..formats import write_list
    from ..rules import check_list, rule_set

    started = time.perf_counter()
    cpu_started = time.process_time()
    directory = Path(outdir) / job.serial
    fingerprint = options.fingerprint(job)
    try:
        used_threads = _set_threads(threads)
        directory.mkdir(parents=True, exist_ok=True)
        config = _config(options, job)
        bit_depth = job.bit_depth or options.bit_depth
        chunks = 0
        roles = {}
        for role, paths in (
            ("dark", job.dark),
            ("bright", job.bright),
            ("saturated", job.saturated),
        ):
            roles[role], used = _split_long_stacks(paths, bit_depth, chunk_frames, threads)
            chunks += used
        analysis = analyse(
            dark=roles["dark"] or None,
            bright=roles["bright"] or None,
            saturated=roles["saturated"] or None,
            bit_depth=bit_depth,
            config=config,
            dark_exposures=job.dark_exposures,
        )
        height, width = analysis.shape
        if job.width is not None and (width, height) != (job.width, job.height):
            raise InputError(
                f"camera {job.serial}: frames are {width} x {height} pixels but the manifest "
                f"says {job.width} x {job.height}"
            )
        result = analysis.result()
        # What `fastdefect detect -o defects.csv` writes: the CSV's first line is its header.
        write_list(
            directory / DEFECTS_FILE,
            result.defects.with_metadata({}),
            like="csv",
            overwrite=True,
        )
        verdicts = check_list(result.defects, rule_set(options.rules, width=width, height=height))
        run_id = history = None
        if db_url is not None:
            from .db import HistoryDatabase
            from .history import camera_history

            with HistoryDatabase(db_url) as database:
                run_id = database.record(job.serial, result, model=job.model, command="batch")
                if options.reports:
                    history = camera_history(database, job.serial, rules=options.rules)
        if options.reports:
            from ..report import report_from_analysis

            report = report_from_analysis(
                analysis, rules=options.rules, title=f"Camera {job.serial}", history=history
            )
            report.write(directory / REPORT_FILE, overwrite=True)
        summary = {
            "serial": job.serial,
            "status": "ok",
            "model": job.model,
            "width": width,
            "height": height,
            "bit_depth": result.bit_depth,
            "defects": len(result.defects),
            "counts": result.counts(),
            "verdicts": verdicts.counts(),
            "warnings": list(result.warnings),
            "frames": sum(s.n_frames for s in result.stacks),
            "run_id": run_id,
            "threads": used_threads,
            "chunks": chunks,
            "message": "",
        }
    except FastDefectError as exc:
        summary = _error_summary(job, str(exc), time.perf_counter() - started)
    except Exception as exc:  # a bug or a system failure: still this camera's only
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(last.filename).name}:{last.lineno}"
        summary = _error_summary(
            job, f"unexpected {type(exc).__name__} at {where}: {exc}", time.perf_counter() - started
        )
    summary["seconds"] = time.perf_counter() - started
    summary["cpu_seconds"] = time.process_time() - cpu_started  # all threads of the worker
    summary["peak_rss_bytes"] = _peak_rss_bytes()
    summary["worker_pid"] = os.getpid()
    summary["fingerprint"] = fingerprint
    summary["finished_at"] = datetime.now(UTC).isoformat()
    with contextlib.suppress(OSError):
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_output(directory / SUMMARY_FILE, overwrite=True) as tmp:
            tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _config(options: BatchOptions, job: CameraJob):
    from ..detection import DetectionConfig

    return DetectionConfig(
        pixel_threshold=options.threshold,
        line_threshold=options.line_threshold,
        noise_factor=options.noise_factor,
        vote=options.vote,
        cfa=job.cfa or options.cfa,
    )


def _complete(job: CameraJob, options: BatchOptions, outdir: Path) -> dict[str, Any] | None:
    """The camera's earlier summary when its results are complete and current."""
    directory = outdir / job.serial
    try:
        summary = json.loads((directory / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        summary.get("status") != "ok"
        or summary.get("fingerprint") != options.fingerprint(job)
        or not (directory / DEFECTS_FILE).is_file()
        or (options.reports and not (directory / REPORT_FILE).is_file())
    ):
        return None
    summary["skipped"] = True
    return summary


@dataclass
class FleetResult:
    """What :func:`run_batch` did.

    Attributes
    ----------
    cameras : list of dict
        One summary per camera, in manifest order (``status`` ok or error, counts,
        verdicts, ``skipped`` when an earlier complete result was kept, ``seconds``,
        ``peak_rss_bytes`` of the worker process, ``message`` when it failed).
    outdir : Path
    files : dict of str to Path
        ``fleet_csv`` and ``fleet_html``.
    seconds : float
    workers : int
        Workers of the cluster used.
    scheduler : str
        The scheduler's address.
    """

    cameras: list[dict[str, Any]]
    outdir: Path
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    workers: int = 0
    scheduler: str = ""

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [c for c in self.cameras if c["status"] != "ok"]

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary (what ``fastdefect batch --json`` prints)."""
        return {
            "outdir": str(self.outdir),
            "cameras": len(self.cameras),
            "ok": sum(c["status"] == "ok" for c in self.cameras),
            "error": len(self.failed),
            "skipped": sum(bool(c.get("skipped")) for c in self.cameras),
            "defects": sum(c.get("defects", 0) for c in self.cameras),
            "workers": self.workers,
            "scheduler": self.scheduler,
            "seconds": self.seconds,
            "files": {k: str(v) for k, v in self.files.items()},
            "per_camera": [
                {k: v for k, v in camera.items() if k not in ("fingerprint", "warnings")}
                for camera in self.cameras
            ],
        }


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int | None, threads_per_worker: int) -> Iterator[Any]:
    distributed = import_optional(
        "distributed", extra="fleet", purpose="fastdefect batch", package="dask[distributed]"
    )
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
        with client:
            yield client
        return
    n_workers = workers or os.cpu_count() or 1
    with (
        distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,  # a progress bar instead; no bokeh import (~0.3 s)
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def run_batch(
    manifest: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    options: BatchOptions | None = None,
    workers: int | None = None,
    threads_per_worker: int = 1,
    scheduler: str | None = None,
    force: bool = False,
    db_url: str | None = None,
    chunk_frames: int | None = DEFAULT_CHUNK_FRAMES,
    progress: Callable[[int, int], None] | None = None,
) -> FleetResult:
    """Run detection on every camera of ``manifest``; write per-camera and fleet files.

    Parameters
    ----------
    manifest : path-like
        The CSV manifest (see :mod:`fastdefect.fleet.manifest`); checked whole first.
    outdir : path-like
        Output directory (created if missing).
    options : BatchOptions, optional
        Detection options for every camera.
    workers : int, optional
        Worker processes of the local cluster; default the number of cores.
    threads_per_worker : int
        Threads per local worker (numba's too). On an existing cluster its workers'
        own thread counts are used.
    scheduler : str, optional
        ``tcp://HOST:PORT`` of a running Dask scheduler instead of a local cluster.
        Its workers must see the stack paths and ``outdir`` at the same paths.
    force : bool
        Redo cameras whose complete results exist.
    db_url : str, optional
        Record each camera's run in this history database (an SQLAlchemy URL, see
        :func:`fastdefect.fleet.db.database_url`).
    chunk_frames : int, optional
        Stacks longer than this many frames are summed in chunks of this many frames on
        all the workers and merged exactly (the result equals one pass); ``None`` or 0:
        never split.
    progress : callable, optional
        ``progress(cameras_done, cameras_total)``.
    """
    started = time.perf_counter()
    if chunk_frames is not None and chunk_frames < 0:
        raise InputError(f"chunk frames must be positive, got {chunk_frames}")
    options = options or BatchOptions()
    if threads_per_worker < 1:
        raise InputError(f"threads per worker must be at least 1, got {threads_per_worker}")
    if workers is not None and workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    jobs = read_manifest(manifest)
    if options.reports:
        from ..plots import require_matplotlib

        require_matplotlib()
    from ..rules import rule_set

    rule_set(options.rules)  # an unknown name fails before any work
    _config(options, CameraJob(serial="check"))  # so do bad thresholds
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    if db_url is not None:
        from .db import HistoryDatabase

        HistoryDatabase(db_url).close()  # create/migrate once, and fail early if unreachable

    summaries: dict[str, dict[str, Any]] = {}
    todo = []
    for job in jobs:
        done = None if force else _complete(job, options, out)
        if done is not None:
            summaries[job.serial] = done
        else:
            todo.append(job)
    total = len(jobs)
    if progress is not None:
        progress(len(summaries), total)
    worker_count = 0
    address = ""
    if todo:
        distributed = import_optional(
            "distributed", extra="fleet", purpose="fastdefect batch", package="dask[distributed]"
        )
        local_threads = None if scheduler else threads_per_worker
        with _client(scheduler, workers, threads_per_worker) as client:
            info = client.scheduler_info()
            worker_count = len(info.get("workers", {}))
            address = info.get("address", "") or str(scheduler or "")
            futures = {}
            for job in todo:
                future = client.submit(
                    process_camera,
                    job,
                    options,
                    str(out.resolve()),
                    db_url,
                    local_threads,
                    chunk_frames,
                    key=f"fastdefect-camera-{job.serial}-{time.time_ns()}",
                    pure=False,
                )
                futures[future] = job
            for future in distributed.as_completed(futures):
                job = futures[future]
                try:
                    summaries[job.serial] = future.result()
                except Exception as exc:  # the worker died (KilledWorker) or vanished
                    summaries[job.serial] = _error_summary(
                        job, f"the worker running this camera failed: {exc}", 0.0
                    )
                if progress is not None:
                    progress(len(summaries), total)
    cameras = [summaries[job.serial] for job in jobs]
    result = FleetResult(
        cameras=cameras,
        outdir=out,
        workers=worker_count,
        scheduler=address,
    )
    result.files = {
        "fleet_csv": write_fleet_csv(out / "fleet.csv", cameras),
        "fleet_html": write_fleet_html(out / "fleet.html", cameras),
    }
    result.seconds = time.perf_counter() - started
    return result


# -- fleet outputs ---------------------------------------------------------------------------


def fleet_rows(cameras: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``fleet.csv`` rows (dicts keyed by :data:`FLEET_COLUMNS`)."""
    rows = []
    for camera in cameras:
        ok = camera["status"] == "ok"
        counts = camera.get("counts", {})
        verdicts = camera.get("verdicts", {})
        row = {
            "serial": camera["serial"],
            "status": camera["status"],
            "model": camera.get("model") or "",
            "width": camera.get("width", "") if ok else "",
            "height": camera.get("height", "") if ok else "",
            "defects": camera.get("defects", "") if ok else "",
            **{kind: counts.get(kind, 0) if ok else "" for kind in DETECTED_KINDS},
            **{level: verdicts.get(level, 0) if ok else "" for level in ("ok", "warn", "error")},
            "seconds": f"{camera.get('seconds', 0.0):.3f}",
            "message": camera.get("message", ""),
        }
        rows.append(row)
    return rows


def write_fleet_csv(path: Path, cameras: list[dict[str, Any]]) -> Path:
    """Write ``fleet.csv`` atomically: one line per camera, in manifest order."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FLEET_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(fleet_rows(cameras))
    with atomic_output(path, overwrite=True) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fleet_html(cameras: list[dict[str, Any]], outdir: Path) -> str:
    """The fleet report: one self-contained page (inline CSS, no script, no network)."""
    from ..plots import KIND_COLOURS

    ranked = sorted(
        cameras,
        key=lambda c: (c["status"] != "ok", -(c.get("defects") or 0), c["serial"]),
    )
    ok = [c for c in cameras if c["status"] == "ok"]
    failed = [c for c in cameras if c["status"] != "ok"]
    most = max((c.get("defects") or 0 for c in ok), default=0) or 1
    header = "".join(
        f"<th>{_e(h)}</th>"
        for h in ("#", "camera", "model", "defects", "kinds", "ok", "warn", "error", "files")
    )
    lines = []
    for rank, camera in enumerate(ranked, start=1):
        serial = camera["serial"]
        links = []
        for name in (DEFECTS_FILE, REPORT_FILE):
            if (outdir / serial / name).is_file():
                links.append(f'<a href="{_e(serial)}/{name}">{name}</a>')
        if camera["status"] != "ok":
            lines.append(
                f'<tr class="error"><td>{rank}</td><td>{_e(serial)}</td>'
                f"<td>{_e(camera.get('model') or '')}</td>"
                f'<td colspan="5"><span class="verdict error">error</span> '
                f"{_e(camera.get('message', ''))}</td><td>{' '.join(links)}</td></tr>"
            )
            continue
        counts = camera.get("counts", {})
        bar = "".join(
            f'<span title="{_e(kind)}: {n:,}" style="display:inline-block;height:0.9em;'
            f'width:{max(1.0, 300.0 * n / most):.1f}px;background:{KIND_COLOURS[kind]}"></span>'
            for kind, n in counts.items()
            if n
        )
        kinds = ", ".join(f"{_e(kind)} {n:,}" for kind, n in counts.items() if n)
        verdicts = camera.get("verdicts", {})
        lines.append(
            f"<tr><td>{rank}</td><td>{_e(serial)}</td><td>{_e(camera.get('model') or '')}</td>"
            f'<td class="num">{camera.get("defects", 0):,}</td>'
            f"<td><div>{bar}</div><div>{kinds}</div></td>"
            f'<td class="num">{verdicts.get("ok", 0):,}</td>'
            f'<td class="num">{verdicts.get("warn", 0):,}</td>'
            f'<td class="num">{verdicts.get("error", 0):,}</td>'
            f"<td>{' '.join(links)}</td></tr>"
        )
    legend = " ".join(
        f'<span class="swatch" style="background:{KIND_COLOURS[kind]}"></span>{kind}'
        for kind in DETECTED_KINDS
    )
    body = (
        f"<p>{len(cameras)} cameras: {len(ok)} ok, {len(failed)} failed; "
        f"{sum(c.get('defects', 0) for c in ok):,} defective pixels in all. Cameras are "
        "ranked by defects; verdicts are the camera rules' (ok, warn, error entries).</p>"
        f"<p>{legend}</p>"
        f'<table id="fleet-table"><thead><tr>{header}</tr></thead><tbody>'
        + "\n".join(lines)
        + "</tbody></table>"
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    template = Template(resources.files("fastdefect.report").joinpath("report.html").read_text())
    css = resources.files("fastdefect.report").joinpath("report.css").read_text()
    return template.substitute(
        title=_e("Fleet report"),
        generator=_e(f"fastdefect {__version__}"),
        css=css,
        meta=_e(f"{len(cameras)} cameras · generated {generated} by fastdefect {__version__}"),
        nav='<a href="#fleet">Cameras</a>',
        sections=f'<section class="card" id="fleet">\n<h2>Cameras</h2>\n{body}\n</section>',
        footer=_e(f"fastdefect {__version__} · {generated} · self-contained page"),
    )


def write_fleet_html(path: Path, cameras: list[dict[str, Any]]) -> Path:
    """Write ``fleet.html`` atomically."""
    page = fleet_html(cameras, path.parent)
    with atomic_output(path, overwrite=True) as tmp:
        tmp.write_text(page, encoding="utf-8", newline="\n")
    return path
