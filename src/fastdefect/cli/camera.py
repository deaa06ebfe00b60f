"""``fastdefect camera ...``: talk to a camera — real (Vimba X) or simulated.

Every command takes ``--camera ID|SERIAL|sim[:MODEL]`` (default: the only camera found)
and ``--cti PATH`` (GenTL producers, repeatable). The commands call the API of
:mod:`fastdefect.camera` and render; the safety rules live there:

* ``upload`` judges the list with the camera's rules first (red refused, yellow needs
  ``--yes`` or a yes at the prompt), writes an automatic backup file, writes, reads
  back and verifies; a failure leaves the camera unchanged or restored, and says which;
* ``restore`` checks format, checksum and sensor size (not serial or model);
* ``revert`` asks first and writes a backup before clearing the user list.

Exit codes: 0 ok; 1 findings (an upload refused red entries and wrote the rest);
2 bad input (including an unconfirmed upload or revert); 3 camera error.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import ExitCode, InputError
from ._common import (
    ForceOption,
    JsonOption,
    LimitOption,
    console,
    exit_with,
    print_json,
    progress_bar,
    warn,
)

if TYPE_CHECKING:
    from ..camera import Camera, CameraInfo, UploadPlan

camera_app = typer.Typer(
    name="camera",
    help="Cameras (Vimba X or simulated): info, capture, masking, and the defect lists — "
    "download, upload (checked, backed up, verified), backup, restore, revert. "
    "Exit codes: 0 ok, 1 entries refused, 2 bad input, 3 camera error.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def register(app: typer.Typer) -> None:
    app.add_typer(camera_app, name="camera")


# -- shared options ------------------------------------------------------------------------

CameraOption = Annotated[
    str | None,
    typer.Option(
        "--camera",
        "-c",
        help="Device id, IP/MAC or serial of a real camera; sim, sim:MODEL or "
        "sim:MODEL:SERIAL for the simulated one (MODEL: GT5120, GT4096, GT4090, WxH). "
        "Default: the only camera found.",
        show_default=False,
    ),
]
CtiOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--cti",
        help="GenTL producer (.cti file or directory); repeatable. Default: $GENICAM_GENTL64_PATH.",
        show_default=False,
    ),
]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Confirm without asking (scripts, no terminal).")
]
BackupDirOption = Annotated[
    Path | None,
    typer.Option(
        "--backup-dir",
        help="Where the automatic backup goes (default: the current directory). "
        "Its name holds the serial and the time; an existing file is never overwritten.",
        show_default=False,
    ),
]


class Which(StrEnum):
    merged = "merged"
    user = "user"
    factory = "factory"


class MaskState(StrEnum):
    on = "on"
    off = "off"


@contextlib.contextmanager
def _opened(camera: str | None, cti: list[Path] | None) -> Iterator[Camera]:
    """Open the camera ``--camera`` names (or the only one), closed on exit."""
    from ..camera import open_camera, resolve_camera

    spec = resolve_camera(camera, cti or None)
    with open_camera(spec, cti=cti or None) as opened:
        yield opened


def _is_sim(camera: Camera) -> bool:
    return getattr(camera, "backend", "") == "sim"


def _name(info: CameraInfo) -> str:
    if info.backend == "sim":
        return info.id  # sim:MODEL:SERIAL says it all
    return f"{info.model} {info.serial} ({info.id})"


def _confirm(question: str, *, yes: bool, action: str) -> None:
    """Go on when ``--yes`` was given or the user says yes; otherwise refuse (exit 2)."""
    if yes:
        return
    stdin = sys.stdin
    if stdin is None or not stdin.isatty():
        raise InputError(
            f"{action} needs confirmation and there is no terminal to ask on; "
            "give --yes to confirm. Nothing was changed."
        )
    if not typer.confirm(question, default=False, err=True):
        raise InputError(f"{action} not confirmed. Nothing was changed.")


def _backup_writer(backup_dir: Path | None):
    from ..camera import backup_writer_to

    return backup_writer_to(backup_dir)


def _positions(coords: Any) -> list[list[int]]:
    import numpy as np

    return np.asarray(coords, dtype=np.int64).reshape(-1, 2).tolist()


def _records_table(title: str, records: list[dict[str, Any]], limit: int, style: str) -> None:
    table = Table(title=title, title_justify="left", title_style=style)
    table.add_column("Row", justify="right")
    table.add_column("Column", justify="right")
    table.add_column("Why")
    for record in records[:limit]:
        table.add_row(str(record["row"]), str(record["column"]), escape(record["reason"]))
    console.print(table)
    if len(records) > limit:
        console.print(f"... and {len(records) - limit} more (--limit, or --json for all)")


# -- list, info ------------------------------------------------------------------------------


@camera_app.command("list")
def list_command(cti: CtiOption = None, json_output: JsonOption = False) -> None:
    """List the cameras: simulated ones that have a state file, and real ones.

    Real cameras are opened briefly to tell whether they support defect-list transfer.
    """
    from ..camera import find_cameras, open_camera
    from ..errors import FastDefectError

    cameras, notes = find_cameras(cti or None)
    rows = []
    for descriptor in cameras:
        support: bool | None = None
        missing: list[str] = []
        problem = None
        try:
            with open_camera(descriptor.id, cti=cti or None) as opened:
                info = opened.info()
            support = info.defect_list_supported
            missing = list(info.missing_features)
        except FastDefectError as error:
            problem = str(error)
        rows.append(
            {
                **descriptor.to_dict(),
                "list_transfer": support,
                "missing_features": missing,
                "problem": problem,
            }
        )
    if json_output:
        print_json({"cameras": rows, "notes": notes})
        return
    for note in notes:
        warn(note)
    if not rows:
        console.print("No camera found. The simulated camera is always there: --camera sim")
        return
    table = Table(title="Cameras", title_justify="left")
    for column in ("ID", "Model", "Serial", "Transport", "List transfer"):
        table.add_column(column, overflow="fold")
    for row in rows:
        if row["backend"] == "sim":
            transport = f"simulated ({row['transport_layer']})"
        else:
            transport = f"{row['interface']} via {Path(row['transport_layer']).name}"
        if row["list_transfer"] is None:
            support_text = f"[yellow]? {escape(row['problem'] or '')}[/yellow]"
        elif row["list_transfer"]:
            support_text = "[green]yes[/green]"
        else:
            support_text = f"[red]no[/red] (missing {escape(', '.join(row['missing_features']))})"
        table.add_row(
            escape(row["id"]),
            escape(row["model"]),
            escape(row["serial"]),
            escape(transport),
            support_text,
        )
    console.print(table)


def _sim_details(camera: Camera) -> dict[str, Any]:
    state = camera.state  # type: ignore[attr-defined]
    return {
        "state_path": str(camera.state_path),  # type: ignore[attr-defined]
        "light": state.light,
        "fault": camera.faults.spec or None,  # type: ignore[attr-defined]
    }


@camera_app.command("info")
def info_command(
    camera: CameraOption = None, cti: CtiOption = None, json_output: JsonOption = False
) -> None:
    """What the camera says about itself: identity, sensor, masking, list transfer.

    Also firmware, pixel formats, temperature, the feature map used for defect lists
    (and whether it is confirmed), and for the simulated camera its state file.
    """
    with _opened(camera, cti) as opened:
        info = opened.info()
        sim = _sim_details(opened) if _is_sim(opened) else None
    if json_output:
        document = info.to_dict()
        if sim is not None:
            document["simulator"] = sim
        print_json(document)
        return
    table = Table(title=f"Camera {escape(info.id)}", title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")

    def add(label: str, value: Any) -> None:
        table.add_row(label, escape(str(value)))

    add("vendor", info.vendor)
    add("model", info.model)
    add("serial", info.serial)
    add("firmware", info.firmware or "?")
    add("sensor", f"{info.width} x {info.height}")
    add("pixel format", f"{info.pixel_format} (offers {', '.join(info.pixel_formats) or '?'})")
    add("temperature", "?" if info.temperature_c is None else f"{info.temperature_c:.1f} °C")
    masking = {True: "on", False: "off", None: "no such feature"}[info.masking]
    add("DefectMaskEnable", masking)
    if info.defect_list_supported:
        transfer = "supported"
    else:
        transfer = f"not supported: missing {', '.join(info.missing_features)}"
    add("defect-list transfer", transfer)
    confirmed = "confirmed" if info.feature_map_confirmed else "NOT confirmed on real hardware"
    add("feature map", f"{info.feature_map} ({confirmed})")
    if info.transport_layer:
        add("producer", info.transport_layer)
    if sim is not None:
        add("state file", sim["state_path"])
        add("light (sim)", f"{sim['light']:g} of full scale at 10 ms, 0 dB")
        add("faults (sim)", sim["fault"] or "none")
    console.print(table)


# -- capture and masking ---------------------------------------------------------------------


@camera_app.command("capture")
def capture_command(
    frames: Annotated[int, typer.Option("--frames", "-n", min=1, help="Frames to capture.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The multi-page TIFF stack to write.")
    ],
    exposure: Annotated[
        float | None, typer.Option("--exposure", help="Exposure time in µs (default: as set).")
    ] = None,
    gain: Annotated[
        float | None, typer.Option("--gain", help="Gain in dB (default: as set; 0 advised).")
    ] = None,
    pixel_format: Annotated[
        str | None,
        typer.Option(
            "--pixel-format", help="Mono10, Mono12 ... (default: current, else deepest mono/raw)."
        ),
    ] = None,
    masking: Annotated[
        bool,
        typer.Option(
            "--masking/--no-masking",
            help="DefectMaskEnable during the capture: off to detect (the vendor's advice), "
            "on to confirm a correction. Put back afterwards.",
        ),
    ] = False,
    light: Annotated[
        float | None,
        typer.Option(
            "--light",
            min=0.0,
            help="Simulated camera only: light level (0 = lens cap on; 0.65 = 65 percent of full "
            "scale at 10 ms, 0 dB). Stays set, like camera sim-light.",
        ),
    ] = None,
    camera: CameraOption = None,
    cti: CtiOption = None,
    force: ForceOption = False,
    json_output: JsonOption = False,
) -> None:
    """Capture frames into one multi-page TIFF with the settings in its metadata.

    Incomplete frames are retried (up to 3 in a row), never used.
    """
    from ..camera import capture_to_tiff
    from ..frames import open_stack
    from ..outputs import check_output_path

    check_output_path(output, overwrite=force)
    with _opened(camera, cti) as opened:
        info = opened.info()
        if light is not None:
            if not _is_sim(opened):
                raise InputError(
                    "--light is for the simulated camera only; light a real camera yourself "
                    "(lens cap on for dark frames, uniform light at 60-70 % for bright ones)"
                )
            opened.set_light(light)  # type: ignore[attr-defined]
        with progress_bar("capturing", total=frames) as progress:
            path = capture_to_tiff(
                opened,
                output,
                frames,
                overwrite=force,
                exposure_us=exposure,
                gain=gain,
                pixel_format=pixel_format,
                masking=masking,
                progress=progress,
            )
    stack = open_stack(path)
    metadata = _tiff_description(path)
    height, width = stack.shape
    if (width, height) != (info.width, info.height):
        warn(
            f"the frames are {width} x {height} but the sensor is {info.width} x "
            f"{info.height} (region of interest or binning set?): detection needs full frames"
        )
    if masking:
        warn("captured with masking on: use these frames to confirm a correction, not to detect")
    if json_output:
        print_json(
            {
                "output": str(path),
                "frames": stack.n_frames,
                "width": width,
                "height": height,
                "bit_depth": stack.bit_depth,
                "metadata": metadata,
            }
        )
        return
    exposure_text = metadata.get("exposure_us")
    console.print(
        f"{stack.n_frames} frames, {width} x {height}, {metadata.get('pixel_format', '?')}, "
        f"exposure {exposure_text if exposure_text is not None else '?'} µs, "
        f"gain {metadata.get('gain', '?')} dB, masking {'on' if masking else 'off'} "
        f"→ {escape(str(path))}"
    )


def _tiff_description(path: Path) -> dict[str, Any]:
    """Everything the capture recorded in the TIFF's JSON description."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        shaped = tif.shaped_metadata[0] if tif.shaped_metadata else {}
    return {key: value for key, value in dict(shaped).items() if key != "shape"}


