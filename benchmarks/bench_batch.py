"""Fleet scaling: ``fastdefect batch`` on 1 and 2 workers, and against a shell loop of detect.

On ``--cameras`` simulated cameras (default 16 at 2048 x 2048, 16 dark + 16 bright
frames each, distinct seeds), every run a separate command, measured in one session:

* ``batch --workers 1 --threads-per-worker 1`` and ``batch --workers 2
  --threads-per-worker 1``: each worker limited to one thread, numba included. Their
  ratio is the figure that predicts a cluster (target: 2 workers >= 1.7x faster on 2
  cores);
* ``batch`` with its defaults (workers = cores, one thread each) against a shell loop of
  ``fastdefect detect`` over the same cameras with detect's defaults (target: >= 1.3x);
* per-worker peak resident memory (the workers report ``getrusage`` high-water marks);
* per run the sum over cameras of the wall time and of the CPU time (all threads of the
  worker process) their tasks took: on a machine shared with other work, equal CPU sums
  with rising wall sums show the workers waiting for a core, not doing more work.

* the same 1-worker and 2-worker runs with ``batch --scheduler`` on a running cluster
  (``dask scheduler`` and ``dask worker --nthreads 1`` processes, warmed by one untimed
  batch): a long-lived cluster's user does not wait for workers to start, so this ratio
  is the scaling without the local cluster's ~2 s of start and stop.

Every batch run uses ``--force`` and its own output directory; the loop writes the same
``defects.csv`` files (every run's lists are checked equal to the loop's). Times include
starting the cluster (local batch) and each process's start-up (loop): what a user
waits for.

Each batch configuration runs ``--repeat`` times (default 3) and the fastest run counts,
as in the other benchmarks; the shell loop runs once.

Run: ``python benchmarks/bench_batch.py [--cameras 16] [--size 2048] [--frames 16]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from fastdefect.simulate import SimulationConfig, simulate_to_directory

from _harness import report

FASTDEFECT = str(Path(sys.executable).parent / "fastdefect")


def prepare(workdir: Path, cameras: int, size: int, frames: int) -> Path:
    """Simulate the cameras (kept between runs) and write the manifest."""
    lines = ["serial,role,path"]
    for number in range(cameras):
        serial = f"SIM{number:03d}"
        directory = workdir / "cameras" / serial
        config = SimulationConfig(width=size, height=size, frames=frames, seed=100 + number)
        stamp = directory / "simulation.json"
        if not stamp.is_file() or json.loads(stamp.read_text())["config"]["seed"] != 100 + number:
            simulate_to_directory(directory, config, overwrite=True)
        lines += [f"{serial},dark,{directory}/dark.tif", f"{serial},bright,{directory}/bright.tif"]
    manifest = workdir / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def run_batch(manifest: Path, out: Path, *options: str) -> tuple[float, dict]:
    shutil.rmtree(out, ignore_errors=True)
    argv = [FASTDEFECT, "batch", str(manifest), "-o", str(out), "--force", "--json", *options]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")
    return seconds, json.loads(done.stdout)


def worker_memory(summary: dict) -> list[float]:
    """Peak RSS per worker process (MiB), highest first."""
    peaks: dict[int, float] = defaultdict(float)
    for camera in summary["per_camera"]:
        peaks[camera["worker_pid"]] = max(peaks[camera["worker_pid"]], camera["peak_rss_bytes"])
    return sorted((p / 2**20 for p in peaks.values()), reverse=True)


def shell_loop(manifest: Path, out: Path, cameras: int) -> float:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    script = (
        f'for cam in $(tail -n +2 "{manifest}" | cut -d, -f1 | sort -u); do '
        f'dir="$(dirname "$(grep -m1 "^$cam,dark," "{manifest}" | cut -d, -f3)")"; '
        f'mkdir -p "{out}/$cam"; '
        f'"{FASTDEFECT}" detect --dark "$dir/dark.tif" --bright "$dir/bright.tif" '
        f'-o "{out}/$cam/defects.csv" > /dev/null || exit 1; done'
    )
    start = time.perf_counter()
    subprocess.run(["bash", "-c", script], check=True)
    seconds = time.perf_counter() - start
    written = sorted(out.glob("*/defects.csv"))
    if len(written) != cameras:
        raise SystemExit(f"the shell loop wrote {len(written)} lists for {cameras} cameras")
    return seconds


def best_of(repeat: int, manifest: Path, out: Path, *options: str) -> tuple[float, dict]:
    """The fastest of ``repeat`` runs of one batch configuration (and its summary)."""
    return min((run_batch(manifest, out, *options) for _ in range(repeat)), key=lambda r: r[0])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def existing_cluster(
    manifest: Path, workdir: Path, workers: int, repeat: int
) -> tuple[float, dict]:
    """``batch --scheduler`` on a running cluster (``dask scheduler`` and ``workers``
    ``dask worker --nthreads 1`` processes), warmed by one untimed batch: what a user of
    a long-lived cluster waits for, without the local cluster's start and stop."""
    dask = str(Path(sys.executable).parent / "dask")
    address = f"tcp://127.0.0.1:{free_port()}"
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    port = address.rsplit(":", 1)[1]
    processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", port,
                                   "--no-dashboard"], **quiet)]  # fmt: skip
    try:
        for number in range(workers):
            processes.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1",
                                               "--nworkers", "1", "--no-dashboard",
                                               "--name", f"bench{number}"], **quiet))  # fmt: skip
        deadline = time.monotonic() + 60
        while True:  # until every worker has joined
            count = (f"from distributed import Client; c = Client('{address}', timeout='5s'); "
                     "print(len(c.scheduler_info()['workers']))")  # fmt: skip
            probe = subprocess.run([sys.executable, "-c", count], capture_output=True, text=True)
            if probe.stdout.strip() == str(workers):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"the {workers} dask workers did not join: {probe.stderr}")
            time.sleep(0.5)
        run_batch(manifest, workdir / f"existing{workers}-warm", "--scheduler", address)
        return best_of(repeat, manifest, workdir / f"existing{workers}", "--scheduler", address)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=16)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--frames", type=int, default=16, help="frames per stack")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "fastdefect-bench-batch"
    )
    parser.add_argument("--note", default="", help="free text saved with the results")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per batch configuration; the fastest counts"
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    manifest = prepare(args.workdir, args.cameras, args.size, args.frames)
    print(f"{args.cameras} cameras ready in {time.perf_counter() - started:.1f} s")
    # Warm the numba cache and the page cache once, untimed.
    run_batch(manifest, args.workdir / "warm", "--workers", "1")

    repeat = args.repeat
    one_s, one = best_of(repeat, manifest, args.workdir / "w1", "--workers", "1",
                         "--threads-per-worker", "1")  # fmt: skip
    two_s, two = best_of(repeat, manifest, args.workdir / "w2", "--workers", "2",
                         "--threads-per-worker", "1")  # fmt: skip
    default_s, default = best_of(repeat, manifest, args.workdir / "default")
    existing_one_s, existing_one = existing_cluster(manifest, args.workdir, 1, repeat)
    existing_two_s, existing_two = existing_cluster(manifest, args.workdir, 2, repeat)
    loop_s = shell_loop(manifest, args.workdir / "loop", args.cameras)

    # The lists of every run agree with the shell loop's byte for byte.
    for serial_dir in sorted((args.workdir / "loop").iterdir()):
        expected = (serial_dir / "defects.csv").read_bytes()
        for run in ("w1", "w2", "default", "existing1", "existing2"):
            if (args.workdir / run / serial_dir.name / "defects.csv").read_bytes() != expected:
                raise SystemExit(f"{run}/{serial_dir.name}/defects.csv differs from detect's")

    rows = []
    for name, seconds, summary in (
        ("batch, 1 worker x 1 thread", one_s, one),
        ("batch, 2 workers x 1 thread", two_s, two),
        (f"batch defaults ({default['workers']} workers)", default_s, default),
        ("batch --scheduler, running cluster, 1 worker x 1 thread", existing_one_s, existing_one),
        ("batch --scheduler, running cluster, 2 workers x 1 thread", existing_two_s, existing_two),
        ("shell loop of fastdefect detect", loop_s, None),
    ):
        row = {"run": name, "seconds": seconds, "per camera s": seconds / args.cameras}
        if summary is not None:
            memory = worker_memory(summary)
            row["workers"] = summary["workers"]
            row["peak RSS per worker MiB"] = ", ".join(f"{m:.0f}" for m in memory)
            row["camera compute s (sum)"] = sum(c["seconds"] for c in summary["per_camera"])
            row["camera CPU s (sum)"] = sum(c["cpu_seconds"] for c in summary["per_camera"])
        rows.append(row)
    notes = {
        "cameras": args.cameras,
        "size": f"{args.size} x {args.size}",
        "frames": f"{args.frames} dark + {args.frames} bright",
        "ratio 1 worker / 2 workers (target >= 1.7)": one_s / two_s,
        "ratio 1 worker / 2 workers on a running cluster": existing_one_s / existing_two_s,
        "ratio shell loop / batch defaults (target >= 1.3)": loop_s / default_s,
        "runs": f"fastest of {args.repeat} per batch configuration, the loop once",
        "cpus": os.cpu_count(),
        "load average at end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "note": args.note,
    }
    report("batch_scaling", rows, notes=notes)


if __name__ == "__main__":
    main()
