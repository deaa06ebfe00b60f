"""Fleet scale: many cameras on Dask, a defect history database, sensor ageing.

* :mod:`fastdefect.fleet.manifest` reads a batch manifest (``serial,role,path``);
* :mod:`fastdefect.fleet.batch` runs detection per camera on a ``dask.distributed``
  cluster and writes per-camera lists plus the fleet summary (CSV, HTML);
* :mod:`fastdefect.fleet.db` records runs in SQLite or PostgreSQL (SQLAlchemy Core,
  versioned migrations);
* :mod:`fastdefect.fleet.history` compares a camera's runs: new, healed and persisting
  defects, growth per year, when the correction limits will be exceeded;
* :mod:`fastdefect.fleet.ageing` simulates the same sensor years later.

Dask and SQLAlchemy are optional (``pip install 'fastdefect[fleet]'``); they are
imported inside the functions that need them, through :func:`~fastdefect.errors.import_optional`.
"""