@camera_app.command("mask")
def mask_command(
    state: Annotated[MaskState, typer.Argument(help="on or off.", show_default=False)],
    camera: CameraOption = None,
    cti: CtiOption = None,
) -> None:
    """Switch the camera's defect masking (DefectMaskEnable) on or off."""
    with _opened(camera, cti) as opened:
        opened.set_masking(state is MaskState.on)
        info = opened.info()
    now = {True: "on", False: "off", None: "?"}[info.masking]
    console.print(f"DefectMaskEnable: {now} (camera {escape(_name(info))})")


@camera_app.command("sim-light")
def sim_light_command(
    level: Annotated[
        float | None,
        typer.Argument(
            min=0.0,
            help="Light as a fraction of full scale at 10 ms and 0 dB (0 = lens cap on). "
            "Without it: show the current level.",
            show_default=False,
        ),
    ] = None,
    camera: CameraOption = None,
    cti: CtiOption = None,
) -> None:
    """Simulated camera only: set (or show) the light on its sensor; it stays set."""
    with _opened(camera, cti) as opened:
        if not _is_sim(opened):
            raise InputError("sim-light is for the simulated camera only (--camera sim ...)")
        if level is not None:
            opened.set_light(level)  # type: ignore[attr-defined]
        current = opened.state.light  # type: ignore[attr-defined]
        name = _name(opened.info())
    console.print(f"light on simulated camera {escape(name)}: {current:g}")


