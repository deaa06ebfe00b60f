"""``fastdefect view``: see and edit a defect list on the frame, in a local web page."""

from __future__ import annotations

import time
import webbrowser
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from .. import _interrupt
from ..errors import InputError
from ._common import BitDepthOption, CfaOption, console, err_console, progress_bar, warn
from .correct import FromOption, MethodOption, RulesOption


def view_command(
    image: Annotated[
        list[str] | None,
        typer.Argument(
            help="The frame: an image, a stack (shown as its mean: TIFF, .npy, FITS, raw, "
            "directory or glob) or a master frame (float allowed).",
            show_default=False,
        ),
    ] = None,
    defects: Annotated[
        Path | None,
        typer.Option("--defects", "-d", help="The defect list to show and edit (any format)."),
    ] = None,
    list_format: FromOption = None,
    method: MethodOption = "left",
    rules: RulesOption = None,
    camera: Annotated[
        str | None,
        typer.Option("--camera", help="Capture the frame from a camera (sim:GT5120 simulates)."),
    ] = None,
    frames: Annotated[
        int, typer.Option("--frames", min=1, help="With --camera: frames to average.")
    ] = 1,
    light: Annotated[
        float | None,
        typer.Option("--light", min=0.0, help="With the simulated camera: light level (0 = dark)."),
    ] = None,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (default 0: a random free one).")
    ] = 0,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the URL, do not open a browser.")
    ] = False,
    bit_depth: BitDepthOption = None,
    cfa: CfaOption = None,
) -> None:
    """Open the frame and the list in a local web page to check and edit before upload.

    The page is served on 127.0.0.1 only, on a random port, with a random token in its
    URL; stop it with Ctrl+C. Modes: don't mask, mask (the camera's correction
    simulated), highlight. Click a pixel to add it, right-click (or x in the list) to
    remove it, Ctrl+Z to undo; save writes the edited list in any list format.
    """
    from ..correction import check_list_fits
    from ..formats import read_list_file
    from ..viewer import ViewerSession, load_camera_frame, load_frame, serve

    if bool(image) == bool(camera):
        raise InputError("give an image (or stack) or --camera, not both and not neither")
    started = time.perf_counter()
    if camera:
        loaded = load_camera_frame(camera, frames=frames, light=light)
    else:
        with progress_bar("reading frames") as progress:
            loaded = load_frame(image, bit_depth=bit_depth, progress=progress)
    listed = None
    if defects is not None:
        listed = read_list_file(defects, list_format, on_warning=warn)
        check_list_fits(
            listed.defects,
            loaded.image.shape,
            width=listed.width,
            height=listed.height,
            label=str(defects),
        )
    session = ViewerSession(
        loaded.image,
        listed.defects if listed else None,
        label=loaded.label,
        method=method,
        rules=rules or ("av" if method.strip().lower() == "left" else "arri"),
        cfa=cfa or loaded.metadata.get("cfa"),
        bit_depth=bit_depth or loaded.bit_depth,
        list_path=defects,
        list_format=listed.format if listed else None,
        notes=loaded.notes,
        frame_paths=loaded.paths,
    )
    session.wait_ready()  # the coarse levels and the correction kernels, before the page
    server = serve(session, port=port)
    seconds = time.perf_counter() - started
    height, width = loaded.image.shape
    err_console.print(f"{escape(loaded.label)}: {width} x {height}, ready in {seconds:.2f} s")
    try:  # from the moment the URL is out, Ctrl+C is the normal way to stop
        console.print(server.url, soft_wrap=True)
        if not no_browser:
            webbrowser.open(server.url)
        err_console.print("serving on 127.0.0.1 only; Ctrl+C stops")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        _interrupt.handled()  # Ctrl+C is how the viewer is stopped: a normal end, exit 0
        err_console.print("stopped")
    finally:
        server.stop()


def register(app: typer.Typer) -> None:
    app.command("view", no_args_is_help=True)(view_command)
