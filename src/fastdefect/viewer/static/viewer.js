// fastdefect viewer: tiles of raw samples from the local server, drawn on one canvas.
// No build step, no library, no request anywhere but the server that sent this page.
"use strict";

(() => {
  const token = document.querySelector('meta[name="fastdefect-token"]').content;
  const KIND_COLOURS = {
    stuck_high: "#ff3df5", stuck_low: "#3d7bff", hot: "#ff3030", dark: "#00d5ff",
    bright: "#ffe600", noisy: "#b366ff", column: "#ff8c00", row: "#ffa64d", unknown: "#39ff14",
  };
  const VERDICT_COLOURS = ["#2ecc71", "#f1c40f", "#e74c3c"];
  const VERDICT_NAMES = ["ok", "warn", "error"];
  const MAX_ROWS = 500;
  const VALUE_SCALE = 40;  // from this zoom on, each pixel shows its value

  const canvas = document.getElementById("view");
  const context = canvas.getContext("2d");
  const $ = (id) => document.getElementById(id);

  const state = {
    info: null, list: null, mode: "raw", colourBy: "kind", low: 0, high: 1,
    scale: 1, cx: 0, cy: 0, selected: null, hover: null,
    tiles: new Map(),     // key -> {width, height, samples}
    rendered: new Map(),  // key -> canvas, for the current stretch
    pending: new Set(),
    listed: new Map(),    // row * 65536 + column -> index
    firstViewMs: null, tileTimings: [], errors: [],
  };

  // -- server ---------------------------------------------------------------------------
  async function call(path, body) {
    const options = { headers: { "X-Fastdefect-Token": token } };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    const document_ = await response.json();
    return { status: response.status, body: document_ };
  }

  function status(text, isError) {
    const element = $("status");
    element.textContent = text;
    element.className = isError ? "error" : "";
  }

  // -- geometry -------------------------------------------------------------------------
  function level() {
    // The nearest level: a tile is drawn at 0.7x to 1.4x its size.
    const wanted = Math.round(Math.log2(1 / state.scale));
    return Math.max(0, Math.min(state.info.levels - 1, wanted));
  }
  function toScreen(column, row) {
    return [(column - state.cx) * state.scale + canvas.width / 2,
            (row - state.cy) * state.scale + canvas.height / 2];
  }
  function toSensor(x, y) {
    return [Math.floor((x - canvas.width / 2) / state.scale + state.cx),
            Math.floor((y - canvas.height / 2) / state.scale + state.cy)];
  }
  function fit() {
    canvas.width = canvas.clientWidth;  // the header may have wrapped since the last paint
    canvas.height = canvas.clientHeight;
    const { width, height } = state.info;
    state.scale = Math.min(canvas.width / width, canvas.height / height);
    state.cx = width / 2;
    state.cy = height / 2;
    draw();
  }
  function jumpTo(row, column, scale) {
    state.scale = scale || Math.max(state.scale, 32);
    state.cx = column + 0.5;
    state.cy = row + 0.5;
    select(row, column);
    draw();
  }

  // -- tiles ----------------------------------------------------------------------------
  function tileMode() { return state.mode === "mask" ? "mask" : "raw"; }
  function tileKey(mode, lv, r, c) { return `${mode}/${lv}/${r}/${c}`; }

  async function loadTile(key) {
    state.pending.add(key);
    const started = performance.now();
    const version = state.list ? state.list.version : 0;
    try {
      const response = await fetch(`/api/tile/${key}`, { headers: { "X-Fastdefect-Token": token } });
      if (!response.ok) throw new Error(`tile ${key}: ${response.status}`);
      const buffer = await response.arrayBuffer();
      const width = Number(response.headers.get("X-Tile-Width"));
      const height = Number(response.headers.get("X-Tile-Height"));
      const dtype = response.headers.get("X-Tile-Dtype");
      const samples = dtype === "uint8" ? new Uint8Array(buffer) : new Uint16Array(buffer);
      // A mask tile asked for before an edit shows the old correction: drop it.
      const stale = key.startsWith("mask/") && state.list && state.list.version !== version;
      if (!stale) state.tiles.set(key, { width, height, samples });
      state.tileTimings.push({ key, ms: performance.now() - started,
        server: response.headers.get("Server-Timing") });
    } catch (error) {
      state.errors.push(String(error));
      status(String(error), true);
    } finally {
      state.pending.delete(key);
      draw();
    }
  }

  function renderTile(key, tile) {
    let done = state.rendered.get(key);
    if (done) return done;
    const surface = document.createElement("canvas");
    surface.width = tile.width;
    surface.height = tile.height;
    const target = surface.getContext("2d");
    const image = target.createImageData(tile.width, tile.height);
    const pixels = new Uint32Array(image.data.buffer);
    const table = greyTable();
    const samples = tile.samples;
    for (let i = 0; i < samples.length; i++) pixels[i] = table[samples[i]];
    target.putImageData(image, 0, 0);
    state.rendered.set(key, surface);
    return surface;
  }

  // RGBA (as one little-endian 32-bit word) of every sample value, for the current stretch.
  let greyCache = null;
  function greyTable() {
    if (greyCache && greyCache.low === state.low && greyCache.high === state.high) return greyCache.table;
    const table = new Uint32Array(65536);
    const span = Math.max(1e-9, state.high - state.low);
    for (let value = 0; value < 65536; value++) {
      let grey = Math.round(((value - state.low) / span) * 255);
      grey = grey < 0 ? 0 : grey > 255 ? 255 : grey;
      table[value] = (0xff000000 | (grey << 16) | (grey << 8) | grey) >>> 0;
    }
    greyCache = { low: state.low, high: state.high, table };
    return table;
  }

  function visibleTiles() {
    const lv = level();
    const size = state.info.tile_size * 2 ** lv;
    const [left, top] = toSensor(0, 0);
    const [right, bottom] = toSensor(canvas.width, canvas.height);
    const tiles = [];
    const lastRow = Math.ceil(state.info.height / size) - 1;
    const lastColumn = Math.ceil(state.info.width / size) - 1;
    for (let r = Math.max(0, Math.floor(top / size)); r <= Math.min(lastRow, Math.floor(bottom / size)); r++) {
      for (let c = Math.max(0, Math.floor(left / size)); c <= Math.min(lastColumn, Math.floor(right / size)); c++) {
        tiles.push([lv, r, c, size]);
      }
    }
    return tiles;
  }

  // -- drawing --------------------------------------------------------------------------
  let frameRequested = false;
  function draw() {
    if (!frameRequested && state.info) {
      frameRequested = true;
      requestAnimationFrame(paint);
    }
  }

  function colourOf(index) {
    if (state.colourBy === "verdict") return VERDICT_COLOURS[state.list.verdicts[index]];
    return KIND_COLOURS[state.info.kinds[state.list.kinds[index]]] || KIND_COLOURS.unknown;
  }

  function paint() {
    frameRequested = false;
    const width = canvas.clientWidth, height = canvas.clientHeight;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    context.fillStyle = "#000";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.imageSmoothingEnabled = false;
    const mode = tileMode();
    let missing = 0;
    for (const [lv, r, c, size] of visibleTiles()) {
      const key = tileKey(mode, lv, r, c);
      const tile = state.tiles.get(key);
      if (!tile) {
        missing++;
        if (!state.pending.has(key)) loadTile(key);
        continue;
      }
      const [x, y] = toScreen(c * size, r * size);
      const factor = 2 ** lv * state.scale;
      context.drawImage(renderTile(key, tile), x, y, tile.width * factor, tile.height * factor);
    }
    if (state.mode === "highlight" && state.list) paintHighlight();
    if (state.scale >= VALUE_SCALE) paintValues(mode);
    paintSelection();
    $("zoom-text").textContent = zoomText();
    if (missing === 0 && state.firstViewMs === null) {
      state.firstViewMs = performance.now();
      document.body.dataset.firstView = state.firstViewMs.toFixed(1);
    }
    document.body.dataset.pendingTiles = String(missing);
  }

  function paintHighlight() {
    const { rows, columns } = state.list;
    const [left, top] = toSensor(0, 0);
    const [right, bottom] = toSensor(canvas.width, canvas.height);
    const size = Math.max(state.scale, 3);
    const offset = state.scale >= 3 ? 0 : (state.scale - size) / 2;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i], column = columns[i];
      if (row < top - 1 || row > bottom + 1 || column < left - 1 || column > right + 1) continue;
      const [x, y] = toScreen(column, row);
      context.fillStyle = colourOf(i);
      context.fillRect(x + offset, y + offset, size, size);
    }
  }

  // Every visible pixel's value written on it (the value shown: raw, or corrected in mask).
  function paintValues(mode) {
    const [left, top] = toSensor(0, 0);
    const [right, bottom] = toSensor(canvas.width, canvas.height);
    context.font = `${Math.min(14, Math.floor(state.scale / 4))}px system-ui, sans-serif`;
    context.textAlign = "center";
    context.textBaseline = "middle";
    const mid = (state.low + state.high) / 2;
    for (let row = Math.max(0, top); row <= Math.min(state.info.height - 1, bottom); row++) {
      for (let column = Math.max(0, left); column <= Math.min(state.info.width - 1, right); column++) {
        const value = sampleAt(mode, row, column);
        if (value === null) continue;
        const [x, y] = toScreen(column + 0.5, row + 0.75);
        context.fillStyle = value > mid ? "rgba(0, 0, 0, 0.8)" : "rgba(255, 255, 255, 0.8)";
        context.fillText(String(value), x, y);
      }
    }
  }

  function paintSelection() {
    if (!state.selected) return;
    const [x, y] = toScreen(state.selected[1], state.selected[0]);
    const size = state.scale;
    context.strokeStyle = "#ffffff";
    context.lineWidth = 2;
    if (size >= 4) {
      context.strokeRect(x - 2, y - 2, size + 4, size + 4);
    } else {
      context.beginPath();
      context.arc(x + size / 2, y + size / 2, 9, 0, 2 * Math.PI);
      context.stroke();
    }
  }

  function zoomText() {
    const s = state.scale;
    const text = s >= 1 ? `${s.toFixed(s < 10 ? 1 : 0)} screen px per pixel`
                        : `1 screen px = ${(1 / s).toFixed(1)} pixels`;
    const lv = level();
    return lv ? `${text} (level ${lv}: means of ${2 ** lv} x ${2 ** lv})` : text;
  }

  function stretchText() {
    const info = state.info.stretch;
    const auto = state.low === info.low && state.high === info.high
      ? ` (${info.percentiles[0]}–${info.percentiles[1]} percentile)` : "";
    $("stretch-text").textContent =
      `black ≤ ${state.low} DN, white ≥ ${state.high} DN${auto}; frame ${info.min}–${info.max} DN`;
  }

  function setStretch(low, high) {
    if (!(high > low)) { status("the white level must be above the black level", true); return; }
    state.low = low;
    state.high = high;
    $("low").value = low;
    $("high").value = high;
    state.rendered.clear();
    stretchText();
    draw();
  }

  function legend() {
    const parts = [];
    if (state.colourBy === "verdict") {
      VERDICT_NAMES.forEach((name, i) => parts.push([name, VERDICT_COLOURS[i]]));
    } else {
      const present = new Set(state.list ? state.list.kinds : []);
      state.info.kinds.forEach((name, i) => { if (present.has(i)) parts.push([name, KIND_COLOURS[name]]); });
    }
    const element = $("legend");
    element.replaceChildren();
    element.hidden = state.mode !== "highlight";
    for (const [name, colour] of parts) {
      const item = document.createElement("span");
      const swatch = document.createElement("i");
      swatch.style.background = colour;
      item.append(swatch, name);
      element.append(item);
    }
  }

  // -- the list -------------------------------------------------------------------------
  function setList(list) {
    const previous = state.list;
    state.list = list;
    state.listed = new Map();
    for (let i = 0; i < list.rows.length; i++) state.listed.set(list.rows[i] * 65536 + list.columns[i], i);
    if (previous && previous.version !== list.version) {
      // The corrected frame changed: drop its tiles.
      for (const key of [...state.tiles.keys()]) {
        if (key.startsWith("mask/")) { state.tiles.delete(key); state.rendered.delete(key); }
      }
    }
    const counts = list.counts;
    $("counts").textContent = `${list.rows.length} — ok ${counts.ok}, warn ${counts.warn}, error ${counts.error}`;
    $("undo").disabled = list.edits === 0;
    const kindFilter = $("filter-kind");
    const chosen = kindFilter.value;
    kindFilter.replaceChildren(new Option("all", ""));
    for (const [name, count] of Object.entries(list.kind_counts)) {
      kindFilter.append(new Option(`${name} (${count})`, String(state.info.kinds.indexOf(name))));
    }
    kindFilter.value = [...kindFilter.options].some((o) => o.value === chosen) ? chosen : "";
    document.body.dataset.listVersion = String(list.version);
    table();
    legend();
    if (state.selected) select(state.selected[0], state.selected[1]);
    draw();
  }

  function table() {
    const list = state.list;
    const kind = $("filter-kind").value, verdict = $("filter-verdict").value, sort = $("sort").value;
    let index = [];
    for (let i = 0; i < list.rows.length; i++) {
      if (kind !== "" && list.kinds[i] !== Number(kind)) continue;
      if (verdict !== "" && list.verdicts[i] !== Number(verdict)) continue;
      index.push(i);
    }
    const position = (i) => list.rows[i] * 65536 + list.columns[i];
    const orders = {
      position: (a, b) => position(a) - position(b),
      verdict: (a, b) => list.verdicts[b] - list.verdicts[a] || position(a) - position(b),
      kind: (a, b) => list.kinds[a] - list.kinds[b] || position(a) - position(b),
      run: (a, b) => list.runs[b] - list.runs[a] || position(a) - position(b),
    };
    index.sort(orders[sort]);
    const total = index.length;
    index = index.slice(0, MAX_ROWS);
    const body = $("table").tBodies[0];
    const rows = index.map((i) => {
      const tr = document.createElement("tr");
      tr.dataset.row = list.rows[i];
      tr.dataset.column = list.columns[i];
      const cells = [list.rows[i], list.columns[i], state.info.kinds[list.kinds[i]], VERDICT_NAMES[list.verdicts[i]]];
      for (const value of cells) {
        const td = document.createElement("td");
        td.textContent = value;
        tr.append(td);
      }
      tr.children[3].className = `v${list.verdicts[i]}`;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.title = "remove from the list";
      remove.className = "remove";
      const td = document.createElement("td");
      td.append(remove);
      tr.append(td);
      if (state.selected && state.selected[0] === list.rows[i] && state.selected[1] === list.columns[i]) {
        tr.className = "selected";
      }
      return tr;
    });
    body.replaceChildren(...rows);
    $("shown").textContent = total > MAX_ROWS ? `first ${MAX_ROWS} of ${total} shown` : `${total} shown`;
  }

  async function edit(action, row, column) {
    const answer = await call(`/api/${action}`, row === undefined ? {} : { row, column });
    if (answer.status !== 200) { status(answer.body.error, true); return; }
    setList(answer.body);
    const what = action === "undo" ? "undone" : `${action === "add" ? "added" : "removed"} row ${row}, column ${column}`;
    status(answer.body.changed ? what : "nothing changed");
  }

  async function select(row, column) {
    state.selected = [row, column];
    const answer = await call(`/api/pixel?row=${row}&column=${column}`);
    if (answer.status !== 200) { status(answer.body.error, true); return; }
    const p = answer.body;
    let text = `row ${p.row}, column ${p.column}: ${p.value} DN; masked ${p.corrected} DN`;
    if (p.listed) text += ` — listed, ${p.kind} (${p.source}), ${p.verdict}: ${p.reason}`;
    else text += " — not listed";
    $("selected").textContent = text;
    document.body.dataset.selected = JSON.stringify(p);
    for (const tr of $("table").tBodies[0].rows) {
      tr.className = Number(tr.dataset.row) === row && Number(tr.dataset.column) === column ? "selected" : "";
    }
    draw();
  }

  function sampleAt(mode, row, column) {
    const size = state.info.tile_size;
    const tile = state.tiles.get(tileKey(mode, 0, Math.floor(row / size), Math.floor(column / size)));
    if (!tile) return null;
    return tile.samples[(row % size) * tile.width + (column % size)];
  }

  // -- input ----------------------------------------------------------------------------
  let drag = null;
  canvas.addEventListener("mousedown", (event) => {
    if (event.button !== 0) return;
    drag = { x: event.offsetX, y: event.offsetY, cx: state.cx, cy: state.cy, moved: false };
  });
  window.addEventListener("mousemove", (event) => {
    if (drag) {
      const dx = event.clientX - canvas.getBoundingClientRect().left - drag.x;
      const dy = event.clientY - canvas.getBoundingClientRect().top - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
      if (drag.moved) {
        state.cx = drag.cx - dx / state.scale;
        state.cy = drag.cy - dy / state.scale;
        draw();
      }
    }
  });
  canvas.addEventListener("mousemove", (event) => {
    const [column, row] = toSensor(event.offsetX, event.offsetY);
    const { width, height } = state.info;
    if (row < 0 || column < 0 || row >= height || column >= width) { $("hover").textContent = "–"; return; }
    const raw = sampleAt("raw", row, column), masked = sampleAt("mask", row, column);
    let text = `row ${row}, column ${column}`;
    if (raw !== null) text += `: ${raw} DN`;
    if (masked !== null) text += `, masked ${masked} DN`;
    if (state.listed.has(row * 65536 + column)) text += " (listed)";
    $("hover").textContent = text;
  });
  window.addEventListener("mouseup", (event) => {
    if (!drag) return;
    const moved = drag.moved;
    drag = null;
    if (moved || event.target !== canvas) return;
    const [column, row] = toSensor(event.offsetX, event.offsetY);
    if (row < 0 || column < 0 || row >= state.info.height || column >= state.info.width) return;
    if (state.listed.has(row * 65536 + column) || !$("click-adds").checked) select(row, column);
    else { state.selected = [row, column]; edit("add", row, column); }
  });
  canvas.addEventListener("contextmenu", (event) => {
    event.preventDefault();
    const [column, row] = toSensor(event.offsetX, event.offsetY);
    if (state.listed.has(row * 65536 + column)) edit("remove", row, column);
  });
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    const factor = event.deltaY < 0 ? Math.SQRT2 : Math.SQRT1_2;
    const before = [(event.offsetX - canvas.width / 2) / state.scale + state.cx,
                    (event.offsetY - canvas.height / 2) / state.scale + state.cy];
    state.scale = Math.min(128, Math.max(1 / 2 ** state.info.levels, state.scale * factor));
    state.cx = before[0] - (event.offsetX - canvas.width / 2) / state.scale;
    state.cy = before[1] - (event.offsetY - canvas.height / 2) / state.scale;
    draw();
  }, { passive: false });
  window.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
    if ((event.ctrlKey || event.metaKey) && event.key === "z") { event.preventDefault(); edit("undo"); }
    else if (event.key === "1") setMode("raw");
    else if (event.key === "2") setMode("mask");
    else if (event.key === "3") setMode("highlight");
    else if (event.key === "0") fit();
    else if (event.key === "+" || event.key === "=") { state.scale = Math.min(128, state.scale * 2); draw(); }
    else if (event.key === "-") { state.scale /= 2; draw(); }
  });
  window.addEventListener("resize", draw);

  function setMode(mode) {
    state.mode = mode;
    for (const button of document.querySelectorAll("button.mode")) {
      button.classList.toggle("active", button.dataset.mode === mode);
    }
    document.body.dataset.mode = mode;
    legend();
    draw();
  }
  for (const button of document.querySelectorAll("button.mode")) {
    button.addEventListener("click", () => setMode(button.dataset.mode));
  }
  $("colour-by").addEventListener("change", (event) => { state.colourBy = event.target.value; legend(); draw(); });
  $("low").addEventListener("change", () => setStretch(Number($("low").value), state.high));
  $("high").addEventListener("change", () => setStretch(state.low, Number($("high").value)));
  $("auto").addEventListener("click", () => setStretch(state.info.stretch.low, state.info.stretch.high));
  $("fit").addEventListener("click", fit);
  $("one").addEventListener("click", () => { state.scale = 1; draw(); });
  $("undo").addEventListener("click", () => edit("undo"));
  for (const id of ["filter-kind", "filter-verdict", "sort"]) $(id).addEventListener("change", table);
  $("table").addEventListener("click", (event) => {
    const tr = event.target.closest("tr");
    if (!tr || !tr.dataset.row) return;
    const row = Number(tr.dataset.row), column = Number(tr.dataset.column);
    if (event.target.classList.contains("remove")) edit("remove", row, column);
    else jumpTo(row, column);
  });
  $("save").addEventListener("click", () => save(false));

  async function save(overwrite) {
    const path = $("save-path").value.trim();
    if (!path) { status("give a file name to save to", true); return; }
    const answer = await call("/api/save", { path, format: $("save-format").value, overwrite });
    if (answer.status === 200 && answer.body.exists && !answer.body.saved) {
      const input = state.info.list_path && path.endsWith(state.info.list_path.split("/").pop());
      const question = `${path} exists. Replace it?` +
        (input ? " It is the list you opened; its old content is kept as .bak." : "");
      if (window.confirm(question)) return save(true);
      status("not saved: the file exists");
      return;
    }
    if (answer.status !== 200) { status(answer.body.error, true); return; }
    const b = answer.body;
    status(`saved ${b.entries} entries to ${b.path} (${b.format})`);
    document.body.dataset.saved = b.path;
  }

  // -- start ----------------------------------------------------------------------------
  async function start() {
    // The page carries the frame's description; the list comes at once, in parallel.
    const listRequest = call("/api/list");
    state.info = JSON.parse($("info").textContent);
    $("label").textContent = `${state.info.label} — ${state.info.width} x ${state.info.height}, ` +
      `${state.info.bit_depth}-bit, ${state.info.rules} rules, ${state.info.method} correction`;
    const notes = $("notes");
    for (const note of state.info.notes) {
      const p = document.createElement("p");
      p.textContent = note;
      notes.append(p);
    }
    for (const name of state.info.formats) $("save-format").append(new Option(name, name));
    const listPath = state.info.list_path;
    $("save-path").value = listPath ? listPath.replace(/(\.[^./]*)?$/, "-edited$1") : "defects-edited.csv";
    setStretch(state.info.stretch.low, state.info.stretch.high);
    setMode("raw");
    fit();
    const list = await listRequest;
    if (list.status !== 200) { status(list.body.error, true); return; }
    setList(list.body);
    document.body.dataset.ready = "1";
  }

  window.fastdefectViewer = {
    state, jumpTo, fit, setMode, setStretch, select,
    screenOf: (row, column) => {
      const [x, y] = toScreen(column + 0.5, row + 0.5);
      const box = canvas.getBoundingClientRect();
      return { x: box.left + x, y: box.top + y, canvasX: x, canvasY: y };
    },
    // One drawn pixel, read through a 1 x 1 copy (no repeated readbacks of the view).
    canvasPixel: (x, y) => {
      const probe = document.createElement("canvas");
      probe.width = probe.height = 1;
      const target = probe.getContext("2d");
      target.drawImage(canvas, Math.floor(x), Math.floor(y), 1, 1, 0, 0, 1, 1);
      return Array.from(target.getImageData(0, 0, 1, 1).data);
    },
  };
  start().catch((error) => { state.errors.push(String(error)); status(String(error), true); });
})();