# -- the lists ---------------------------------------------------------------------------------


@camera_app.command("download")
def download_command(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The list file; format from the extension (or --to)."),
    ],
    which: Annotated[
        Which, typer.Option("--which", help="merged (what the camera corrects), user or factory.")
    ] = Which.merged,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="av-csv, csv, json, bin, arri-xml, dcraw, mask. Default: the extension."
        ),
    ] = None,
    camera: CameraOption = None,
    cti: CtiOption = None,
    force: ForceOption = False,
    json_output: JsonOption = False,
) -> None:
    """Read a defect list from the camera and write it to a file."""
    from ..camera import take_backup
    from ..formats import list_file_format, write_list_file
    from ..outputs import check_output_path

    path = check_output_path(output, overwrite=force)
    name = list_file_format(path, to)  # an unknown format fails before the camera is opened
    with _opened(camera, cti) as opened, progress_bar("reading the lists"):
        backup = take_backup(opened)
    defects = backup.select(which.value)
    write_list_file(
        path, defects, to, facts=backup.header_facts(), overwrite=force, on_warning=warn
    )
    if json_output:
        print_json(
            {
                "camera": backup.serial,
                "which": which.value,
                "format": name,
                "entries": len(defects),
                "factory_entries": len(backup.factory),
                "user_entries": len(backup.user),
                "output": str(path),
            }
        )
        return
    console.print(
        f"{len(defects)} entries ({which.value} list of camera {escape(backup.serial)}: "
        f"factory {len(backup.factory)}, user {len(backup.user)}) → {escape(str(path))} ({name})"
    )


