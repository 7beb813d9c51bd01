"""A sweep's records: one type for a run's outcome, its results.csv row, and its ranking.

Guarantees: results.csv has the columns of COLUMNS, one row per run, and is always written
whole and atomically (files.py); a run whose row has a status in FINISHED is never run
again; a record rebuilt from its row equals the one the run returned (costs from its model
file). Best first means: test accuracy (train accuracy without a test set), then the
lowest final cost; diverged and failed runs last.
"""
import csv
import io
import math
import os
from dataclasses import asdict, dataclass, field

from ..engine.settings import FIT_DEFAULTS as OPTION_DEFAULTS
from ..io.files import write_bytes_atomic

COLUMNS = ("run", "layers", "learning_rate", "iterations", "dtype", *OPTION_DEFAULTS,
           "final_cost", "train_accuracy", "test_accuracy", "seconds", "status", "model")
# results.csv before the optimizer options (or some of them): the missing ones read as their
# defaults; rows are written back with every column.
COLUMNS_V1 = tuple(c for c in COLUMNS if c not in OPTION_DEFAULTS)
FINISHED = ("ok", "diverged")      # a run recorded with one of these is not run again
COST_EVERY = 100                   # a record keeps the cost of every COST_EVERY-th iteration


@dataclass
class Record:
    """One run's outcome. ``record.status`` and ``record["status"]`` both read a field.

    status: "ok", "diverged" (the cost became NaN or infinite) or "failed" (its worker
    process died RETRIES times). costs: every COST_EVERY-th iteration's cost. model: the
    run's model file (None for runs without one, or before it is written).
    """
    run: str
    settings: dict
    status: str
    final_cost: float = math.nan
    costs: list = field(default_factory=list)
    train_accuracy: float = math.nan
    test_accuracy: float = math.nan
    seconds: float = 0.0
    model: str = None
    message: str = ""

    def __getitem__(self, key):
        return getattr(self, key)

    def as_dict(self):
        return asdict(self)

    def row(self, model_rel):
        """This record as a results.csv row (``model_rel``: its model file, relative)."""
        s = self.settings
        options = {k: repr(s.get(k, x)) for k, x in OPTION_DEFAULTS.items()}
        return {"run": self.run, "layers": ",".join(map(str, s["layers_dims"])),
                "learning_rate": repr(s["learning_rate"]), "iterations": s["num_iterations"],
                "dtype": s["dtype"], **options, "final_cost": repr(self.final_cost),
                "train_accuracy": repr(self.train_accuracy),
                "test_accuracy": repr(self.test_accuracy), "seconds": f"{self.seconds:.3f}",
                "status": self.status, "model": model_rel or ""}

    @classmethod
    def from_row(cls, row, out):
        """A finished run's record rebuilt from its results.csv row (and its model file)."""
        model = os.path.join(out, row["model"]) if row["model"] else None
        costs = []
        if model:
            from ..io.model_file import load_model        # h5py only when there is a file
            costs = load_model(model)["costs"][::COST_EVERY].tolist()
        return cls(run=row["run"], settings=settings_of(row), status=row["status"],
                   final_cost=float(row["final_cost"]), costs=costs,
                   train_accuracy=float(row["train_accuracy"]),
                   test_accuracy=float(row["test_accuracy"]), seconds=float(row["seconds"]),
                   model=model)


def settings_of(row):
    """A row's settings, as expand_grid makes them (options only where not the default)."""
    import ast
    settings = {"layers_dims": [int(x) for x in row["layers"].split(",")],
                "learning_rate": float(row["learning_rate"]),
                "num_iterations": int(row["iterations"]), "dtype": row["dtype"]}
    for k, default in OPTION_DEFAULTS.items():
        x = ast.literal_eval(row[k]) if row.get(k) else default
        if x != default:
            settings[k] = x
    return settings


def read_results(path):
    """The rows of a results.csv (a list of dicts), or [] when there is none yet."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and not set(COLUMNS_V1) <= set(rows[0]) <= set(COLUMNS):
        raise ValueError(f"{path}: not a fastdnn sweep results file (columns {list(rows[0])})")
    return rows


def finished_rows(path):
    """{run name: row} of the runs recorded in results.csv at ``path`` that are not run again."""
    return {row["run"]: row for row in read_results(path) if row["status"] in FINISHED}


def write_results(path, rows):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_bytes_atomic(path, buf.getvalue().encode())


def headline_accuracy(record):
    """A run's accuracy for ranking and plots: on the test set when there is one."""
    acc = record.test_accuracy
    return record.train_accuracy if math.isnan(acc) else acc


def rank_key(record):
    """Sort key, best first (see the module's guarantees)."""
    acc = headline_accuracy(record)
    cost = record.final_cost
    return (-acc if not math.isnan(acc) else math.inf, cost if not math.isnan(cost) else math.inf)