@camera_app.command("upload")
def upload_command(
    file: Annotated[Path, typer.Argument(help="The defect list to add to the user list.")],
    yes: YesOption = False,
    backup_dir: BackupDirOption = None,
    fmt: Annotated[
        str | None,
        typer.Option("--from", help="Format of the list (default: from the file)."),
    ] = None,
    lenient: Annotated[
        bool,
        typer.Option(
            "--lenient", help="Read bad values of an Allied Vision CSV as 0, with a warning each."
        ),
    ] = False,
    camera: CameraOption = None,
    cti: CtiOption = None,
    limit: LimitOption = 20,
    json_output: JsonOption = False,
) -> None:
    """Add the entries of a list to the camera's user list, safely.

    1. The list is checked with the camera's rules (its sensor size; runs counted with the
       factory and user lists it holds): red entries — outside the sensor, runs of more
       than 8, runs with no pixel to their left — are refused and listed (the vendor tool
       ignores them too); yellow ones (runs of 5 to 8) need --yes or a yes at the prompt.
    2. The camera's lists are saved to a backup file.
    3. The new user list is written, read back and verified. If anything fails, the camera
       is left unchanged or restored from the backup, and the error says which.

    Exit code 1 when entries were refused (the rest was written).
    """
    from ..camera import plan_upload, upload_user_list
    from ..formats import read_list_file

    listfile = read_list_file(file, fmt, lenient=lenient, on_warning=warn)
    writer = _backup_writer(backup_dir)
    with _opened(camera, cti) as opened:
        info = opened.info()
        plan = plan_upload(
            opened,
            listfile.defects,
            width=listfile.width,
            height=listfile.height,
            label=str(file),
        )
        if not json_output:
            _show_plan(plan, file, info, limit)
        if plan.needs_confirmation:
            _confirm(
                f"Upload {plan.confirm_index.size} entries in runs of 5 to 8 (allowed, not "
                "recommended)?",
                yes=yes,
                action=f"uploading {plan.confirm_index.size} yellow entries (runs of 5 to 8)",
            )
        result = None
        if plan.upload_index.size:
            with progress_bar("writing the user list") as progress:
                result = upload_user_list(
                    opened, plan.to_upload, backup_writer=writer, progress=progress
                )
        user_now = opened.read_user_list() if result is None else result.user_list
    refused = plan.records("refused")
    code = ExitCode.FINDINGS if refused else ExitCode.OK
    if json_output:
        print_json(
            {
                "camera": info.serial,
                "file": str(file),
                **plan.summary(),
                "added": _positions(result.added) if result is not None else [],
                "already_present": _positions(plan.already_present.positions()),
                "refused": refused,
                "backup": str(result.backup_written) if result is not None else None,
                "user_entries": len(user_now),
            }
        )
        exit_with(code)
        return
    added = len(result.added) if result is not None else 0
    if result is not None:
        console.print(f"backup of the previous lists: {escape(str(result.backup_written))}")
    else:
        console.print("nothing new to write; the camera was not changed")
    style = "red" if refused else "green"
    console.print(
        f"[{style}]added {added}, already present {plan.present_index.size}, "
        f"refused {len(refused)}[/{style}]; the user list holds {len(user_now)} entries"
    )
    exit_with(code)


def _show_plan(plan: UploadPlan, file: Path, info: CameraInfo, limit: int) -> None:
    summary = plan.summary()
    console.print(
        f"{escape(str(file))}: {summary['requested']} entries for camera {escape(_name(info))}, "
        f"{info.width} x {info.height}; it holds {len(plan.factory)} factory and "
        f"{len(plan.user)} user entries"
    )
    if plan.refused_index.size:
        _records_table(
            f"Refused — cannot be corrected, not uploaded ({plan.refused_index.size})",
            plan.records("refused"),
            limit,
            "bold red",
        )
    if plan.confirm_index.size:
        _records_table(
            f"Need confirmation — runs of 5 to 8 ({plan.confirm_index.size})",
            plan.records("confirm"),
            limit,
            "bold yellow",
        )


# -- backup, restore, revert --------------------------------------------------------------------


@camera_app.command("backup")
def backup_command(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Backup file or directory (default: the current directory, a name with "
            "the serial and the time).",
            show_default=False,
        ),
    ] = None,
    camera: CameraOption = None,
    cti: CtiOption = None,
    force: ForceOption = False,
    json_output: JsonOption = False,
) -> None:
    """Save the camera's factory and user lists to a backup file (checksummed)."""
    from ..camera import save_backup, take_backup
    from ..formats import write_backup
    from ..outputs import check_output_path

    if output is not None and not output.is_dir():
        check_output_path(output, overwrite=force)
    with _opened(camera, cti) as opened, progress_bar("reading the lists"):
        backup = take_backup(opened)
    if output is None or output.is_dir():
        path = save_backup(backup, output)
    else:
        path = write_backup(output, backup, overwrite=force)
    if json_output:
        print_json(_backup_document(backup, path))
        return
    console.print(
        f"backup of camera {escape(backup.serial)} ({escape(backup.model)}, "
        f"{backup.width} x {backup.height}): factory {len(backup.factory)}, "
        f"user {len(backup.user)} entries → {escape(str(path))}"
    )


def _backup_document(backup: Any, path: Path | None) -> dict[str, Any]:
    return {
        "file": str(path) if path is not None else None,
        "serial": backup.serial,
        "model": backup.model,
        "width": backup.width,
        "height": backup.height,
        "created": backup.created.isoformat(),
        "factory_entries": len(backup.factory),
        "user_entries": len(backup.user),
    }


@camera_app.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="A backup file (from camera backup or upload).")],
    backup_dir: BackupDirOption = None,
    camera: CameraOption = None,
    cti: CtiOption = None,
    json_output: JsonOption = False,
) -> None:
    """Make the camera's user list the backup's.

    As the vendor tool does, the file's format and checksum and the sensor size are
    checked — not the serial or the model (a backup of one camera may be restored to
    another with the same sensor). The current lists are backed up first.
    """
    from ..camera import restore_backup
    from ..formats import read_backup

    backup = read_backup(file)
    writer = _backup_writer(backup_dir)
    with _opened(camera, cti) as opened:
        info = opened.info()
        backup.check_sensor(info.width, info.height)
        if (backup.serial, backup.model) != (info.serial, info.model):
            warn(
                f"{file} was taken from camera {backup.serial} ({backup.model}); restoring "
                f"it to {info.serial} ({info.model}) — the sensor size matches"
            )
        with progress_bar("writing the user list") as progress:
            result = restore_backup(opened, backup, backup_writer=writer, progress=progress)
    if json_output:
        document = _backup_document(backup, file)
        document.update(
            {
                "camera": info.serial,
                "changed": result.changed,
                "added": _positions(result.added),
                "removed": _positions(result.removed),
                "backup": str(result.backup_written) if result.backup_written is not None else None,
            }
        )
        print_json(document)
        return
    if not result.changed:
        console.print(
            f"camera {escape(info.serial)} holds this user list already "
            f"({len(result.user_list)} entries); nothing was changed"
        )
        return
    console.print(f"backup of the previous lists: {escape(str(result.backup_written))}")
    console.print(
        f"[green]restored {len(result.user_list)} user entries[/green] from {escape(str(file))} "
        f"(added {len(result.added)}, removed {len(result.removed)})"
    )


@camera_app.command("revert")
def revert_command(
    yes: YesOption = False,
    backup_dir: BackupDirOption = None,
    camera: CameraOption = None,
    cti: CtiOption = None,
    json_output: JsonOption = False,
) -> None:
    """Clear the user list: the camera goes back to its factory list.

    Asks first (--yes to skip). The lists are saved to a backup file before.
    """
    from ..camera import revert_user_list

    writer = _backup_writer(backup_dir)
    with _opened(camera, cti) as opened:
        info = opened.info()
        count = len(opened.read_user_list())
        if count:
            _confirm(
                f"Clear the {count} entries of the user list of camera {info.serial}?",
                yes=yes,
                action=f"reverting camera {info.serial} (clearing {count} user entries)",
            )
        result = revert_user_list(opened, backup_writer=writer)  # an empty list is left alone
    if json_output:
        print_json(
            {
                "camera": info.serial,
                "removed": _positions(result.removed),
                "backup": str(result.backup_written) if result.backup_written is not None else None,
            }
        )
        return
    if not len(result.removed):
        console.print(f"the user list of camera {escape(info.serial)} is empty already")
        return
    console.print(f"backup of the previous lists: {escape(str(result.backup_written))}")
    console.print(
        f"[green]reverted[/green]: {len(result.removed)} user entries removed; camera "
        f"{escape(info.serial)} uses its factory list only"
    )


@camera_app.command("detect")
def detect_command(
    frames: Annotated[
        int, typer.Option("--frames", "-n", min=2, help="Frames per stack (dark and bright).")
    ] = 16,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the defect list (.csv, .json, .txt ...)."),
    ] = None,
    exposure: Annotated[
        float | None, typer.Option("--exposure", help="Exposure time in µs (default: as set).")
    ] = None,
    gain: Annotated[
        float | None, typer.Option("--gain", help="Gain in dB (default: as set; 0 advised).")
    ] = None,
    pixel_format: Annotated[
        str | None,
        typer.Option("--pixel-format", help="Mono10, Mono12 ... (default: the current one)."),
    ] = None,
    bright_light: Annotated[
        float,
        typer.Option(
            "--bright-light",
            min=0.0,
            help="Simulated camera only: light level of the bright stack (the dark one is "
            "taken at 0). The light is left off afterwards.",
        ),
    ] = 0.65,
    yes: YesOption = False,
    camera: CameraOption = None,
    cti: CtiOption = None,
    force: ForceOption = False,
    json_output: JsonOption = False,
) -> None:
    """Capture a dark and a bright stack and detect defects, accumulating frames live.

    Frames are added to the statistics as the camera delivers them; no TIFF is written
    (use ``camera capture`` to keep frames). A real camera asks you to cover the lens
    before the dark frames and to light the sensor uniformly (60-70 % of full scale)
    before the bright ones; ``--yes`` skips the questions. Masking is off while capturing.
    """
    from ..camera.live import live_stack
    from ..detection import analyse
    from ..outputs import check_output_path

    if output is not None:
        check_output_path(output, overwrite=force)
    with _opened(camera, cti) as opened:
        sim = _is_sim(opened)

        def prepare(light: float, question: str):
            def before() -> None:
                if sim:
                    opened.set_light(light)  # type: ignore[attr-defined]
                else:
                    _confirm(question, yes=yes, action="camera detect")

            return before

        name = f"camera {opened.info().serial}"
        options = {"exposure_us": exposure, "gain": gain, "masking": False}
        dark = live_stack(opened, frames, label=f"{name} dark", pixel_format=pixel_format,
                          before=prepare(0.0, "Lens covered for the dark frames?"),
                          **options)  # fmt: skip
        bright = live_stack(opened, frames, label=f"{name} bright", pixel_format=pixel_format,
                            before=prepare(bright_light, "Sensor lit uniformly (60-70 %)?"),
                            **options)  # fmt: skip
        try:
            with progress_bar("capturing and accumulating") as progress:
                analysis = analyse(dark=dark, bright=bright, progress=progress)
        finally:
            if sim:
                opened.set_light(0.0)  # type: ignore[attr-defined]
    result = analysis.result()
    rates = [stack.sources[0].frames_per_second for stack in (dark, bright)]
    rate = min((r for r in rates if r), default=None)
    from .detect import show_detected, write_detected

    write_detected(result, output, force=force)
    show_detected(
        result,
        output,
        json_output=json_output,
        extra={"accumulation_frames_per_s": rate},
        notes=[f"accumulation kept up with {rate:.0f} frames/s"] if rate is not None else [],
    )
